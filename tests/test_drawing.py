"""Charts drawn by the forked chart server: the same bytes as drawn in this process, and a fall back to this process
whenever the server cannot do the work."""

from __future__ import annotations

import multiprocessing
import os
import sys
from dataclasses import dataclass

import pytest

from simulator import drawing
from simulator.charts import run_charts

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the chart server forks, which only Linux is trusted to do")


@dataclass(frozen=True)
class Caption:
    text: str


def small_chart(subject: Caption):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 1))
    figure.add_subplot().set_title(subject.text)
    return figure


def other_chart(subject: Caption):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 1))
    figure.add_subplot().plot([0, 1], [1, 0])
    figure.suptitle(subject.text.upper())
    return figure


def broken_chart(subject: Caption):
    raise ValueError(f"cannot draw {subject.text}")


TEST_PROCESS = os.getpid()


def chart_broken_elsewhere(subject: Caption):
    """A chart that fails in any process but this one: in the chart server, not in the fall back."""
    if os.getpid() != TEST_PROCESS:
        raise ValueError(f"cannot draw {subject.text} there")
    return small_chart(subject)


def in_process(subject, charts, folder) -> dict[str, bytes]:
    folder.mkdir()
    return drawing.draw_charts(subject, charts, 60, folder)


def test_the_server_draws_the_kent_run_charts_byte_for_byte(kent_result, tmp_path):
    charts = run_charts(kent_result)
    expected = in_process(kent_result, charts, tmp_path / "here")
    with drawing.chart_server(processes=2) as server:
        assert server is not None
        (tmp_path / "served").mkdir()
        images = drawing.draw_charts(kent_result, charts, 60, tmp_path / "served")
        assert server.process is not None, "the server fell back to drawing in this process"
    assert list(images) == list(charts)
    assert images == expected
    assert {path.name: path.read_bytes() for path in (tmp_path / "served").iterdir()} == {
        f"{name}.png": image for name, image in expected.items()
    }


def test_the_server_draws_one_subject_after_another(tmp_path):
    charts = {"small": small_chart, "other": other_chart}
    with drawing.chart_server(processes=2) as server:
        for number, text in enumerate(("first", "second")):
            folder = tmp_path / f"served-{number}"
            folder.mkdir()
            assert drawing.draw_charts(Caption(text), charts, 60, folder) == in_process(Caption(text), charts, tmp_path / f"here-{number}")
        assert server.process is not None


def test_other_files_can_be_written_while_the_charts_are_drawn(tmp_path):
    charts = {"small": small_chart, "other": other_chart}
    (tmp_path / "served").mkdir()
    with drawing.chart_server(processes=2):
        pending = drawing.start_charts(Caption("later"), charts, 60, tmp_path / "served")
        assert pending.server is not None
        (tmp_path / "table.csv").write_text("a,b\n")
        images = pending.images()
    assert images == in_process(Caption("later"), charts, tmp_path / "here")


def test_a_chart_that_fails_in_the_server_fails_here_with_its_own_error(tmp_path):
    (tmp_path / "served").mkdir()
    with drawing.chart_server(processes=2) as server:
        with pytest.raises(ValueError, match="cannot draw broken"):
            drawing.draw_charts(Caption("broken"), {"small": small_chart, "broken": broken_chart}, 60, tmp_path / "served")
        assert server.process is None, "a server that failed once is stopped"


def test_a_chart_that_cannot_be_sent_is_drawn_here(tmp_path):
    charts = {"small": small_chart, "local": lambda subject: other_chart(subject)}
    (tmp_path / "served").mkdir()
    with drawing.chart_server(processes=2) as server:
        pending = drawing.start_charts(Caption("lambda"), charts, 60, tmp_path / "served")
        assert pending.server is None
        images = pending.images()
        assert server.process is not None, "the server stays for the next charts"
    assert images == in_process(Caption("lambda"), charts, tmp_path / "here")


def test_no_server_is_started_when_charts_are_not_wanted():
    with drawing.chart_server(wanted=False) as server:
        assert server is None
        assert not drawing._servers


def test_the_server_is_gone_when_the_block_ends_however_it_ends():
    with pytest.raises(KeyboardInterrupt), drawing.chart_server(processes=2) as server:
        assert server is not None and server.process.is_alive()
        raise KeyboardInterrupt
    assert server.process is None
    assert not multiprocessing.active_children()
    assert not drawing._servers


def test_one_core_draws_in_this_process():
    with drawing.chart_server(processes=1) as server:
        assert server is None


def test_charts_started_alongside_are_drawn_while_this_process_computes(tmp_path):
    charts = {"small": small_chart, "other": other_chart}
    with drawing.chart_server(processes=2) as server:
        pending = drawing.start_charts_alongside(Caption("early"), charts, 60)
        assert pending is not None and pending.server is server
        scratch = pending.folder
        images = pending.images()
        assert server.process is not None
    assert images == in_process(Caption("early"), charts, tmp_path / "here")
    assert not scratch.exists(), "the server's scratch folder goes with it"


