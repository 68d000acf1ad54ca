"""report.html and report.md: self-contained, escaped, and holding the same figures as the CSVs."""

from __future__ import annotations

import csv
import dataclasses
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import BASELINE

from simulator import load_scenario, run
from simulator.report import write_comparison, write_run


class Page(HTMLParser):
    """Collects every tag's attributes, the style text, and each table's cells by its data-source."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.styles: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self._in_style = False
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "style":
            self._in_style = True
        elif tag == "table":
            self._table = attributes.get("data-source", f"table-{len(self.tables)}")
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False
        elif tag == "table":
            self._table = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def number(text: str) -> float:
    return float(text.replace("£", "").replace(",", "").replace("%", "").strip())


@pytest.fixture(scope="module")
def run_folder(kent_result, tmp_path_factory):
    return write_run(kent_result, tmp_path_factory.mktemp("report") / "kent-baseline")


@pytest.fixture(scope="module")
def comparison_folder(surge_comparison, tmp_path_factory):
    return write_comparison(surge_comparison, tmp_path_factory.mktemp("report") / "comparison")


@pytest.mark.parametrize("which", ["run", "comparison"])
def test_report_loads_nothing_from_outside(run_folder, comparison_folder, which):
    """Every image is inline data; no script, stylesheet or font is fetched from a file or host."""
    page = parse((run_folder if which == "run" else comparison_folder) / "report.html")
    images = [attributes for tag, attributes in page.tags if tag == "img"]
    assert images, "the report embeds its charts"
    for tag, attributes in page.tags:
        assert "src" not in attributes or attributes["src"].startswith("data:image/png;base64,"), (tag, attributes)
        assert tag not in ("link", "script", "iframe", "object", "embed"), tag
    style = "".join(page.styles)
    assert "@import" not in style and "url(" not in style


def test_report_has_each_section(run_folder):
    """The run report answers the issue's list: question, data, harm, eligibility, allocation, baselines, assumptions."""
    text = (run_folder / "report.html").read_text(encoding="utf-8")
    for heading in (
        "The question and the data",
        "Where the harm is",
        "Who is eligible, and why",
        "The allocation",
        "Why this allocation",
        "Against simple splits",
        "Assumptions and sources",
        "Repeat this run",
    ):
        assert f"<h2>{heading}</h2>" in text
    assert "The top 10 % of areas hold 21% of harm" in text


def test_allocation_table_matches_allocation_csv(run_folder):
    """Each area's £ per intervention and total in the report equal allocation.csv, to the pound."""
    table = parse(run_folder / "report.html").tables["allocation.csv"]
    header, body = table[0], table[1:]
    expected: dict[str, dict[str, float]] = {}
    names = {}
    for row in read_csv(run_folder / "allocation.csv"):
        expected.setdefault(row["area_name"], {})[row["intervention"]] = float(row["amount_gbp"])
    for row in body:
        if row[0] == "Total":
            continue
        by_heading = dict(zip(header, row))
        amounts = expected[row[0]]
        assert number(by_heading["Total"]) == pytest.approx(sum(amounts.values()), abs=0.5)
        names[row[0]] = by_heading
    assert set(names) == {row["area_name"] for row in read_csv(run_folder / "eligibility.csv") if row["eligible"] == "true"}
    assert number(dict(zip(header, body[-1]))["Total"]) == pytest.approx(
        sum(float(row["amount_gbp"]) for row in read_csv(run_folder / "allocation.csv")), abs=0.5
    )


def test_eligibility_table_matches_eligibility_csv(run_folder):
    """Verdicts and reasons in the report are eligibility.csv's, word for word."""
    table = parse(run_folder / "report.html").tables["eligibility.csv"]
    columns = {name: position for position, name in enumerate(table[0])}
    shown = {row[0]: row for row in table[1:]}
    for row in read_csv(run_folder / "eligibility.csv"):
        cells = shown[row["area_name"]]
        assert cells[columns["Eligible"]] == ("yes" if row["eligible"] == "true" else "no")
        assert cells[columns["Why"]] == row["reason"]
        assert cells[columns["Chance of passing"]] == f"{float(row['p_eligible']) * 100:,.1f} %"
        assert cells[columns["Verdict"]] == ("marginal" if row["marginal"] == "true" else "clear")


