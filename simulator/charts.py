"""Charts for a panel slide: one function per chart, a run in (a RunResult, or a PointRun for `point_charts`), a matplotlib Figure out.

Figures are built with the object API on the Agg canvas (never pyplot), so nothing here opens a
window or keeps global state; `report` saves them. Each intervention keeps one colour in every
chart, taken from its position in the catalogue.
"""

from __future__ import annotations

import textwrap

import numpy as np

from .eligibility import MANY_AREAS, too_many_to_list
from .errors import InternalError
from .experiments import Comparison
from .figures import FAIL_COLOUR, NEUTRAL, PALETTE, PASS_COLOUR
from .figures import captioned_figure as _figure
from .figures import fixed_figure as _fixed_figure
from .figures import place as _place
from .figures import pound_formatter as _pound_formatter
from .figures import pounds as _pounds
from .figures import thousands_formatter as _thousands_formatter
from .interventions import counted_over
from .maps import AreaMap, force_key, force_tile, force_tiles
from .result import PointRun, RunResult
from .uncertainty_charts import UNCERTAINTY_CHARTS

SCENARIO_PALETTE = ("#4d4d4d", "#2b8cbe", "#e6550d", "#756bb1", "#31a354", "#c51b8a")
ELIGIBILITY_CLASSES = (("eligible, funded", PASS_COLOUR), ("eligible, not funded", "#a6dba0"), ("not eligible", NEUTRAL))
MONEY_SHOWN_GBP = 0.5
HEX_RADIUS = 0.56
HEX_ROW_STEP = 0.866


def intervention_colours(result: PointRun) -> dict[str, str]:
    """One fixed colour per intervention id, by its place in the scenario's catalogue."""
    return {item: PALETTE[i % len(PALETTE)] for i, item in enumerate(result.scenario.interventions)}


def allocation_by_area(result: PointRun):
    """Horizontal bars of £ per area, stacked by intervention; ineligible areas marked.

    With more areas than fit (small areas), only the funded ones are drawn, the best-funded
    MANY_AREAS of them, and the title says how many are left out.
    """
    areas = result.demand.areas
    names = np.array(areas.names)
    amounts = result.allocation.amounts.values
    title = (
        f"Allocation by {areas.level_name if areas.level == 'lsoa' else 'district'}: {_pounds(result.allocation.allocated_gbp)} "
        f"of {_pounds(result.scenario.budget_gbp)}"
    )
    if not result.funded().any():
        figure, axes = _figure(result, height=2.6)
        reason = result.allocation.binding[0] if result.allocation.binding else "no area is funded"
        axes.text(
            0.5,
            0.5,
            "\n".join(textwrap.wrap(f"{reason[0].upper()}{reason[1:]}.", 70)),
            ha="center",
            va="center",
            fontsize=10,
            transform=axes.transAxes,
        )
        axes.set_axis_off()
        axes.set_title(title)
        return figure
    order = np.lexsort((names, amounts.sum(axis=1)))
    hidden = 0
    if result.many_areas:
        funded = order[result.funded()[order]]
        hidden = len(order) - len(funded[-MANY_AREAS:])
        order = funded[-MANY_AREAS:]
    figure, axes = _figure(result, height=0.42 * len(order) + 2.2)
    colours = intervention_colours(result)
    left = np.zeros(len(order))
    for i, item in enumerate(result.curves.interventions):
        values = amounts[order, i]
        if values.sum() <= 0:
            continue
        axes.barh(names[order], values, left=left, color=colours[item], label=result.scenario.interventions[item].name)
        left += values
    eligible = result.eligibility.eligible.values[order]
    for y, (total, ok, funded_here) in enumerate(zip(left, eligible, result.funded()[order])):
        label = (_pounds(total) if funded_here else "£0 (eligible, not funded)") if ok else "not eligible"
        axes.text(total + left.max() * 0.01, y, label, va="center", fontsize=8, color="black" if ok else FAIL_COLOUR)
    axes.set_xlim(0, max(left.max(), 1.0) * 1.18)
    axes.set_xlabel("Allocation (£)")
    axes.set_ylabel(areas.level_name)
    axes.xaxis.set_major_formatter(_pound_formatter())
    axes.set_title(title + (f"\n(the {len(order)} best-funded areas; {hidden:,} others not shown)" if hidden else ""))
    axes.legend(loc="lower right", fontsize=8, frameon=False)
    return figure


