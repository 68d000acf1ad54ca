"""Charts: each has a title, axis labels with units, the caption, and the numbers behind it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simulator import charts
from simulator.figures import pounds


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


# ---------------------------------------------------------------- maps


def luminance(colour) -> float:
    red, green, blue = colour[:3]
    return 0.299 * red + 0.587 * green + 0.114 * blue


def hexagons(figure):
    from matplotlib.patches import RegularPolygon

    return [patch for patch in figure.axes[0].patches if isinstance(patch, RegularPolygon)]


@pytest.mark.parametrize("name", list(charts.RUN_MAPS))
def test_kent_maps_draw_one_labelled_hexagon_per_district(kent_result, name):
    """13 hexagons, every district named in full on its tile, a title and the caption."""
    figure = charts.RUN_MAPS[name](kent_result)
    assert len(hexagons(figure)) == 13
    labels = " ".join(text.get_text().replace("\n", " ") for text in figure.axes[0].texts)
    assert all(name in labels for name in kent_result.demand.areas.names)
    assert figure.axes[0].get_title()
    assert any("police.uk street-level records" in text.get_text() for text in figure.texts)


def test_allocation_map_is_darkest_where_most_money_goes(kent_result):
    """The tile of the best-funded district (Medway) is the darkest; ineligible tiles are neutral grey."""
    from matplotlib.colors import to_rgb

    figure = charts.map_allocation(kent_result)
    tiles = hexagons(figure)
    amounts = kent_result.area_amounts()
    darkest = min(range(13), key=lambda a: luminance(tiles[a].get_facecolor()))
    assert kent_result.demand.areas.names[darkest] == "Medway" and amounts[darkest] == amounts.max()
    for a, eligible in enumerate(kent_result.eligibility.eligible.values):
        if not eligible:
            assert tiles[a].get_facecolor()[:3] == pytest.approx(to_rgb(charts.NEUTRAL))


def test_eligibility_map_legend_names_the_classes(kent_result):
    """The legend names each class the map shows, in order: in Kent every eligible district is funded, so two classes."""
    eligible, funded = kent_result.eligibility.eligible.values, kent_result.funded()
    assert funded[eligible].all() and not eligible.all()
    legend = charts.map_eligibility(kent_result).axes[0].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["eligible, funded", "not eligible"]


def test_boundary_map_draws_every_area(kent_result, tmp_path):
    """With a GeoJSON of boundaries the map draws one polygon per area instead of hexagons."""
    import json

    from conftest import BASELINE, kent_squares_geojson

    from simulator import load_scenario, run

    area_map = kent_result.demand.areas.area_map
    places = {code: tuple(int(v) for v in place) for code, place in zip(kent_result.demand.areas.codes, area_map.tiles)}
    (tmp_path / "kent.geojson").write_text(json.dumps(kent_squares_geojson(places)), encoding="utf-8")
    scenario = tmp_path / "with-boundaries.toml"
    scenario.write_text(f'extends = "{BASELINE.as_posix()}"\n[data]\nboundaries = "kent.geojson"\n', encoding="utf-8")
    result = run(load_scenario(scenario))
    figure = charts.map_harm_rate(result)
    assert not hexagons(figure)
    assert len(figure.axes[0].collections[0].get_paths()) == 13


def test_maps_are_left_out_without_a_layout(kent_result):
    """A run whose areas have no map draws the three charts but no map."""
    import dataclasses

    from simulator.maps import AreaMap

    areas = dataclasses.replace(kent_result.demand.areas, area_map=AreaMap())
    result = dataclasses.replace(kent_result, demand=dataclasses.replace(kent_result.demand, areas=areas))
    assert list(charts.run_charts(result)) == list(charts.RUN_CHARTS)


# ---------------------------------------------------------------- comparisons


@pytest.mark.parametrize("name", list(charts.COMPARISON_CHARTS) + ["comparison_change_map"])
def test_comparison_chart_has_title_and_caption(surge_comparison, name):
    """Every comparison chart has a title and a caption naming the scenarios and the data period."""
    figure = charts.comparison_charts(surge_comparison)[name](surge_comparison)
    assert figure.axes[0].get_title()
    assert any("Scenarios: kent-baseline, kent-maidstone-violence-surge" in text.get_text() for text in figure.texts)


def test_grouped_bars_sum_to_each_scenarios_allocation(surge_comparison):
    """The bars of each scenario colour add up to that scenario's allocation."""
    from matplotlib.colors import to_hex

    figure = charts.comparison_allocation(surge_comparison)
    totals = {}
    for patch in figure.axes[0].patches:
        colour = to_hex(patch.get_facecolor())
        totals[colour] = totals.get(colour, 0.0) + patch.get_width()
    for s, result in enumerate(surge_comparison.results):
        assert totals[charts.scenario_colour(s)] == pytest.approx(result.allocation.allocated_gbp)


