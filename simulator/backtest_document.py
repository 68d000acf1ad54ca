"""The back-test's report: what it asks, what it found, what it can and cannot show, and a table per tested round.

Built from a Backtest; no I/O. `rendering` turns it into HTML and Markdown like a run's report.
"""

from __future__ import annotations

from .backtest import CAVEATS, Backtest, RoundResult
from .datafiles import shown_file_name
from .document import Bullets, Chart, Code, Column, Document, Facts, Section, Table
from .result import percent

ROUND_TABLE = (
    Column("round", "Round", "code"),
    Column("window", "Window"),
    Column("months_used", "Months used"),
    Column("received_gbp", "Received", "gbp"),
    Column("status", "Status"),
    Column("awarded_districts", "Paid", "days"),
    Column("awarded_eligible", "Paid & eligible", "days"),
    Column("model_funded_districts", "Model funds", "days"),
    Column("both", "Both", "days"),
    Column("recall", "Recall", "share"),
    Column("precision", "Precision", "share"),
    Column("rank_correlation", "Rank corr.", "decimal"),
)
DISTRICT_TABLE = (
    Column("area_name", "District"),
    Column("actual_gbp", "Awarded", "gbp"),
    Column("eligible", "Eligible", "flag"),
    Column("margin", "Margin", "share"),
    Column("p_eligible", "P(eligible)", "share"),
    Column("basket_rank", "Basket rank", "days"),
    Column("per_resident_rank", "Per-resident rank", "days"),
    Column("model_gbp", "Model", "gbp"),
    Column("p_funded", "P(funded)", "share"),
    Column("agreement", "Who funds"),
)


def backtest_document(backtest: Backtest, folder: str, command: str) -> Document:
    """The back-test's report; `command` is the line that repeats it."""
    hits, awarded, modelled = backtest.pooled()
    tested = len(backtest.rounds)
    facts = Facts(
        (
            ("Rounds tested", f"{tested} of {len(backtest.windows)}"),
            ("Paid districts the model funds", f"{hits} of {awarded}" if awarded else "n/a"),
            ("Model's districts the fund paid", f"{hits} of {modelled}" if modelled else "n/a"),
            ("Draws per round", f"{backtest.draws:,}"),
        )
    )
    opening = (
        f"Would the model, as it stands, have picked the places the fund paid for? For each round in the awards file the model "
        f"is run on what was known before the round was announced: {backtest.force_name}'s records in the {backtest.window_months} "
        "months before "
        "the announcement that the history holds, the forecast fitted to those months and earlier only, the round's own rules "
        "and terms, and the money the force actually received as the budget. Nothing is tuned to the awards: the rules, "
        "harm weights and effect sizes are the scenario's."
    )
    sections = [
        Section("What the back-test asks and finds", (opening, facts, Bullets(backtest.findings() or ("No round could be tested.",)))),
        Section("What it can and cannot show", (Bullets(CAVEATS), *((Bullets(backtest.notes),) if backtest.notes else ()))),
        Section(
            "Round by round",
            (
                Table(
                    'Every round in the awards file (why a round was skipped is under "Rounds not tested")',
                    ROUND_TABLE,
                    tuple(backtest.round_rows()),
                    "rounds.csv",
                ),
                "Recall: the share of the districts the fund paid that the model funds too. Precision: the share of the "
                "districts the model funds that the fund paid. Rank correlation: Spearman's, between the model's £ and the "
                "awarded £ over every district (0 where nothing was awarded), only where the round's split is published.",
                *((Chart("backtest", "The model's £ beside the fund's, per district and tested round."),) if backtest.rounds else ()),
            ),
        ),
    ]
    district_rows = backtest.district_rows()
    sections += [
        _round_section(backtest, result, tuple(row for row in district_rows if row["round"] == result.round_id))
        for result in backtest.rounds
    ]
    skipped = backtest.skipped
    if skipped:
        sections.append(Section("Rounds not tested", (Bullets(tuple(f"{w.round_id}: {w.skipped}." for w in skipped)),)))
    sections.append(
        Section(
            "Files and how to repeat it",
            (
                Table(
                    "Files in this folder",
                    (Column("file", "File", "file"), Column("holds", "What it holds")),
                    (
                        {"file": "rounds.csv", "holds": "one row per round: window, months used, money received, recall, precision"},
                        {"file": "backtest.csv", "holds": "one row per tested round × district: the awards' side and the model's"},
                        {"file": "summary.json", "holds": "the headline figures, findings and caveats"},
                        {"file": "runs/<round>/", "holds": "each tested round's full run folder (demand, eligibility, allocation, report)"},
                    ),
                ),
                Code(command),
            ),
        )
    )
    return Document(
        title=f"Back-test: {backtest.force_name}, the model against the awards",
        subtitle=f"Scenario {backtest.scenario_name}; awards from {shown_file_name(backtest.awards.file)}",
        sections=tuple(sections),
    )


def _round_section(backtest: Backtest, result: RoundResult, rows: tuple[dict, ...]) -> Section:
    """One tested round: its window, rules and budget, its districts (`rows`, from backtest.csv), and why they differ."""
    window = result.window
    run = result.run
    certificate = run.allocation.certificate
    fund_round = run.scenario.round
    rules = run.eligibility.rule_descriptions()
    test = f"an area must pass {run.eligibility.combine_words}: " + "; ".join(rules) if rules else "no area test"
    text = (
        f"Announced {window.announced:%d %B %Y}. Demand from {window.used[0]} to {window.used[-1]} ({len(window.used)} months), "
        f"forecast over the {run.demand.horizon_months} months after it. Rules: {fund_round.name}, {test}. "
        f"Budget: the £{result.split.received_gbp:,.2f} {backtest.force_name} received; the model allocates "
        f"£{run.allocation.allocated_gbp:,.0f}"
        + (f" ({certificate.method}, within {percent(certificate.gap)} of the best)" if certificate else "")
        + "."
    )
    blocks = [
        text,
        Table(
            f"{fund_round.name}: each district, the fund's side and the model's",
            DISTRICT_TABLE,
            rows,
            "backtest.csv",
        ),
        "Awarded: blank where the district's share of a combined award was not published. Margin: the deciding rule's "
        "distance from its threshold, as a share of it. P(eligible), P(funded): over the run's Monte Carlo draws. Basket "
        "rank: by forecast harm in the round's crime types (1 = most); per-resident rank: the same per 1,000 residents.",
    ]
    disagreements = [f"{row['area_name']} ({row['agreement']}): {row['why']}." for row in rows if row["why"]]
    if disagreements:
        blocks.append("Where the model and the fund disagree, the model's side of it:")
        blocks.append(Bullets(tuple(disagreements)))
    how = [f"{row['area_name']}: {row['actual_how']}." for row in rows if row["actual_how"]]
    if how:
        blocks.append(Bullets(tuple(how)))
    if result.notes:
        blocks.append(Bullets(result.notes))
    blocks.append(f"The round's full run is in runs/{result.round_id}/report.html.")
    return Section(fund_round.name, tuple(blocks))
