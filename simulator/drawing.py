"""Charts drawn as PNG bytes, on the machine's cores at once where the system can fork processes.

Drawing a chart is almost all matplotlib's text layout and rasterising, and loading matplotlib
takes a good part of a second. `chart_server()` forks one process when a command has loaded the
model, before it runs it: the process loads matplotlib and warms its fonts while the model
computes. When the charts are wanted, it is sent the run's result once and forks again, so that
one process per core (up to `MOST_PROCESSES`) takes the next waiting chart until none are left.
A run then waits for about its share of the charts per core instead of all of them, and
never for matplotlib to load. The bytes are the same as drawn in this process: the same code
on the same matplotlib, forked from the same state. Where processes cannot be forked (not
Linux, one core), the result cannot be sent, or a chart fails, the charts are drawn in this
process, so a failure shows its own traceback.

A command that knows some charts before it has finished computing (a run's point-estimate
charts, before its Monte Carlo) hands them over with `start_charts_alongside`: the server draws
them one at a time on the core this process leaves free, into a scratch folder of its own, and
takes any charts sent later together with those still waiting.
"""

from __future__ import annotations

import gc
import io
import itertools
import os
import pickle
import shutil
import signal
import struct
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MOST_PROCESSES = 4
"""A run draws about ten charts: more processes than this would each draw one or two."""
PNG_COMPRESSION = 3
"""zlib level for the charts' PNGs (`encode_png`): level 3 writes them in about 60 % of the time of the default 6, 5 %
larger."""

_servers: list[ChartServer] = []


def png_bytes(draw: Callable, subject, dpi: float) -> bytes:
    """One chart as PNG bytes, with no timestamp or software tag, so the same chart gives the same bytes: rendered as
    matplotlib renders a PNG, with `figures.RENDERING`, then written by `encode_png`."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from .figures import RENDERING

    with rc_context(RENDERING):
        canvas = FigureCanvasAgg(draw(subject))
        canvas.figure.savefig(io.BytesIO(), format="rgba", dpi=dpi)
        return encode_png(np.asarray(canvas.renderer.buffer_rgba()), dpi)


def encode_png(rgba: np.ndarray, dpi: float) -> bytes:
    """An RGBA image (rows × columns × 4 bytes) as a PNG file with its resolution (a pHYs chunk) and nothing else.

    Every row is stored unfiltered (PNG filter type 0) and deflated at `PNG_COMPRESSION`. Chart pixels come
    in long runs of one colour, which deflate finds unaided: this writes the charts in under half the time of the
    per-row adaptive filtering image libraries use, and a few per cent smaller."""
    height, width, _ = rgba.shape
    rows = np.empty((height, 1 + width * 4), dtype=np.uint8)
    rows[:, 0] = 0
    rows[:, 1:] = rgba.reshape(height, width * 4)
    per_metre = int(dpi / 0.0254 + 0.5)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)),
            _png_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
            _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), PNG_COMPRESSION)),
            _png_chunk(b"IEND", b""),
        )
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    """A PNG chunk: length, type, data and the CRC-32 of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def draw_charts(subject, charts: Mapping[str, Callable], dpi: float, folder: Path) -> dict[str, bytes]:
    """Every chart written as `folder`/<name>.png, and its bytes, in the order given: by the server `chart_server`
    started, if any, else here."""
    return start_charts(subject, charts, dpi, folder).images()


def start_charts(subject, charts: Mapping[str, Callable], dpi: float, folder: Path) -> PendingCharts:
    """The charts handed to the server `chart_server` started, if any, to write as `folder`/<name>.png while this process
    writes other files; `images()` waits for them (or draws them here, where there is no server or it failed)."""
    server = _servers[-1] if _servers and len(charts) > 1 else None
    batch = server.send(subject, charts, dpi, folder) if server is not None else None
    return PendingCharts(subject, dict(charts), dpi, Path(folder), server if batch is not None else None, batch)


def start_charts_alongside(subject, charts: Mapping[str, Callable], dpi: float) -> PendingCharts | None:
    """The charts handed to the running server to draw while this process goes on computing, one at a time on the core
    it leaves free; None where no server runs (drawing them here now would only make this process wait). `images()`
    gives their bytes, and the caller writes them where they belong."""
    server = _servers[-1] if _servers and charts else None
    if server is None or server.process is None:
        return None
    try:
        folder = server.scratch()
    except OSError:
        return None
    batch = server.send(subject, charts, dpi, folder, alongside=True)
    return PendingCharts(subject, dict(charts), dpi, folder, server if batch is not None else None, batch, written_here=False)


