"""Charts of how sure a run is: the plans over the Monte Carlo draws, each area's odds and intervals, and the tornado.

Every chart says in its title or caption what the draws include, so a figure lifted into a
slide keeps its meaning.
"""

from __future__ import annotations

import textwrap

import numpy as np

from .eligibility import MANY_AREAS
from .figures import FAIL_COLOUR, NEUTRAL, PALETTE, PASS_COLOUR, captioned_figure, pound_formatter, pounds, thousands_formatter
from .result import RunResult

PLAN_COLOURS = {"point": PALETTE[7], "expected": PALETTE[2], "cvar": PALETTE[1]}


def _includes(result: RunResult) -> str:
    """The draws in a few words for a chart's small print: how many, and which sources vary."""
    sources = result.scenario.uncertainty.sources
    varying = ", ".join(source.replace("_", " ") for source in sources) if sources else "nothing"
    return f"{result.monte_carlo.draws:,} draws varying {varying}"


def plans_on_draws(result: RunResult):
    """Harm averted over the draws by each plan scored (the point-estimate plan, and the expected and CVaR plans where the
    rules allow them): 5-95 % range, middle half, mean and worst-share mean."""
    carlo = result.monte_carlo
    unit = result.demand.weights.short_unit
    figure, axes = captioned_figure(f"{result.caption} · {_includes(result)}", height=3.8)
    plans = carlo.plans
    positions = np.arange(len(plans))[::-1]
    for y, plan in zip(positions, plans):
        colour = PLAN_COLOURS[plan.objective]
        low, q1, q3, high = (plan.quantile(q) for q in (0.05, 0.25, 0.75, 0.95))
        axes.plot([low, high], [y, y], color=colour, linewidth=1.5)
        axes.barh(y, q3 - q1, left=q1, height=0.36, color=colour, alpha=0.35 if plan.objective != carlo.chosen else 0.7)
        axes.plot(plan.mean, y, marker="o", color=colour, markersize=7, zorder=3)
        axes.plot(plan.worst_share_mean, y, marker="v", color="black", markersize=7, zorder=3)
        axes.text(
            high,
            y + 0.26,
            f"mean {plan.mean:,.0f} · worst {carlo.tail_share:.0%} {plan.worst_share_mean:,.0f} · "
            + ("regret not measured" if plan.mean_regret is None else f"regret {plan.mean_regret:,.0f}"),
            ha="right",
            fontsize=8,
        )
    labels = [plan.label + ("\n(chosen)" if plan.objective == carlo.chosen else "") for plan in plans]
    axes.set_yticks(positions, ["\n".join(textwrap.wrap(label, 26)) for label in labels], fontsize=8)
    axes.set_ylim(-0.6, len(plans) - 0.2)
    axes.xaxis.set_major_formatter(thousands_formatter())
    axes.set_xlabel(f"Harm averted over the funding period ({unit}); line 5-95 %, box middle half")
    axes.set_ylabel("Plan")
    from matplotlib.lines import Line2D

    axes.legend(
        handles=[
            Line2D([], [], marker="o", linestyle="none", color=NEUTRAL, markeredgecolor="black", label="mean"),
            Line2D([], [], marker="v", linestyle="none", color="black", label=f"mean of the worst {carlo.tail_share:.0%} of draws"),
        ],
        loc="lower left",
        fontsize=8,
        frameon=False,
    )
    axes.set_title("The plan on the draws" if len(plans) == 1 else f"{len(plans)} plans on the same draws")
    return figure


def odds_by_area(result: RunResult):
    """Per area: the chance of passing the area test and of being funded, and the plan's amount against the range of the best amount."""
    carlo = result.monte_carlo
    verdicts = carlo.verdicts
    names = np.array(result.demand.areas.names)
    amounts = result.area_amounts()
    order = np.lexsort((names, amounts))
    if len(order) > MANY_AREAS:
        order = order[-MANY_AREAS:]
    figure, (left, right) = captioned_figure(f"{result.caption} · {_includes(result)}", height=0.34 * len(order) + 2.6, columns=2)
    positions = np.arange(len(order))
    eligible = verdicts.p_eligible.values[order]
    funded = carlo.p_funded.values[order]
    marginal = verdicts.marginal[order]
    left.barh(
        positions + 0.18, eligible * 100, height=0.36, color=[FAIL_COLOUR if m else PASS_COLOUR for m in marginal], label="P(eligible)"
    )
    left.barh(positions - 0.18, funded * 100, height=0.36, color=PALETTE[2], label="P(funded by the draw's best split)")
    left.axvline(verdicts.marginal_share * 100, color="black", linewidth=0.6, linestyle=":")
    left.axvline(100 - verdicts.marginal_share * 100, color="black", linewidth=0.6, linestyle=":")
    labels = [name + (" (marginal)" if m else "") for name, m in zip(names[order], marginal)]
    left.set_yticks(positions, labels, fontsize=8)
    left.set_xlim(0, 100)
    left.set_xlabel("Share of draws (%)")
    left.set_ylabel(result.demand.areas.level_name)
    left.set_title("Chance of passing and of funding", fontsize=10)
    left.legend(loc="lower right", fontsize=7, frameon=False)
    interval = carlo.amount.values[order]
    right.plot([interval[:, 0], interval[:, 2]], [positions, positions], color=PALETTE[2], linewidth=2.2, solid_capstyle="butt")
    right.plot(interval[:, 1], positions, "|", color=PALETTE[2], markersize=10)
    right.plot(amounts[order], positions, "o", color="black", markersize=5)
    right.xaxis.set_major_formatter(pound_formatter())
    right.set_xlabel("£")
    right.set_title("Plan (dot) against each draw's best\n(line 5-95 %, tick median)", fontsize=10)
    more = "" if len(order) == len(names) else f" (the {len(order)} with the largest amounts)"
    title = f"Odds and ranges per area{more}; red bars: the verdict flips in more than {verdicts.marginal_share:.0%} of draws"
    figure.suptitle("\n".join(textwrap.wrap(title, 80)))
    return figure


