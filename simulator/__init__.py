"""Safer Streets funding allocation simulator: harm, eligibility and allocation for community-safety planners.

    import simulator
    result = simulator.run(simulator.load_scenario("scenarios/kent-baseline.toml"))
    simulator.write_run(result, "reports/kent-baseline")
"""

from .errors import ConfigError, DataError, InfeasibleError, InternalError, RuleError, SimulatorError
from .pipeline import assess_eligibility, run
from .report import write_run
from .result import RunResult
from .scenario import LoadedScenario, load_scenario

__all__ = [
    "ConfigError",
    "DataError",
    "InfeasibleError",
    "InternalError",
    "LoadedScenario",
    "RuleError",
    "RunResult",
    "SimulatorError",
    "assess_eligibility",
    "load_scenario",
    "run",
    "write_run",
]
