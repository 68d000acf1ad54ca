"""The back-test through its Python API: a two-round, four-district case whose every figure is worked out by hand,
a round skipped for want of history, bad awards and scenarios refused with the place named, and the helpers
(`ranks`, `spearman`, `Awards.split` / `RoundSplit`) on small inputs.

The hand case (built in a temporary folder; every district's monthly records are the same in every month, so the
forecast is flat and each figure is records per year):

    district              population   Burglary/month   Vehicle crime/month
    E07000001 Alderley        10,000               10                     1
    E07000002 Brackwell       20,000                5                     8
    E07000003 Colham          10,000                2                     1
    E07000004 Dunmere         40,000                8                    20
    force                     80,000               25                    30

History 2019-10 to 2021-05. Harm weights are `count` (one record, one harm day), so basket harm over the
12-month horizon is the basket's records per year.

Round 1 (Burglary; rule: Burglary per 1,000 >= 1 x force rate; 3 bids; £550,000 cap per bid; one intervention,
`locks`: 25 % of Burglary at £4,000 per 1,000 residents), announced 2020-07-15: window 2019-07 to 2020-06, the
history holds its last 9 months (2019-10 to 2020-06), lacks 3. Records per year 120, 60, 24, 96 (sum 300); per
1,000: 12, 3, 2.4, 2.4; force rate 300 / 80 = 3.75. Only Alderley passes. Margins (value / threshold - 1):
12 / 3.75 - 1 = 2.2; 3 / 3.75 - 1 = -0.2; 2.4 / 3.75 - 1 = -0.36 (twice). Basket ranks by 120, 60, 24, 96: 1, 3, 4, 2;
per-resident ranks by 12, 3, 2.4, 2.4: 1, 2, 3, 3 (the tie shares the better rank). Paid: Alderley £50,000, so the
budget is £50,000 and all of it goes to Alderley, the one eligible district (below the cap), averting
0.25 x 120 x (1 - e^(-50,000 / 40,000)) = 21.40 harm days. Recall 1/1, precision 1/1, amounts identical: rank
correlation 1.

Round 2 (Vehicle crime; rule: Vehicle crime per 1,000 >= 1 x force rate; 1 bid; £80,000 cap; `cameras`: 20 % of
Vehicle crime at £2,000 per 1,000 residents), announced 2021-06-03: window 2020-06 to 2021-05, all held. Records per
year 12, 96, 12, 240 (sum 360); per 1,000: 1.2, 4.8, 1.2, 6.0; force rate 360 / 80 = 4.5. Brackwell and Dunmere
pass. Margins: 1.2 / 4.5 - 1 = -11/15; 4.8 / 4.5 - 1 = 1/15; -11/15; 6 / 4.5 - 1 = 1/3. Basket and per-resident ranks:
3, 2, 3, 1. Paid: £100,000 to "Brackwell; Dunmere" combined, with a published part of £60,000 to Dunmere: received
£100,000 (the part is not added), Dunmere £60,000, Brackwell the remainder £40,000. One bid: £80,000 in Dunmere
averts 0.2 x 240 x (1 - e^(-80,000 / 80,000)) = 30.34 days, in Brackwell 0.2 x 96 x (1 - e^(-80,000 / 40,000)) = 16.60,
so Dunmere gets the cap, £80,000 (£20,000 of the budget unspent). Recall 1/2, precision 1/1. Rank correlation of
awarded (0, 40,000, 0, 60,000; average ranks 1.5, 3, 1.5, 4) with the model's (0, 0, 0, 80,000; ranks 2, 2, 2, 4):
deviations (-1, 0.5, -1, 1.5) and (-0.5, -0.5, -0.5, 1.5), 3 / sqrt(4.5 x 3) = sqrt(2/3) = 0.816496580927726.
"""

from __future__ import annotations

import datetime
import math

import numpy as np
import pytest

from simulator import load_scenario
from simulator.awards import PUBLISHED, REMAINDER, Award, Awards
from simulator.backtest import backtest, ranks, spearman
from simulator.errors import ConfigError, DataError
from simulator.inputs import load_areas, month_range

