"""Benchmark: the allocator's paths against PuLP models of the same chord problem, from Kent to national size.

    .venv/bin/python benchmarks/bench_solvers.py [--sizes 13,1107,national,35672] [--quick]

For each instance, every method runs in its own child process (so its peak memory, the child's VmHWM or
its solver process's peak where larger, counts C memory such as the solvers'), and the script prints build seconds, solve
seconds and peak resident memory per method, each method's objective and whether the methods agree:

- pulp-idiomatic+cbc: the chord model written as PuLP's documentation shows (LpVariable.dicts, lpSum
  over dicts), solved by CBC;
- pulp-lists+cbc / pulp-lists+highs: the project's PuLP formulation (built from lists over the open
  cells, `formulation._build`), solved by CBC and by HiGHS through PuLP;
- arrays+highs: the project's array-built chord model (`formulation.array_model`) handed to HiGHS;
- allocate: the project's allocator as a run calls it (water-filling on the exact curves where the rules
  allow, with its certificate, prices and rule check);
- greedy: a sort-based greedy over the chord segments (`filling.greedy_fill`), where the rules are a
  budget with nested caps only.

The LP methods and the greedy solve the same chord model (the request's breakpoints), so their optima
must agree to 1e-6 relative; `allocate` solves the exact curves, so its value lies between the chord
optimum and the tangent bound. Instances: the Kent baseline (13 districts), Kent's LSOAs (1,107), the
national round 4 scenario (England and Wales LSOAs) when it loads, and a synthetic national-size
instance (35,672 areas × 6 interventions in 40 forces, about 300 local-authority bids, £750k grant
caps, a £2.5m force cap, 50 % match funding, about 5.7 % of cells usable), also with a budget and
nested caps only (allocate and the greedy alone). The linear-program methods are skipped on chord models
with more than --most-columns columns (the national LSOAs have millions) and stopped after --timeout
seconds. Figures, not assertions: speed is never a unit test.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from simulator.arrays import Labelled  # noqa: E402
from simulator.constraints import AllocationRequest  # noqa: E402
from simulator.interventions import Curves  # noqa: E402

METHODS = ("pulp-idiomatic+cbc", "pulp-lists+cbc", "pulp-lists+highs", "arrays+highs", "allocate", "greedy")
LP_METHODS = ("pulp-idiomatic+cbc", "pulp-lists+cbc", "pulp-lists+highs", "arrays+highs", "greedy")
SCENARIOS = {"13": "kent-baseline.toml", "1107": "kent-lsoa-2024.toml", "national": "england-wales-round4.toml"}
AGREE = 1e-6


def synthetic_national(areas: int = 35_672, forces: int = 40, bids: int = 300, seed: int = 7, caps_only: bool = False) -> AllocationRequest:
    """A national-size instance: areas × 6 interventions in `forces` forces, bids as clusters of areas within one force,
    £750k grant caps, a £2.5m force cap and a £75m budget; with 50 % match funding (£45m available) and local match
    funding for some bids unless `caps_only`. About 12 % of areas are eligible and about half of their cells target
    harm, so about 5.7 % of cells are usable, as in the national data."""
    rng = np.random.default_rng(seed)
    interventions = 6
    force_of_bid = np.sort(np.concatenate([np.arange(forces), rng.integers(0, forces, bids - forces)]))
    bid_of_area = np.sort(np.concatenate([np.arange(bids), rng.integers(0, bids, areas - bids)]))
    eligible = rng.random(areas) < 0.12
    harm = np.where(rng.random((areas, interventions)) < 0.475, rng.gamma(0.8, 400.0, size=(areas, interventions)), 0.0)
    scale = rng.uniform(5_000.0, 60_000.0, size=(areas, interventions))
    codes = tuple(f"E01{i:06d}" for i in range(areas))
    items = tuple(f"measure_{j}" for j in range(interventions))
    curves = Curves(
        Labelled(harm, ("area", "intervention"), (codes, items), "targeted harm", "days"),
        Labelled(scale, ("area", "intervention"), (codes, items), "cost scale", "£"),
        rng.uniform(0.05, 0.35, size=interventions),
    )
    local = np.where(rng.random(bids) < 0.3, rng.uniform(50_000.0, 400_000.0, bids), np.inf)
    return AllocationRequest(
        curves,
        eligible,
        75_000_000.0,
        750_000.0,
        match_funding_rate=0.0 if caps_only else 0.5,
        match_funding_available_gbp=None if caps_only else 45_000_000.0,
        bid_of_area=bid_of_area,
        bid_names=tuple(f"local authority {b + 1}" for b in range(bids)),
        force_cap_gbp=2_500_000.0,
        force_of_area=force_of_bid[bid_of_area],
        force_names=tuple(f"force {f + 1}" for f in range(forces)),
        local_match_gbp=None if caps_only else local,
    )


def scenario_request(name: str) -> AllocationRequest:
    """The allocation request of a shipped scenario, built as a run builds it."""
    from simulator import load_scenario
    from simulator.constraints import request_for
    from simulator.interventions import build_curves
    from simulator.verdicts import assess_eligibility

    loaded = load_scenario(REPO / "scenarios" / name)
    demand, eligibility = assess_eligibility(loaded)
    scenario = loaded.scenario
    curves = build_curves(demand, scenario.active_interventions(), scenario.appraisal)
    return request_for(scenario, demand, eligibility, curves)


# Methods, each run in a child process: (build seconds, solve seconds, objective, what the objective is).


def _chord_columns(request: AllocationRequest):
    """The chord segments of the open cells with positive width: cells, segment index, width (£), slope (days per £)."""
    from simulator.formulation import cell_segments

    cells = np.flatnonzero(request.open_cells().ravel())
    widths, slopes = cell_segments(request, cells, request.segments)
    return cells, widths, slopes


def run_idiomatic(request: AllocationRequest):
    import pulp

    from simulator.formulation import pulp_solver

    started = time.perf_counter()
    cells, widths, slopes = _chord_columns(request)
    keys = [(int(cell), k) for n, cell in enumerate(cells) for k in range(widths.shape[1]) if widths[n, k] > 0]
    width = {(int(cells[n]), k): float(widths[n, k]) for n in range(len(cells)) for k in range(widths.shape[1])}
    slope = {(int(cells[n]), k): float(slopes[n, k]) for n in range(len(cells)) for k in range(widths.shape[1])}
    segments_of = {}
    for key in keys:
        segments_of.setdefault(key[0], []).append(key)
    problem = pulp.LpProblem("allocation", pulp.LpMaximize)
    spend = pulp.LpVariable.dicts("spend", keys, lowBound=0)
    for key in keys:
        spend[key].upBound = width[key]
    problem += pulp.lpSum(slope[key] * spend[key] for key in keys)
    for family in request.families():
        for index, row in enumerate(family.rows):
            terms = pulp.lpSum(
                float(coef) * spend[key] for cell, coef in zip(row.cells, row.coefs) for key in segments_of.get(int(cell), ())
            )
            problem += (terms <= row.rhs) if row.sense == "<=" else (terms >= row.rhs), f"{family.key}_{index}"
    built = time.perf_counter()
    problem.solve(pulp_solver("cbc", mip=False))
    solved = time.perf_counter()
    return built - started, solved - built, float(pulp.value(problem.objective)), "chord model"


def run_lists(request: AllocationRequest, solver: str):
    import pulp

    from simulator.formulation import _build, _model_goal, breakpoints, chords, pulp_solver

    started = time.perf_counter()
    widths, slopes = chords(request, breakpoints(request, request.segments))
    model = _build(request, widths, slopes, None, pulp)
    built = time.perf_counter()
    model.problem.solve(pulp_solver(solver, mip=bool(model.flags)))
    solved = time.perf_counter()
    return built - started, solved - built, _model_goal(model, request), "chord model"


def run_arrays(request: AllocationRequest):
    from simulator.formulation import array_model

    started = time.perf_counter()
    model = array_model(request, request.segments)
    built = time.perf_counter()
    values = model.solve().values
    solved = time.perf_counter()
    return built - started, solved - built, model.model_value(values), "chord model"


def run_allocate(request: AllocationRequest):
    from simulator.allocation import allocate

    started = time.perf_counter()
    allocation = allocate(request, "highs")
    certificate = allocation.certificate
    return 0.0, time.perf_counter() - started, allocation.objective_days, f"exact curves ({certificate.method}, gap {certificate.gap:.1e})"


def run_greedy(request: AllocationRequest):
    from simulator.filling import greedy_fill

    started = time.perf_counter()
    cells, widths, slopes = _chord_columns(request)
    bid_of_cell = request.bids()[cells // request.usable().shape[1]]
    nested = request.nested_force_caps()
    built = time.perf_counter()
    amounts = greedy_fill(
        widths[:, None, :],
        slopes[:, None, :],
        request.spendable_gbp,
        np.where(request.fundable_bids(), request.bid_caps(), 0.0),
        cap_groups=bid_of_cell,
        outer_groups=None if nested is None else nested[0],
        outer_caps_gbp=None if nested is None else nested[1],
    )[:, 0]
    solved = time.perf_counter()
    starts = np.concatenate([np.zeros((len(cells), 1)), np.cumsum(widths, axis=1)[:, :-1]], axis=1)
    filled = np.clip(amounts[:, None] - starts, 0.0, widths)
    return built - started, solved - built, float((filled * slopes).sum()), "chord model"


def greedy_applies(request: AllocationRequest) -> bool:
    """The sort-based greedy is exact for a budget with nested caps (bids, forces, match funding on the total)."""
    return (
        request.goal == "harm"
        and set(request.rule_keys()) <= {"budget", "force_cap", "match_funding", "grant_cap", "local_match"}
        and request.caps_nest
    )


def child(method: str, path: str) -> None:
    warnings.simplefilter("ignore")
    import highspy  # noqa: F401  (imports are not the methods' time)
    import pulp  # noqa: F401

    import simulator.allocation  # noqa: F401

    with open(path, "rb") as file:
        request = pickle.load(file)
    runners = {
        "pulp-idiomatic+cbc": run_idiomatic,
        "pulp-lists+cbc": lambda r: run_lists(r, "cbc"),
        "pulp-lists+highs": lambda r: run_lists(r, "highs"),
        "arrays+highs": run_arrays,
        "allocate": run_allocate,
        "greedy": run_greedy,
        "imports": lambda r: (0.0, 0.0, 0.0, "nothing: the interpreter and libraries alone"),
    }
    build, solve, objective, kind = runners[method](request)
    print(json.dumps({"build": build, "solve": solve, "objective": objective, "kind": kind, "peak_mb": peak_mb()}), flush=True)


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM, counted from its exec, so the parent's memory is not in it), or a
    solver process it started (CBC) where that was larger, in MB."""
    import resource

    own = 0.0
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                own = float(line.split()[1]) / 1024.0
    return max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0)