def test_eligibility_grid_outlines_only_changed_verdicts(surge_comparison):
    """Dover is the only cell outlined (its verdict changed); the title counts one change."""
    figure = charts.comparison_eligibility(surge_comparison)
    changed = [text.get_text() for text in figure.axes[0].texts if "(changed)" in text.get_text()]
    assert changed == ["not eligible (changed)"]
    assert figure.axes[0].get_title().startswith("Eligibility: 1 area changes verdict")


def test_change_map_centres_its_scale_on_zero(surge_comparison):
    """An unchanged (ineligible) district's tile is the scale's middle (white); the largest change is the strongest colour."""
    figure = charts.comparison_change_map(surge_comparison)
    tiles = hexagons(figure)
    names = surge_comparison.area_names
    amounts = surge_comparison.amounts()
    change = np.abs(amounts[-1] - amounts[0])
    assert change[names.index("Ashford")] == 0
    assert luminance(tiles[names.index("Ashford")].get_facecolor()) > 0.9
    assert min(range(13), key=lambda a: luminance(tiles[a].get_facecolor())) == int(np.argmax(change))


def lines_by_label(axes) -> dict:
    return {line.get_label(): line for line in axes.get_lines()}


def test_budget_curve_tangent_has_the_shadow_price_as_its_slope(kent_result):
    """The dashed line at the budget rises by the budget's shadow price per £, through the curve's value at the budget."""
    curve = kent_result.budget_curve
    axes = charts.budget_curve(kent_result).axes[0]
    label = f"slope at the budget: {curve.budget_price * 1000:,.1f} harm days per £1,000 (the budget's shadow price)"
    xs, ys = lines_by_label(axes)[label].get_data()
    assert (ys[1] - ys[0]) / (xs[1] - xs[0]) == pytest.approx(curve.budget_price)
    at_budget = float(curve.values[np.flatnonzero(curve.budgets_gbp == curve.budget_gbp)[0]])
    assert np.interp(curve.budget_gbp, xs, ys) == pytest.approx(at_budget)


def test_budget_curve_runs_from_nothing_to_twice_the_budget(kent_result):
    """V(B) is drawn from £0 to twice the budget, with the budget marked and the axes naming their units."""
    axes = charts.budget_curve(kent_result).axes[0]
    xs, ys = lines_by_label(axes)["the best split at each budget, V(B)"].get_data()
    assert xs[0] == 0 and xs[-1] == 2 * kent_result.scenario.budget_gbp
    assert list(ys) == list(kent_result.budget_curve.values)
    assert axes.get_xlabel() == "Budget (£)"
    assert " ".join(axes.get_ylabel().split()) == (
        "Harm averted (CCHI harm days; next 12 months; capital measures over their discounted lifetime)"
    )
    assert any(line.get_xdata()[0] == kent_result.scenario.budget_gbp and line.get_linestyle() == ":" for line in axes.get_lines())


def test_flat_stretch_is_shaded_and_labelled_where_no_more_can_be_spent(kent_result):
    """Past the most the rules let a split spend (every fundable bid at its cap) the curve is flat, shaded and labelled."""
    limit = kent_result.spending_limit_gbp()
    budgets = np.linspace(0.0, 1.5 * limit, 7)
    values = np.minimum(budgets, limit) * 0.3
    traced = dataclasses.replace(
        kent_result.budget_curve, budgets_gbp=budgets, values=values, statuses=("optimal",) * 7, budget_gbp=budgets[3]
    )
    axes = charts.budget_curve(dataclasses.replace(kent_result, budget_curve=traced)).axes[0]
    shaded = [patch for patch in axes.patches if patch.get_x() == pytest.approx(limit)]
    assert len(shaded) == 1 and shaded[0].get_width() == pytest.approx(budgets[-1] - limit)
    assert [text.get_text() for text in axes.texts if text.get_text().startswith("flat")] == [
        f"flat beyond {pounds(limit)}:\nthe rules let no more be spent"
    ]


def test_kent_curve_has_no_flat_stretch(kent_result):
    """Kent's nine eligible districts can take more than twice the budget, so nothing is shaded."""
    assert kent_result.spending_limit_gbp() > 2 * kent_result.scenario.budget_gbp
    assert len(charts.budget_curve(kent_result).axes[0].patches) == 0


def test_no_budget_curve_chart_without_a_curve(kent_result):
    """A least-cost run has no budget curve, so the chart is not drawn at all."""
    assert "budget_curve" in charts.run_charts(kent_result)
    assert "budget_curve" not in charts.run_charts(dataclasses.replace(kent_result, budget_curve=None))