ALDERLEY, BRACKWELL, COLHAM, DUNMERE = "E07000001", "E07000002", "E07000003", "E07000004"
DISTRICTS = (
    # code, name, population, Burglary per month, Vehicle crime per month
    (ALDERLEY, "Alderley", 10_000, 10, 1),
    (BRACKWELL, "Brackwell", 20_000, 5, 8),
    (COLHAM, "Colham", 10_000, 2, 1),
    (DUNMERE, "Dunmere", 40_000, 8, 20),
)
AWARDS_HEADER = "round,announced,district,area,amount_gbp,source_url,note\n"
ROUND_1_AWARD = "1,2020-07-15,Alderley,Town centre,50000,https://example.org/round-1,one project\n"
ROUND_2_COMBINED = "2,2021-06-03,Brackwell; Dunmere,Two estates,100000,https://example.org/round-2,combined award\n"
ROUND_2_PART = "2,2021-06-03,Dunmere,Dunmere estate,60000,https://example.org/round-2-part,published part of the combined award\n"

SCENARIO = """
name = "backtest-case"
title = "Four districts, two rounds, worked by hand"
budget_gbp = 100000
fund_round = "safer-streets-2"
seed = 7

[data]
areas = "areas.csv"
crime_counts = "counts.csv"
history = "history.csv"
awards = "awards.csv"
period_start = "2020-06"
period_end = "2021-05"
force_name = "Testshire"

[harm]
weight_set = "count"

[demand]
draws = 200

[interventions.locks]
name = "Locks"
crime_types = ["Burglary"]
max_reduction = 0.25
cost_scale_gbp_per_1000_residents = 4000
evidence = "test"
source = "test"
confidence = "medium"

[interventions.cameras]
name = "Cameras"
crime_types = ["Vehicle crime"]
max_reduction = 0.2
cost_scale_gbp_per_1000_residents = 2000
evidence = "test"
source = "test"
confidence = "medium"

[rounds.safer-streets-1]
name = "Round one"
period = "2020-21"
pot_gbp = 25000000
max_grant_gbp = 550000
max_grant_applies_to = "per bid"
bids_per_commissioner = 3
match_funding_rate = 0.0
focus = "burglary"
crime_basket = ["Burglary"]
combine = "all"
interventions = ["locks"]
source = "https://example.org/round-1-prospectus"

[rounds.safer-streets-1.rules.burglary_rate]
metric = "rate_per_1000"
crime_types = ["Burglary"]
threshold_kind = "force_mean"
threshold = 1.0
description = "burglary per 1,000"

[rounds.safer-streets-2]
name = "Round two"
period = "2021-22"
pot_gbp = 25000000
max_grant_gbp = 80000
max_grant_applies_to = "per bid"
bids_per_commissioner = 1
match_funding_rate = 0.0
focus = "vehicle crime"
crime_basket = ["Vehicle crime"]
combine = "all"
interventions = ["cameras"]
source = "https://example.org/round-2-prospectus"

[rounds.safer-streets-2.rules.vehicle_rate]
metric = "rate_per_1000"
crime_types = ["Vehicle crime"]
threshold_kind = "force_mean"
threshold = 1.0
description = "vehicle crime per 1,000"
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The hand case's files: areas, the scenario period's counts, the monthly history, the awards and the scenario."""
    folder = tmp_path_factory.mktemp("backtest-case")
    (folder / "areas.csv").write_text(
        "area_code,area_name,population\n" + "".join(f"{code},{name},{people}\n" for code, name, people, _, _ in DISTRICTS),
        encoding="utf-8",
    )
    (folder / "counts.csv").write_text(
        "area_code,crime_type,count\n"
        + "".join(f"{code},Burglary,{12 * burglary}\n{code},Vehicle crime,{12 * vehicle}\n" for code, _, _, burglary, vehicle in DISTRICTS),
        encoding="utf-8",
    )
    rows = [
        f"{month},{code},{crime_type},{count}\n"
        for month in month_range("2019-10", "2021-05")
        for code, _, _, burglary, vehicle in DISTRICTS
        for crime_type, count in (("Burglary", burglary), ("Vehicle crime", vehicle))
    ]
    (folder / "history.csv").write_text("month,area_code,crime_type,count\n" + "".join(rows), encoding="utf-8")
    (folder / "awards.csv").write_text(AWARDS_HEADER + ROUND_1_AWARD + ROUND_2_COMBINED + ROUND_2_PART, encoding="utf-8")
    (folder / "scenario.toml").write_text(SCENARIO, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def case(folder):
    """The hand case's scenario and areas, read once."""
    loaded = load_scenario(folder / "scenario.toml")
    return loaded, load_areas(loaded.scenario.data)


@pytest.fixture(scope="module")
def tested(case):
    """The back-test of the hand case against its awards (data.awards), both rounds tested."""
    return backtest(*case)


def by_code(result) -> dict:
    """A tested round's districts by area code."""
    return {district.code: district for district in result.districts}


def round_of(tested, round_id: str):
    return next(result for result in tested.rounds if result.round_id == round_id)


def child(folder, name: str, body: str):
    """A scenario extending the hand case with `body` added, read with its areas."""
    path = folder / f"{name}.toml"
    path.write_text(f'extends = "scenario.toml"\nname = "{name}"\n{body}\n', encoding="utf-8")
    loaded = load_scenario(path)
    return loaded, load_areas(loaded.scenario.data)


def awards_file(tmp_path, *rows: str) -> str:
    path = tmp_path / "awards.csv"
    path.write_text(AWARDS_HEADER + "".join(rows), encoding="utf-8")
    return str(path)


def refused(case, tmp_path, *rows: str) -> DataError:
    """The DataError the back-test raises on an awards file with `rows`."""
    path = awards_file(tmp_path, *rows)
    with pytest.raises(DataError) as caught:
        backtest(*case, awards_location=path)
    assert caught.value.file == path
    return caught.value


# The hand case: both rounds tested.


def test_both_rounds_are_tested_with_their_windows(tested):
    """Round 1's window is 2019-07 to 2020-06 with its last 9 months held; round 2's is 2020-06 to 2021-05, all held."""
    assert [result.round_id for result in tested.rounds] == ["safer-streets-1", "safer-streets-2"]
    assert tested.skipped == ()
    first, second = tested.windows
    assert (first.months[0], first.months[-1], first.used[0], first.used[-1]) == ("2019-07", "2020-06", "2019-10", "2020-06")
    assert first.missing == ("2019-07", "2019-08", "2019-09")
    assert (second.used[0], second.used[-1], second.missing) == ("2020-06", "2021-05", ())


def test_a_window_with_missing_months_says_so(tested):
    """Round 1's demand is built from 9 months, annualised, and the round's notes say which months it lacks."""
    assert round_of(tested, "safer-streets-1").notes == (
        "The window 2019-07 to 2020-06 lacks 3 months; demand is built from 2019-10 to 2020-06 "
        "(9 months, annualised), so any season outside them is not seen.",
    )
    assert round_of(tested, "safer-streets-2").notes == ()


def test_recall_precision_and_rank_correlation_by_hand(tested):
    """Round 1: 1/1, 1/1, correlation 1. Round 2: recall 1/2, precision 1/1, correlation sqrt(2/3); pooled 2 of 3, 2 of 2."""
    first, second = round_of(tested, "safer-streets-1"), round_of(tested, "safer-streets-2")
    assert (first.hits, first.awarded_count, first.model_count) == (1, 1, 1)
    assert first.recall == 1.0 and first.precision == 1.0
    assert first.rank_correlation == pytest.approx(1.0, abs=1e-9)
    assert (second.hits, second.awarded_count, second.model_count) == (1, 2, 1)
    assert second.recall == 0.5 and second.precision == 1.0
    assert second.rank_correlation == pytest.approx(0.816496580927726, abs=1e-9)
    assert second.rank_correlation == pytest.approx(math.sqrt(2 / 3), abs=1e-12)
    assert tested.pooled() == (2, 3, 2)


def test_a_combined_award_is_counted_once_and_its_remainder_attributed(tested):
    """Round 2 received £100,000 (the £60,000 part is not added): Dunmere £60,000 published, Brackwell the £40,000 remainder."""
    result = round_of(tested, "safer-streets-2")
    assert result.split.received_gbp == 100_000.0
    assert result.split.fully_split
    districts = by_code(result)
    assert (districts[DUNMERE].actual_gbp, districts[DUNMERE].actual_how) == (60_000.0, PUBLISHED)
    assert (districts[BRACKWELL].actual_gbp, districts[BRACKWELL].actual_how) == (40_000.0, REMAINDER)
    assert (districts[ALDERLEY].actual_gbp, districts[ALDERLEY].actual_how) == (0.0, "")
    assert [district.awarded for district in result.districts] == [False, True, False, True]
    assert round_of(tested, "safer-streets-1").split.received_gbp == 50_000.0


def test_round_1_verdicts_margins_and_ranks_by_hand(tested):
    """Burglary per 1,000 of 12, 3, 2.4, 2.4 against the force's 3.75: only Alderley passes; margins 2.2, -0.2, -0.36, -0.36."""
    result = round_of(tested, "safer-streets-1")
    assert [district.eligible for district in result.districts] == [True, False, False, False]
    assert [district.margin for district in result.districts] == pytest.approx([2.2, -0.2, -0.36, -0.36], abs=1e-9)
    assert {district.deciding_rule for district in result.districts} == {"burglary per 1,000"}
    assert [district.basket_harm_days for district in result.districts] == pytest.approx([120.0, 60.0, 24.0, 96.0], rel=1e-9)
    assert [district.basket_harm_per_1000 for district in result.districts] == pytest.approx([12.0, 3.0, 2.4, 2.4], rel=1e-9)
    assert [district.basket_rank for district in result.districts] == [1, 3, 4, 2]
    assert [district.per_resident_rank for district in result.districts] == [1, 2, 3, 3]
    assert int(result.run.eligibility.eligible.values.sum()) == 1


def test_round_2_verdicts_margins_and_ranks_by_hand(tested):
    """Vehicle crime per 1,000 of 1.2, 4.8, 1.2, 6 against the force's 4.5: Brackwell and Dunmere pass; margins -11/15, 1/15, -11/15, 1/3."""
    result = round_of(tested, "safer-streets-2")
    assert [district.eligible for district in result.districts] == [False, True, False, True]
    assert [district.margin for district in result.districts] == pytest.approx([-11 / 15, 1 / 15, -11 / 15, 1 / 3], abs=1e-9)
    assert [district.basket_harm_days for district in result.districts] == pytest.approx([12.0, 96.0, 12.0, 240.0], rel=1e-9)
    assert [district.basket_harm_per_1000 for district in result.districts] == pytest.approx([1.2, 4.8, 1.2, 6.0], rel=1e-9)
    assert [district.basket_rank for district in result.districts] == [3, 2, 3, 1]
    assert [district.per_resident_rank for district in result.districts] == [3, 2, 3, 1]
    assert result.awarded_eligible == 2


def test_round_1_model_puts_the_whole_budget_in_the_one_eligible_district(tested):
    """All £50,000 received goes to Alderley, averting 0.25 x 120 x (1 - e^-1.25) = 21.40 harm days; nothing elsewhere."""
    result = round_of(tested, "safer-streets-1")
    assert [district.model_gbp for district in result.districts] == pytest.approx([50_000.0, 0.0, 0.0, 0.0], abs=0.01)
    assert [district.model_funded for district in result.districts] == [True, False, False, False]
    assert by_code(result)[ALDERLEY].model_harm_averted_days == pytest.approx(30.0 * (1 - math.exp(-1.25)), rel=1e-6)
    assert result.run.allocation.allocated_gbp == pytest.approx(50_000.0, abs=0.01)


def test_round_2_model_gives_its_one_bid_the_grant_cap_in_dunmere(tested):
    """One bid: Dunmere (30.34 harm days for £80,000) beats Brackwell (16.60); it gets the £80,000 cap of the £100,000."""
    result = round_of(tested, "safer-streets-2")
    assert [district.model_gbp for district in result.districts] == pytest.approx([0.0, 0.0, 0.0, 80_000.0], abs=0.01)
    assert [district.model_funded for district in result.districts] == [False, False, False, True]
    assert by_code(result)[DUNMERE].model_harm_averted_days == pytest.approx(48.0 * (1 - math.exp(-1.0)), rel=1e-6)
    assert result.run.allocation.allocated_gbp == pytest.approx(80_000.0, abs=0.01)


def test_agreement_per_district(tested):
    """Round 1: both, neither x 3. Round 2: neither, fund only (Brackwell), neither, both (Dunmere)."""
    assert [district.agreement for district in round_of(tested, "safer-streets-1").districts] == ["both", "neither", "neither", "neither"]
    assert [district.agreement for district in round_of(tested, "safer-streets-2").districts] == [
        "neither",
        "fund only",
        "neither",
        "both",
    ]


def test_why_is_given_exactly_for_disagreements(tested):
    """`why` is non-empty for a 'model only' or 'fund only' district and empty otherwise; Brackwell's names the bid limit
    and the first £1,000's harm averted: 0.2 x 96 / 40,000 x 1,000 = 0.48 there, 0.2 x 240 / 80,000 x 1,000 = 0.6 in Dunmere."""
    for result in tested.rounds:
        for district in result.districts:
            assert bool(district.why) == (district.agreement in ("model only", "fund only")), (result.round_id, district.code)
    why = by_code(round_of(tested, "safer-streets-2"))[BRACKWELL].why
    assert why.startswith("eligible, 2nd of 4 by harm in the round's basket; the round allows 1 bid")
    assert why.endswith(
        "the model's 1 bid averts more harm than any other set it could fund, this district's included (certified within 0 % of the best)"
    )


def test_clear_verdicts_are_not_on_a_knife_edge(tested):
    """Alderley in round 1 (margin +220 %) and Dunmere in round 2 (+33 %) pass in nearly every draw."""
    for round_id, code in (("safer-streets-1", ALDERLEY), ("safer-streets-2", DUNMERE)):
        district = by_code(round_of(tested, round_id))[code]
        assert district.p_eligible > 0.95 and not district.knife_edge


def test_round_rows_give_the_hand_figures(tested):
    """rounds.csv: both rounds tested, with received £, the model's £, counts, recall, precision and correlation."""
    first, second = tested.round_rows()
    assert (first["round"], first["status"], first["reason"], first["months_missing"]) == ("safer-streets-1", "tested", "", 3)
    assert (first["received_gbp"], first["model_allocated_gbp"], first["eligible_districts"]) == (50_000.0, 50_000.0, 1)
    assert (first["recall"], first["precision"], first["rank_correlation"]) == (1.0, 1.0, 1.0)
    assert (second["window"], second["months_used"], second["received_gbp"], second["model_allocated_gbp"]) == (
        "2020-06 to 2021-05",
        "2020-06 to 2021-05",
        100_000.0,
        80_000.0,
    )
    assert (second["eligible_districts"], second["awarded_districts"], second["model_funded_districts"], second["both"]) == (2, 2, 1, 1)
    assert (second["recall"], second["precision"], second["rank_correlation"]) == (0.5, 1.0, 0.8165)


# Rounds that cannot be tested, or cannot be fully compared.


def test_a_round_with_too_few_months_is_skipped_and_the_other_tested(case):
    """Asking for 10 months in a row: round 1's window holds only 9, so it is skipped with its reason; round 2 is tested."""
    result = backtest(*case, least_months=10)
    assert [tested.round_id for tested in result.rounds] == ["safer-streets-2"]
    (skipped,) = result.skipped
    assert skipped.round_id == "safer-streets-1"
    assert skipped.skipped == (
        "the history holds 9 of the 12 months before July 2020 (2019-07 to 2020-06); at least 10 months in a row are needed"
    )
    first, second = result.round_rows()
    assert (first["round"], first["status"], first["reason"], first["months_used"]) == (
        "safer-streets-1",
        "skipped",
        skipped.skipped,
        "2019-10 to 2020-06",
    )
    assert first["received_gbp"] == 50_000.0
    assert first.get("recall") is None and first.get("model_allocated_gbp") is None
    assert (second["round"], second["status"], second["reason"], second["recall"]) == ("safer-streets-2", "tested", "", 0.5)
    assert result.summary()["rounds_skipped"] == {"safer-streets-1": skipped.skipped}


def test_a_combined_award_without_its_split_has_no_rank_correlation(case, tmp_path):
    """Without the published part, Brackwell's and Dunmere's amounts are unknown (None): no rank correlation, recall still 1/2."""
    result = backtest(*case, awards_location=awards_file(tmp_path, ROUND_2_COMBINED))
    (second,) = result.rounds
    assert not second.split.fully_split and second.split.received_gbp == 100_000.0
    assert second.rank_correlation is None
    assert (second.recall, second.precision) == (0.5, 1.0)
    districts = by_code(second)
    assert districts[BRACKWELL].actual_gbp is None and districts[DUNMERE].actual_gbp is None
    assert districts[BRACKWELL].actual_how == "inside a combined £100,000 to Brackwell and Dunmere, split not published"
    assert result.round_rows()[0]["rank_correlation"] is None


def test_the_scenarios_what_if_changes_are_left_out(folder, tmp_path):
    """A shock tripling Brackwell's vehicle crime is dropped with a note: the round is run on the records as they were."""
    body = '[shocks.surge]\nareas = ["Brackwell"]\nmultiplier = 3.0\ncrime_types = ["Vehicle crime"]'
    result = backtest(*child(folder, "with-shock", body), awards_location=awards_file(tmp_path, ROUND_2_COMBINED, ROUND_2_PART))
    assert result.notes == ("The scenario's what-if changes (surge) are left out: the back-test measures the model on past records.",)
    (second,) = result.rounds
    assert [district.basket_harm_days for district in second.districts] == pytest.approx([12.0, 96.0, 12.0, 240.0], rel=1e-9)
    assert [district.agreement for district in second.districts] == ["neither", "fund only", "neither", "both"]


def test_money_above_the_rounds_force_cap_is_noted(folder, tmp_path):
    """A modelled force cap of £90,000 below the £100,000 received: the round's notes say the cap or the figure is wrong."""
    loaded = child(folder, "with-force-cap", "[rounds.safer-streets-2]\nforce_cap_gbp = 90000")
    (second,) = backtest(*loaded, awards_location=awards_file(tmp_path, ROUND_2_COMBINED, ROUND_2_PART)).rounds
    assert second.notes == (
        "Testshire received £100,000.00 by the awards file, above the round's modelled force cap of £90,000: the model "
        "allocates at most the cap, so the cap or the award figure is wrong (see the file's notes).",
    )


def test_the_finding_says_when_the_model_cannot_spend_what_was_received(folder, tmp_path):
    """Its one bid capped at £80,000 (and a £90,000 force cap): the finding says the model allocates only £80,000 of the £100,000."""
    loaded = child(folder, "with-force-cap-finding", "[rounds.safer-streets-2]\nforce_cap_gbp = 90000")
    result = backtest(*loaded, awards_location=awards_file(tmp_path, ROUND_2_COMBINED, ROUND_2_PART))
    assert "with the £100,000 Testshire received (it allocates only £80,000 under the round's rules" in result.findings()[0]
    assert result.round_rows()[0]["notes"].startswith("Testshire received £100,000.00 by the awards file")


def test_a_round_where_no_district_is_eligible_is_compared_not_crashed(folder, tmp_path):
    """A threshold no district meets: the model funds nothing, the finding says so, every paid district says why."""
    loaded = child(folder, "nobody-eligible", "[rounds.safer-streets-2.rules.vehicle_rate]\nthreshold = 50.0")
    (second,) = backtest(*loaded, awards_location=awards_file(tmp_path, ROUND_2_COMBINED, ROUND_2_PART)).rounds
    assert second.model_count == 0 and second.precision is None and second.recall == 0.0
    assert all(not district.eligible and district.why.startswith("not eligible") for district in second.districts if district.awarded)


def test_awards_announced_on_several_dates_are_noted(folder, tmp_path):
    """Two dates in one round: the window ends before the first, and the round's notes say so."""
    later = ROUND_2_PART.replace("2021-06-03", "2021-09-01")
    (second,) = backtest(*folder_case(folder), awards_location=awards_file(tmp_path, ROUND_2_COMBINED, later)).rounds
    assert "announced on 2 dates, 03 June 2021 to 01 September 2021; the window ends before the first" in " ".join(second.notes)


def folder_case(folder):
    loaded = load_scenario(folder / "scenario.toml")
    return loaded, load_areas(loaded.scenario.data)


# Bad input through the API.


def test_an_awards_row_naming_an_unknown_district_is_refused(case, tmp_path):
    """'Zedford' is none of the four districts: file, line 3, column district, and examples of known names."""
    error = refused(case, tmp_path, ROUND_1_AWARD, ROUND_2_COMBINED.replace("Brackwell; Dunmere", "Brackwell; Zedford"))
    assert (error.line, error.key, error.what, error.got) == (3, "district", "names no district of this scenario", "Zedford")
    assert error.expected == "a district name or code, e.g. Alderley, Brackwell, Colham, Dunmere"
    assert str(error).startswith(f"{error.file}:3: district: names no district of this scenario (got 'Zedford';")


def test_an_awards_row_naming_a_round_the_scenario_lacks_is_refused(case, tmp_path):
    """Round 3 is not one of the scenario's rounds: refused, listing 1 and 2."""
    error = refused(case, tmp_path, ROUND_1_AWARD.replace("1,2020", "3,2020", 1))
    assert (error.line, error.key, error.what, error.got) == (2, "round", "names a round the scenario does not have", "3")
    assert error.expected == "one of 1, 2"
    assert str(error).startswith(f"{error.file}:2: round: names a round the scenario does not have")


@pytest.mark.parametrize(
    ("amount", "what"),
    [
        ("abc", "is not an amount in pounds and pence"),
        ("£50000", "is not an amount in pounds and pence"),
        ("1e5", "is not an amount in pounds and pence"),
        ("+50000", "is not an amount in pounds and pence"),
        ("50000.", "is not an amount in pounds and pence"),
        ("0", "is an award of nothing"),
        ('"50,5"', "is not an amount in pounds and pence"),
        ('"50,000"', "is not an amount in pounds and pence"),
        ("50000.125", "is not an amount in pounds and pence"),
    ],
)
def test_an_amount_that_is_not_pounds_is_refused(case, tmp_path, amount, what):
    """Letters, a pound sign, an exponent, a sign, a comma, a trailing point, a third decimal or £0 in amount_gbp: refused
    with the cell named."""
    error = refused(case, tmp_path, ROUND_1_AWARD.replace("50000", amount))
    assert (error.line, error.key, error.what) == (2, "amount_gbp", what)
    assert str(error).startswith(f"{error.file}:2: amount_gbp: {what}")


def test_parts_adding_up_to_more_than_their_combined_award_are_refused(case, tmp_path):
    """A £120,000 part of a £100,000 combined award: the combined award's line (3) is named, with its parts' lines."""
    error = refused(case, tmp_path, ROUND_1_AWARD, ROUND_2_COMBINED, ROUND_2_PART.replace("60000", "120000"))
    assert (error.line, error.key, error.what) == (3, "amount_gbp", "has parts that add up to more than the combined award")
    assert error.got == "100,000.00"
    assert error.expected == "at least the 120,000.00 of its parts on line 4"
    assert str(error).startswith(f"{error.file}:3: amount_gbp: has parts that add up to more than the combined award")


def test_a_part_of_two_combined_awards_is_refused(case, tmp_path):
    """Brackwell alone inside both 'Alderley; Brackwell' and 'Brackwell; Dunmere' of round 2: which one it breaks down is unclear."""
    other = ROUND_2_COMBINED.replace("Brackwell; Dunmere", "Alderley; Brackwell")
    error = refused(case, tmp_path, ROUND_2_COMBINED, other, ROUND_2_PART.replace("Dunmere,Dunmere estate", "Brackwell,Estate"))
    assert (error.line, error.key, error.what) == (4, "district", "is a part of two combined awards")
    assert "lines 2 and 3" in error.expected


def test_a_missing_awards_file_is_named_with_the_option(case, tmp_path):
    """An --awards path that does not exist: a DataError naming the file and --awards."""
    path = str(tmp_path / "nowhere.csv")
    with pytest.raises(DataError) as caught:
        backtest(*case, awards_location=path)
    assert (caught.value.file, caught.value.key, caught.value.what) == (path, "--awards", "data file not found")


def test_a_scenario_without_an_awards_file_is_refused(folder):
    """No data.awards and no awards_location: a ConfigError on data.awards."""
    with pytest.raises(ConfigError) as caught:
        backtest(*child(folder, "no-awards", '[data]\nawards = ""'))
    assert caught.value.key == "data.awards"
    assert str(caught.value).startswith("data.awards: names no awards file to compare with")


def test_a_scenario_without_a_monthly_history_is_refused(folder):
    """No data.history (and counts without months): a ConfigError on data.history."""
    with pytest.raises(ConfigError) as caught:
        backtest(*child(folder, "no-history", '[data]\nhistory = ""'))
    assert caught.value.key == "data.history"
    assert str(caught.value).startswith("data.history: has no monthly history to build each round's demand from")


def test_an_lsoa_scenario_is_refused(folder):
    """Small areas cannot be set beside district awards: a ConfigError on data.level, got 'lsoa'."""
    with pytest.raises(ConfigError) as caught:
        backtest(*child(folder, "small-areas", '[data]\nlevel = "lsoa"'))
    assert (caught.value.key, caught.value.got) == ("data.level", "lsoa")
    assert str(caught.value).startswith("data.level: has small areas; the back-test compares districts with the awards")


# The helpers.


def test_ranks_give_1_to_the_largest_and_ties_share_the_better_rank():
    """[3, 1, 3, 2] ranks 1, 4, 1, 3; all equal all rank 1."""
    assert ranks(np.array([3.0, 1.0, 3.0, 2.0])).tolist() == [1, 4, 1, 3]
    assert ranks([5, 5, 5]).tolist() == [1, 1, 1]


def test_spearman_by_hand():
    """x = 1, 2, 3, 4 and y = 1, 3, 2, 4: 1 - 6 x 2 / (4 x 15) = 0.8; with ties, average ranks (1.5, 1.5, 3) give sqrt(3)/2."""
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8, abs=1e-12)
    assert spearman([4, 3, 2, 1], [1, 2, 3, 4]) == pytest.approx(-1.0, abs=1e-12)
    assert spearman([0, 0, 1], [1, 2, 3]) == pytest.approx(math.sqrt(3) / 2, abs=1e-12)