def eligibility_rules(result: RunResult):
    """For each rule, every district's value against its threshold, coloured pass or fail (by district for small areas)."""
    if result.many_areas:
        return eligibility_by_parent(result)
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
        axes.scatter(outcome.thresholds[order], positions, marker="|", s=250, color="black", zorder=3)
        axes.set_title("\n".join(textwrap.wrap(outcome.label(), 30)), fontsize=10)
        axes.set_xlabel("\n".join(textwrap.wrap(outcome.unit, 34)))
    verdicts = result.monte_carlo.verdicts
    labels = [names[i] + (f" (marginal, {verdicts.p_eligible.values[i]:.0%})" if verdicts.marginal[i] else "") for i in order]
    axes_list[0].set_yticks(positions, labels)
    axes_list[0].set_ylabel("District")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    axes_list[-1].legend(
        handles=[
            Patch(facecolor=PASS_COLOUR, label="passes"),
            Patch(facecolor=FAIL_COLOUR, label="fails"),
            Line2D([], [], marker="|", markersize=14, linestyle="none", color="black", label="threshold"),
        ],
        loc="lower right",
        fontsize=8,
        framealpha=0.9,
    )
    title = (
        f"{result.scenario.round.name}: area test (an area must pass {result.eligibility.combine_words}); marginal: the verdict "
        f"flips in more than {verdicts.marginal_share:.0%} of {verdicts.draws:,} draws (the chance of passing in brackets)"
    )
    figure.suptitle("\n".join(textwrap.wrap(title, int(figure.get_figwidth() * 10))))
    return figure


def eligibility_by_parent(result: PointRun):
    """Small areas: per district, how many are eligible and funded, eligible only, or not eligible."""
    areas = result.demand.areas
    tallies = result.eligibility.by_parent(result.area_amounts(), result.funded())
    labels = [tally.parent_name for tally in tallies]
    counts = np.array([[tally.funded, tally.eligible - tally.funded, tally.areas - tally.eligible] for tally in tallies])
    order = np.lexsort((np.array(labels), counts[:, 0] + counts[:, 1]))
    hidden = max(len(order) - MANY_AREAS, 0)
    order = order[hidden:]
    figure, axes = _figure(result, height=0.4 * len(order) + 2.4)
    left = np.zeros(len(order))
    for column, (label, colour) in enumerate(ELIGIBILITY_CLASSES):
        axes.barh(np.array(labels)[order], counts[order, column], left=left, color=colour, label=label)
        left += counts[order, column]
    for y, a in enumerate(order):
        axes.text(left[y] + left.max() * 0.01, y, f"{counts[a, 0] + counts[a, 1]} of {counts[a].sum()} eligible", va="center", fontsize=8)
    axes.set_xlim(0, left.max() * 1.25)
    axes.set_xlabel(f"{areas.level_name}s")
    axes.set_ylabel("District")
    rules = f"an area must pass {result.eligibility.combine_words}"
    axes.set_title(
        "\n".join(
            textwrap.wrap(
                f"{result.scenario.round.name}: {len(result.eligibility.eligible_codes):,} of {len(areas.codes):,} "
                f"{areas.level_name}s pass the area test ({rules})"
                + (f"; the {len(order)} districts with the most eligible shown, {hidden:,} others not" if hidden else ""),
                60,
            )
        )
    )
    axes.legend(loc="lower right", fontsize=8, frameon=False)
    return figure


def lorenz_curve(result: PointRun):
    """The Lorenz curve of harm across areas, with the Gini coefficient and the top-10 % share."""
    concentration = result.demand.concentration
    figure, axes = _figure(result, height=5.2, width=6.4)
    axes.plot([0, 100], [0, 100], color=NEUTRAL, linestyle="--", label="harm spread evenly")
    axes.plot(
        concentration.area_share * 100,
        concentration.harm_share * 100,
        marker=None if result.many_areas else "o",
        color=PALETTE[2],
        label="harm across areas",
    )
    axes.fill_between(
        concentration.area_share * 100, concentration.harm_share * 100, concentration.area_share * 100, color=PALETTE[2], alpha=0.12
    )
    top = concentration.top_share(0.1) * 100
    axes.annotate(
        f"Gini {concentration.gini:.2f}\ntop 10 % of areas hold {top:.0f} % of harm", xy=(0.05, 0.78), xycoords="axes fraction", fontsize=9
    )
    axes.set_xlabel("Areas, least to most harm (cumulative %)")
    axes.set_ylabel("Harm (CCHI days, cumulative %)" if result.demand.weights.name.startswith("cchi") else "Harm (cumulative %)")
    axes.set_xlim(0, 100)
    axes.set_ylim(0, 100)
    axes.set_title(f"Concentration of harm across {'LSOAs' if result.demand.areas.level == 'lsoa' else 'districts'}")
    axes.legend(loc="lower right", fontsize=8, frameon=False)
    return figure