def tornado(result: RunResult):
    """Harm averted by the plan with each uncertain input at its low and at its high, the rest at their point values."""
    carlo = result.monte_carlo
    bars = [bar for bar in carlo.tornado if bar.swing > 0][:12]
    unit = result.demand.weights.short_unit
    point = result.allocation.averted_days
    figure, axes = captioned_figure(result, height=0.62 * max(len(bars), 1) + 2.0)
    positions = np.arange(len(bars))[::-1]
    for y, bar in zip(positions, bars):
        for value, colour in ((bar.averted_low, PALETTE[0]), (bar.averted_high, PALETTE[1])):
            axes.barh(y, value - point, left=point, color=colour, height=0.6)
    top = result.demand.areas.names[result.demand.areas.codes.index(carlo.top_area)] if bars else ""
    labels = [
        "\n".join(textwrap.wrap(f"{bar.label} ({_range(bar)})", 40)) + f"\n{top}: {pounds(bar.amount_low)} to {pounds(bar.amount_high)}"
        for bar in bars
    ]
    axes.set_yticks(positions, labels, fontsize=8)
    axes.set_ylabel("Uncertain input (its low to its high)")
    axes.axvline(point, color="black", linewidth=0.8)
    axes.xaxis.set_major_formatter(thousands_formatter())
    axes.set_xlabel(f"Harm averted by the plan ({unit}); black line: every input at its point value ({point:,.0f})")
    from matplotlib.patches import Patch

    axes.legend(
        handles=[Patch(facecolor=PALETTE[0], label="input at its low"), Patch(facecolor=PALETTE[1], label="input at its high")],
        loc="lower right",
        fontsize=8,
        frameon=False,
    )
    title = f"What moves harm averted most (second line of each label: the best amount for {top}, the plan's largest grant)"
    axes.set_title("\n".join(textwrap.wrap(title, 70)), fontsize=10)
    return figure


def _range(bar) -> str:
    """An input's low and high as the chart labels them: multipliers for cost scales, percentages for effects and shares."""
    if bar.key.startswith("cost_scale:"):
        return f"×{bar.low:g} to ×{bar.high:g}"
    if bar.key == "demand":
        return f"{bar.low:.0%} to {bar.high:.0%} points"
    return f"{bar.low:.0%} to {bar.high:.0%}"


UNCERTAINTY_CHARTS = {
    "uncertainty_plans": plans_on_draws,
    "uncertainty_by_area": odds_by_area,
    "uncertainty_tornado": tornado,
}


def forecast_check_chart(check, caption: str):
    """Each held-out year's records against the forecast (actual ÷ forecast), with the interval as a bar: the forecast check at a glance."""
    crimes = [summary.crime_type for summary in check.summary]
    figure, axes = captioned_figure(caption, height=0.36 * len(crimes) + 2.4)
    positions = {crime: len(crimes) - 1 - position for position, crime in enumerate(crimes)}
    years = check.years
    offsets = np.linspace(-0.28, 0.28, len(years)) if len(years) > 1 else np.zeros(1)
    for colour_index, (held, offset) in enumerate(zip(years, offsets)):
        colour = PALETTE[colour_index % len(PALETTE)]
        for total in held.totals:
            if total.forecast <= 0:
                continue
            y = positions[total.crime_type] + offset
            axes.plot([total.low / total.forecast, total.high / total.forecast], [y, y], color=colour, linewidth=3, alpha=0.45)
            ratio = max(total.actual, 0.5) / total.forecast
            axes.plot(ratio, y, marker="o" if total.inside else "X", color=PASS_COLOUR if total.inside else FAIL_COLOUR, markersize=5)
        axes.plot(
            [], [], color=colour, linewidth=3, alpha=0.45, label=f"{held.year}: {len(held.months)} months from {len(held.history_months)}"
        )
    axes.axvline(1.0, color="black", linewidth=0.8)
    axes.set_xscale("log")
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    low, high = axes.get_xlim()
    ticks = [tick for tick in (0.25, 0.5, 0.67, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 4.0) if low <= tick <= high]
    axes.xaxis.set_major_locator(FixedLocator(ticks))
    axes.xaxis.set_minor_locator(NullLocator())
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"×{value:g}"))
    labels = []
    for crime in crimes:
        summary = check.summary_of(crime)
        error = "" if summary.mean_abs_error_pct is None else f", error {summary.mean_abs_error_pct:.0f}%"
        labels.append(f"{crime}: {summary.inside} of {summary.checked} inside{error}")
    axes.set_yticks([positions[crime] for crime in crimes], labels, fontsize=8)
    axes.set_xlabel("Recorded ÷ forecast (log scale); bar: the interval; ● inside, ✕ outside")
    axes.legend(loc="lower right", fontsize=7, frameon=False, title="held-out year", title_fontsize=7)
    axes.set_title(
        f"Forecast check: {check.coverage:.0%} of held-out totals inside their nominal {check.nominal:.0%} interval", fontsize=10
    )
    return figure
