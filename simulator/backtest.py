"""Back-test: would the model, as it stands, have picked the districts a fund actually paid for?

For each round in the awards file the model is run on what was known before the round was announced: demand
from the latest unbroken run of the twelve months before it that the monthly history holds (`awards.round_windows`),
the forecast fitted to the history up to that month only, the round's own rules and terms, and the money the force
actually received as the budget. Each district is then set beside the awards: its verdict under the modelled rules
(with its margin and its chance over the Monte Carlo draws), its rank by harm in the round's crime basket and per
resident, the model's amount against the awarded one, and for every disagreement the reason on the model's side.

Nothing here is tuned to the awards: the rules, weights and effect sizes are the scenario's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .awards import Award, Awards, RoundSplit, RoundWindow, read_awards, round_windows
from .errors import ConfigError
from .inputs import Areas
from .pipeline import DrawProgress, Progress, run
from .result import RunResult, days, money, percent, significant
from .scenario import LoadedScenario, Override
from .verdicts import read_areas

WINDOW_MONTHS = 12
"""Months of history before each round's announcement that its demand may use, the same for every round."""
LEAST_MONTHS = 6
"""Fewest months in a row a round's window must hold to be tested."""

CAVEATS = (
    "Bids are local choices: a district the fund did not pay may simply not have bid, and the published record does "
    "not say who bid and was refused. A district the model funds and the fund did not is a question, not an error.",
    "Real bids were small places (a town centre, a park, a few streets), not whole districts. The model spends on "
    "districts, so a match means the fund paid for somewhere in the district the model picks.",
    "The area tests are assumptions: the rounds' own thresholds were not published in a form that can be applied to "
    "police.uk records (each round's file says what was assumed). A verdict here is the modelled rule's, not the "
    "Home Office's.",
    "One force and a few rounds are a small sample: a recall of 1 of 2 or a rank correlation over 13 districts can "
    "move a long way with one award. Read the figures as a description of these rounds, not as a measured accuracy.",
    "Demand uses police.uk street-level records from the months before each announcement that the history holds; "
    "a window with missing months is built from the months it has and says which are missing. Population is the "
    "Census of March 2021 for every round; its first results were published in June 2022, after round 3 was announced.",
)
"""What the back-test can and cannot show, in plain words: the one statement of it (report and terminal)."""


ROUND_CSV_COLUMNS = (
    "round",
    "announced",
    "window",
    "months_used",
    "months_missing",
    "received_gbp",
    "status",
    "reason",
    "notes",
    "model_allocated_gbp",
    "eligible_districts",
    "awarded_districts",
    "awarded_eligible",
    "model_funded_districts",
    "both",
    "recall",
    "precision",
    "rank_correlation",
)
"""rounds.csv's columns, in order: a skipped round leaves the model's empty."""
DISTRICT_CSV_COLUMNS = (
    "round",
    "area_code",
    "area_name",
    "awarded",
    "actual_gbp",
    "actual_how",
    "eligible",
    "deciding_rule",
    "margin",
    "p_eligible",
    "knife_edge",
    "basket_harm_days",
    "basket_rank",
    "basket_harm_per_1000",
    "per_resident_rank",
    "model_gbp",
    "model_harm_averted_days",
    "model_funded",
    "p_funded",
    "agreement",
    "why",
)
"""backtest.csv's columns, in order."""


@dataclass(frozen=True)
class DistrictResult:
    """One district in one tested round: the awards' side and the model's, side by side."""

    code: str
    name: str
    awarded: bool
    actual_gbp: float | None
    """£ awarded where the file gives the district's amount, 0 where not awarded, None inside an unsplit combined award."""
    actual_how: str
    """How the amount is known, in words ('' where not awarded)."""
    eligible: bool
    verdict_reason: str
    """Which rules decided the verdict, in a few words (`Eligibility.short_reason`)."""
    deciding_rule: str
    margin: float
    """The deciding rule's margin as a share of its threshold (`Eligibility.deciding_margin`)."""
    p_eligible: float
    knife_edge: bool
    """The verdict flips in more draws than the scenario's `uncertainty.marginal_share`."""
    basket_harm_days: float
    basket_rank: int
    basket_harm_per_1000: float
    per_resident_rank: int
    model_gbp: float
    model_harm_averted_days: float
    model_funded: bool
    p_funded: float
    why: str
    """Where the model and the fund disagree, the model's side of it in words; '' where they agree."""

    @property
    def shortfall_words(self) -> str:
        """A failing verdict and how far it is from passing: 'fails ASB per 1,000, 3% short of its threshold', naming the
        deciding rule where several failed (under "any" the nearest to passing, under "all" the furthest)."""
        named = self.verdict_reason == f"fails {self.deciding_rule}"
        return f"{self.verdict_reason}, {'' if named else self.deciding_rule + ' '}{abs(self.margin):.0%} short of its threshold"

    @property
    def agreement(self) -> str:
        """'both', 'model only', 'fund only' or 'neither'."""
        return {(True, True): "both", (True, False): "model only", (False, True): "fund only", (False, False): "neither"}[
            (self.model_funded, self.awarded)
        ]