def budget_curve(result: PointRun):
    """V(B): the goal's value at budgets from £0 to twice the budget, the scenario's budget marked, a short tangent there
    whose slope is the budget's shadow price, and the flat stretch where the rules let no more be spent."""
    curve = result.budget_curve
    figure, axes = _figure(result, height=4.8, width=8.0)
    unit = result.demand.weights.unit if curve is None or curve.goal_unit == "harm days" else curve.goal_unit
    axes.set_xlabel("Budget (£)")
    axes.set_ylabel(textwrap.fill(_goal_label(result, unit), 52), fontsize=9)
    if curve is None:
        axes.text(0.5, 0.5, "No budget curve: the least-cost objective sets the money itself", ha="center", va="center")
        axes.set_title("What more budget buys")
        return figure
    budgets, values = curve.budgets_gbp, curve.values
    top = float(budgets[-1])
    drawn = np.isfinite(values)
    axes.plot(budgets[drawn], values[drawn], color=PALETTE[2], marker="o", markersize=3.5, label="the best split at each budget, V(B)")
    failed = [budget for budget, status in zip(budgets, curve.statuses) if status.startswith("infeasible")]
    if failed:
        axes.axvspan(0, max(failed), color=FAIL_COLOUR, alpha=0.12, linewidth=0, label="the other rules cannot all be met")
    limit = result.spending_limit_gbp()
    if limit < top:
        axes.axvspan(limit, top, color=NEUTRAL, alpha=0.3, linewidth=0)
        axes.text(
            (limit + top) / 2,
            0.04,
            f"flat beyond {_pounds(limit)}:\nthe rules let no more be spent",
            transform=axes.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    at_budget = _value_at_budget(result)
    axes.axvline(curve.budget_gbp, color="black", linewidth=0.8, linestyle=":")
    if at_budget is not None:
        axes.plot(curve.budget_gbp, at_budget, "o", color="black", markersize=6, zorder=3)
        axes.annotate(
            f"budget {_pounds(curve.budget_gbp)}: " + (f"{at_budget:.4g}" if result.request.goal == "maxmin" else f"{at_budget:,.0f}"),
            (curve.budget_gbp, at_budget),
            xytext=(8, -16),
            textcoords="offset points",
            fontsize=8,
        )
        if curve.budget_price is not None:
            half = 0.2 * curve.budget_gbp
            right = min(top, curve.budget_gbp + half, max(limit, curve.budget_gbp))
            xs = np.array([max(0.0, curve.budget_gbp - half), right])
            axes.plot(
                xs,
                at_budget + curve.budget_price * (xs - curve.budget_gbp),
                color=PALETTE[1],
                linewidth=2.4,
                linestyle="--",
                zorder=4,
                label=f"slope at the budget: {curve.budget_price * 1000:,.1f} {unit} per £1,000 (the budget's shadow price)",
            )
    axes.set_xlim(0, top)
    highest = float(np.max(values[drawn], initial=0.0))
    axes.set_ylim(0, highest * 1.3 if highest > 0 else 1.0)
    axes.xaxis.set_major_formatter(_pound_formatter())
    if unit != "£" and result.request.goal != "maxmin":
        axes.yaxis.set_major_formatter(_thousands_formatter())
    axes.legend(loc="upper left", fontsize=8, frameon=False)
    axes.set_title(f"What more (or less) budget buys: the best split at budgets from £0 to {_pounds(top)}", fontsize=10)
    return figure


def _goal_label(result: RunResult, unit: str) -> str:
    """The budget curve's value axis: the goal, its unit, and the period harm is counted over."""
    goal = result.request.goal
    if goal == "maxmin":
        return "Worst-served area: harm averted per day of its basket harm"
    counted = counted_over(result.curves, result.demand.horizon_months)
    if goal == "blend":
        return f"Blend of harm averted and the worst-served area ({unit}; {counted})"
    return f"Harm averted ({'CCHI ' if unit == 'harm days' else ''}{unit}; {counted})"


def _value_at_budget(result: PointRun) -> float | None:
    """The curve's value at the scenario's budget: its own point there, else the run's certificate, else None."""
    curve = result.budget_curve
    for budget, value in zip(curve.budgets_gbp, curve.values):
        if np.isclose(budget, curve.budget_gbp, rtol=0.0, atol=0.005) and np.isfinite(value):
            return float(value)
    certificate = result.allocation.certificate
    return certificate.value if certificate is not None else None


# ---------------------------------------------------------------- maps


def map_harm_rate(result: PointRun):
    """The area map coloured by expected harm per 1,000 residents over the funding period."""
    demand = result.demand
    values = demand.harm_per_1000.values.sum(axis=1)
    unit = "CCHI harm days" if demand.weights.name.startswith("cchi") else "harm"
    return area_map_chart(
        result.demand.areas.area_map,
        result.demand.areas.names,
        values,
        result.caption,
        title=f"Where the harm is: {unit} per 1,000 residents, next {demand.horizon_months} months",
        colour_scale=("YlOrRd", f"{unit} per 1,000 residents"),
        value_labels=[f"{value:,.0f}" for value in values],
    )


def map_eligibility(result: RunResult):
    """The area map coloured by verdict: eligible and funded, eligible but unfunded, not eligible."""
    eligible = result.eligibility.eligible.values
    funded = result.funded()
    classes = np.where(~eligible, 2, np.where(funded, 0, 1))
    colours = [ELIGIBILITY_CLASSES[c][1] for c in classes]
    verdicts = result.monte_carlo.verdicts
    marks = [f"marginal {p:.0%}" if marginal else "" for p, marginal in zip(verdicts.p_eligible.values, verdicts.marginal)]
    return area_map_chart(
        result.demand.areas.area_map,
        result.demand.areas.names,
        None,
        result.caption,
        title=f"{result.scenario.round.name}: who passes the area test\n(marginal: the verdict flips in more than "
        f"{verdicts.marginal_share:.0%} of draws; the chance of passing shown)",
        colours=colours,
        value_labels=marks if any(marks) else None,
        legend=[ELIGIBILITY_CLASSES[c] for c in sorted(set(classes.tolist()))],
    )


def map_allocation(result: PointRun):
    """The area map coloured by £ allocated; areas that are not eligible are grey."""
    amounts = result.area_amounts()
    eligible = result.eligibility.eligible.values
    labels = [_pounds(amount) if ok else "not eligible" for amount, ok in zip(amounts, eligible)]
    return area_map_chart(
        result.demand.areas.area_map,
        result.demand.areas.names,
        np.where(eligible, amounts, np.nan),
        result.caption,
        title=f"Allocation: {_pounds(result.allocation.allocated_gbp)} of {_pounds(result.scenario.budget_gbp)}",
        colour_scale=("Blues", "Allocation (£)"),
        value_labels=labels,
        money=True,
    )


def area_map_chart(
    area_map: AreaMap,
    names,
    values,
    caption: str,
    *,
    title: str,
    colour_scale=None,
    colours=None,
    legend=None,
    value_labels=None,
    money: bool = False,
    centre_zero: bool = False,
):
    """A map of the areas (hexagon tiles or boundaries), coloured by `values` on a scale or by given colours.

    NaN values are drawn grey. With `centre_zero` the scale is diverging and symmetric about 0.
    """
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize, TwoSlopeNorm
    from matplotlib.patches import Patch

    if area_map.kind == "none":
        raise InternalError(f"no map for these areas: {area_map.note}")
    norm = cmap = None
    if values is not None:
        values = np.asarray(values, dtype=float)
        finite = values[np.isfinite(values)]
        cmap = colormaps[colour_scale[0]]
        top = float(np.abs(finite).max()) if finite.size else 1.0
        top = top or 1.0
        norm = TwoSlopeNorm(0.0, -top, top) if centre_zero else Normalize(0.0, top)
        colours = [cmap(norm(value)) if np.isfinite(value) else NEUTRAL for value in values]
    tiles = area_map.kind == "tiles"
    if tiles:
        rows, columns = area_map.tiles[:, 0], area_map.tiles[:, 1]
        width = max(6.4, 1.25 * (columns.max() - columns.min() + 1.5) + (1.6 if norm else 0.0))
        height = 1.1 * (rows.max() - rows.min() + 1) + 1.6
    else:
        width, height = 8.0, 7.0
    figure, axes = _figure(caption, height=height, width=width)
    if tiles:
        centres = _draw_tiles(axes, area_map, colours)
    else:
        centres = _draw_boundaries(axes, area_map, colours)
    if tiles or not too_many_to_list(len(names)):
        for a, (x, y) in enumerate(centres):
            ink = _ink(colours[a])
            name = "\n".join(textwrap.wrap(names[a], 11))
            axes.text(
                x,
                y + (0.08 if value_labels else 0),
                name,
                ha="center",
                va="center" if not value_labels else "bottom",
                fontsize=7.5 if tiles else 7,
                color=ink,
                fontweight="bold",
            )
            if value_labels:
                axes.text(x, y - 0.06, value_labels[a], ha="center", va="top", fontsize=7.5 if tiles else 6.5, color=ink)
    axes.set_axis_off()
    axes.set_title(title)
    if norm is not None:
        bar = figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=axes, shrink=0.7, pad=0.02)
        bar.set_label(colour_scale[1])
        if money:
            bar.ax.yaxis.set_major_formatter(_pound_formatter(signed=centre_zero))
        if any(not np.isfinite(value) for value in values):
            legend = [("not eligible", NEUTRAL)]
    if legend:
        axes.legend(
            handles=[Patch(facecolor=colour, edgecolor="white", label=label) for label, colour in legend],
            loc="upper left",
            bbox_to_anchor=(0.0, 0.0),
            fontsize=8,
            frameon=False,
            ncols=len(legend),
        )
    return figure


