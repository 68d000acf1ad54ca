"""Executor: results in task order wherever they ran, Ctrl-C keeps the finished ones, bad options refused, a Dask cluster agrees."""

from __future__ import annotations

import importlib.util
import socket

import pytest
from click.testing import CliRunner
from conftest import BASELINE

from simulator.cli import cli
from simulator.errors import ConfigError
from simulator.execution import Executor, Interrupted, chunks
from simulator.sweep import parse_variation, sweep


def square(value: int) -> int:
    return value * value


def stop_at_three(value: int) -> int:
    if value == 3:
        raise KeyboardInterrupt
    return value * 10


def test_map_returns_results_in_task_order_in_this_process():
    """map in this process gives each task's result at its own position."""
    assert Executor().map(square, [3, 1, 2]) == [9, 1, 4]


def test_map_returns_results_in_task_order_in_processes():
    """map over two processes gives the same list as in this process, whatever order the tasks finished in."""
    assert Executor(jobs=2).map(square, list(range(7))) == [0, 1, 4, 9, 16, 25, 36]


def test_map_reports_progress_per_finished_task():
    """The progress callback hears 1, 2, … up to the number of tasks."""
    heard = []
    Executor().map(square, [1, 2, 3], progress=heard.append)
    assert heard == [1, 2, 3]


def test_interrupted_carries_the_finished_results():
    """A task that raises KeyboardInterrupt (Ctrl-C in this process) stops the run; Interrupted holds the results before it."""
    with pytest.raises(Interrupted) as caught:
        list(Executor().run(stop_at_three, [0, 1, 2, 3, 4]))
    assert caught.value.finished == {0: 0, 1: 10, 2: 20}


def test_chunks_cover_the_range_without_gaps():
    """chunks cuts 10 into 3 consecutive ranges covering 0..9."""
    assert [list(piece) for piece in chunks(10, 3)] == [[0, 1, 2], [3, 4, 5, 6], [7, 8, 9]]


def test_jobs_below_one_is_refused():
    """--jobs 0 is a ConfigError on --jobs."""
    with pytest.raises(ConfigError) as caught:
        Executor(jobs=0)
    assert caught.value.key == "--jobs"


def test_unknown_executor_is_refused():
    """An executor other than local or dask is a ConfigError on --executor."""
    with pytest.raises(ConfigError) as caught:
        Executor(kind="threads")
    assert caught.value.key == "--executor"


def test_cli_bad_jobs_is_one_line_exit_2(tmp_path):
    """`sweep --jobs 0` exits 2 with one error line and writes nothing."""
    out = tmp_path / "sweep"
    result = CliRunner().invoke(cli, ["sweep", str(BASELINE), "--vary", "budget_gbp=1000000,2000000", "--jobs", "0", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: --jobs: must be 1 or more")
    assert len(result.stderr.splitlines()) == 1
    assert not out.exists()


def test_cli_bad_executor_is_one_line_exit_2(tmp_path):
    """`run --executor threads` exits 2 with one error line."""
    result = CliRunner().invoke(cli, ["run", str(BASELINE), "--executor", "threads", "--out", str(tmp_path / "run")])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.splitlines()) == 1


def test_cli_scheduler_without_dask_is_refused(tmp_path):
    """--scheduler with the local executor is a one-line error naming --scheduler."""
    result = CliRunner().invoke(cli, ["run", str(BASELINE), "--scheduler", "tcp://127.0.0.1:1", "--out", str(tmp_path / "run")])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: --scheduler: is for the Dask executor")


def test_dask_without_scheduler_is_refused():
    """The Dask executor needs a scheduler address."""
    with pytest.raises(ConfigError) as caught:
        Executor(kind="dask")
    assert caught.value.key == "--scheduler"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(importlib.util.find_spec("distributed") is None, reason="dask.distributed is not installed (pip install '.[dask]')")
def test_sweep_on_a_dask_cluster_gives_the_local_rows():
    """A three-point Kent sweep on a one-worker local Dask cluster gives exactly the rows of the same sweep in this process."""
    from dask.distributed import LocalCluster

    variations = [parse_variation("budget_gbp=800000:2000000:3")]
    local = sweep(BASELINE, variations)
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, host="127.0.0.1", scheduler_port=_free_port(), dashboard_address=None
    ) as cluster:
        on_dask = sweep(BASELINE, variations, Executor("dask", scheduler=cluster.scheduler_address))
    assert on_dask.rows() == local.rows()
    assert on_dask.allocation_rows() == local.allocation_rows()