@dataclass(frozen=True)
class RoundResult:
    """One tested round: its window, what the fund paid, the model's run on that window, and every district compared."""

    window: RoundWindow
    split: RoundSplit
    round_name: str
    run: RunResult
    districts: tuple[DistrictResult, ...]
    notes: tuple[str, ...]

    @property
    def round_id(self) -> str:
        """The round's id, e.g. safer-streets-4."""
        return self.window.round_id

    @property
    def hits(self) -> int:
        """Districts both the model and the fund paid."""
        return sum(district.agreement == "both" for district in self.districts)

    @property
    def awarded_count(self) -> int:
        """Districts the fund paid."""
        return sum(district.awarded for district in self.districts)

    @property
    def model_count(self) -> int:
        """Districts the model funds."""
        return sum(district.model_funded for district in self.districts)

    @property
    def recall(self) -> float | None:
        """Share of the districts the fund paid that the model funds too."""
        return self.hits / self.awarded_count if self.awarded_count else None

    @property
    def precision(self) -> float | None:
        """Share of the districts the model funds that the fund paid too."""
        return self.hits / self.model_count if self.model_count else None

    @property
    def awarded_eligible(self) -> int:
        """Districts the fund paid that pass the modelled area test."""
        return sum(district.awarded and district.eligible for district in self.districts)

    @property
    def rank_correlation(self) -> float | None:
        """Spearman's rank correlation between the model's £ and the awarded £ over every district (0 where not awarded),
        where the round's split is known for every district; None where it is not, or where either side is constant."""
        if not self.split.fully_split:
            return None
        return spearman([district.actual_gbp for district in self.districts], [district.model_gbp for district in self.districts])


