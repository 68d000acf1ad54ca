"""Charts for a panel slide: one function per chart, a RunResult in, a matplotlib Figure out.

Figures are built with the object API on the Agg canvas (never pyplot), so nothing here opens a
window or keeps global state; `report` saves them. Each intervention keeps one colour in every
chart, taken from its position in the catalogue.
"""

from __future__ import annotations

import textwrap

import numpy as np

from .result import RunResult

PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
PASS_COLOUR, FAIL_COLOUR, NEUTRAL = "#1b7837", "#b2182b", "#bdbdbd"


def intervention_colours(result: RunResult) -> dict[str, str]:
    """One fixed colour per intervention id, by its place in the scenario's catalogue."""
    return {item: PALETTE[i % len(PALETTE)] for i, item in enumerate(result.scenario.interventions)}


def allocation_by_area(result: RunResult):
    """Horizontal bars of £ per district, stacked by intervention; ineligible districts marked."""
    figure, axes = _figure(result, height=0.42 * len(result.demand.areas.codes) + 2.2)
    names = np.array(result.demand.areas.names)
    amounts = result.allocation.amounts.values
    order = np.lexsort((names, amounts.sum(axis=1)))
    colours = intervention_colours(result)
    left = np.zeros(len(order))
    for i, item in enumerate(result.curves.interventions):
        values = amounts[order, i]
        if values.sum() <= 0:
            continue
        axes.barh(names[order], values, left=left, color=colours[item], label=result.scenario.interventions[item].name)
        left += values
    eligible = result.eligibility.eligible.values[order]
    for y, (total, ok) in enumerate(zip(left, eligible)):
        label = _pounds(total) if ok else "not eligible"
        axes.text(total + left.max() * 0.01, y, label, va="center", fontsize=8, color="black" if ok else FAIL_COLOUR)
    axes.set_xlim(0, max(left.max(), 1.0) * 1.18)
    axes.set_xlabel("Allocation (£)")
    axes.set_ylabel("District")
    axes.xaxis.set_major_formatter(_pound_formatter())
    axes.set_title(f"Allocation by district: {_pounds(result.allocation.allocated_gbp)} of {_pounds(result.scenario.budget_gbp)}")
    axes.legend(loc="lower right", fontsize=8, frameon=False)
    return figure


def eligibility_rules(result: RunResult):
    """For each rule, every district's value against its threshold, coloured pass or fail."""
    outcomes = result.eligibility.outcomes
    names = np.array(result.demand.areas.names)
    count = max(len(outcomes), 1)
    figure, axes_list = _figure(result, height=0.36 * len(names) + 2.4, columns=count)
    axes_list = np.atleast_1d(axes_list)
    if not outcomes:
        axes_list[0].text(0.5, 0.5, "This round sets no area test:\nevery district is eligible", ha="center", va="center")
        axes_list[0].set_axis_off()
        axes_list[0].set_title("Eligibility")
        return figure
    order = np.lexsort((names, outcomes[0].values))
    positions = np.arange(len(order))
    for axes, outcome in zip(axes_list, outcomes):
        colours = [PASS_COLOUR if outcome.passed[i] else FAIL_COLOUR for i in order]
        axes.barh(positions, outcome.values[order], color=colours)
        axes.scatter(outcome.thresholds[order], positions, marker="|", s=250, color="black", zorder=3, label="threshold")
        axes.set_title("\n".join(textwrap.wrap(outcome.label(), 30)), fontsize=10)
        axes.set_xlabel("\n".join(textwrap.wrap(outcome.unit, 34)))
    axes_list[0].set_yticks(positions, names[order])
    axes_list[0].set_ylabel("District")
    axes_list[0].legend(loc="lower right", fontsize=8, frameon=False)
    figure.suptitle(f"{result.scenario.round.name}: area test ({'all rules' if result.scenario.round.combine == 'all' else 'any rule'} must pass)")
    return figure


def lorenz_curve(result: RunResult):
    """The Lorenz curve of harm across areas, with the Gini coefficient and the top-10 % share."""
    concentration = result.demand.concentration
    figure, axes = _figure(result, height=5.2, width=6.4)
    axes.plot([0, 100], [0, 100], color=NEUTRAL, linestyle="--", label="harm spread evenly")
    axes.plot(concentration.area_share * 100, concentration.harm_share * 100, marker="o", color=PALETTE[2], label="harm across areas")
    axes.fill_between(concentration.area_share * 100, concentration.harm_share * 100, concentration.area_share * 100, color=PALETTE[2], alpha=0.12)
    top = concentration.top_share(0.1) * 100
    axes.annotate(f"Gini {concentration.gini:.2f}\ntop 10 % of areas hold {top:.0f} % of harm",
                  xy=(0.05, 0.78), xycoords="axes fraction", fontsize=9)
    axes.set_xlabel("Areas, least to most harm (cumulative %)")
    axes.set_ylabel("Harm (CCHI days, cumulative %)" if result.demand.weights.name.startswith("cchi") else "Harm (cumulative %)")
    axes.set_xlim(0, 100)
    axes.set_ylim(0, 100)
    axes.set_title("Concentration of harm across districts")
    axes.legend(loc="lower right", fontsize=8, frameon=False)
    return figure


CHARTS = {
    "allocation_by_district": allocation_by_area,
    "eligibility_rules": eligibility_rules,
    "lorenz_curve": lorenz_curve,
}


def _figure(result: RunResult, height: float, width: float = 9.0, columns: int = 1):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width if columns == 1 else max(width, 3.6 * columns), height), layout="constrained")
    axes = figure.subplots(1, columns, sharey=True) if columns > 1 else figure.subplots()
    figure.text(0.01, 0.005, "\n".join(textwrap.wrap(result.caption, 140)), fontsize=7, color="#555555", va="bottom")
    figure.get_layout_engine().set(h_pad=0.25)
    return figure, axes


def _pounds(value: float) -> str:
    if abs(value) >= 1e6:
        return f"£{value / 1e6:.2f}m"
    if abs(value) >= 1e3:
        return f"£{value / 1e3:.0f}k"
    return f"£{value:.0f}"


def _pound_formatter():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: _pounds(value))