def _draw_tiles(axes, area_map: AreaMap, colours) -> list[tuple[float, float]]:
    from matplotlib.patches import RegularPolygon

    centres = []
    for (row, column), colour in zip(area_map.tiles, colours):
        x, y = column + 0.5 * (row % 2), -row * HEX_ROW_STEP
        axes.add_patch(RegularPolygon((x, y), numVertices=6, radius=HEX_RADIUS, facecolor=colour, edgecolor="white", linewidth=2))
        centres.append((x, y))
    xs, ys = zip(*centres)
    axes.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    axes.set_ylim(min(ys) - 0.65, max(ys) + 0.65)
    axes.set_aspect("equal")
    return centres


def _draw_boundaries(axes, area_map: AreaMap, colours) -> list[tuple[float, float]]:
    from matplotlib.collections import PolyCollection

    polygons, faces, centres = [], [], []
    for rings, colour in zip(area_map.rings, colours):
        polygons += list(rings)
        faces += [colour] * len(rings)
        largest = max(rings, key=len)
        centres.append((float(largest[:, 0].mean()), float(largest[:, 1].mean())))
    axes.add_collection(PolyCollection(polygons, facecolors=faces, edgecolors="white", linewidths=0.6))
    points = np.concatenate(polygons)
    axes.set_xlim(points[:, 0].min(), points[:, 0].max())
    axes.set_ylim(points[:, 1].min(), points[:, 1].max())
    axes.set_aspect(1.0 if area_map.projected else 1.0 / np.cos(np.radians(points[:, 1].mean())))
    return centres