def test_baselines_table_matches_baselines_csv(run_folder):
    """Each method's allocated £ and harm averted equal the TOTAL rows of baselines.csv."""
    table = parse(run_folder / "report.html").tables["baselines.csv"]
    header = table[0]
    shown = {row[0]: dict(zip(header, row)) for row in table[1:]}
    for row in read_csv(run_folder / "baselines.csv"):
        if row["area_code"] == "TOTAL":
            assert number(shown[row["method"]]["Allocated"]) == pytest.approx(float(row["amount_gbp"]), abs=0.5)
            assert number(shown[row["method"]]["Harm averted (days)"]) == pytest.approx(float(row["harm_averted_days"]), abs=0.5)


def test_harm_table_matches_demand_csv(run_folder):
    """Harm days per area in the report are demand.csv summed over crime types."""
    table = parse(run_folder / "report.html").tables["demand.csv"]
    header = table[0]
    totals: dict[str, float] = {}
    for row in read_csv(run_folder / "demand.csv"):
        totals[row["area_name"]] = totals.get(row["area_name"], 0.0) + float(row["harm_days"])
    for row in table[1:]:
        assert number(dict(zip(header, row))["Harm days"]) == pytest.approx(totals[row[0]], abs=1.0)


def test_comparison_table_matches_comparison_csv(comparison_folder):
    """The comparison report's area table holds comparison.csv's verdicts and amounts."""
    table = parse(comparison_folder / "report.html").tables["comparison.csv"]
    header = table[0]
    shown = {row[0]: dict(zip(header, row)) for row in table[1:]}
    for row in read_csv(comparison_folder / "comparison.csv"):
        cells = shown[row["area_name"]]
        assert cells[f"Eligible: {row['scenario']}"] == ("yes" if row["eligible"] == "true" else "no")
        assert number(cells[f"£: {row['scenario']}"]) == pytest.approx(float(row["amount_gbp"]), abs=0.5)


def test_totals_table_matches_totals_csv(comparison_folder):
    """Budget, allocated and harm averted per scenario equal totals.csv."""
    table = parse(comparison_folder / "report.html").tables["totals.csv"]
    header = table[0]
    shown = {row[0]: dict(zip(header, row)) for row in table[1:]}
    for row in read_csv(comparison_folder / "totals.csv"):
        assert number(shown[row["scenario"]]["Harm averted (days)"]) == pytest.approx(float(row["harm_averted_days"]), abs=0.5)
        assert number(shown[row["scenario"]]["Budget"]) == pytest.approx(float(row["budget_gbp"]), abs=0.5)


def test_names_from_data_are_escaped(tmp_path):
    """An area name or title holding markup is shown as text, never run as markup."""
    from simulator.inputs import load_areas

    base = load_scenario(BASELINE)
    areas = load_areas(base.scenario.data)
    hostile = '<script>alert("x")</script> & <b>Co</b>'
    area_file = tmp_path / "areas.csv"
    with open(area_file, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["area_code", "area_name", "population"])
        for code, name in zip(areas.codes, areas.names):
            writer.writerow([code, hostile if name == "Medway" else name, int(areas.population.get(area=code))])
    scenario = tmp_path / "hostile.toml"
    scenario.write_text(
        f'extends = "{BASELINE.as_posix()}"\nname = "hostile"\ntitle = "A <i>title</i> & more"\n[data]\nareas = "areas.csv"\n',
        encoding="utf-8",
    )
    folder = write_run(run(load_scenario(scenario)), tmp_path / "out", charts=False)
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in text and "<b>Co</b>" not in text and "<i>title</i>" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;Co&lt;/b&gt;" in text
    assert "A &lt;i&gt;title&lt;/i&gt; &amp; more" in text


def test_markdown_links_charts_that_exist(run_folder):
    """report.md shows each chart by a relative path to a file in the folder."""
    text = (run_folder / "report.md").read_text(encoding="utf-8")
    linked = [line.split("](")[1].rstrip(")") for line in text.splitlines() if line.startswith("![")]
    assert len(linked) == 10
    assert all((run_folder / path).is_file() for path in linked)


@pytest.fixture(scope="module")
def lsoa_result():
    """The Kent small-area scenario, whose second rule ranks each LSOA within its district."""
    from conftest import SCENARIOS

    return run(load_scenario(SCENARIOS / "kent-lsoa-2024.toml"))