@dataclass(frozen=True)
class Backtest:
    """The back-test of one scenario against one awards file."""

    scenario_name: str
    force_name: str
    awards: Awards
    windows: tuple[RoundWindow, ...]
    rounds: tuple[RoundResult, ...]
    notes: tuple[str, ...]
    draws: int
    window_months: int = WINDOW_MONTHS

    @property
    def skipped(self) -> tuple[RoundWindow, ...]:
        """The rounds that could not be tested, each with its reason."""
        return tuple(window for window in self.windows if window.skipped)

    def pooled(self) -> tuple[int, int, int]:
        """(districts both paid, districts the fund paid, districts the model funds) over every tested round."""
        return (sum(r.hits for r in self.rounds), sum(r.awarded_count for r in self.rounds), sum(r.model_count for r in self.rounds))

    def round_rows(self) -> list[dict]:
        """rounds.csv: one row per round in the awards file, tested or skipped."""
        rows = []
        tested = {result.round_id: result for result in self.rounds}
        for window in self.windows:
            result = tested.get(window.round_id)
            split = self.awards.split(window.round_id)
            row = dict.fromkeys(ROUND_CSV_COLUMNS) | {
                "round": window.round_id,
                "announced": window.announced.isoformat(),
                "window": f"{window.months[0]} to {window.months[-1]}",
                "months_used": f"{window.used[0]} to {window.used[-1]}" if window.used else "",
                "months_missing": len(window.missing),
                "received_gbp": money(split.received_gbp),
                "status": "skipped" if window.skipped else "tested",
                "reason": window.skipped,
            }
            if result is not None:
                correlation = result.rank_correlation
                row |= {
                    "notes": " ".join(result.notes),
                    "model_allocated_gbp": money(result.run.allocation.allocated_gbp),
                    "eligible_districts": int(result.run.eligibility.eligible.values.sum()),
                    "awarded_districts": result.awarded_count,
                    "awarded_eligible": result.awarded_eligible,
                    "model_funded_districts": result.model_count,
                    "both": result.hits,
                    "recall": significant(result.recall, 4),
                    "precision": significant(result.precision, 4),
                    "rank_correlation": significant(correlation, 4),
                }
            rows.append(row)
        return rows

    def district_rows(self) -> list[dict]:
        """backtest.csv: one row per tested round × district, the awards' side and the model's."""
        rows = []
        for result in self.rounds:
            for district in result.districts:
                rows.append(
                    {
                        "round": result.round_id,
                        "area_code": district.code,
                        "area_name": district.name,
                        "awarded": "true" if district.awarded else "false",
                        "actual_gbp": None if district.actual_gbp is None else money(district.actual_gbp),
                        "actual_how": district.actual_how,
                        "eligible": "true" if district.eligible else "false",
                        "deciding_rule": district.deciding_rule,
                        "margin": significant(district.margin, 4),
                        "p_eligible": round(district.p_eligible, 4),
                        "knife_edge": "true" if district.knife_edge else "false",
                        "basket_harm_days": days(district.basket_harm_days),
                        "basket_rank": district.basket_rank,
                        "basket_harm_per_1000": days(district.basket_harm_per_1000),
                        "per_resident_rank": district.per_resident_rank,
                        "model_gbp": money(district.model_gbp),
                        "model_harm_averted_days": days(district.model_harm_averted_days),
                        "model_funded": "true" if district.model_funded else "false",
                        "p_funded": round(district.p_funded, 4),
                        "agreement": district.agreement,
                        "why": district.why,
                    }
                )
        return rows

    def findings(self) -> tuple[str, ...]:
        """What the comparison shows, in sentences: per tested round, and where it suggests a modelled rule is wrong."""
        found = []
        for result in self.rounds:
            awarded = [d for d in result.districts if d.awarded]
            funded = [d for d in result.districts if d.model_funded]
            sentence = (
                f"{result.round_name}: the fund paid {_names([d.name for d in awarded])}; the model, with the "
                f"£{result.split.received_gbp:,.0f} {self.force_name} received{_spent_words(result)}, funds "
                f"{_names([d.name for d in funded]) or 'no district'}. "
                f"{result.hits} of the {result.awarded_count} paid district{'s' if result.awarded_count != 1 else ''} "
                f"{'are' if result.hits != 1 else 'is'} among the model's {result.model_count}"
            )
            correlation = result.rank_correlation
            if correlation is not None:
                sentence += f"; the rank correlation of the amounts over all {len(result.districts)} districts is {correlation:.2f}"
            found.append(sentence + ".")
            ineligible = [d for d in awarded if not d.eligible]
            if ineligible:
                found.append(
                    f"{result.round_name}: {_names([d.name for d in ineligible])} {'was' if len(ineligible) == 1 else 'were'} paid but "
                    f"{'fails' if len(ineligible) == 1 else 'fail'} the modelled area test ("
                    + "; ".join(f"{d.name} {d.shortfall_words}" for d in ineligible)
                    + "): the fund's test was looser than the modelled one, or it judged a smaller place than the district"
                    + (
                        f", or the {len(result.window.used)} months the window holds missed part of the year."
                        if result.window.missing
                        else "."
                    )
                    + _knife_edge_words(ineligible)
                )
            request = result.run.request
            if funded and awarded and len(funded) > len(awarded) and not request.max_bids and not request.minimum_grant_gbp:
                smallest_award = min(d.actual_gbp for d in awarded if d.actual_gbp) if any(d.actual_gbp for d in awarded) else None
                found.append(
                    f"{result.round_name}: the model spreads the money over {len(funded)} districts where the fund paid "
                    f"{len(awarded)}. The round sets no bid limit and the scenario no minimum grant, so the model funds every "
                    f"district where a first pound averts more than the last pound elsewhere (its smallest amount "
                    f"£{min(d.model_gbp for d in funded):,.0f}"
                    + (f"; the smallest award £{smallest_award:,.0f}" if smallest_award else "")
                    + "). Real bids are fewer and larger; allocation.minimum_grant_gbp or a bid limit would model that."
                )
        return tuple(found)

    def summary(self) -> dict:
        """The headline figures for summary.json."""
        hits, awarded, modelled = self.pooled()
        return {
            "scenario": self.scenario_name,
            "force": self.force_name,
            "awards_file": self.awards.file,
            "window_months": self.window_months,
            "draws": self.draws,
            "rounds_tested": [result.round_id for result in self.rounds],
            "rounds_skipped": {window.round_id: window.skipped for window in self.skipped},
            "pooled": {
                "districts_paid_by_both": hits,
                "districts_paid_by_the_fund": awarded,
                "districts_funded_by_the_model": modelled,
                "recall": significant(hits / awarded, 4) if awarded else None,
                "precision": significant(hits / modelled, 4) if modelled else None,
            },
            "rounds": self.round_rows(),
            "findings": list(self.findings()),
            "notes": list(self.notes),
            "caveats": list(CAVEATS),
        }