def _ink(colour) -> str:
    from matplotlib.colors import to_rgb

    red, green, blue = to_rgb(colour)
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.55 else "white"


# ---------------------------------------------------------------- comparisons


def comparison_allocation(comparison: Comparison):
    """Grouped bars: £ per area in each scenario, areas ordered by the reference's amount."""
    amounts = comparison.amounts()
    names = np.array(comparison.area_names)
    shown = np.flatnonzero(comparison.funded().any(axis=0))
    if shown.size == 0:
        shown = np.arange(len(names))
    order = shown[np.lexsort((names[shown], -amounts.max(axis=0)[shown], -amounts[0, shown]))][::-1]
    count = len(comparison.results)
    figure, axes = _figure(comparison_caption(comparison), height=max(3.5, 0.22 * count * len(order) + 0.3 * len(order) + 1.8))
    step = 0.8 / count
    for s, label in enumerate(comparison.labels):
        positions = np.arange(len(order)) + (count - 1 - s - (count - 1) / 2) * step
        values = amounts[s, order]
        axes.barh(positions, values, height=step * 0.92, color=scenario_colour(s), label=label)
        if count <= 3:
            for y, value in zip(positions, values):
                axes.text(value + amounts.max() * 0.01, y, _pounds(value), va="center", fontsize=6.5)
    axes.set_yticks(np.arange(len(order)), names[order])
    axes.set_xlim(0, max(amounts.max(), 1.0) * 1.15)
    axes.xaxis.set_major_formatter(_pound_formatter())
    axes.set_xlabel("Allocation (£)")
    axes.set_ylabel("District" if len(names) <= 20 else "Area")
    hidden = len(names) - len(order)
    axes.set_title(
        "Allocation by district, scenario by scenario" + (f" ({hidden} areas unfunded in every scenario not shown)" if hidden else "")
    )
    axes.legend(loc="lower right", fontsize=8, frameon=False)
    return figure


