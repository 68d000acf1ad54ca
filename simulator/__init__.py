"""Safer Streets funding allocation simulator: harm, eligibility and allocation for community-safety planners.

    import simulator
    result = simulator.run(simulator.load_scenario("scenarios/kent-baseline.toml"))
    simulator.write_run(result, "reports/kent-baseline")

    what_if = simulator.load_scenario("scenarios/kent-budget-cut.toml")
    simulator.write_comparison(simulator.compare([simulator.load_scenario("scenarios/kent-baseline.toml"), what_if]),
                               "reports/compare-kent-baseline-vs-kent-budget-cut")
"""

from .errors import ConfigError, DataError, InfeasibleError, InternalError, RuleError, SimulatorError
from .experiments import Comparison, compare
from .pipeline import assess_eligibility, run
from .report import write_comparison, write_run
from .result import RunResult
from .scenario import LoadedScenario, load_scenario

__all__ = [
    "Comparison",
    "ConfigError",
    "DataError",
    "InfeasibleError",
    "InternalError",
    "LoadedScenario",
    "RuleError",
    "RunResult",
    "SimulatorError",
    "assess_eligibility",
    "compare",
    "load_scenario",
    "run",
    "write_comparison",
    "write_run",
]
