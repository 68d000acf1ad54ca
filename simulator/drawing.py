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
"""

from __future__ import annotations

import io
import os
import pickle
import signal
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MOST_PROCESSES = 4
"""A run draws about ten charts: more processes than this would each draw one or two."""

_servers: list[ChartServer] = []


def png_bytes(draw: Callable, subject, dpi: float) -> bytes:
    """One chart as PNG bytes, with no timestamp or software tag, so the same chart gives the same bytes."""
    buffer = io.BytesIO()
    draw(subject).savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def draw_charts(subject, charts: Mapping[str, Callable], dpi: float, folder: Path) -> dict[str, bytes]:
    """Every chart written as `folder`/<name>.png, and its bytes, in the order given: by the server `chart_server`
    started, if any, else here."""
    return start_charts(subject, charts, dpi, folder).images()


def start_charts(subject, charts: Mapping[str, Callable], dpi: float, folder: Path) -> PendingCharts:
    """The charts handed to the server `chart_server` started, if any, to write as `folder`/<name>.png while this process
    writes other files; `images()` waits for them (or draws them here, where there is no server or it failed)."""
    server = _servers[-1] if _servers and len(charts) > 1 else None
    sent = server is not None and server.send(subject, charts, dpi, folder)
    return PendingCharts(subject, dict(charts), dpi, Path(folder), server if sent else None)


@dataclass
class PendingCharts:
    """Charts being drawn elsewhere, or to draw here when asked."""

    subject: object
    charts: dict[str, Callable]
    dpi: float
    folder: Path
    server: ChartServer | None

    def images(self) -> dict[str, bytes]:
        """Every chart's PNG bytes, in the order given, once its file is written."""
        if self.server is not None and self.server.receive(self.charts):
            return {name: (self.folder / f"{name}.png").read_bytes() for name in self.charts}
        drawn = {}
        for name, draw in self.charts.items():
            drawn[name] = png_bytes(draw, self.subject, self.dpi)
            (self.folder / f"{name}.png").write_bytes(drawn[name])
        return drawn


@contextmanager
def chart_server(wanted: bool = True, processes: int | None = None) -> Iterator[ChartServer | None]:
    """Within the block, `draw_charts` hands charts to a process forked now, which draws them on `processes` cores (by
    default one per core, up to `MOST_PROCESSES`; none if not `wanted`, on one core, or where forking is not possible);
    the process is stopped when the block ends, however it ends."""
    count = processes or min(os.cpu_count() or 1, MOST_PROCESSES)
    server = ChartServer.fork(count) if wanted and count > 1 and sys.platform == "linux" else None
    if server is not None:
        _servers.append(server)
    try:
        yield server
    finally:
        if server is not None:
            _servers.remove(server)
            server.stop()


@dataclass
class ChartServer:
    """A forked process holding one end of a pipe: it loads matplotlib at once, then draws the charts it is sent."""

    process: object
    connection: object
    owing: bool = False
    """Charts were sent and not yet received."""

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

    def send(self, subject, charts: Mapping[str, Callable], dpi: float, folder: Path) -> bool:
        """Hand the charts to the server; False if the subject or a chart cannot be sent, or the server has stopped or
        still owes the charts sent before (which would then be taken for these)."""
        if self.process is None or self.owing:
            return False
        try:
            jobs = [(name, pickle.dumps(draw, protocol=pickle.HIGHEST_PROTOCOL)) for name, draw in charts.items()]
            self.connection.send(("draw", pickle.dumps(subject, protocol=pickle.HIGHEST_PROTOCOL), jobs, dpi, str(folder)))
        except (pickle.PicklingError, TypeError, AttributeError):
            return False
        except OSError:
            self.stop()
            return False
        self.owing = True
        return True

    def receive(self, charts: Mapping[str, Callable]) -> bool:
        """Wait until every chart last sent is written; False if the server stops or a chart fails there (the server is
        then stopped, and the caller draws the charts)."""
        written = set()
        try:
            while len(written) < len(charts):
                name, failure = self.connection.recv()
                if failure is not None:
                    raise EOFError(failure)
                written.add(name)
        except (EOFError, OSError):
            self.stop()
            return False
        self.owing = False
        return True

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
    """The chart server: load matplotlib and the chart modules, then for each subject it is sent, draw its charts on
    `processes` processes, until it is told to stop or its pipe closes. It first closes the parent's end of the pipe it
    inherited, so that the pipe closes when the parent closes it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parents_end.close()
    _warm_up()
    try:
        while True:
            message = connection.recv()
            if message[0] != "draw":
                return
            _, sent_subject, jobs, dpi, folder = message
            _draw_on_processes(connection, pickle.loads(sent_subject), jobs, dpi, Path(folder), processes)
    except (EOFError, OSError):
        return


def _draw_on_processes(connection, subject, jobs: list[tuple[str, bytes]], dpi: float, folder: Path, processes: int) -> None:
    """Fork the server into `processes` drawers sharing a counter of the next chart to draw; each writes every chart it
    draws as `folder`/<name>.png and tells the parent (name, None), or (name, the failure's text)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    next_job, taking, sending = context.RawValue("i", 0), context.Lock(), context.Lock()
    children = []
    for _ in range(min(processes, len(jobs)) - 1):
        child = os.fork()
        if child == 0:
            try:
                _draw_share(connection, subject, jobs, dpi, folder, next_job, taking, sending)
            finally:
                os._exit(0)
        children.append(child)
    _draw_share(connection, subject, jobs, dpi, folder, next_job, taking, sending)
    for child in children:
        os.waitpid(child, 0)


def _draw_share(connection, subject, jobs, dpi, folder, next_job, taking, sending) -> None:
    """Take the next chart waiting, draw and write it, and say so, until none are left."""
    while True:
        with taking:
            position = next_job.value
            next_job.value += 1
        if position >= len(jobs):
            return
        name, sent_draw = jobs[position]
        try:
            (folder / f"{name}.png").write_bytes(png_bytes(pickle.loads(sent_draw), subject, dpi))
            answer = (name, None)
        except Exception as error:  # noqa: BLE001 - the parent draws the charts again and shows the failure itself
            answer = (name, f"{type(error).__name__}: {error}")
        with sending:
            connection.send(answer)


def _warm_up() -> None:
    """What drawing the first chart would load: matplotlib, the Agg canvas, PNG writing, the fonts and the chart modules."""
    from matplotlib.figure import Figure

    from . import charts, uncertainty_charts  # noqa: F401

    figure = Figure(figsize=(1, 1))
    figure.add_subplot().set_title("£0 1,000")
    figure.savefig(io.BytesIO(), format="png", dpi=30, metadata={"Software": None})