def comparison_harm_averted(comparison: Comparison):
    """One bar per scenario: harm averted with its interval, labelled with days and £ per harm day."""
    totals = comparison.totals_rows()
    figure, axes = _figure(comparison_caption(comparison), height=4.8, width=max(6.4, 1.6 * len(totals) + 2.5))
    positions = np.arange(len(totals))
    values = np.array([row["harm_averted_days"] for row in totals])
    low = values - np.array([row["harm_averted_low_days"] for row in totals])
    high = np.array([row["harm_averted_high_days"] for row in totals]) - values
    axes.bar(
        positions,
        values,
        color=[scenario_colour(s) for s in positions],
        yerr=[low, high],
        capsize=6,
        error_kw={"elinewidth": 1, "ecolor": "#333333"},
    )
    for x, row in zip(positions, totals):
        per_day = row["gbp_per_harm_day_averted"]
        axes.text(
            x,
            row["harm_averted_high_days"] * 1.02,
            f"{row['harm_averted_days']:,.0f} days\n{_pounds(row['allocated_gbp'])} · £{per_day or 0:,.2f}/day",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    axes.set_xticks(positions, ["\n".join(textwrap.wrap(label, 16)) for label in comparison.labels], fontsize=8)
    axes.set_ylim(0, max(row["harm_averted_high_days"] for row in totals) * 1.25 or 1.0)
    axes.yaxis.set_major_formatter(_thousands_formatter())
    axes.set_xlabel("Scenario")
    reference = comparison.reference.demand
    unit = "CCHI days" if reference.weights.name.startswith("cchi") else "harm"
    axes.set_ylabel(textwrap.fill(f"Harm averted ({unit}, {counted_over(comparison.reference.curves, reference.horizon_months)})", 48))
    axes.set_title(f"Harm averted per scenario, with {comparison.reference.demand.interval:.0%} interval")
    return figure


def comparison_eligibility(comparison: Comparison):
    """A grid of verdicts, areas × scenarios; a verdict that differs from the reference is outlined."""
    from matplotlib.patches import Patch, Rectangle

    eligible = comparison.eligible()
    names = np.array(comparison.area_names)
    changed = np.any(eligible != eligible[:1], axis=0)
    order = np.lexsort((names, -np.nan_to_num(eligible[0], nan=-1), ~changed))
    if comparison.many_areas:
        order = order[:MANY_AREAS]
    count = len(comparison.results)
    figure, axes = _figure(comparison_caption(comparison), height=0.32 * len(order) + 2.4, width=max(6.4, 2.0 + 1.7 * count))
    for row, a in enumerate(order):
        for s in range(count):
            value = eligible[s, a]
            colour = NEUTRAL if np.isnan(value) else (PASS_COLOUR if value else FAIL_COLOUR)
            differs = s > 0 and not (np.isnan(value) and np.isnan(eligible[0, a])) and value != eligible[0, a]
            axes.add_patch(
                Rectangle(
                    (s, row),
                    0.94,
                    0.86,
                    facecolor=colour,
                    alpha=1.0 if differs or s == 0 else 0.55,
                    edgecolor="black" if differs else "white",
                    linewidth=2 if differs else 0.5,
                )
            )
            text = "n/a" if np.isnan(value) else ("eligible" if value else "not eligible")
            axes.text(
                s + 0.47,
                row + 0.43,
                text + (" (changed)" if differs else ""),
                ha="center",
                va="center",
                fontsize=7,
                color="white",
                fontweight="bold" if differs else "normal",
            )
    axes.set_xlim(0, count)
    axes.set_ylim(len(order), 0)
    axes.set_xticks(np.arange(count) + 0.47, ["\n".join(textwrap.wrap(label, 18)) for label in comparison.labels], fontsize=8)
    axes.xaxis.tick_top()
    axes.set_yticks(np.arange(len(order)) + 0.43, names[order], fontsize=8)
    axes.tick_params(length=0)
    for side in axes.spines.values():
        side.set_visible(False)
    axes.set_xlabel("Scenario")
    axes.xaxis.set_label_position("top")
    axes.set_ylabel("District" if len(names) <= 20 else "Area")
    changes = int(changed.sum())
    axes.set_title(f"Eligibility: {changes} {'area changes' if changes == 1 else 'areas change'} verdict against {comparison.labels[0]}")
    axes.legend(
        handles=[
            Patch(facecolor=PASS_COLOUR, label="eligible"),
            Patch(facecolor=FAIL_COLOUR, label="not eligible"),
            Patch(facecolor="white", edgecolor="black", label="differs from the reference"),
        ],
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncols=3,
        fontsize=8,
        frameon=False,
    )
    return figure


def comparison_change_map(comparison: Comparison):
    """The area map of the change in £ from the reference, one panel per what-if (the last shown)."""
    amounts = comparison.amounts()
    reference = comparison.reference
    area_map = reference.demand.areas.area_map
    if tuple(comparison.area_codes) != reference.demand.areas.codes:
        raise InternalError("the change map needs every scenario to model the reference's areas")
    change = amounts[-1] - amounts[0]
    labels = [("±£0" if abs(value) < MONEY_SHOWN_GBP else ("+" if value > 0 else "−") + _pounds(abs(value))) for value in change]
    return area_map_chart(
        area_map,
        comparison.area_names,
        change,
        comparison_caption(comparison),
        title=f"Change in allocation: {comparison.labels[-1]} against {comparison.labels[0]}",
        colour_scale=("RdBu", "Change in allocation (£)"),
        value_labels=labels,
        money=True,
        centre_zero=True,
    )


def comparison_caption(comparison: Comparison) -> str:
    """One line naming the scenarios and their data, for comparison charts."""
    data = sorted({result.data_caption for result in comparison.results})
    return f"Scenarios: {', '.join(comparison.labels)} · {'; '.join(data)}"


def scenario_colour(position: int) -> str:
    """The colour of the scenario at this position in a comparison (the reference is dark grey)."""
    return SCENARIO_PALETTE[position % len(SCENARIO_PALETTE)]


# ---------------------------------------------------------------- forces


FORCE_TILE_SIZE = 0.92
NO_DATA_HATCH = "///"
NO_DATA_FACE, NO_DATA_EDGE = "#f0f0f0", "#c4c4c4"


def money_by_force(result: PointRun):
    """A run across forces: the police forces of England and Wales as tiles coloured by the model's £ per resident (hatched
    grey where there is no data), and beside it each force's £ from the model against the population split."""
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import PatchCollection
    from matplotlib.colors import Normalize
    from matplotlib.patches import Patch, Rectangle
    from matplotlib.ticker import MaxNLocator

    rows = [row for row in result.force_rows() if row["status"] == "modelled"]
    split = next((baseline.name for baseline in result.baselines if baseline.name == "per_head"), None)
    split = split or (result.baselines[0].name if result.baselines else None)
    per_resident = {force_key(row["force"]): row["amount_gbp"] / row["residents"] if row["residents"] else 0.0 for row in rows}
    tiles = force_tiles()
    rows_of_map = max(tile.row for tile in tiles) + 1
    columns_of_map = max(tile.column for tile in tiles) + 1
    bar_height = 0.2 * len(rows) + 1.6
    height = max(7.6, bar_height + 1.4)
    map_height = height - 2.3
    map_width = map_height * columns_of_map / rows_of_map
    figure = _fixed_figure(result.caption, width=map_width + 8.2, height=height)
    mapped = _place(figure, 0.15, 1.25, map_width, map_height)
    top = max(per_resident.values(), default=0.0) or 1.0
    norm, cmap = Normalize(0.0, top), colormaps["Blues"]
    data_tiles, empty_tiles = [], []
    for tile in tiles:
        x, y = tile.column, -tile.row
        square = Rectangle((x - FORCE_TILE_SIZE / 2, y - FORCE_TILE_SIZE / 2), FORCE_TILE_SIZE, FORCE_TILE_SIZE)
        value = per_resident.get(tile.force)
        if value is None:
            empty_tiles.append(square)
            mapped.text(x, y, f"{tile.short}\nno data", ha="center", va="center", fontsize=6.5, color="#555555")
        else:
            colour = cmap(norm(value))
            data_tiles.append((square, colour))
            mapped.text(x, y, f"{tile.short}\n£{value:.2f}", ha="center", va="center", fontsize=6.5, color=_ink(colour))
    mapped.add_collection(
        PatchCollection(
            [square for square, _ in data_tiles], facecolors=[c for _, c in data_tiles], edgecolors=NO_DATA_EDGE, linewidths=0.5
        )
    )
    mapped.add_collection(
        PatchCollection(empty_tiles, facecolors=NO_DATA_FACE, edgecolors=NO_DATA_EDGE, hatch=NO_DATA_HATCH, linewidths=0.5)
    )
    mapped.set_xlim(-0.55, columns_of_map - 0.45)
    mapped.set_ylim(-rows_of_map + 0.45, 0.55)
    mapped.set_aspect("equal")
    mapped.set_axis_off()
    mapped.set_title("£ per resident, by police force", fontsize=10)
    colour_bar = _place(figure, 0.4, 0.95, map_width - 0.5, 0.12)
    figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=colour_bar, orientation="horizontal")
    colour_bar.xaxis.set_major_locator(MaxNLocator(5))
    colour_bar.xaxis.set_major_formatter(_pound_formatter(decimals=2))
    colour_bar.tick_params(labelsize=7)
    mapped.legend(
        handles=[Patch(facecolor=NO_DATA_FACE, edgecolor=NO_DATA_EDGE, hatch=NO_DATA_HATCH, label="no data:\nnot in the model")],
        loc="upper right",
        fontsize=7,
        frameon=False,
    )
    bars = _place(figure, map_width + 1.9, 1.25 + map_height - (bar_height - 1.0), 5.9, bar_height - 1.0)
    positions = np.arange(len(rows))[::-1]
    names = [row["force_name"] for row in rows]
    bars.barh(positions + 0.2, [row["amount_gbp"] for row in rows], height=0.4, color=PALETTE[2], label="the model")
    words = "population split (per head)" if split == "per_head" else f"{(split or 'simple').replace('_', ' ')} split"
    if split is not None:
        bars.barh(positions - 0.2, [row[f"{split}_gbp"] for row in rows], height=0.4, color=NEUTRAL, label=words)
    bars.set_yticks(positions, names, fontsize=7)
    bars.set_ylim(-0.6, len(rows) - 0.4)
    bars.xaxis.set_major_formatter(_pound_formatter())
    bars.tick_params(axis="x", labelsize=7)
    bars.set_xlabel("Allocation (£)")
    bars.set_ylabel("Police force")
    bars.legend(loc="lower right", fontsize=7, frameon=False)
    bars.set_title(f"The model's £ and the {words.split(' (')[0]}, by force", fontsize=10)
    off_map = [row["force"] for row in rows if force_tile(row["force"]) is None]
    figure.suptitle(
        f"Money by police force: {_pounds(result.allocation.allocated_gbp)} of {_pounds(result.scenario.budget_gbp)} across "
        f"{len(rows)} forces" + (f" (not on the map: {', '.join(off_map)})" if off_map else ""),
        x=0.01,
        y=0.985,
        ha="left",
        fontsize=11,
    )
    return figure