def test_charts_sent_later_are_drawn_with_those_started_alongside(tmp_path):
    early, late = {"small": small_chart, "other": other_chart}, {"late_small": small_chart, "late_other": other_chart}
    (tmp_path / "served").mkdir()
    with drawing.chart_server(processes=2) as server:
        started = drawing.start_charts_alongside(Caption("point"), early, 60)
        pending = drawing.start_charts(Caption("finished"), late, 60, tmp_path / "served")
        assert pending.server is not None
        late_images = pending.images()
        early_images = started.images()
        assert server.process is not None, "the server fell back to drawing in this process"
    assert early_images == in_process(Caption("point"), early, tmp_path / "here-early")
    assert late_images == in_process(Caption("finished"), late, tmp_path / "here-late")
    assert sorted(path.name for path in (tmp_path / "served").iterdir()) == ["late_other.png", "late_small.png"]


def test_a_chart_that_fails_alongside_fails_here_and_the_later_charts_are_drawn_here(tmp_path):
    (tmp_path / "served").mkdir()
    with drawing.chart_server(processes=2) as server:
        started = drawing.start_charts_alongside(Caption("broken"), {"broken": broken_chart, "small": small_chart}, 60)
        pending = drawing.start_charts(Caption("later"), {"small": small_chart, "other": other_chart}, 60, tmp_path / "served")
        with pytest.raises(ValueError, match="cannot draw broken"):
            started.images()
        assert server.process is None
        images = pending.images()
    assert images == in_process(Caption("later"), {"small": small_chart, "other": other_chart}, tmp_path / "here")


def test_nothing_is_started_alongside_without_a_server():
    assert drawing.start_charts_alongside(Caption("alone"), {"small": small_chart}, 60) is None
    with drawing.chart_server(wanted=False):
        assert drawing.start_charts_alongside(Caption("alone"), {"small": small_chart}, 60) is None


def test_objects_frozen_for_the_fork_are_thawed_when_the_server_ends():
    import gc

    with drawing.chart_server(processes=2) as server:
        assert server is not None and gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_a_png_is_matplotlibs_own_picture_pixel_for_pixel(kent_result):
    """The same pixels as matplotlib's own PNG of the chart drawn with the same settings."""
    import io

    import numpy as np
    from matplotlib import rc_context
    from PIL import Image

    from simulator.figures import RENDERING

    for name, draw in run_charts(kent_result).items():
        reference = io.BytesIO()
        with rc_context(RENDERING):
            draw(kent_result).savefig(reference, format="png", dpi=60)
        ours, theirs = Image.open(io.BytesIO(drawing.png_bytes(draw, kent_result, 60))), Image.open(reference)
        assert (ours.mode, ours.size) == (theirs.mode, theirs.size), name
        assert np.array_equal(np.asarray(ours), np.asarray(theirs)), name
        assert round(ours.info["dpi"][0]) == 60


def test_the_png_writer_writes_valid_chunks_with_their_checksums():
    import struct
    import zlib

    import numpy as np

    pixels = np.arange(3 * 2 * 4, dtype=np.uint8).reshape(3, 2, 4)
    png = drawing.encode_png(pixels, 150)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind, data = png[position + 4 : position + 8], png[position + 8 : position + 8 + length]
        assert struct.unpack(">I", png[position + 8 + length : position + 12 + length])[0] == zlib.crc32(kind + data)
        chunks[kind] = data
        position += 12 + length
    assert list(chunks) == [b"IHDR", b"pHYs", b"IDAT", b"IEND"]
    assert struct.unpack(">IIBBBBB", chunks[b"IHDR"]) == (2, 3, 8, 6, 0, 0, 0)
    assert struct.unpack(">IIB", chunks[b"pHYs"]) == (5906, 5906, 1)
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), dtype=np.uint8).reshape(3, 1 + 2 * 4)
    assert (rows[:, 0] == 0).all()
    assert np.array_equal(rows[:, 1:].reshape(3, 2, 4), pixels)


def test_charts_started_alongside_survive_a_later_batch_failing_in_the_server(tmp_path):
    early, late = {"small": small_chart, "other": other_chart}, {"small": small_chart, "broken": chart_broken_elsewhere}
    (tmp_path / "served").mkdir()
    with drawing.chart_server(processes=2) as server:
        started = drawing.start_charts_alongside(Caption("point"), early, 60)
        pending = drawing.start_charts(Caption("finished"), late, 60, tmp_path / "served")
        late_images = pending.images()
        assert server.process is None, "the failure stopped the server"
        early_images = started.images()
    assert late_images == in_process(Caption("finished"), late, tmp_path / "here-late")
    assert early_images == in_process(Caption("point"), early, tmp_path / "here-early")


def test_the_garbage_collector_is_thawed_even_when_the_fork_is_refused(monkeypatch):
    import gc

    monkeypatch.setattr(drawing.ChartServer, "fork", classmethod(lambda cls, processes: None))
    with drawing.chart_server(processes=2) as server:
        assert server is None
    assert gc.get_freeze_count() == 0


def test_charts_are_drawn_without_text_hinting_and_leave_the_settings_as_they_were():
    import matplotlib

    seen = []

    def noting_chart(subject: Caption):
        seen.append(matplotlib.rcParams["text.hinting"])
        return small_chart(subject)

    before = matplotlib.rcParams["text.hinting"]
    drawing.png_bytes(noting_chart, Caption("hinting"), 60)
    assert seen == ["no_hinting"]
    assert matplotlib.rcParams["text.hinting"] == before