def backtest(
    loaded: LoadedScenario,
    areas: Areas | None = None,
    awards_location: str | None = None,
    window_months: int = WINDOW_MONTHS,
    least_months: int = LEAST_MONTHS,
    progress: Progress | None = None,
    draw_progress: DrawProgress | None = None,
    awards: Awards | None = None,
) -> Backtest:
    """Back-test the scenario's model on each round of the awards file (`awards` already read, else `awards_location`,
    else `data.awards`), on the scenario's areas (read here unless given). `progress` hears each round tested;
    `draw_progress` each finished draw, and a skipped round's draws at once, so a bar of draws × rounds ends full."""
    scenario = loaded.scenario
    areas = areas or read_areas(loaded)
    awards = awards or awards_for(loaded, areas, awards_location)
    windows = round_windows(awards, areas.history.labels("month"), window_months, least_months)
    notes = []
    if scenario.shocks:
        notes.append(
            f"The scenario's what-if changes ({', '.join(scenario.shocks)}) are left out: the back-test measures the model on past records."
        )
    rounds = []
    for window in windows:
        if window.skipped:
            if draw_progress:
                draw_progress(scenario.demand.draws)
            continue
        if progress:
            progress(f"testing {window.round_id}")
        rounds.append(_test_round(loaded, areas, awards.split(window.round_id), awards.in_round(window.round_id), window, draw_progress))
    return Backtest(scenario.name, areas.force_name, awards, windows, tuple(rounds), tuple(notes), scenario.demand.draws, window_months)


def awards_for(loaded: LoadedScenario, areas: Areas, awards_location: str | None = None) -> Awards:
    """The awards file (`awards_location`, else the scenario's `data.awards`) read against the scenario's districts and
    rounds; a ConfigError where the scenario cannot be back-tested (small areas, no monthly history, no awards file)."""
    scenario = loaded.scenario
    if areas.level != "district":
        raise ConfigError(
            "has small areas; the back-test compares districts with the awards",
            key="data.level",
            got=areas.level,
            hint="back-test a district scenario, e.g. scenarios/kent-baseline.toml",
        )
    if areas.history is None:
        raise ConfigError(
            "has no monthly history to build each round's demand from",
            key="data.history",
            hint="set data.history to a CSV of monthly counts (e.g. embedded:kent_crime_by_type_monthly.csv)",
        )
    location = awards_location or scenario.data.awards
    if not location:
        raise ConfigError(
            "names no awards file to compare with",
            key="data.awards",
            hint="pass --awards FILE, or set data.awards (e.g. embedded:kent_safer_streets_awards.csv)",
        )
    districts = {**dict(zip(areas.names, areas.codes)), **{code: code for code in areas.codes}}
    return read_awards(location, districts, tuple(scenario.rounds), key="--awards" if awards_location else "data.awards")


def _test_round(
    loaded: LoadedScenario,
    areas: Areas,
    split: RoundSplit,
    awards_in_round: tuple[Award, ...],
    window: RoundWindow,
    draw_progress: DrawProgress | None,
) -> RoundResult:
    """Run the model on the round's window under its rules with the money received, and compare it district by district."""
    scenario = loaded.scenario
    fund_round = scenario.rounds[window.round_id]
    notes = []
    if window.missing:
        notes.append(
            f"The window {window.months[0]} to {window.months[-1]} lacks {len(window.missing)} month"
            f"{'s' if len(window.missing) != 1 else ''}; demand is built from {window.used[0]} to {window.used[-1]} "
            f"({len(window.used)} months, annualised), so any season outside them is not seen."
        )
    dates = sorted({award.announced for award in awards_in_round})
    if len(dates) > 1:
        notes.append(
            f"The round's awards were announced on {len(dates)} dates, {dates[0]:%d %B %Y} to {dates[-1]:%d %B %Y}; "
            "the window ends before the first."
        )
    cap = fund_round.force_cap_gbp
    if cap and split.received_gbp > cap + 0.005:
        notes.append(
            f"{areas.force_name} received £{split.received_gbp:,.2f} by the awards file, above the round's modelled force cap "
            f"of £{cap:,.0f}: the model allocates at most the cap, so the cap or the award figure is wrong (see the file's notes)."
        )
    result = run(round_scenario(loaded, window, split.received_gbp), draw_progress=draw_progress)
    return RoundResult(window, split, fund_round.name, result, _compare(result, split), tuple(notes))