# ---------------------------------------------------------------- registries

RUN_CHARTS = {
    "allocation_by_district": allocation_by_area,
    "eligibility_rules": eligibility_rules,
    "lorenz_curve": lorenz_curve,
    "budget_curve": budget_curve,
    **UNCERTAINTY_CHARTS,
}
RUN_MAPS = {
    "map_harm_rate": map_harm_rate,
    "map_eligibility": map_eligibility,
    "map_allocation": map_allocation,
}
FORCE_CHARTS = {"money_by_force": money_by_force}
"""Drawn only for a run across police forces."""
COMPARISON_CHARTS = {
    "comparison_allocation": comparison_allocation,
    "comparison_harm_averted": comparison_harm_averted,
    "comparison_eligibility": comparison_eligibility,
}


def chart_names() -> frozenset[str]:
    """Every chart a run or a comparison can draw, by name (the PNG files in charts/)."""
    return frozenset({*RUN_CHARTS, *RUN_MAPS, *FORCE_CHARTS, *COMPARISON_CHARTS, "comparison_change_map"})


READS_THE_DRAWS = frozenset({"eligibility_rules", "map_eligibility", *UNCERTAINTY_CHARTS})
"""The run charts that show the Monte Carlo's figures (the verdicts' odds, the intervals): only a finished run draws them."""


