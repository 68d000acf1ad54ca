"""The back-test's chart: per tested round and district, the model's £ beside what the fund awarded.

Built with the object API on the Agg canvas (never pyplot); matplotlib is imported only when the figure is made.
"""

from __future__ import annotations

import textwrap

import numpy as np

from .backtest import Backtest
from .datafiles import shown_file_name
from .figures import PALETTE, captioned_figure, pound_formatter, pounds

MODEL_COLOUR = PALETTE[2]
FUND_COLOUR = PALETTE[1]
INELIGIBLE_BAND = "#ececec"


def backtest_charts(backtest: Backtest) -> dict:
    """The back-test's charts by name (one: model vs actual), none when no round could be tested."""
    return {"backtest": model_vs_actual} if backtest.rounds else {}


def model_vs_actual(backtest: Backtest):
    """One panel per tested round: for each district the model's £ (filled) and the fund's (orange), a combined award
    with no published split as a dashed outline of its whole amount, and a grey band where a district fails the modelled
    area test."""
    rounds = backtest.rounds
    names = [district.name for district in rounds[0].districts]
    caption = (
        f"{backtest.force_name}: each round's model run on the {backtest.window_months} months before its announcement that the history holds, "
        f"under its rules, with the money the force received; awards from {shown_file_name(backtest.awards.file)}. "
        "A grey band: the district fails the modelled area test in that round."
    )
    height = max(3.6, 0.34 * len(names) + 1.9)
    figure, axes = captioned_figure(caption, height=height, width=9.0, columns=len(rounds), share_y=True)
    panels = np.atleast_1d(axes)
    positions = np.arange(len(names))[::-1]
    for panel, result in zip(panels, rounds):
        most = 1.0
        for y, district in zip(positions, result.districts):
            panel.barh(y + 0.2, district.model_gbp, height=0.38, color=MODEL_COLOUR)
            most = max(most, district.model_gbp)
            if district.actual_gbp:
                panel.barh(y - 0.2, district.actual_gbp, height=0.38, color=FUND_COLOUR)
                most = max(most, district.actual_gbp)
            elif district.awarded and district.actual_gbp is None:
                _, amount = result.split.combined_with(district.code)
                panel.barh(y - 0.2, amount, height=0.38, fill=False, edgecolor=FUND_COLOUR, linestyle="--", linewidth=1.0)
                most = max(most, amount)
        panel.set_xlim(0, most * 1.08)
        panel.xaxis.set_major_formatter(pound_formatter())
        panel.tick_params(axis="x", labelsize=7, labelrotation=30)
        title = f"{result.round_name.replace('Safer Streets Fund ', '')}: {pounds(result.split.received_gbp)} received"
        panel.set_title("\n".join(textwrap.wrap(title, 34)), fontsize=9)
        panel.grid(axis="x", color="#e5e5e5", linewidth=0.6)
        panel.set_axisbelow(True)
    panels[0].set_yticks(positions, names, fontsize=8)
    for panel, result in zip(panels, rounds):
        for y, district in zip(positions, result.districts):
            if not district.eligible:
                panel.axhspan(y - 0.5, y + 0.5, color=INELIGIBLE_BAND, zorder=0, linewidth=0)
        panel.set_ylim(-0.5, len(names) - 0.5)
    from matplotlib.patches import Patch

    figure.legend(
        handles=[
            Patch(color=MODEL_COLOUR, label="model"),
            Patch(color=FUND_COLOUR, label="fund (published amount)"),
            Patch(fill=False, edgecolor=FUND_COLOUR, linestyle="--", label="fund: combined award, split not published"),
            Patch(color=INELIGIBLE_BAND, label="not eligible under the modelled rules"),
        ],
        loc="outside upper center",
        ncols=2,
        fontsize=8,
        frameon=False,
    )
    return figure