def round_scenario(loaded: LoadedScenario, window: RoundWindow, received_gbp: float) -> LoadedScenario:
    """The scenario one round is tested under, as an ordinary scenario a rerun of its manifest repeats: the monthly history
    as the counts over the window's unbroken run of months (the forecast is fitted to the history up to its end only),
    the round's rules, the money received as the budget, no what-if changes, and a name of its own."""
    scenario = loaded.scenario
    round_name = scenario.rounds[window.round_id].name
    changes = {
        "name": f"{scenario.name}-backtest-{window.round_id}",
        "title": f"Back-test of {round_name}: {scenario.data.force_name}, £{received_gbp:,.0f} received",
        "question": f"Which districts would the model have funded in {round_name}, with the £{received_gbp:,.0f} "
        f"{scenario.data.force_name} received and the records of {window.used[0]} to {window.used[-1]}?",
        "fund_round": window.round_id,
        "budget_gbp": received_gbp,
        "data.crime_counts": scenario.data.history,
        "data.period_start": window.used[0],
        "data.period_end": window.used[-1],
        "shocks": {},
    }
    settings = {key: value for key, value in changes.items() if "." not in key}
    data = {key.removeprefix("data."): value for key, value in changes.items() if key.startswith("data.")}
    tested = replace(scenario, **settings, data=replace(scenario.data, **data))
    logged = tuple(Override(key, _current(scenario, key), new, BACKTEST_SOURCE) for key, new in changes.items())
    return replace(loaded, scenario=tested, overrides=(*loaded.overrides, *logged))


BACKTEST_SOURCE = "the back-test of one round"
"""Where a round's changes to the scenario come from, as its run's manifest lists them."""


def _current(scenario, key: str):
    value = scenario
    for part in key.split("."):
        value = getattr(value, part)
    return value


def _compare(result: RunResult, split: RoundSplit) -> tuple[DistrictResult, ...]:
    """Every district of the run beside the round's awards."""
    demand, eligibility, allocation = result.demand, result.eligibility, result.allocation
    basket = result.scenario.round.crime_basket
    basket_harm = demand.harm.take("crime_type", tuple(basket)).values.sum(axis=1)
    per_1000 = basket_harm / demand.areas.population.values * 1000.0
    basket_rank, resident_rank = ranks(basket_harm), ranks(per_1000)
    amounts = allocation.amounts.values.sum(axis=1)
    averted = allocation.harm_averted.values.sum(axis=1)
    funded = allocation.funded
    odds = result.monte_carlo.verdicts
    first_return = first_pound_returns(result)
    name_of = dict(zip(eligibility.codes, eligibility.names))
    districts = []
    for a, code in enumerate(eligibility.codes):
        outcome, margin = eligibility.deciding_margin(a)
        actual = split.amount(code)
        district = DistrictResult(
            code=code,
            name=eligibility.names[a],
            awarded=code in split.districts,
            actual_gbp=actual,
            actual_how=_how(split, code, name_of),
            eligible=bool(eligibility.eligible.values[a]),
            verdict_reason=eligibility.short_reason(a),
            deciding_rule=outcome.label() if outcome is not None else "no area test",
            margin=margin,
            p_eligible=float(odds.p_eligible.values[a]),
            knife_edge=bool(odds.marginal[a]),
            basket_harm_days=float(basket_harm[a]),
            basket_rank=int(basket_rank[a]),
            basket_harm_per_1000=float(per_1000[a]),
            per_resident_rank=int(resident_rank[a]),
            model_gbp=float(amounts[a]),
            model_harm_averted_days=float(averted[a]),
            model_funded=bool(funded[a]),
            p_funded=float(result.monte_carlo.p_funded.values[a]),
            why="",
        )
        districts.append(replace(district, why=_why(result, district, a, first_return, len(eligibility.codes))))
    return tuple(districts)


def _how(split: RoundSplit, code: str, name_of: dict[str, str]) -> str:
    """How the district's awarded amount is known, in words; '' where it was not awarded."""
    if code not in split.districts:
        return ""
    how = split.how_known(code)
    if how:
        return how
    codes, amount = split.combined_with(code)
    return f"inside a combined £{amount:,.0f} to {_names([name_of[other] for other in codes])}, split not published"


