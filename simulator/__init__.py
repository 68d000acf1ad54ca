"""Safer Streets funding allocation simulator: harm, eligibility and allocation for community-safety planners.

    import simulator
    result = simulator.run(simulator.load_scenario("scenarios/kent-baseline.toml"))
    simulator.write_run(result, "reports/kent-baseline")

    what_if = simulator.load_scenario("scenarios/kent-budget-cut.toml")
    simulator.write_comparison(simulator.compare([simulator.load_scenario("scenarios/kent-baseline.toml"), what_if]),
                               "reports/compare-kent-baseline-vs-kent-budget-cut")

    budgets = simulator.sweep("scenarios/kent-baseline.toml", [simulator.parse_variation("budget_gbp=500000:3000000:6")],
                              simulator.Executor(jobs=2))
    simulator.write_sweep(budgets, "reports/sweep-kent-baseline-budget_gbp", "safer-streets sweep --vary budget_gbp=500000:3000000:6")

Names are imported when first used, so a command that needs only part of the package (the
police.uk importer, the eligibility check) does not pay for loading the solvers.
"""

from importlib import import_module

from .errors import ConfigError, DataError, InfeasibleError, InternalError, RuleError, SimulatorError

_LAZY = {
    "Backtest": "backtest",
    "backtest": "backtest",
    "Comparison": "experiments",
    "compare": "experiments",
    "assess_eligibility": "verdicts",
    "eligibility_odds": "verdicts",
    "Executor": "execution",
    "forecast_check": "pipeline",
    "run": "pipeline",
    "import_street_files": "policeuk",
    "write_backtest": "report",
    "write_comparison": "report",
    "write_import": "report",
    "write_run": "report",
    "RunResult": "result",
    "LoadedScenario": "scenario",
    "load_scenario": "scenario",
    "Sweep": "sweep",
    "parse_variation": "sweep",
    "sweep": "sweep",
    "write_sweep": "report",
}

__all__ = [
    "Backtest",
    "Comparison",
    "ConfigError",
    "DataError",
    "Executor",
    "InfeasibleError",
    "InternalError",
    "LoadedScenario",
    "RuleError",
    "RunResult",
    "SimulatorError",
    "Sweep",
    "assess_eligibility",
    "backtest",
    "compare",
    "eligibility_odds",
    "forecast_check",
    "import_street_files",
    "load_scenario",
    "parse_variation",
    "run",
    "sweep",
    "write_backtest",
    "write_comparison",
    "write_import",
    "write_run",
    "write_sweep",
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
