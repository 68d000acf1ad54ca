"""The one-way data flow: no backward imports, and each outside library kept to its module."""

from __future__ import annotations

import ast

import pytest
from conftest import REPO

ORDER = [
    "errors",
    "arrays",
    "validation",
    "execution",
    "schema",
    "scenario",
    "datafiles",
    "maps",
    "inputs",
    "awards",
    "policeuk",
    "harm",
    "uncertainty",
    "forecast",
    "demand",
    "eligibility",
    "verdicts",
    "interventions",
    "filling",
    "constraints",
    "formulation",
    "wording",
    "allocation",
    "explanation",
    "robust",
    "baselines",
    "montecarlo",
    "result",
    "pipeline",
    "backtest",
    "experiments",
    "sweep",
    "figures",
    "uncertainty_charts",
    "charts",
    "backtest_charts",
    "sweep_charts",
    "drawing",
    "document",
    "backtest_document",
    "sweep_document",
    "rendering",
    "report",
    "cli",
]
ALWAYS_ALLOWED = {"errors", "arrays"}
OWNERS = {
    "pulp": {"formulation"},
    "cbcbox": {"formulation"},
    "matplotlib": {"figures", "uncertainty_charts", "charts", "backtest_charts", "sweep_charts", "drawing"},
    "click": {"cli"},
    "dask": {"execution"},
    "distributed": {"execution"},
}
PACKAGE = REPO / "simulator"


def imports(module: str) -> set[str]:
    """What a module imports: outside libraries by name, the package's own modules as '.name' (however written)."""
    return imports_in((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))


def imports_in(source: str) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {_own(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level and node.module:
                found.add(f".{node.module}")
            elif node.level or node.module == "simulator":  # `from . import X`: a module, or a name of the public API (".")
                found |= {f".{alias.name}" if alias.name in ORDER else "." for alias in node.names}
            else:
                found.add(_own(node.module))
    return found


def _own(name: str) -> str:
    """`simulator.report` (an absolute import of the package's own module) as '.report'; other names as they are."""
    return "." + name.split(".", 2)[1] if name.startswith("simulator.") else name


def test_from_package_import_module_is_seen():
    """`from . import charts` counts as an import of charts, so it cannot slip past the order."""
    assert ".charts" in imports("report")


@pytest.mark.parametrize("line", ["from simulator import report", "import simulator.report", "from simulator.report import write_run"])
def test_absolute_imports_of_own_modules_are_seen(line):
    """An absolute import of a module of the package is caught as well as a relative one."""
    assert ".report" in imports_in(line)


def test_every_module_is_in_the_order():
    """Each module of the package has a place in the data flow."""
    modules = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    assert modules == set(ORDER)


@pytest.mark.parametrize("module", ORDER)
def test_no_backward_import(module):
    """A module imports only modules above it in the flow (plus errors and arrays)."""
    allowed = set(ORDER[: ORDER.index(module)]) | ALWAYS_ALLOWED
    for name in imports(module):
        if name.startswith("."):
            target = name[1:].split(".")[0]
            assert target in allowed or target == "", f"{module} imports {target}"


@pytest.mark.parametrize("library", list(OWNERS))
def test_outside_library_stays_in_its_module(library):
    """pulp only in allocation, matplotlib only in the chart modules, click only in cli."""
    for module in ORDER:
        if any(name == library or name.startswith(library + ".") for name in imports(module)):
            assert module in OWNERS[library], f"{module} imports {library}"
