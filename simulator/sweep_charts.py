"""The sweep's chart: each output (harm averted, £ allocated, eligible areas, £ per harm day) against each varied key.

One figure of small multiples: a row per varied key, a column per output. Across a grid, each row
draws one line per value of the other keys, so a reader sees how one key's effect depends on the
rest. Points that did not run (infeasible, invalid, stopped) leave a gap. Built with the object API
on the Agg canvas (never pyplot); matplotlib is imported only when the figure is made.
"""

from __future__ import annotations

import textwrap

import numpy as np

from .figures import PALETTE, pound_formatter, thousands_formatter
from .sweep import Sweep, SweepPoint

OUTPUTS = (
    ("harm_averted_days", "Harm averted", "{unit}"),
    ("allocated_gbp", "Allocated", "£"),
    ("eligible_areas", "Eligible areas", "areas"),
    ("gbp_per_harm_day", "£ per harm day averted", "£"),
)
"""(point attribute, panel title, axis unit) per output, in the figure's column order."""
MOST_LINES = 8
"""Lines per panel with their own colour and legend entry; further combinations of the other keys are drawn grey."""


def sweep_charts(sweep: Sweep) -> dict:
    """The sweep's charts by name: one figure, drawn only when some point ran."""
    return {"sweep": outputs_by_key} if any(point.ok for point in sweep.points) else {}


def output_value(point: SweepPoint, attribute: str) -> float:
    """A point's output as a number for the chart; NaN where the point did not run or the output is undefined."""
    value = getattr(point, attribute) if point.ok else None
    return np.nan if value is None else float(value)


def chart_lines(sweep: Sweep, key_index: int, attribute: str) -> list[tuple[str, list[float], list[float]]]:
    """The lines of one panel: (label of the other keys' values, x positions, output values), one per combination of the
    other keys, in point order. X positions are the key's values where they are numbers, else their ranks."""
    variation = sweep.variations[key_index]
    positions = _positions(variation.values)
    lines: dict[tuple, tuple[list[float], list[float]]] = {}
    for point in sweep.points:
        others = tuple(value for k, value in enumerate(point.values) if k != key_index)
        xs, ys = lines.setdefault(others, ([], []))
        xs.append(positions[variation.values.index(point.values[key_index])])
        ys.append(output_value(point, attribute))
    found = []
    for others, (xs, ys) in lines.items():
        order = np.argsort(xs, kind="stable")
        label = ", ".join(
            f"{other.key} = {other.shown(value)}"
            for other, value in zip((v for k, v in enumerate(sweep.variations) if k != key_index), others)
        )
        found.append((label, [xs[i] for i in order], [ys[i] for i in order]))
    return found


def _positions(values: tuple) -> list[float]:
    if all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in values):
        return [float(value) for value in values]
    return [float(rank) for rank in range(len(values))]


def outputs_by_key(sweep: Sweep):
    """Small multiples: a row per varied key, a column per output, one line per combination of the other keys."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    rows = len(sweep.variations)
    figure = Figure(figsize=(12.0, 2.7 * rows + 1.2), layout="constrained")
    panels = np.atleast_2d(figure.subplots(rows, len(OUTPUTS), squeeze=False))
    caption = (
        f"{sweep.title} · {sweep.force_name} · {len(sweep.points):,} points"
        + (f", {sweep.draws:,} Monte Carlo draws each" if sweep.draws else ", point estimates (no Monte Carlo)")
        + ". A gap: the point did not run (see sweep.csv's status)."
    )
    figure.text(0.01, 0.005, "\n".join(textwrap.wrap(caption, 200)), fontsize=7, color="#555555", va="bottom")
    figure.get_layout_engine().set(rect=(0.0, 0.035, 1.0, 0.965))
    unit = "harm days" if sweep.harm_unit == "harm days" else sweep.harm_unit
    for row, variation in enumerate(sweep.variations):
        numeric = all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in variation.values)
        for column, (attribute, title, axis_unit) in enumerate(OUTPUTS):
            panel = panels[row, column]
            lines = chart_lines(sweep, row, attribute)
            for number, (label, xs, ys) in enumerate(lines):
                coloured = number < MOST_LINES
                panel.plot(
                    xs,
                    ys,
                    marker="o",
                    markersize=3,
                    linewidth=1.4 if coloured else 0.8,
                    color=PALETTE[number % len(PALETTE)] if coloured and len(lines) > 1 else (PALETTE[0] if coloured else "#bbbbbb"),
                    label=(label or None) if coloured else None,
                )
            panel.set_title(title, fontsize=9)
            panel.set_ylabel(axis_unit.format(unit=unit), fontsize=8)
            panel.set_xlabel(variation.key, fontsize=8)
            panel.tick_params(labelsize=7)
            panel.grid(color="#e5e5e5", linewidth=0.6)
            panel.set_axisbelow(True)
            if attribute == "gbp_per_harm_day":
                panel.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"£{value:,.2f}"))
            elif axis_unit == "£":
                panel.yaxis.set_major_formatter(pound_formatter())
            else:
                panel.yaxis.set_major_formatter(thousands_formatter())
            if attribute == "eligible_areas":
                panel.yaxis.get_major_locator().set_params(integer=True)
            if numeric and variation.key.endswith("_gbp"):
                panel.xaxis.set_major_formatter(pound_formatter())
                panel.tick_params(axis="x", labelrotation=30)
            if not numeric:
                panel.set_xticks(
                    range(len(variation.values)), [variation.shown(value) for value in variation.values], rotation=30, ha="right"
                )
            if column == len(OUTPUTS) - 1 and len(lines) > 1:
                more = f"and {len(lines) - MOST_LINES} more in grey" if len(lines) > MOST_LINES else None
                panel.legend(fontsize=6.5, frameon=False, loc="best", title=more, title_fontsize=6.5)
    figure.suptitle(f"What the sweep changes: {', '.join(sweep.keys)}", fontsize=11)
    return figure