@dataclass
class PendingCharts:
    """Charts being drawn elsewhere, or to draw here when asked."""

    subject: object
    charts: dict[str, Callable]
    dpi: float
    folder: Path
    server: ChartServer | None
    batch: int | None = None
    written_here: bool = True
    """Charts drawn here are written to `folder` (False for the server's scratch folder: only their bytes are wanted)."""

    def images(self) -> dict[str, bytes]:
        """Every chart's PNG bytes, in the order given, once drawn (and written to `folder`, unless `written_here` is
        off and they are drawn here)."""
        if self.server is not None and self.server.receive(self.batch, self.charts):
            try:
                return {name: (self.folder / f"{name}.png").read_bytes() for name in self.charts}
            except FileNotFoundError:  # the server's scratch folder went with it: draw them here
                pass
        drawn = {}
        for name, draw in self.charts.items():
            drawn[name] = png_bytes(draw, self.subject, self.dpi)
            if self.written_here:
                (self.folder / f"{name}.png").write_bytes(drawn[name])
        return drawn


@contextmanager
def chart_server(wanted: bool = True, processes: int | None = None) -> Iterator[ChartServer | None]:
    """Within the block, `draw_charts` hands charts to a process forked now, which draws them on `processes` cores (by
    default one per core, up to `MOST_PROCESSES`; none if not `wanted`, on one core, or where forking is not possible);
    the process is stopped when the block ends, however it ends."""
    count = processes or min(os.cpu_count() or 1, MOST_PROCESSES)
    forking = wanted and count > 1 and sys.platform == "linux"
    if forking:
        # the objects made so far (the loaded modules, mostly) leave the cyclic garbage collector until the block ends,
        # so that neither process's collections write to, and so copy, the memory the two share after the fork
        gc.freeze()
    server = ChartServer.fork(count) if forking else None
    if server is not None:
        _servers.append(server)
    try:
        yield server
    finally:
        if server is not None:
            _servers.remove(server)
            server.stop()
            server.remove_scratch()
        if forking:
            gc.unfreeze()


@dataclass
class ChartServer:
    """A forked process holding one end of a pipe: it loads matplotlib at once, then draws the charts it is sent."""

    process: object
    connection: object
    batches: itertools.count = field(default_factory=itertools.count)
    arrived: dict[int, dict[str, str | None]] = field(default_factory=dict)
    """Per batch sent, the charts written so far and the failure of each (None when it was drawn)."""
    scratch_folder: Path | None = None
    """Where charts sent `alongside` are written (`scratch`), removed when `chart_server` ends."""

    @classmethod
    def fork(cls, processes: int) -> ChartServer | None:
        """The server, forked now, to draw on `processes` cores; None if the system refuses to fork."""
        import multiprocessing

        context = multiprocessing.get_context("fork")
        here, there = context.Pipe()
        process = context.Process(target=_serve, args=(there, here, processes), daemon=True, name="safer-streets-charts")
        try:
            process.start()
        except OSError:
            here.close()
            there.close()
            return None
        there.close()
        return cls(process, here)

    def scratch(self) -> Path:
        """A folder of the server's own for charts whose bytes alone are wanted, removed when the server stops."""
        if self.scratch_folder is None:
            self.scratch_folder = Path(tempfile.mkdtemp(prefix="safer-streets-charts-"))
        return self.scratch_folder

    def send(self, subject, charts: Mapping[str, Callable], dpi: float, folder: Path, alongside: bool = False) -> int | None:
        """Hand the charts to the server, to draw on every core, or with `alongside` one at a time while this process
        computes; the batch's number, or None if the subject or a chart cannot be sent or the server has stopped."""
        if self.process is None:
            return None
        try:
            jobs = [(name, pickle.dumps(draw, protocol=pickle.HIGHEST_PROTOCOL)) for name, draw in charts.items()]
            batch = next(self.batches)
            sent_subject = pickle.dumps(subject, protocol=pickle.HIGHEST_PROTOCOL)
            self.connection.send(("draw", batch, sent_subject, jobs, dpi, str(folder), alongside))
        except (pickle.PicklingError, TypeError, AttributeError):
            return None
        except OSError:
            self.stop()
            return None
        self.arrived[batch] = {}
        return batch

    def receive(self, batch: int, charts: Mapping[str, Callable]) -> bool:
        """Wait until every chart of the batch is written; False if the server stops or a chart of the batch fails there
        (the server is then stopped, and the caller draws the charts)."""
        written = self.arrived.get(batch)
        if written is None:
            return False
        try:
            while len(written) < len(charts):
                if self.process is None:
                    return False
                answer_batch, name, failure = self.connection.recv()
                self.arrived.setdefault(answer_batch, {})[name] = failure
        except (EOFError, OSError):
            self.stop()
            return False
        del self.arrived[batch]
        if any(failure is not None for failure in written.values()):
            self.stop()
            return False
        return True

    def remove_scratch(self) -> None:
        """Remove the scratch folder, once the server has stopped: charts it wrote there before stopping stay readable
        until then."""
        if self.scratch_folder is not None:
            shutil.rmtree(self.scratch_folder, ignore_errors=True)
            self.scratch_folder = None

    def stop(self) -> None:
        """Tell the server to end, close the pipe and reap the process."""
        if self.process is None:
            return
        try:
            self.connection.send(("stop",))
        except OSError:
            pass
        self.connection.close()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.process = None