def test_spearman_is_none_for_constant_or_short_input():
    """A constant side, or fewer than 3 values, has no rank correlation."""
    assert spearman([1, 1, 1, 1], [1, 2, 3, 4]) is None
    assert spearman([1, 2, 3, 4], [0, 0, 0, 0]) is None
    assert spearman([1, 2], [2, 1]) is None


def award(line: int, districts: tuple[str, ...], amount: float) -> Award:
    """A round-2 award on `line` to `districts`."""
    return Award("safer-streets-2", datetime.date(2021, 6, 3), districts, "somewhere", amount, "https://example.org", "", "", line)


def test_round_split_of_a_combined_award_without_parts():
    """£100,000 to Brackwell and Dunmere, no split: both unknown (None), Alderley 0, the combined amount named, not fully split."""
    split = Awards("awards.csv", (award(2, (BRACKWELL, DUNMERE), 100_000.0),)).split("safer-streets-2")
    assert (split.received_gbp, split.districts, split.known, split.fully_split) == (100_000.0, (BRACKWELL, DUNMERE), (), False)
    assert split.amount(BRACKWELL) is None and split.amount(DUNMERE) is None and split.amount(ALDERLEY) == 0.0
    assert split.how_known(BRACKWELL) == "" and split.how_known(ALDERLEY) == ""
    assert split.combined_with(DUNMERE) == ((BRACKWELL, DUNMERE), 100_000.0)
    assert split.combined_with(ALDERLEY) is None