def test_plans_chart_counts_its_plans_and_says_when_regret_is_not_measured(kent_result):
    """One plan scored, regret not measured: the title counts one plan and its label says so."""
    from test_result import without_regret

    from simulator.uncertainty_charts import plans_on_draws

    figure = plans_on_draws(without_regret(kent_result, plans=1))
    axes = figure.axes[0]
    assert axes.get_title() == "The plan on the draws"
    assert any(text.get_text().endswith("regret not measured") for text in axes.texts)


# ---------------------------------------------------------------- forces


def test_money_by_force_is_drawn_only_for_a_run_across_forces(kent_result):
    """One force: no chart by force; two forces: the tile map and bars are drawn."""
    from test_result import two_forces

    assert "money_by_force" not in charts.run_charts(kent_result)
    assert "money_by_force" in charts.run_charts(two_forces(kent_result))


def test_force_tiles_colour_the_modelled_forces_and_hatch_the_rest(kent_result):
    """43 squares: Kent and Sussex coloured by £ per resident, the other 41 hatched grey as no data."""
    from test_result import two_forces

    tiles = charts.money_by_force(two_forces(kent_result)).axes[0]
    coloured, hatched = tiles.collections
    assert (len(coloured.get_paths()), len(hatched.get_paths()), hatched.get_hatch()) == (2, 41, charts.NO_DATA_HATCH)
    labels = {text.get_text() for text in tiles.texts}
    assert {"Kent\n£0.73", "Sussex\n£0.87", "Met\nno data"} <= labels


def test_force_bars_are_the_models_and_the_population_splits_pounds(kent_result):
    """The bars, top down, are each force's £ from the model and from the per-head split, most money first."""
    from test_result import two_forces

    result = two_forces(kent_result)
    rows = [row for row in result.force_rows() if row["status"] == "modelled"]
    bars = charts.money_by_force(result).axes[2]
    widths = sorted(((patch.get_y(), patch.get_width()) for patch in bars.patches), reverse=True)
    assert [round(width, 2) for _, width in widths] == [value for row in rows for value in (row["amount_gbp"], row["per_head_gbp"])]
    assert [label.get_text() for label in bars.get_yticklabels()] == ["Sussex", "Kent"]
    assert bars.get_xlabel() == "Allocation (£)" and bars.get_ylabel() == "Police force"


# ---------------------------------------------------------------- layout


@pytest.mark.parametrize("name", list(charts.RUN_CHARTS) + list(charts.RUN_MAPS))
def test_every_label_fits_inside_the_figure(kent_result, name):
    """Laid out from its labels' estimated sizes, no chart's tick labels, axis labels, titles or caption run off the figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = {**charts.RUN_CHARTS, **charts.RUN_MAPS}[name](kent_result)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    inside = figure.bbox.padded(1.0)
    texts = [*figure.texts, *([figure._suptitle] if figure._suptitle is not None else [])]
    for box in [axes.get_tightbbox(renderer) for axes in figure.axes] + [text.get_window_extent(renderer) for text in texts]:
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1, (name, box, figure.bbox)


@pytest.mark.parametrize("name", list(charts.RUN_CHARTS))
def test_charts_need_no_layout_engine(kent_result, name):
    """A chart is laid out once when drawn, so saving it draws it once (no constrained-layout pass before the draw)."""
    assert charts.RUN_CHARTS[name](kent_result).get_layout_engine() is None


def test_no_tornado_chart_when_no_input_moves_harm_averted(kent_result):
    """A tornado with no bar is not drawn; Kent's inputs do move harm averted, so its tornado is."""
    assert "uncertainty_tornado" in charts.run_charts(kent_result)
    still = dataclasses.replace(kent_result, monte_carlo=dataclasses.replace(kent_result.monte_carlo, tornado=()))
    assert "uncertainty_tornado" not in charts.run_charts(still)


def test_the_point_charts_are_the_run_charts_that_show_no_draws(kent_result):
    point_names = set(charts.point_charts(kent_result))
    assert point_names == set(charts.run_charts(kent_result)) - charts.READS_THE_DRAWS
    assert {"allocation_by_district", "lorenz_curve", "map_allocation"} <= point_names


@pytest.mark.parametrize("across_forces", [False, True], ids=["kent", "two forces"])
def test_a_point_chart_drawn_before_the_monte_carlo_is_the_chart_of_the_finished_run(kent_result, across_forces):
    """Every chart `point_charts` picks draws from the run before its Monte Carlo (none reads the draws), the same bytes."""
    from test_result import two_forces

    from simulator.drawing import png_bytes
    from simulator.result import PointRun

    result = two_forces(kent_result) if across_forces else kent_result
    point = PointRun(**{stage.name: getattr(result, stage.name) for stage in dataclasses.fields(PointRun)})
    chosen = charts.point_charts(point)
    assert ("money_by_force" in chosen) == across_forces
    for name, draw in chosen.items():
        assert png_bytes(draw, point, 40) == png_bytes(draw, result, 40), name
