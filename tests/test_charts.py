"""Charts: each has a title, axis labels with units, the caption, and the numbers behind it."""

from __future__ import annotations

import numpy as np
import pytest

from simulator import charts


@pytest.mark.parametrize("name", list(charts.RUN_CHARTS))
def test_chart_has_title_labels_and_caption(kent_result, name):
    """Every chart names itself, its axes and the scenario and data period."""
    figure = charts.RUN_CHARTS[name](kent_result)
    axes = figure.axes[0]
    assert axes.get_title() or figure._suptitle is not None
    assert axes.get_xlabel() and axes.get_ylabel()
    assert any("police.uk street-level records Jun 2025 to May 2026" in text.get_text() for text in figure.texts)


def test_allocation_bars_sum_to_each_district_amount(kent_result):
    """The stacked bars add up to each district's allocation."""
    figure = charts.allocation_by_area(kent_result)
    widths = {}
    for patch in figure.axes[0].patches:
        y = round(patch.get_y() + patch.get_height() / 2)
        widths[y] = widths.get(y, 0.0) + patch.get_width()
    assert sum(widths.values()) == pytest.approx(kent_result.allocation.allocated_gbp)


def test_interventions_keep_one_colour(kent_result):
    """Colours come from the catalogue order, so they are the same in every run of the catalogue."""
    colours = charts.intervention_colours(kent_result)
    assert list(colours) == list(kent_result.scenario.interventions)
    assert len(set(colours.values())) == len(colours)


def test_eligibility_chart_draws_one_panel_per_rule(kent_result):
    """Round 4 has three rules: three panels, each with 13 bars."""
    figure = charts.eligibility_rules(kent_result)
    assert len(figure.axes) == 3
    assert all(len(axes.patches) == 13 for axes in figure.axes)


def test_lorenz_curve_ends_at_the_corners(kent_result):
    """The plotted Lorenz curve runs from (0, 0) to (100, 100)."""
    line = charts.lorenz_curve(kent_result).axes[0].lines[1]
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    assert (x[0], y[0], x[-1], y[-1]) == (0, 0, 100, 100)