def run_charts(result: RunResult) -> dict:
    """The charts a run draws, only those with something to show: the maps only where the areas have a tile layout or
    boundaries, the budget curve only where the run traced one, the tornado only where an input moves harm averted, the
    money by force only for a run across forces."""
    charts = _shown(result)
    if not any(bar.swing > 0 for bar in result.monte_carlo.tornado):
        charts.pop("uncertainty_tornado")
    return charts


def point_charts(point: PointRun) -> dict:
    """The charts of `run_charts` that show the point estimates alone, so they can be drawn from the run before its Monte
    Carlo (`pipeline.run`) while the draws run; the same figures as drawn from the finished run."""
    return {name: draw for name, draw in _shown(point).items() if name not in READS_THE_DRAWS}


def _shown(run: PointRun) -> dict:
    """The run charts with something to show for this run, whether or not they read the draws."""
    charts = dict(RUN_CHARTS)
    if run.budget_curve is None:
        charts.pop("budget_curve")
    if run.demand.areas.area_map.kind != "none":
        charts.update(RUN_MAPS)
    if run.spans_forces:
        charts.update(FORCE_CHARTS)
    return charts


def comparison_charts(comparison: Comparison) -> dict:
    """The charts a comparison draws: the change map only where every run shares the reference's mapped areas."""
    charts = dict(COMPARISON_CHARTS)
    if (
        comparison.reference.demand.areas.area_map.kind != "none"
        and tuple(comparison.area_codes) == comparison.reference.demand.areas.codes
    ):
        charts["comparison_change_map"] = comparison_change_map
    return charts