def test_lsoa_report_words_rules_as_eligibility_does(lsoa_result, tmp_path):
    """The report's rule list is eligibility's own wording: 'of its district' for a rule ranked within districts."""
    folder = write_run(lsoa_result, tmp_path / "lsoa", charts=False)
    text = (folder / "report.md").read_text(encoding="utf-8")
    descriptions = lsoa_result.eligibility.rule_descriptions()
    assert any("among the top 20 % of the areas of its district" in rule for rule in descriptions)
    for rule in descriptions:
        assert f"- {rule}" in text
    assert "of areas of the force" not in text


def test_lsoa_report_reasons_match_eligibility_csv(lsoa_result, tmp_path):
    """Every verdict the report lists has the reason eligibility.csv gives that area."""
    folder = write_run(lsoa_result, tmp_path / "lsoa", charts=False)
    reasons = {row["area_name"]: row["reason"] for row in read_csv(folder / "eligibility.csv")}
    table = parse(folder / "report.html").tables["eligibility.csv"]
    header = table[0]
    listed = [dict(zip(header, row)) for row in table[1:]]
    assert listed and all(row["Why"] == reasons[row["Area"]] for row in listed)


def section(document, title: str):
    return next(part for part in document.sections if part.title == title)


def test_why_section_follows_the_allocation(kent_result):
    """ "Why this allocation" comes straight after the allocation, before the simple splits."""
    from simulator.document import run_document

    titles = [part.title for part in run_document(kent_result, "run").sections]
    assert titles[titles.index("The allocation") + 1] == "Why this allocation"


def test_why_section_says_how_close_what_is_optimised_and_what_each_rule_costs(kent_result):
    """Kent: the certificate's sentence, the objective, each rule's sentence, the budget's slope, the chart, the files."""
    from simulator.document import Bullets, Chart, Table, run_document

    blocks = section(run_document(kent_result, "run"), "Why this allocation").blocks
    assert blocks[0] == kent_result.optimality_words()
    assert blocks[0].startswith("Optimal to within ") and blocks[0].endswith("(water-filling on the exact curves).")
    assert blocks[1] == "What is optimised: the most harm averted at the point estimates, within the round's rules."
    bullets = next(block for block in blocks if isinstance(block, Bullets))
    assert bullets.items == tuple(effect.sentence()[0].upper() + effect.sentence()[1:] for effect in kent_result.rule_effects)
    price = kent_result.budget_curve.budget_price * 1000
    assert (
        "The curve below solves the same problem at budgets from £0 to twice the budget. At the budget, another £1,000 would "
        f"avert about {price:,.1f} more harm days: the budget's shadow price, which is the curve's slope there (the dashed line)."
    ) in blocks
    assert [block.name for block in blocks if isinstance(block, Chart)] == ["budget_curve"]
    files = [block for block in blocks if isinstance(block, Table) and not block.source][-1]
    assert [row["file"] for row in files.rows] == ["rules.csv", "budget_curve.csv"]
    assert all(column.kind == "file" for column in files.columns[:1])


def test_conditional_prices_are_explained(kent_result):
    """Where a rule's effect holds the chosen bids, the section says what that means."""
    import dataclasses

    from simulator.document import run_document

    effect = dataclasses.replace(kent_result.rule_effects[0], conditional=True)
    blocks = section(run_document(dataclasses.replace(kent_result, rule_effects=(effect,)), "run"), "Why this allocation").blocks
    assert any(
        isinstance(block, str) and block.startswith("Under a bid limit or a minimum grant, funding a bid is a yes-or-no choice.")
        for block in blocks
    )
    assert effect.sentence().endswith("(with the funded bids as chosen).")


def test_least_cost_run_says_there_is_no_budget_curve(kent_result):
    """Without a curve the section says why, draws no chart and links only rules.csv."""
    import dataclasses

    from simulator.document import Chart, Table, run_document

    blocks = section(run_document(dataclasses.replace(kent_result, budget_curve=None), "run"), "Why this allocation").blocks
    assert "The least-cost objective sets the money itself, so there is no budget curve." in blocks
    assert not any(isinstance(block, Chart) for block in blocks)
    assert [row["file"] for row in blocks[-1].rows] == ["rules.csv"] and isinstance(blocks[-1], Table)