def _why(result: RunResult, district: DistrictResult, a: int, first_return: np.ndarray, count: int) -> str:
    """The model's side of a disagreement with the fund, in words; '' where both agree."""
    odds_words = f"; eligible in {district.p_eligible:.0%} of draws" if district.knife_edge else ""
    rank_words = f"{_ordinal(district.basket_rank)} of {count} by harm in the round's basket"
    if district.agreement == "model only":
        share = district.model_harm_averted_days / district.model_gbp * 1000 if district.model_gbp else 0.0
        return (
            f"eligible ({district.verdict_reason}{odds_words}), {rank_words}; the model puts £{district.model_gbp:,.0f} here, "
            f"averting {district.model_harm_averted_days:,.0f} harm days ({share:,.1f} per £1,000). The fund paid nothing here "
            "this round: whether a bid was made is not published"
        )
    if district.agreement != "fund only":
        return ""
    if not district.eligible:
        return f"not eligible under the modelled rules: {district.shortfall_words}{odds_words}"
    request, allocation = result.request, result.allocation
    certified = f" (certified within {percent(allocation.certificate.gap)} of the best)" if allocation.certificate else ""
    if request.max_bids and allocation.funded.sum() >= request.max_bids:
        count_words = f"{request.max_bids} bid{'s' if request.max_bids != 1 else ''}"
        return (
            f"eligible, {rank_words}; the round allows {count_words}, and the model's {count_words} "
            f"{'avert' if request.max_bids != 1 else 'averts'} more harm{' together' if request.max_bids != 1 else ''} "
            f"than any other set it could fund, this district's included{certified}"
        )
    price = allocation.budget_shadow_price
    plain_budget = not request.minimum_grant_gbp and price is not None and price > 0
    if plain_budget and first_return[a] <= price * (1 + 1e-6):
        return (
            f"eligible, {rank_words}; a first £1,000 here averts {first_return[a] * 1000:,.1f} harm days, no more than the "
            f"{price * 1000:,.1f} the model's last £1,000 averts"
        )
    binding = f" with {allocation.binding[0]}" if allocation.binding else ""
    return f"eligible, {rank_words}; the model's best split{binding} puts the money elsewhere{certified}"


def first_pound_returns(result: RunResult) -> np.ndarray:
    """Per area, harm days averted per £ by its best intervention's first pound (the curve's slope at £0), 0 where
    the area is not eligible."""
    curves = result.curves
    slopes = curves.ceilings() / np.where(curves.scale.values > 0, curves.scale.values, np.inf)
    return np.where(result.eligibility.eligible.values, slopes.max(axis=1), 0.0)


def ranks(values: np.ndarray) -> np.ndarray:
    """Rank of each value, 1 for the largest; ties share the better rank."""
    values = np.asarray(values, dtype=float)
    return np.array([1 + int(np.sum(values > value)) for value in values], dtype=int)


def spearman(first, second) -> float | None:
    """Spearman's rank correlation (average ranks for ties); None where either side is constant or has fewer than 3 values."""
    x, y = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    rx, ry = _average_ranks(x), _average_ranks(y)
    return float(np.corrcoef(rx, ry)[0, 1])


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ranked = np.empty(len(values))
    ranked[order] = np.arange(1, len(values) + 1)
    for value in np.unique(values):
        tied = values == value
        ranked[tied] = ranked[tied].mean()
    return ranked


def _spent_words(result: RoundResult) -> str:
    """' (it can allocate only £820,000: see the round's notes)' where the model cannot spend what the force received."""
    allocated = result.run.allocation.allocated_gbp
    if allocated >= result.split.received_gbp - 0.5:
        return ""
    return f" (it allocates only £{allocated:,.0f} under the round's rules: see the round's notes)"


def _knife_edge_words(districts: list[DistrictResult]) -> str:
    """A sentence on the verdicts among `districts` that sit on a knife edge, or ''."""
    edged = [district for district in districts if district.knife_edge]
    if not edged:
        return ""
    return " On a knife edge: " + "; ".join(f"{d.name} passes in {d.p_eligible:.0%} of the draws" for d in edged) + "."


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _names(names: list[str]) -> str:
    """Names joined as a sentence lists them: '', 'A', 'A and B', 'A, B and C'."""
    if not names:
        return ""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


__all__ = ["CAVEATS", "Backtest", "DistrictResult", "RoundResult", "backtest", "ranks", "spearman"]
