"""The run's stage order and what starting it costs: the eligibility check loads no solver and no scipy."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

from conftest import BASELINE, REPO


def loaded_modules(code: str) -> set[str]:
    """The top-level packages a fresh interpreter has loaded after running `code`."""
    script = f"{code}\nimport sys\nprint(' '.join(sorted({{name.split('.')[0] for name in sys.modules}})))"
    output = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return set(output.split())


def test_importing_the_pipeline_loads_no_scipy():
    assert "scipy" not in loaded_modules("import simulator.pipeline")


def test_the_eligibility_check_with_its_odds_loads_no_scipy():
    """Verdicts and their odds over the draws (`safer-streets eligibility`) read the records and harm weights alone."""
    code = f"from simulator import load_scenario, eligibility_odds\neligibility_odds(load_scenario({str(BASELINE)!r}))"
    assert "scipy" not in loaded_modules(code)


def test_the_run_before_its_monte_carlo_is_handed_over_once_with_the_finished_runs_stages():
    from simulator import load_scenario, run
    from simulator.result import PointRun

    handed = []
    result = run(load_scenario(BASELINE, ("demand.draws=20",)), point_ready=handed.append)
    assert len(handed) == 1 and type(handed[0]) is PointRun
    for stage in dataclasses.fields(PointRun):
        assert getattr(handed[0], stage.name) is getattr(result, stage.name), stage.name


def test_no_run_is_handed_over_before_the_monte_carlo_when_the_draws_choose_the_plan():
    from simulator import load_scenario, run

    handed = []
    result = run(load_scenario(BASELINE, ("demand.draws=20", 'allocation.objective="expected"')), point_ready=handed.append)
    assert handed == []
    assert result.allocation.solver.endswith("20 draws"), "the expected plan replaced the point-estimate one"


def test_a_whole_run_loads_no_scipy():
    """scipy is only the tests' reference: the draws' quantiles, the solvers' arrays and the robust plans need none of it."""
    code = f"from simulator import load_scenario, run\nrun(load_scenario({str(BASELINE)!r}, ('demand.draws=20',)))"
    assert "scipy" not in loaded_modules(code)