def test_rules_table_matches_rules_csv(run_folder):
    """The report's rule table shows rules.csv's rows: the words, the key, and the figures to the hundredth."""
    table = parse(run_folder / "report.html").tables["rules.csv"]
    header, body = table[0], table[1:]
    rows = read_csv(run_folder / "rules.csv")
    assert len(body) == len(rows)
    for cells, row in zip(body, rows):
        shown = dict(zip(header, cells))
        assert shown["Rule"] == row["words"] and shown["Scenario key"] == row["config_key"]
        assert number(shown["Raised a step"]) == pytest.approx(float(row["change_when_raised"]), abs=0.005)
        assert number(shown["Lowered a step"]) == pytest.approx(float(row["change_when_lowered"]), abs=0.005)


def test_report_links_the_why_sections_files(run_folder):
    """report.html links rules.csv and budget_curve.csv, which sit beside it; report.md does the same."""
    links = {attributes.get("href") for tag, attributes in parse(run_folder / "report.html").tags if tag == "a"}
    assert {"rules.csv", "budget_curve.csv"} <= links
    assert all((run_folder / name).is_file() for name in ("rules.csv", "budget_curve.csv"))
    markdown = (run_folder / "report.md").read_text(encoding="utf-8")
    assert "[rules.csv](rules.csv)" in markdown and "[budget\\_curve.csv](budget_curve.csv)" in markdown


def test_method_text_describes_water_filling_and_the_gap(kent_result):
    """The assumptions no longer speak of straight segments up to the grant cap; they name this run's method and gap."""
    from simulator.document import Bullets, run_document
    from simulator.result import percent

    bullets = next(
        block for block in section(run_document(kent_result, "run"), "Assumptions and sources").blocks if isinstance(block, Bullets)
    )
    text = " ".join(bullets.items)
    assert "straight segments" not in text and "move in steps of" not in text
    certificate = kent_result.allocation.certificate
    assert f"This run: {certificate.method}, gap {percent(certificate.gap)}." in text
    assert "doubled until the gap between the two is under 0.05 %" in text


def test_regret_not_measured_is_said_in_the_report(kent_result):
    """One plan, regret not measured: the plan table says "not measured", the text counts one plan and gives the reason."""
    from test_result import without_regret

    from simulator.document import Chart, Table, run_document
    from simulator.rendering import to_markdown

    result = without_regret(kent_result, plans=1)
    blocks = section(run_document(result, "run"), "How sure are we?").blocks
    table = next(block for block in blocks if isinstance(block, Table) and block.source == "plans.csv")
    assert table.caption == "The plan on the same draws"
    assert [row["mean_regret_days"] for row in table.rows] == ["not measured"]
    assert next(block for block in blocks if isinstance(block, Chart)).caption.startswith("Harm averted over the draws by the plan;")
    markdown = to_markdown(run_document(result, "run"), {})
    assert "| not measured |" in markdown
    assert result.monte_carlo.perfect_information_words in " ".join(block for block in blocks if isinstance(block, str))


def test_rule_figures_in_a_ratio_keep_four_significant_digits(kent_result):
    """Under max-min a rule moves a ratio by ten-thousandths: the report shows 0.000352, not 0.00."""
    import dataclasses

    from simulator.document import Table, run_document

    effect = dataclasses.replace(
        kent_result.rule_effects[0],
        price=None,
        gain_up=0.000352035,
        change_down=-0.000352491,
        goal_unit="days averted per day of basket harm",
    )
    blocks = section(run_document(dataclasses.replace(kent_result, rule_effects=(effect,)), "run"), "Why this allocation").blocks
    (row,) = next(block for block in blocks if isinstance(block, Table) and block.source == "rules.csv").rows
    assert (row["solver_price_per_step"], row["change_when_raised"], row["change_when_lowered"]) == (None, "0.000352", "-0.0003525")


# ---------------------------------------------------------------- by force


def section_titles(result) -> list[str]:
    from simulator.document import run_document

    return [section.title for section in run_document(result, "reports/run").sections]


def test_by_force_and_left_out_sections_only_when_spanning_forces(kent_result):
    """Kent alone has neither section; two forces with a left-out group have both, in their places."""
    from test_result import two_forces

    assert {"By force", "Left out"}.isdisjoint(section_titles(kent_result))
    titles = section_titles(two_forces(kent_result))
    assert titles[2] == "Left out" and titles[titles.index("The allocation") + 1] == "By force"