def measure(method: str, path: str, timeout: float) -> dict:
    """Run one method in a child process: its printed figures and its peak resident memory (MB)."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", method, "--instance", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    started = time.monotonic()
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - started > timeout:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            return {"error": f"stopped after {timeout:.0f} s"}
        time.sleep(0.05)
    out, err = process.stdout.read(), process.stderr.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        return {"error": (err.strip().splitlines() or ["failed"])[-1][:120]}
    return json.loads(out.strip().splitlines()[-1])


def instances(sizes: list[str]) -> list[tuple[str, AllocationRequest | None, str]]:
    """(label, request or None, why it was skipped) for each size asked for."""
    found = []
    for size in sizes:
        if size in SCENARIOS:
            try:
                request = scenario_request(SCENARIOS[size])
            except Exception as error:  # a scenario being written may not load yet: say so and go on
                found.append((size, None, f"scenarios/{SCENARIOS[size]} did not load: {type(error).__name__}: {error}"))
                continue
            found.append((f"{len(request.eligible):,} areas ({SCENARIOS[size]})", request, ""))
        else:
            areas = int(size)
            found.append((f"{areas:,} synthetic areas, round 4 rules + force cap", synthetic_national(areas), ""))
            found.append((f"{areas:,} synthetic areas, budget + nested caps only", synthetic_national(areas, caps_only=True), ""))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="13,1107,national,35672", help="comma-separated: 13, 1107, national, or a synthetic area count")
    parser.add_argument("--quick", action="store_true", help="16 chords per curve and no idiomatic PuLP above 2,000 areas")
    parser.add_argument("--timeout", type=float, default=130.0, help="seconds a method may take on one instance")
    parser.add_argument(
        "--most-columns", type=int, default=1_000_000, help="skip the linear-program methods on chord models with more columns than this"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(options.child, options.instance)
        return
    table = []
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "instance.pickle")
        with open(path, "wb") as file:
            pickle.dump(synthetic_national(400, forces=4, bids=20), file)
        floor = measure("imports", path, options.timeout)
        print(
            f"peak memory of a child that only loads Python, numpy, PuLP, highspy and the package: {floor['peak_mb']:.0f} MB",
            flush=True,
        )
        for label, request, skipped in instances(options.sizes.split(",")):
            if request is None:
                print(f"\n{label}: skipped, {skipped}")
                continue
            if options.quick:
                request = dataclasses.replace(request, segments=16)
            request = dataclasses.replace(request)
            cells = int(request.open_cells().sum())
            print(f"\n{label}: {cells:,} open cells × {request.segments} chords, rules: {', '.join(request.rule_keys())}")
            path = os.path.join(folder, "instance.pickle")
            with open(path, "wb") as file:
                pickle.dump(request, file)
            results = {}
            columns = cells * request.segments
            if columns > options.most_columns:
                print(f"  linear-program methods skipped: {columns:,} columns is more than --most-columns {options.most_columns:,}")
            for method in METHODS:
                if method not in ("allocate", "greedy") and columns > options.most_columns:
                    continue
                if method == "greedy" and not greedy_applies(request):
                    continue
                if method == "pulp-idiomatic+cbc" and request.needs_binaries:
                    continue
                if method == "pulp-idiomatic+cbc" and options.quick and len(request.eligible) > 2000:
                    continue
                if "caps only" in label and method not in ("allocate", "greedy"):
                    continue
                figures = measure(method, path, options.timeout)
                results[method] = figures
                if "error" in figures:
                    print(f"  {method:<20} {figures['error']}")
                    continue
                print(
                    f"  {method:<20} build {figures['build']:8.3f} s  solve {figures['solve']:8.3f} s  peak {figures['peak_mb']:7.0f} MB  "
                    f"objective {figures['objective']:,.6f} ({figures['kind']})"
                )
            verdict = agreement(results)
            print(f"  {verdict}")
            table.append((label, results, verdict))
    print("\n" + markdown(table), flush=True)
    print(f"\nPeak memory includes about {floor['peak_mb']:.0f} MB of interpreter and libraries in every child.", flush=True)


def agreement(results: dict) -> str:
    """Whether the chord-model methods reach the same optimum (1e-6 relative), and where the exact optimum lies."""
    chord = {method: figures["objective"] for method, figures in results.items() if method in LP_METHODS and "error" not in figures}
    words = []
    if chord:
        values = np.array(list(chord.values()))
        spread = float((values.max() - values.min()) / max(abs(values.max()), 1e-12))
        same = "agree" if spread <= AGREE else "DISAGREE"
        words.append(f"chord-model methods {same} (spread {spread:.1e} relative, {len(chord)} methods)")
    exact = results.get("allocate", {})
    if "objective" in exact and chord:
        above = (exact["objective"] - max(chord.values())) / max(abs(exact["objective"]), 1e-12)
        words.append(f"allocate's exact optimum is {above:+.2e} relative to the chord optimum (≥ 0 expected: chords lie under the curves)")
    if "allocate" in results and "pulp-lists+cbc" in results and "error" not in results["pulp-lists+cbc"] and "error" not in exact:
        lists = results["pulp-lists+cbc"]
        words.append(f"allocate is {(lists['build'] + lists['solve']) / max(exact['solve'], 1e-9):.0f}× faster than list-built PuLP + CBC")
    if "allocate" in results and "greedy" in results and "error" not in results["greedy"] and "error" not in exact:
        greedy = results["greedy"]
        words.append(f"allocate takes {exact['solve'] / max(greedy['build'] + greedy['solve'], 1e-9):.2f}× the greedy's time")
    return "; ".join(words)


def markdown(table) -> str:
    lines = [
        "| instance | method | build s | solve s | peak MB | objective (harm days) | reaches |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for label, results, _ in table:
        for method, figures in results.items():
            if "error" in figures:
                lines.append(f"| {label} | {method} | | | | | {figures['error']} |")
                continue
            lines.append(
                f"| {label} | {method} | {figures['build']:.3f} | {figures['solve']:.3f} | {figures['peak_mb']:.0f} | "
                f"{figures['objective']:,.4f} | {figures['kind']} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