def test_round_split_of_a_combined_award_with_a_published_part():
    """The £60,000 part to Dunmere is published; Brackwell gets the £40,000 remainder; the total stays £100,000."""
    part = award(3, (DUNMERE,), 60_000.0)
    split = Awards("awards.csv", (award(2, (BRACKWELL, DUNMERE), 100_000.0), part)).split("safer-streets-2")
    assert (split.received_gbp, split.fully_split, split.parts) == (100_000.0, True, (part,))
    assert (split.amount(DUNMERE), split.how_known(DUNMERE)) == (60_000.0, PUBLISHED)
    assert (split.amount(BRACKWELL), split.how_known(BRACKWELL)) == (40_000.0, REMAINDER)
    assert split.combined_with(BRACKWELL) is None and split.combined_with(DUNMERE) is None


def test_round_split_of_three_districts_with_one_part_leaves_the_rest_combined():
    """£90,000 to three districts with a £30,000 part to Dunmere: Alderley and Brackwell share £60,000, split not known."""
    split = Awards("awards.csv", (award(2, (ALDERLEY, BRACKWELL, DUNMERE), 90_000.0), award(3, (DUNMERE,), 30_000.0))).split(
        "safer-streets-2"
    )
    assert split.received_gbp == 90_000.0 and not split.fully_split
    assert split.amount(DUNMERE) == 30_000.0 and split.amount(ALDERLEY) is None
    assert split.combined_with(BRACKWELL) == ((ALDERLEY, BRACKWELL), 60_000.0)
    assert split.how_known(ALDERLEY) == "" and split.how_known(DUNMERE) == PUBLISHED


def test_round_split_whose_parts_fall_short_of_every_district_keeps_the_rest_combined():
    """£100,000 to Brackwell and Dunmere with parts of £30,000 and £50,000: the £20,000 left is a combined amount, not lost."""
    split = Awards(
        "awards.csv", (award(2, (BRACKWELL, DUNMERE), 100_000.0), award(3, (BRACKWELL,), 30_000.0), award(4, (DUNMERE,), 50_000.0))
    ).split("safer-streets-2")
    assert split.received_gbp == 100_000.0 and not split.fully_split
    assert split.amount(BRACKWELL) == 30_000.0 and split.amount(DUNMERE) == 50_000.0
    assert split.unsplit == (((BRACKWELL, DUNMERE), 20_000.0),)