def force_section(result):
    from simulator.document import run_document

    return next(section for section in run_document(result, "reports/run").sections if section.title == "By force")


def test_force_table_is_sorted_by_the_models_money_with_each_simple_split(kent_result):
    """One row per modelled force, most money first, and a column per simple split named after it."""
    from test_result import two_forces

    from simulator.document import Table

    table = next(block for block in force_section(two_forces(kent_result)).blocks if isinstance(block, Table))
    assert [row["force"] for row in table.rows] == ["Sussex", "Kent"]
    assert [column.title for column in table.columns[-3:]] == ["Equal", "Per head", "Per harm"]
    assert table.source == "forces.csv"


def test_force_section_names_who_gets_more_and_less_than_the_population_split(kent_result):
    """West ("Sussex") gets more than per head and east ("Kent") less, each with its shares of residents and harm."""
    from test_result import two_forces

    result = two_forces(kent_result)
    rows = {row["force"]: row for row in result.force_rows()}
    sentences = [block for block in force_section(result).blocks if isinstance(block, str)]
    sussex, kent = rows["sussex"], rows["kent"]
    assert sentences[1].startswith(
        f"The model funds most above the population split: Sussex £{sussex['amount_gbp']:,.0f} against £{sussex['per_head_gbp']:,.0f} "
        f"({sussex['share_of_residents']:.1%} of residents, {sussex['share_of_harm']:.1%} of harm)."
    )
    assert sentences[2].startswith(f"Most below the population split: Kent £{kent['amount_gbp']:,.0f} against £{kent['per_head_gbp']:,.0f}")


def test_left_out_section_names_each_group_with_reason_areas_and_residents(kent_result):
    """The Left out table holds the group by its force name, its reason, areas and residents."""
    from test_result import two_forces

    from simulator.document import Table, run_document

    section = next(section for section in run_document(two_forces(kent_result), "r").sections if section.title == "Left out")
    table = next(block for block in section.blocks if isinstance(block, Table))
    assert table.rows == (
        {
            "group": "Metropolitan Police",
            "reason": "no street records for any month of the period",
            "areas": 4_994,
            "residents": 8_900_000.0,
        },
    )
    assert "not a finding that they are safe" in section.blocks[0]


def test_summary_warns_that_left_out_areas_are_not_safe(kent_result):
    """The report's first section warns of the left-out group, said not to be read as safe."""
    from test_result import two_forces

    from simulator.document import run_document

    summary = run_document(two_forces(kent_result), "r").sections[0]
    assert (
        "Warning: left out of the model for want of data: Metropolitan Police (4,994 areas, 8,900,000 residents). Their areas get "
        "no money here, which says nothing about their need: they are not read as safe (see Left out)."
    ) in summary.blocks


def test_long_tables_keep_the_top_rows_and_count_the_rest():
    """31 rows shown as the first 30 and '… and 1 more districts'; 30 rows shown whole, or counted from a total given."""
    from simulator.document import TOP_ROWS, _top_rows

    rows = [{"parent": f"district {k}"} for k in range(TOP_ROWS + 1)]
    assert _top_rows(rows, "parent", "districts") == (*rows[:TOP_ROWS], {"parent": "… and 1 more districts"})
    assert _top_rows(rows[:TOP_ROWS], "parent", "districts") == tuple(rows[:TOP_ROWS])
    assert _top_rows(rows[:TOP_ROWS], "parent", "districts", total=TOP_ROWS + 5)[-1] == {"parent": "… and 5 more districts"}


def test_force_count_is_said_once_when_the_table_name_already_counts_forces(kent_result):
    """'Kent, across 2 police forces' for a table named Kent; a table named 'South East (2 forces)' is not told twice."""
    from test_result import two_forces

    from simulator.document import _across_forces

    spanning = two_forces(kent_result)
    assert _across_forces(spanning) == ", across 2 police forces"
    areas = dataclasses.replace(spanning.demand.areas, force_name="South East (2 forces)")
    named = dataclasses.replace(spanning, demand=dataclasses.replace(spanning.demand, areas=areas))
    assert _across_forces(named) == "" and _across_forces(kent_result) == ""
