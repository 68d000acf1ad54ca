"""The rules a split of the money presses against, in words: the first line about the money (what limits the spend and
what one more £1,000 of it would avert, or why money is left), then one line per other rule that binds, each with what
raising its limit is worth."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .constraints import AllocationRequest, Family, days_words, gbp
from .formulation import RowPrice


def binding_words(
    request: AllocationRequest, amounts: np.ndarray, prices: Sequence[RowPrice], conditional: bool = False
) -> tuple[str, ...]:
    """The rules the solution presses against, in words, each with what moving it is worth where known.

    The first line is about the money: why nothing can be allocated, or what limits the spend and what one more
    £1,000 of it would avert, or why money is left. Then one line per other rule family that binds, and last the
    count of ineligible areas."""
    excluded = int(np.count_nonzero(~request.eligible))
    eligibility = [f"eligibility: {excluded} ineligible area(s) receive £0"] if excluded else []
    nothing = request.nothing_fundable()
    if nothing:
        return (nothing, *(eligibility if request.eligible.any() else []))
    funded = request.funded_bids(amounts)
    priced = {(price.family, price.index): price for price in prices}
    slack = request.slack_gbp + 0.01
    tight = binding_rows(request, amounts)
    notes = [_money_line(request, amounts, funded, priced, tight, slack)]
    if conditional and prices:
        notes[0] += "; prices hold for the bids chosen"
    limit = spend_limit(request)
    for key, (family, rows) in tight.items():
        if key in SPEND_LIMITS and not (key == "force_cap" and request.split_by_force and limit != "force_cap"):
            continue
        notes.append(_family_line(request, family, rows, priced))
    return (*notes, *eligibility)


def binding_rows(request: AllocationRequest, amounts: np.ndarray) -> dict[str, tuple[Family, list[int]]]:
    """The rows `amounts` press against, by family key: (family, row indices), in the families' order. A per-bid row of
    an unfunded bid (its cap or minimum held at 0 by its flag) does not count."""
    funded = request.funded_bids(amounts)
    slack = request.slack_gbp + 0.01
    tight = {}
    for family in request.families():
        rows = [index for index, row in enumerate(family.rows) if row.slack(amounts, funded) <= family.binding_tolerance(slack)]
        if family.key in ("grant_cap", "minimum_grant", "local_match"):
            rows = [index for index in rows if funded[family.rows[index].bid]]
        if rows:
            tight[family.key] = (family, rows)
    return tight


SPEND_LIMITS = ("budget", "force_cap", "match_funding")
"""Families that limit the total spend: the first line of the explanation says which one binds."""


def spend_limit(request: AllocationRequest) -> str:
    """The family whose limit sets the most that may be spent: the least of budget, force caps (all forces' together where
    the areas span several) and match funding (on a tie, the one that is not the budget, since more budget could then not
    be spent)."""
    limits = [(request.budget_gbp, 1, "budget")]
    if request.force_caps_total_gbp < np.inf:
        limits.append((request.force_caps_total_gbp, 0, "force_cap"))
    if request.match_funding_available_gbp is not None and request.match_funding_rate > 0:
        limits.append((request.match_funding_available_gbp / request.match_funding_rate, 0, "match_funding"))
    return min(limits)[2]


def _money_line(request, amounts, funded, priced, tight, slack) -> str:
    total = float(amounts.sum())
    if request.goal == "least_cost":
        return (
            f"least cost: {gbp(total)} averts the target of {days_words(request.target_harm_days)} harm days, leaving "
            f"{gbp(request.budget_gbp - total)} of the budget"
        )
    limit = spend_limit(request)
    price = priced.get((limit, 0))
    per_1000 = price.price * 1000 if price is not None else None
    if total >= request.spendable_gbp - slack:
        if limit == "match_funding":
            line = (
                f"match funding: {gbp(request.match_funding_available_gbp)} available at {request.match_funding_rate:.0%} limits the "
                f"grant to {gbp(request.spendable_gbp)}"
            )
            return line + (
                f"; each extra £1,000 of grant it allowed would avert about {price.price * request.match_funding_rate * 1000:.2f} more harm days"
                if price
                else ""
            )
        if limit == "force_cap" and request.split_by_force:
            return (
                f"force caps: every force's {gbp(request.force_cap_gbp)} cap binds, {gbp(request.force_caps_total_gbp)} in all, "
                f"below the budget of {gbp(request.budget_gbp)}"
            )
        if limit == "force_cap":
            line = f"force cap: {gbp(request.force_cap_gbp)} is the most {request.force_name} may receive, below the budget of {gbp(request.budget_gbp)}"
            return line + (f"; each extra £1,000 of cap would avert about {per_1000:.2f} more harm days" if price else "")
        if per_1000 is not None and per_1000 > 0:
            return f"budget: all {gbp(request.budget_gbp)} allocated; each extra £1,000 would avert about {per_1000:.2f} more harm days"
        capped = "grant_cap" in tight and len(tight["grant_cap"][1]) == int(funded.sum())
        if capped:
            noun = "areas" if request.bid_of_area is None else "bids"
            return f"budget: all {gbp(request.budget_gbp)} allocated, exactly what the grant caps of the funded {noun} allow, so a little more budget would avert nothing"
        return f"budget: all {gbp(request.budget_gbp)} allocated"
    return _unspent(request, total, funded, tight, slack)


def _unspent(request, total, funded, tight, slack) -> str:
    """Why money is left over: the rules that stop the rest being spent."""
    left = request.spendable_gbp - total
    words = f"budget not used up: {gbp(request.budget_gbp - total)} left"
    reasons = []
    noun = "areas" if request.bid_of_area is None else "bids"
    all_capped = "grant_cap" in tight and len(tight["grant_cap"][1]) == int(funded.sum()) and funded.any()
    unfunded = request.fundable_bids() & ~funded
    if all_capped and not unfunded.any():
        idle = int(np.count_nonzero(request.eligible & ~request.usable().any(axis=1)))
        reasons.append(
            f"the grant caps of the eligible {noun} bound the spend"
            + (f"; {idle} eligible area(s) have no harm the interventions target" if idle else "")
        )
    elif all_capped and "bid_limit" in tight:
        reasons.append(f"the {int(funded.sum())} funded bid(s) are at the grant cap and the bid limit allows no more")
    elif all_capped and request.minimum_grant_gbp > left + slack:
        reasons.append(
            f"the funded bid(s) are at the grant cap and the {gbp(left)} that could still be spent is less than the minimum grant of {gbp(request.minimum_grant_gbp)}"
        )
    for key in ("local_match", "intervention_cap", "share_minimum", "share_maximum"):
        if key in tight:
            reasons.append(f"the {tight[key][0].title} allows no more")
    return words + (f", because {' and '.join(reasons)}" if reasons else "")


def _family_line(request, family: Family, rows: list[int], priced: dict) -> str:
    """One rule family's binding rows in a sentence, with what raising each limit would avert."""
    if family.key == "grant_cap":
        noun = "area(s)" if request.bid_of_area is None else "bid(s)"
        names = [_with_price(request.bid_label(family.rows[index].bid), priced.get((family.key, index)), family) for index in rows]
        caps = {family.rows[index].limit for index in rows}
        figure = gbp(next(iter(caps))) if len(caps) == 1 else "caps"
        return f"grant cap {figure} reached in {len(rows)} {noun}: {_listed(names)}"
    if family.key == "minimum_grant":
        noun = "area(s)" if request.bid_of_area is None else "bid(s)"
        names = [_with_price(request.bid_label(family.rows[index].bid), priced.get((family.key, index)), family) for index in rows]
        return f"minimum grant {gbp(request.minimum_grant_gbp)}: {len(rows)} {noun} receive exactly the minimum: {_listed(names)}"
    if family.one_limit and len(family.rows) > 1:
        noun = "area(s)" if request.bid_of_area is None else "bid(s)"
        names = [request.bid_label(family.rows[index].bid) for index in rows]
        price = priced.get((family.key, 0))
        priced_words = f" ({price_words(price, family)})" if price is not None and price.price != 0 else ""
        return f"{family.title} binds in {len(rows)} {noun}: {_listed(names)}{priced_words}"
    if family.key == "bid_limit":
        count = request.max_bids
        noun = "area" if request.bid_of_area is None else "bid"
        return f"bid limit: {count} {noun}{'' if count == 1 else 's'} funded, the most the round allows"
    pieces = [_with_price(family.rows[index].words, priced.get((family.key, index)), family) for index in rows]
    return f"{family.title}: {_listed(pieces)} bind{'s' if len(rows) == 1 else ''}"


def _listed(pieces: list[str], most: int = 12) -> str:
    shown = ", ".join(pieces[:most])
    return shown + (f" and {len(pieces) - most} more" if len(pieces) > most else "")


def _with_price(name: str, price: RowPrice | None, family: Family) -> str:
    return f"{name} ({price_words(price, family)})" if price is not None and price.price != 0 else name


def price_step(family: Family, limit: float) -> float:
    """How far to move a limit when saying what it is worth: the family's step, smaller for small limits."""
    if family.unit != "£":
        return family.step
    return family.step if limit >= 100_000 else float(10 ** np.floor(np.log10(max(limit, 10.0) / 10.0)))


def price_words(price: RowPrice, family: Family) -> str:
    """What raising the limit by one step is worth: more harm averted, or (a floor) harm given up."""
    step = price_step(family, family.rows[price.index].limit)
    by = {"£": gbp(step), "share": "one percentage point", "bids": "one bid"}[family.unit]
    change = price.price * step
    if change >= 0:
        return f"raising it by {by} would avert about {change:,.1f} more harm days"
    return f"raising it by {by} would give up about {-change:,.1f} harm days"