def _serve(connection, parents_end, processes: int) -> None:
    """The chart server: load matplotlib and the chart modules, then draw the charts it is sent until it is told to stop
    or its pipe closes. A batch sent `alongside` is drawn one chart at a time, looking for more work between charts; any
    other batch is drawn, with whatever still waits, on `processes` processes. It first closes the parent's end of the
    pipe it inherited, so that the pipe closes when the parent closes it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parents_end.close()
    _warm_up()
    waiting: list[_Job] = []
    try:
        while True:
            if waiting and not connection.poll():
                _draw_job(connection, waiting.pop(0))
                continue
            message = connection.recv()
            if message[0] != "draw":
                return
            _, batch, sent_subject, jobs, dpi, folder, alongside = message
            subject = pickle.loads(sent_subject)
            waiting += [_Job(batch, name, sent_draw, subject, dpi, Path(folder)) for name, sent_draw in jobs]
            if not alongside:
                _draw_on_processes(connection, waiting, processes)
                waiting = []
    except (EOFError, OSError):
        return


@dataclass(frozen=True)
class _Job:
    """One chart to draw: its batch, name, pickled drawing function, subject, resolution and folder."""

    batch: int
    name: str
    sent_draw: bytes
    subject: object
    dpi: float
    folder: Path


def _draw_on_processes(connection, jobs: list[_Job], processes: int) -> None:
    """Fork the server into `processes` drawers sharing a counter of the next chart to draw; each writes every chart it
    draws as its folder/<name>.png and tells the parent (batch, name, None), or (batch, name, the failure's text)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    next_job, taking, sending = context.RawValue("i", 0), context.Lock(), context.Lock()
    children = []
    for _ in range(min(processes, len(jobs)) - 1):
        child = os.fork()
        if child == 0:
            try:
                _draw_share(connection, jobs, next_job, taking, sending)
            finally:
                os._exit(0)
        children.append(child)
    _draw_share(connection, jobs, next_job, taking, sending)
    for child in children:
        os.waitpid(child, 0)


def _draw_share(connection, jobs: list[_Job], next_job, taking, sending) -> None:
    """Take the next chart waiting, draw and write it, and say so, until none are left."""
    while True:
        with taking:
            position = next_job.value
            next_job.value += 1
        if position >= len(jobs):
            return
        _draw_job(connection, jobs[position], sending)


def _draw_job(connection, job: _Job, sending=None) -> None:
    """Draw and write one chart and tell the parent (holding `sending`, where other processes share the pipe)."""
    try:
        (job.folder / f"{job.name}.png").write_bytes(png_bytes(pickle.loads(job.sent_draw), job.subject, job.dpi))
        answer = (job.batch, job.name, None)
    except Exception as error:  # noqa: BLE001 - the parent draws the charts again and shows the failure itself
        answer = (job.batch, job.name, f"{type(error).__name__}: {error}")
    if sending is None:
        connection.send(answer)
        return
    with sending:
        connection.send(answer)


def _warm_up() -> None:
    """What drawing the first chart would load: matplotlib, the Agg canvas, PNG writing, the fonts and the chart modules."""
    from matplotlib.figure import Figure

    from . import charts, uncertainty_charts  # noqa: F401

    def tiny(title: str):
        figure = Figure(figsize=(1, 1))
        figure.add_subplot().set_title(title)
        return figure

    png_bytes(tiny, "£0 1,000", 30)
