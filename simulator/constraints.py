"""What a split of the money must obey: the allocation request and its rules as families of linear rows.

A request holds the response curves, the verdicts, the money and every rule of the round and
the panel. Each rule is a `Family` of `Row`s, each row one linear inequality over the money per
area × intervention x[a,i] and the funded flags z[b] of the bids:

    Σ coef · x  +  Σ flag_coef · z   (≤ or ≥)   rhs

The allocator writes every row into its model, the checker evaluates every row on a solution,
the explanation names the rows a solution presses against and prices them by re-solving with a
varied request, and the infeasibility diagnosis relaxes the demanding families. A family says
once whether the exact greedy (and the water-filling that polishes every solution) handles it
and whether the Monte Carlo's per-draw best split and the robust plans do, so a new family is
refused where it is not handled rather than silently ignored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .demand import Demand
from .eligibility import Eligibility
from .errors import ConfigError
from .interventions import Curves
from .schema import Scenario

TOLERANCE_GBP = 1e-4
FUNDED_THRESHOLD_GBP = 0.005
"""A bid or area is funded when it receives more than this (£): half a penny, so its amount shows as at
least £0.01 when rounded to the penny as every table and report does.

The amounts come from water-filling the exact curves or from a linear program's solution, so a
cell can hold a sliver: a fraction of a penny where its marginal harm averted per £ is a hair
above the water level. An area whose amount shows as £0.00 is not called funded. A bid is funded
when any of its areas is (`AllocationRequest.funded_bids`)."""

WATER_FILLED = frozenset({"budget", "force_cap", "match_funding", "grant_cap", "local_match", "minimum_grant", "bid_limit"})
"""The rule families the water-filling honours once the funded bids are fixed: a budget with caps on nested groups of
bids (and each bid's bounds). The others need the linear program."""

GOALS = ("harm", "maxmin", "blend", "least_cost")
"""What the point allocation optimises: harm averted, the worst-served area's harm averted per day of its harm,
a blend of the two, or the least money that averts a target."""


@dataclass(frozen=True)
class Row:
    """One linear inequality over money per cell (flat index a × interventions + i) and bid flags, in £ (or days)."""

    cells: np.ndarray
    coefs: np.ndarray
    rhs: float
    sense: str
    words: str
    flags: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    flag_coefs: np.ndarray = field(default_factory=lambda: np.zeros(0))
    limit: float = 0.0
    """The figure a planner thinks of (the £550,000 cap, the 25 % share), for words."""
    bid: int = -1
    """The bid a per-bid row is written for (-1 for a row over all bids)."""
    per_unit: float = 1.0
    """How far the row's right-hand side moves (in £) when its family's figure moves by one unit: 1 for a £ limit, the
    bid's fair share of the budget for an equity floor (whose figure is a fraction)."""

    def value(self, amounts: np.ndarray, funded: np.ndarray) -> float:
        """The row's left-hand side for £ per area × intervention and funded flags per bid."""
        flat = np.asarray(amounts, dtype=float).ravel()
        flags = np.asarray(funded, dtype=float)
        return float(flat[self.cells] @ self.coefs + (flags[self.flags] @ self.flag_coefs if len(self.flags) else 0.0))

    def slack(self, amounts: np.ndarray, funded: np.ndarray) -> float:
        """How far the row is from binding (≥ 0 when it holds; negative when broken)."""
        lhs = self.value(amounts, funded)
        return self.rhs - lhs if self.sense == "<=" else lhs - self.rhs


@dataclass(frozen=True)
class Family:
    """A rule as linear rows, with its one statement in words and in symbols and what handles it."""

    key: str
    title: str
    inequality: str
    config_key: str
    rows: tuple[Row, ...]
    robust: bool
    """The robust (expected and CVaR) plans, solved over the Monte Carlo draws, handle it."""
    demanding: bool = False
    """A lower bound: it can make the rules impossible to meet together, so the diagnosis relaxes it."""
    needs_flags: bool = False
    """It counts or bounds funded bids, so the model needs a funded flag per bid."""
    vary: Callable[[AllocationRequest, int, float], AllocationRequest] | None = None
    """The request with row `index`'s limit moved by `delta` (in the row's unit), for pricing the rule by re-solving."""
    unit: str = "£"
    step: float = 10_000.0
    """How far the explanation moves the limit to price it (in `unit`)."""
    one_limit: bool = True
    """Every row follows one figure (the budget, the minimum grant, the floor), so the family is priced once; else row by row."""
    summary: str = ""
    """The rule's one figure in words, for a family of many rows priced once (e.g. 'the equity floor of 50 % of each
    area's fair share'); empty where the family's row words say it."""
    nested: bool = True
    """Its rows cap groups of whole bids nested in one another (force caps where a bid spans two forces do not)."""

    @property
    def water_filled(self) -> bool:
        """The water-filling honours it once the funded bids are fixed (`WATER_FILLED`) and its groups nest."""
        return self.key in WATER_FILLED and self.nested

    @property
    def greedy(self) -> bool:
        """The greedy solver (the water-filling, with every fundable bid funded) handles it alone: water-filled, and no
        choice of bids."""
        return self.water_filled and not self.needs_flags

    def binding_tolerance(self, slack_gbp: float) -> float:
        """How close a row's two sides must be to call it binding: half a bid for the bid limit, else the money slack."""
        return 0.5 if self.key == "bid_limit" else slack_gbp

    def slacks(self, amounts: np.ndarray, funded: np.ndarray) -> np.ndarray:
        """Every row's `Row.slack` at once: how far each is from binding (≥ 0 when it holds)."""
        flat = np.asarray(amounts, dtype=float).ravel()
        flags = np.asarray(funded, dtype=float)
        stacked = self._stacked
        lhs = np.bincount(stacked.cell_rows, weights=flat[stacked.cells] * stacked.coefs, minlength=len(self.rows))
        if len(stacked.flags):
            lhs = lhs + np.bincount(stacked.flag_rows, weights=flags[stacked.flags] * stacked.flag_coefs, minlength=len(self.rows))
        return np.where(stacked.at_most, stacked.rhs - lhs, lhs - stacked.rhs)

    @property
    def row_sizes(self) -> np.ndarray:
        """The number of cells in each row."""
        return self._stacked.sizes

    @cached_property
    def _stacked(self) -> _StackedRows:
        rows = self.rows
        return _StackedRows(
            cells=np.concatenate([row.cells for row in rows]).astype(int) if rows else np.zeros(0, dtype=int),
            coefs=np.concatenate([row.coefs for row in rows]).astype(float) if rows else np.zeros(0),
            cell_rows=np.repeat(np.arange(len(rows)), [len(row.cells) for row in rows]),
            flags=np.concatenate([row.flags for row in rows]).astype(int) if rows else np.zeros(0, dtype=int),
            flag_coefs=np.concatenate([row.flag_coefs for row in rows]).astype(float) if rows else np.zeros(0),
            flag_rows=np.repeat(np.arange(len(rows)), [len(row.flags) for row in rows]),
            rhs=np.array([row.rhs for row in rows], dtype=float),
            at_most=np.array([row.sense == "<=" for row in rows], dtype=bool),
            sizes=np.array([len(row.cells) for row in rows], dtype=float),
        )


@dataclass(frozen=True)
class _StackedRows:
    """A family's rows as flat arrays, so every row's left-hand side is one weighted count."""

    cells: np.ndarray
    coefs: np.ndarray
    cell_rows: np.ndarray
    flags: np.ndarray
    flag_coefs: np.ndarray
    flag_rows: np.ndarray
    rhs: np.ndarray
    at_most: np.ndarray
    sizes: np.ndarray


@dataclass(frozen=True)
class AllocationRequest:
    """Everything the allocator needs: curves, eligibility, money, the round's and the panel's rules, and the goal.

    Money limits that differ between bids are arrays per bid (`grant_caps_gbp`, `local_match_gbp`), so a rule for one
    bid can be priced by moving it alone."""

    curves: Curves
    eligible: np.ndarray
    budget_gbp: float
    max_grant_gbp: float
    max_bids: int = 0
    minimum_grant_gbp: float = 0.0
    match_funding_rate: float = 0.0
    match_funding_available_gbp: float | None = None
    segments: int = 48
    area_names: tuple[str, ...] = ()
    bid_of_area: np.ndarray | None = None
    bid_names: tuple[str, ...] = ()
    force_cap_gbp: float = 0.0
    force_name: str = "the force"
    force_of_area: np.ndarray | None = None
    """Each area's police force (index into `force_names`) where the areas span several forces: the force cap then
    applies to each force's total separately (bid caps within force caps within the budget). None: one force."""
    force_names: tuple[str, ...] = ()
    force_caps_gbp: np.ndarray | None = None
    """The cap per force (£) where it differs between forces (a cap moved to price it); None: `force_cap_gbp` for each."""
    grant_caps_gbp: np.ndarray | None = None
    local_match_gbp: np.ndarray | None = None
    intervention_caps_gbp: np.ndarray | None = None
    share_minimum: np.ndarray | None = None
    share_maximum: np.ndarray | None = None
    equity_floor: float = 0.0
    equity_basis: str = "harm"
    basket_harm: np.ndarray | None = None
    goal: str = "harm"
    blend_weight: float = 0.5
    target_harm_days: float = 0.0
    gap_target: float = 0.0005
    round_key: str = "rounds"

    def area_label(self, area: int) -> str:
        """The area's name where known, else its code."""
        return self.area_names[area] if self.area_names else self.curves.codes[area]

    def bids(self) -> np.ndarray:
        """The bid each area belongs to: its own, or its cluster's (e.g. the LSOAs of one district)."""
        return np.arange(len(self.eligible)) if self.bid_of_area is None else np.asarray(self.bid_of_area)

    @property
    def bid_count(self) -> int:
        """How many possible bids there are."""
        return len(self.eligible) if self.bid_of_area is None else int(np.max(self.bid_of_area, initial=-1)) + 1

    @property
    def bid_noun(self) -> str:
        """What one bid is, for sentences: 'area' or 'bid'."""
        return "area" if self.bid_of_area is None else "bid"

    def bid_label(self, bid: int) -> str:
        """A bid's name: its area's, or its cluster's."""
        return self.area_label(bid) if self.bid_of_area is None else (self.bid_names[bid] if self.bid_names else f"bid {bid + 1}")

    @property
    def split_by_force(self) -> bool:
        """True when the areas span several forces, so the force cap is one row per force rather than one on the total."""
        return self.force_of_area is not None and self.force_count > 1

    @property
    def force_count(self) -> int:
        """How many forces the areas span."""
        if self.force_of_area is None:
            return 1
        return max(len(self.force_names), int(np.max(self.force_of_area, initial=-1)) + 1)

    def force_label(self, force: int) -> str:
        """A force's name, for sentences."""
        return self.force_names[force] if self.force_names else (self.force_name if self.force_count == 1 else f"force {force + 1}")

    def __getstate__(self) -> dict:
        """Pickled without what it caches: the rule families hold functions that cannot be pickled, and everything cached
        is rebuilt from the fields on first use (a run's result is sent whole to the processes that draw its charts)."""
        return {name: value for name, value in self.__dict__.items() if name in self.__dataclass_fields__}

    def force_caps(self) -> np.ndarray:
        """The cap on each force's total (£ per force; infinite where there is none)."""
        if self.force_caps_gbp is not None:
            return np.asarray(self.force_caps_gbp, dtype=float)
        return np.full(self.force_count, float(self.force_cap_gbp) if self.force_cap_gbp > 0 else np.inf)

    @cached_property
    def _force_of_bid(self) -> np.ndarray:
        bids = self.bids()
        forces = np.zeros(len(bids), dtype=int) if self.force_of_area is None else np.asarray(self.force_of_area, dtype=int)
        first = np.full(self.bid_count, -1)
        first[bids[::-1]] = forces[::-1]
        return np.where(first >= 0, first, 0)

    def force_of_bid(self) -> np.ndarray:
        """Each bid's force (the force of its first area; 0 for a bid with no area)."""
        return self._force_of_bid

    @cached_property
    def caps_nest(self) -> bool:
        """True when every bid lies within one force, so the caps form nested groups (bids within forces within the
        budget) that the water-filling solves exactly; a bid across forces needs the linear program."""
        if not self.split_by_force or self.force_cap_gbp <= 0 and self.force_caps_gbp is None:
            return True
        return bool(np.all(np.asarray(self.force_of_area) == self._force_of_bid[self.bids()]))

    def nested_force_caps(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(each bid's force, each force's cap) for the water-filling where force caps apply per force; None where the
        force cap is one limit on the total (folded into `spendable_gbp`) or there is none."""
        if not self.split_by_force or self.force_cap_gbp <= 0 and self.force_caps_gbp is None:
            return None
        return self.force_of_bid(), self.force_caps()

    @property
    def force_caps_total_gbp(self) -> float:
        """The most the force caps let every force together receive (£; infinite without a force cap)."""
        if self.force_cap_gbp <= 0 and self.force_caps_gbp is None:
            return np.inf
        if not self.split_by_force:
            return float(self.force_cap_gbp)
        present = np.bincount(np.asarray(self.force_of_area, dtype=int), minlength=self.force_count) > 0
        return float(self.force_caps()[present].sum())

    def per_bid(self, amounts: np.ndarray) -> np.ndarray:
        """£ per bid from £ per area × intervention."""
        return np.bincount(self.bids(), weights=np.asarray(amounts, dtype=float).sum(axis=1), minlength=self.bid_count)

    def funded_bids(self, amounts: np.ndarray) -> np.ndarray:
        """Bids funded by `amounts` (£ per area × intervention), bool per bid: a bid is funded when any of its areas is."""
        return np.bincount(self.bids(), weights=funded_areas(amounts), minlength=self.bid_count) > 0

    def bid_caps(self) -> np.ndarray:
        """The most each bid may receive (£): the grant cap, lowered where the bid's local match funding limits it."""
        caps = np.full(self.bid_count, float(self.max_grant_gbp)) if self.grant_caps_gbp is None else np.asarray(self.grant_caps_gbp, float)
        if self.local_match_gbp is not None and self.match_funding_rate > 0:
            caps = np.minimum(caps, np.asarray(self.local_match_gbp, float) / self.match_funding_rate)
        return caps

    @property
    def spendable_gbp(self) -> float:
        """The most all bids together may receive: the budget, lowered by the force cap and the match funding available."""
        most = self.budget_gbp
        if self.split_by_force:
            most = min(most, self.force_caps_total_gbp)
        elif self.force_cap_gbp > 0:
            most = min(most, self.force_cap_gbp)
        if self.match_funding_available_gbp is not None and self.match_funding_rate > 0:
            most = min(most, self.match_funding_available_gbp / self.match_funding_rate)
        return most

    @property
    def curve_span_gbp(self) -> float:
        """The most one bid can receive (at least £1): the stretch of each curve the robust plans' common chords cover."""
        return max(min(self.spendable_gbp, float(np.max(self.bid_caps(), initial=self.max_grant_gbp))), 1.0)

    @property
    def needs_binaries(self) -> bool:
        """True when a funded/not-funded decision per bid is needed (bid limit or minimum grant)."""
        return self.max_bids > 0 or self.minimum_grant_gbp > 0

    @property
    def funds_every_fundable_bid(self) -> bool:
        """True when no rule stops every fundable bid taking part (no minimum grant, no binding bid limit)."""
        return self.minimum_grant_gbp <= 0 and (not self.max_bids or int(self.fundable_bids().sum()) <= self.max_bids)

    @property
    def cell_caps_gbp(self) -> np.ndarray:
        """The most each area × intervention cell can receive under the money rows (£): its bid's cap, the spendable
        total and its intervention's cap, whichever is least (at least £1, so every curve has a span)."""
        caps = np.minimum(self.bid_caps()[self.bids()][:, None], self.spendable_gbp)
        nested = self.nested_force_caps()
        if nested is not None:
            caps = np.minimum(caps, nested[1][np.asarray(self.force_of_area, dtype=int)][:, None])
        if self.intervention_caps_gbp is not None:
            caps = np.minimum(caps, np.asarray(self.intervention_caps_gbp, float)[None, :])
        return np.maximum(np.broadcast_to(caps, self.curves.scale.values.shape), 1.0)

    def most_bids(self) -> int:
        """How many bids the bid limit and the minimum grant allow at most."""
        most = self.max_bids or self.bid_count
        if self.minimum_grant_gbp > 0:
            most = int(min(most, self.spendable_gbp / self.minimum_grant_gbp * (1 + 1e-12)))
        return most

    def usable(self) -> np.ndarray:
        """Area × intervention cells that may receive money: eligible areas, harm to avert (read-only)."""
        return self._usable

    @cached_property
    def _usable(self) -> np.ndarray:
        usable = np.asarray(self.eligible, dtype=bool)[:, None] & (self.curves.ceilings() > 0)
        usable.setflags(write=False)
        return usable

    def open_cells(self) -> np.ndarray:
        """Usable cells in fundable bids (area × intervention, bool): the cells a model gives a variable."""
        return self.usable() & self.fundable_bids()[self.bids()][:, None]

    def fundable_bids(self) -> np.ndarray:
        """Bids with at least one usable cell whose cap (and force's cap) leaves room for the minimum grant (bool per bid)."""
        return self._fundable_bids.copy()

    @cached_property
    def _fundable_bids(self) -> np.ndarray:
        usable = np.bincount(self.bids(), weights=self.usable().any(axis=1), minlength=self.bid_count) > 0
        fundable = usable & (self.bid_caps() >= self.minimum_grant_gbp * (1 - 1e-12))
        nested = self.nested_force_caps()
        if nested is not None:
            fundable &= nested[1][nested[0]] >= self.minimum_grant_gbp * (1 - 1e-12)
        return fundable

    @property
    def slack_gbp(self) -> float:
        """How far a total may stray from a limit before it counts as breaking it (£)."""
        return TOLERANCE_GBP * max(1.0, self.budget_gbp / 1000.0)

    def bid_harm(self) -> np.ndarray:
        """Basket harm per bid (days) over areas with a usable cell: what fair shares and the max-min goal follow."""
        harm = self.area_harm()
        return np.bincount(self.bids(), weights=np.where(self.usable().any(axis=1), harm, 0.0), minlength=self.bid_count)

    def area_harm(self) -> np.ndarray:
        """Each area's harm in the round's basket (days), or its targeted harm where no basket harm was given."""
        if self.basket_harm is not None:
            return np.asarray(self.basket_harm, dtype=float)
        return self.curves.targeted_harm.values.sum(axis=1)

    def served_areas(self) -> np.ndarray:
        """Areas the max-min goal raises (bool per area): eligible, with basket harm and a usable cell."""
        return self.usable().any(axis=1) & (self.area_harm() > 0)

    def equity_floors_gbp(self) -> np.ndarray:
        """The least each fundable bid must receive under the equity floor (£ per bid; 0 where none)."""
        fundable = self.fundable_bids()
        if self.equity_floor <= 0 or not fundable.any():
            return np.zeros(self.bid_count)
        if self.equity_basis == "equal":
            fair = np.where(fundable, 1.0 / fundable.sum(), 0.0)
        else:
            harm = np.where(fundable, self.bid_harm(), 0.0)
            fair = harm / harm.sum() if harm.sum() > 0 else np.where(fundable, 1.0 / fundable.sum(), 0.0)
        return self.equity_floor * self.budget_gbp * fair

    def families(self) -> tuple[Family, ...]:
        """Every rule of the request as rows, in the order the explanation lists them (families with no rows left out)."""
        return self._families

    @cached_property
    def _families(self) -> tuple[Family, ...]:
        switched_on = set(self.rule_keys())
        built = (builder(self) for key, builder in FAMILY_BUILDERS if key in switched_on)
        return tuple(family for family in built if family.rows)

    def rule_keys(self) -> tuple[str, ...]:
        """The keys of the rule families this request switches on, read from its fields without building any row (a
        Monte Carlo asks this once per draw). A family switched on can still have no rows, e.g. when no area is eligible."""
        on = {
            "budget": True,
            "force_cap": self.force_cap_gbp > 0 or self.force_caps_gbp is not None,
            "match_funding": self.match_funding_available_gbp is not None and self.match_funding_rate > 0,
            "grant_cap": True,
            "local_match": self.local_match_gbp is not None
            and self.match_funding_rate > 0
            and bool(np.isfinite(self.local_match_gbp).any()),
            "minimum_grant": self.minimum_grant_gbp > 0,
            "bid_limit": self.max_bids > 0,
            "intervention_cap": self.intervention_caps_gbp is not None and bool(np.isfinite(self.intervention_caps_gbp).any()),
            "share_minimum": self.share_minimum is not None and bool(np.any(np.asarray(self.share_minimum) > 0)),
            "share_maximum": self.share_maximum is not None and bool(np.any(np.asarray(self.share_maximum) < 1)),
            "equity_floor": self.equity_floor > 0,
        }
        return tuple(key for key, _ in FAMILY_BUILDERS if on[key])

    def beyond_robust_plans(self) -> tuple[Family, ...]:
        """The families the robust (expected and CVaR) plans do not handle."""
        return tuple(family for family in self.families() if not family.robust)

    def robust_plans_refused(self) -> str | None:
        """Why the expected and CVaR plans cannot be solved for this request, or None when they can: they maximise harm
        averted over the draws under the budget, caps, bid limit and minimum grant, and no other rule or goal."""
        if self.goal != "harm":
            return f"the expected and CVaR plans maximise harm averted, not the {self.goal} objective"
        beyond = self.beyond_robust_plans()
        if beyond:
            titles = ", ".join(family.title for family in beyond)
            return f"the expected and CVaR plans are solved under the budget, caps, bid limit and minimum grant only, not the {titles}"
        return None

    def nothing_fundable(self) -> str | None:
        """Why no bid can be funded, in words, or None when some bid can."""
        if not self.eligible.any():
            return "no area passes the round's area test, so nothing can be allocated"
        if not self.usable().any():
            eligible = int(np.count_nonzero(self.eligible))
            return (
                f"the {eligible} eligible area(s) have no recorded harm of the crime types the enabled "
                f"interventions target, so nothing can be allocated"
            )
        if self.spendable_gbp <= 0:
            return (
                f"match funding: {gbp(self.match_funding_available_gbp)} available at {self.match_funding_rate:.0%} "
                f"allows no grant, so nothing can be allocated"
            )
        minimum = self.minimum_grant_gbp
        if minimum > self.max_grant_gbp:
            return f"the minimum grant of {gbp(minimum)} is above the grant cap of {gbp(self.max_grant_gbp)}, so no bid can be funded"
        if not self.fundable_bids().any():
            force = ", its force's cap" if self.nested_force_caps() is not None else ""
            return (
                f"the minimum grant of {gbp(minimum)} is above what every eligible bid may receive under its cap{force} and local match "
                f"funding, so no bid can be funded"
            )
        if minimum > self.spendable_gbp:
            if self.force_cap_gbp > 0 and self.force_cap_gbp <= self.spendable_gbp * (1 + 1e-12):
                return f"the minimum grant of {gbp(minimum)} is above the force cap of {gbp(self.force_cap_gbp)}, so no bid can be funded"
            if self.spendable_gbp < self.budget_gbp:
                return (
                    f"the minimum grant of {gbp(minimum)} is above the {gbp(self.spendable_gbp)} that match funding "
                    f"allows ({gbp(self.match_funding_available_gbp)} at {self.match_funding_rate:.0%}), so no bid can be funded"
                )
            return f"the minimum grant of {gbp(minimum)} is above the budget of {gbp(self.budget_gbp)}, so no bid can be funded"
        return None


def funded_areas(amounts: np.ndarray) -> np.ndarray:
    """Whether each area of `amounts` (£ per area × intervention) is funded: more than `FUNDED_THRESHOLD_GBP`."""
    return np.asarray(amounts).sum(axis=1) > FUNDED_THRESHOLD_GBP


def rule_breaches(request: AllocationRequest, amounts: np.ndarray) -> list[str]:
    """Every rule `amounts` (£ per area × intervention) break, in words: the one check every plan and baseline passes."""
    amounts = np.asarray(amounts, dtype=float)
    slack = request.slack_gbp
    found = []
    if amounts.min(initial=0.0) < -slack:
        found.append("a negative amount")
    if np.any(amounts.sum(axis=1)[~request.eligible] > slack):
        found.append("an ineligible area receives money")
    funded = request.funded_bids(amounts)
    for family in request.families():
        tolerance = slack if family.unit == "£" else max(slack, 1e-9)
        if not family.rows:
            continue
        broken = family.slacks(amounts, funded) < -tolerance * np.maximum(1.0, np.sqrt(family.row_sizes))
        found.extend(f"{family.title}: {family.rows[index].words}" for index in np.flatnonzero(broken))
    return found


def gbp(amount: float | None) -> str:
    """Pounds for a sentence: whole pounds, or pence below £100."""
    amount = float(amount or 0.0)
    return f"£{amount:,.0f}" if abs(amount) >= 100 or amount == round(amount) else f"£{amount:,.2f}"


def days_words(days: float) -> str:
    """Harm days for a sentence: whole days, or two decimals below 100 (so a small target does not read as 0)."""
    return f"{days:,.0f}" if abs(days) >= 100 or days == round(days) else f"{days:,.2f}"


def _nudged(values: np.ndarray, position: int, delta: float, low: float = 0.0, high: float = np.inf) -> np.ndarray:
    """A copy of `values` with one entry moved by `delta`, kept within [low, high]: a rule's limit moved to price it."""
    moved = np.array(values, dtype=float)
    moved[position] = min(max(moved[position] + delta, low), high)
    return moved


def _cells_of(request: AllocationRequest, areas: np.ndarray | None = None, intervention: int | None = None) -> np.ndarray:
    """Flat cell indices of usable cells, optionally within some areas or one intervention."""
    usable = request.usable().copy()
    if areas is not None:
        usable &= np.asarray(areas, dtype=bool)[:, None]
    if intervention is not None:
        keep = np.zeros(usable.shape[1], dtype=bool)
        keep[intervention] = True
        usable &= keep[None, :]
    return np.flatnonzero(usable.ravel())


def _cells_by(request: AllocationRequest, group_of_area: np.ndarray, count: int) -> list[np.ndarray]:
    """Flat indices of the usable cells of each group of areas (a bid, a force), ascending within each group: one sort
    over the usable cells instead of a pass over every cell per group."""
    cells = np.flatnonzero(request.usable().ravel())
    groups = np.asarray(group_of_area, dtype=int)[cells // request.usable().shape[1]]
    order = np.argsort(groups, kind="stable")
    ends = np.searchsorted(groups[order], np.arange(count + 1))
    return [cells[order[ends[group] : ends[group + 1]]] for group in range(count)]


def _sum_row(cells: np.ndarray, rhs: float, sense: str, words: str, limit: float, **extra) -> Row:
    return Row(cells, np.ones(len(cells)), float(rhs), sense, words, limit=float(limit), **extra)


def _bid_cells(request: AllocationRequest) -> list[np.ndarray]:
    """The usable cells of each bid (`_cells_by` over bids)."""
    return _cells_by(request, request.bids(), request.bid_count)


def _bids_with_cells(request: AllocationRequest) -> list[int]:
    return [int(bid) for bid in np.flatnonzero(request.fundable_bids())]


def _budget(request: AllocationRequest) -> Family:
    cells = _cells_of(request)
    row = _sum_row(cells, request.budget_gbp, "<=", f"the budget of {gbp(request.budget_gbp)}", request.budget_gbp)
    return Family(
        "budget",
        "budget",
        "Σ_a,i x[a,i] ≤ B",
        "budget_gbp",
        (row,) if len(cells) else (),
        robust=True,
        vary=lambda req, index, delta: dataclasses.replace(req, budget_gbp=max(req.budget_gbp + delta, 0.0)),
    )


def _force_cap(request: AllocationRequest) -> Family:
    if request.split_by_force:
        return _force_caps(request)
    rows = ()
    cells = _cells_of(request)
    if request.force_cap_gbp > 0 and len(cells):
        words = f"the {gbp(request.force_cap_gbp)} cap on {request.force_name}'s total"
        rows = (_sum_row(cells, request.force_cap_gbp, "<=", words, request.force_cap_gbp),)
    return Family(
        "force_cap",
        "force cap",
        "Σ_(a in force),i x[a,i] ≤ force cap",
        f"{request.round_key}.force_cap_gbp",
        rows,
        robust=True,
        vary=lambda req, index, delta: dataclasses.replace(req, force_cap_gbp=max(req.force_cap_gbp + delta, 1e-9)),
    )


def _capped_forces(request: AllocationRequest) -> list[int]:
    """The forces with a finite cap and a usable cell in a fundable bid: one force-cap row each, in force order."""
    fundable = request.fundable_bids()[request.bids()]
    forces = np.asarray(request.force_of_area, dtype=int)
    with_cells = np.bincount(forces, weights=request.usable().any(axis=1) & fundable, minlength=request.force_count) > 0
    return [int(force) for force in np.flatnonzero(with_cells & np.isfinite(request.force_caps()))]


def _force_caps(request: AllocationRequest) -> Family:
    """The force cap where the areas span several forces: one row per force, over that force's cells."""
    caps = request.force_caps()
    fundable = request.fundable_bids()[request.bids()]
    cells = _cells_by(request, np.where(fundable, request.force_of_area, request.force_count), request.force_count)
    rows = tuple(
        _sum_row(cells[force], caps[force], "<=", f"the {gbp(caps[force])} cap on {request.force_label(force)}'s total", caps[force])
        for force in _capped_forces(request)
    )

    def vary(req: AllocationRequest, index: int, delta: float) -> AllocationRequest:
        return dataclasses.replace(req, force_caps_gbp=_nudged(req.force_caps(), _capped_forces(req)[index], delta, low=1e-9))

    return Family(
        "force_cap",
        "force cap",
        "Σ_(a in f),i x[a,i] ≤ force cap, for each force f",
        f"{request.round_key}.force_cap_gbp",
        rows,
        robust=False,
        vary=vary,
        one_limit=False,
        nested=request.caps_nest,
    )


def _match_funding(request: AllocationRequest) -> Family:
    rows = ()
    cells = _cells_of(request)
    available, rate = request.match_funding_available_gbp, request.match_funding_rate
    if available is not None and rate > 0 and len(cells):
        words = f"the {gbp(available)} of match funding at {rate:.0%} (at most {gbp(available / rate)} of grant)"
        rows = (Row(cells, np.full(len(cells), rate), available, "<=", words, limit=available),)
    return Family(
        "match_funding",
        "match funding",
        "m · Σ_a,i x[a,i] ≤ match funding available",
        "allocation.match_funding_available_gbp",
        rows,
        robust=True,
        vary=lambda req, index, delta: dataclasses.replace(
            req, match_funding_available_gbp=max((req.match_funding_available_gbp or 0.0) + delta, 0.0)
        ),
    )


def _grant_caps(request: AllocationRequest) -> Family:
    caps = np.full(request.bid_count, float(request.max_grant_gbp)) if request.grant_caps_gbp is None else request.grant_caps_gbp
    rows = []
    by_bid = _bid_cells(request)
    for bid in _bids_with_cells(request):
        cells = by_bid[bid]
        words = f"the {gbp(caps[bid])} grant cap in {request.bid_label(bid)}"
        if request.needs_binaries:
            rows.append(
                Row(cells, np.ones(len(cells)), 0.0, "<=", words, np.array([bid]), np.array([-float(caps[bid])]), float(caps[bid]), bid)
            )
        else:
            rows.append(_sum_row(cells, caps[bid], "<=", words, caps[bid], bid=bid))

    def vary(req: AllocationRequest, index: int, delta: float) -> AllocationRequest:
        caps = np.full(req.bid_count, float(req.max_grant_gbp)) if req.grant_caps_gbp is None else req.grant_caps_gbp
        return dataclasses.replace(req, grant_caps_gbp=_nudged(caps, _bids_with_cells(req)[index], delta, low=1e-9))

    return Family(
        "grant_cap",
        "grant cap",
        "Σ_(a in b),i x[a,i] ≤ cap × z[b]",
        f"{request.round_key}.max_grant_gbp",
        tuple(rows),
        robust=True,
        vary=vary,
        one_limit=False,
    )


def _local_match(request: AllocationRequest) -> Family:
    rows = []
    rate = request.match_funding_rate
    limited = []
    if request.local_match_gbp is not None and rate > 0:
        local = np.asarray(request.local_match_gbp, dtype=float)
        by_bid = _bid_cells(request)
        for bid in _bids_with_cells(request):
            if np.isfinite(local[bid]):
                cells = by_bid[bid]
                words = f"{request.bid_label(bid)}'s {gbp(local[bid])} of local match funding at {rate:.0%} (at most {gbp(local[bid] / rate)} of grant)"
                rows.append(Row(cells, np.full(len(cells), rate), float(local[bid]), "<=", words, limit=float(local[bid]), bid=bid))
                limited.append(bid)

    def vary(req: AllocationRequest, index: int, delta: float) -> AllocationRequest:
        return dataclasses.replace(req, local_match_gbp=_nudged(req.local_match_gbp, limited[index], delta))

    return Family(
        "local_match",
        "local match funding",
        "m · Σ_(a in b),i x[a,i] ≤ local match funding of b",
        "allocation.local_match_gbp",
        tuple(rows),
        robust=False,
        vary=vary,
        one_limit=False,
    )


def _minimum_grant(request: AllocationRequest) -> Family:
    rows = []
    minimum = request.minimum_grant_gbp
    if minimum > 0:
        by_bid = _bid_cells(request)
        for bid in _bids_with_cells(request):
            cells = by_bid[bid]
            words = f"the {gbp(minimum)} minimum grant in {request.bid_label(bid)}"
            rows.append(Row(cells, np.ones(len(cells)), 0.0, ">=", words, np.array([bid]), np.array([-minimum]), minimum, bid))
    return Family(
        "minimum_grant",
        "minimum grant",
        "Σ_(a in b),i x[a,i] ≥ minimum grant × z[b]",
        "allocation.minimum_grant_gbp",
        tuple(rows),
        robust=True,
        needs_flags=True,
        vary=lambda req, index, delta: dataclasses.replace(req, minimum_grant_gbp=max(req.minimum_grant_gbp + delta, 0.0)),
        summary=f"the {gbp(minimum)} minimum grant",
    )


def _bid_limit(request: AllocationRequest) -> Family:
    rows = ()
    bids = np.array(_bids_with_cells(request), dtype=int)
    if request.max_bids > 0 and len(bids):
        words = f"the limit of {request.max_bids} {request.bid_noun}{'' if request.max_bids == 1 else 's'} funded"
        rows = (Row(np.zeros(0, dtype=int), np.zeros(0), float(request.max_bids), "<=", words, bids, np.ones(len(bids)), request.max_bids),)
    return Family(
        "bid_limit",
        "bid limit",
        "Σ_b z[b] ≤ bids per commissioner",
        f"{request.round_key}.bids_per_commissioner",
        rows,
        robust=True,
        needs_flags=True,
        vary=lambda req, index, delta: dataclasses.replace(req, max_bids=max(int(round(req.max_bids + delta)), 1)),
        unit="bids",
        step=1.0,
    )


def _intervention_caps(request: AllocationRequest) -> Family:
    rows = []
    capped = []
    if request.intervention_caps_gbp is not None:
        for item, cap in enumerate(np.asarray(request.intervention_caps_gbp, dtype=float)):
            cells = _cells_of(request, intervention=item)
            if np.isfinite(cap) and len(cells):
                name = request.curves.interventions[item]
                rows.append(_sum_row(cells, cap, "<=", f"the {gbp(cap)} cap on {name}", cap))
                capped.append(item)

    def vary(req: AllocationRequest, index: int, delta: float) -> AllocationRequest:
        return dataclasses.replace(req, intervention_caps_gbp=_nudged(req.intervention_caps_gbp, capped[index], delta))

    return Family(
        "intervention_cap",
        "intervention cap",
        "Σ_a x[a,i] ≤ cap of i",
        "allocation.intervention_caps_gbp",
        tuple(rows),
        robust=False,
        vary=vary,
        one_limit=False,
    )


def _share_bounds(request: AllocationRequest, end: str) -> Family:
    bounds = request.share_minimum if end == "minimum" else request.share_maximum
    rows = []
    bounded = []
    every = _cells_of(request)
    if bounds is not None and len(every):
        items = len(request.curves.interventions)
        for item, share in enumerate(np.asarray(bounds, dtype=float)):
            active = share > 0 if end == "minimum" else share < 1
            if not active:
                continue
            coefs = np.full(len(every), -float(share)) + (every % items == item)
            name = request.curves.interventions[item]
            words = f"{'at least' if end == 'minimum' else 'at most'} {share:.0%} of the money on {name}"
            rows.append(Row(every, coefs, 0.0, ">=" if end == "minimum" else "<=", words, limit=float(share)))
            bounded.append(item)

    def vary(req: AllocationRequest, index: int, delta: float) -> AllocationRequest:
        other = getattr(req, f"share_{'maximum' if end == 'minimum' else 'minimum'}")
        low = 0.0 if end == "minimum" or other is None else float(other[bounded[index]])
        high = 1.0 if end == "maximum" or other is None else float(other[bounded[index]])
        return dataclasses.replace(req, **{f"share_{end}": _nudged(getattr(req, f"share_{end}"), bounded[index], delta, low, high)})

    return Family(
        f"share_{end}",
        f"intervention share ({end})",
        "Σ_a x[a,i] ≥ s_min(i) · Σ_a,j x[a,j]" if end == "minimum" else "Σ_a x[a,i] ≤ s_max(i) · Σ_a,j x[a,j]",
        "allocation.intervention_shares",
        tuple(rows),
        robust=False,
        demanding=end == "minimum",
        vary=vary,
        unit="share",
        step=0.01,
        one_limit=False,
    )


def _equity_floors(request: AllocationRequest) -> Family:
    rows = []
    floors = request.equity_floors_gbp()
    by_bid = _bid_cells(request) if floors.any() else []
    for bid in _bids_with_cells(request):
        if floors[bid] > 0:
            cells = by_bid[bid]
            words = f"the {gbp(floors[bid])} equity floor in {request.bid_label(bid)}"
            rows.append(_sum_row(cells, floors[bid], ">=", words, floors[bid], bid=bid, per_unit=floors[bid] / request.equity_floor))
    basis = "its share of the eligible bids' basket harm" if request.equity_basis == "harm" else "an equal share"
    return Family(
        "equity_floor",
        "equity floor",
        f"Σ_(a in b),i x[a,i] ≥ f · B · fair share of b ({basis})",
        "allocation.equity_floor",
        tuple(rows),
        robust=False,
        demanding=True,
        vary=lambda req, index, delta: dataclasses.replace(req, equity_floor=min(max(req.equity_floor + delta, 0.0), 1.0)),
        unit="share",
        step=0.01,
        summary=f"the equity floor of {request.equity_floor:.0%} of each {request.bid_noun}'s fair share",
    )


FAMILY_BUILDERS = (
    ("budget", _budget),
    ("force_cap", _force_cap),
    ("match_funding", _match_funding),
    ("grant_cap", _grant_caps),
    ("local_match", _local_match),
    ("minimum_grant", _minimum_grant),
    ("bid_limit", _bid_limit),
    ("intervention_cap", _intervention_caps),
    ("share_minimum", lambda request: _share_bounds(request, "minimum")),
    ("share_maximum", lambda request: _share_bounds(request, "maximum")),
    ("equity_floor", _equity_floors),
)
"""Each rule family's key and the function that writes its rows, in the order the explanation lists them."""


def check_goal(request: AllocationRequest) -> None:
    """Refuse a goal the request cannot pursue."""
    if request.goal not in GOALS:
        raise ConfigError("unknown goal", key="allocation.objective", got=request.goal, expected=" or ".join(GOALS))


def request_for(scenario: Scenario, demand: Demand, eligibility: Eligibility, curves: Curves) -> AllocationRequest:
    """The allocation request of one scenario: its round's money rules, the panel's rules in `[allocation]`, the bids
    (areas, or clusters of areas in one parent) and the goal."""
    settings, fund_round = scenario.allocation, scenario.round
    areas = demand.areas
    clusters = bid_clusters(areas, settings.bid_unit)
    request = AllocationRequest(
        curves=curves,
        eligible=np.asarray(eligibility.eligible.values, dtype=bool),
        budget_gbp=scenario.budget_gbp,
        max_grant_gbp=fund_round.max_grant_gbp,
        max_bids=fund_round.bids_per_commissioner,
        minimum_grant_gbp=settings.minimum_grant_gbp,
        match_funding_rate=fund_round.match_funding_rate,
        match_funding_available_gbp=settings.match_funding_available_gbp,
        segments=settings.segments,
        area_names=areas.names,
        force_cap_gbp=fund_round.force_cap_gbp,
        force_name=areas.force_name or "the force",
        **_forces(areas),
        basket_harm=demand.harm.take("crime_type", fund_round.crime_basket).values.sum(axis=1),
        goal=settings.objective if settings.objective in GOALS else "harm",
        blend_weight=settings.blend_weight,
        target_harm_days=settings.target_harm_days,
        gap_target=settings.gap_target,
        equity_floor=settings.equity_floor,
        equity_basis=settings.equity_basis,
        round_key=f"rounds.{scenario.fund_round}",
        **clusters,
    )
    items = curves.interventions
    shares = settings.intervention_shares
    caps = settings.intervention_caps_gbp
    request = dataclasses.replace(
        request,
        local_match_gbp=_local_budgets(request, areas, settings.local_match_gbp, settings.bid_unit) if settings.local_match_gbp else None,
        intervention_caps_gbp=np.array([caps.get(item, np.inf) for item in items]) if caps else None,
        share_minimum=np.array([shares[item].minimum if item in shares else 0.0 for item in items]) if shares else None,
        share_maximum=np.array([shares[item].maximum if item in shares else 1.0 for item in items]) if shares else None,
    )
    refused = request.robust_plans_refused() if settings.objective in ("expected", "cvar") else None
    if refused:
        raise ConfigError(
            f"cannot be {settings.objective!r} with these rules: {refused}",
            key="allocation.objective",
            hint='use allocation.objective = "point" with these rules, or switch the other rules off',
        )
    return request


def _forces(areas) -> dict:
    """Each area's force where the areas span several forces (so the force cap applies to each), else nothing."""
    forces = tuple(getattr(areas, "forces", ()) or ())
    names = tuple(sorted(set(forces)))
    if len(names) <= 1:
        return {}
    index = {name: position for position, name in enumerate(names)}
    return {"force_of_area": np.array([index[force] for force in forces]), "force_names": names}


def bid_clusters(areas, bid_unit: str) -> dict:
    """The bid each area belongs to when bids are clusters of areas in one parent (district)."""
    if bid_unit == "area":
        return {}
    parents = sorted(set(areas.parents))
    index = {parent: b for b, parent in enumerate(parents)}
    names = {parent: areas.parent_name(a) for a, parent in enumerate(areas.parents)}
    return {"bid_of_area": np.array([index[parent] for parent in areas.parents]), "bid_names": tuple(names[parent] for parent in parents)}


def _local_budgets(request: AllocationRequest, areas, budgets: dict[str, float], bid_unit: str) -> np.ndarray:
    """Local match funding per bid (£; infinite where none is given), each key naming one bid by its code or name."""
    bids = request.bids()
    names: dict[str, set[int]] = {}
    for area, bid in enumerate(bids):
        keys = {areas.codes[area], areas.names[area]} if bid_unit == "area" else {areas.parents[area], areas.parent_name(area)}
        for key in keys:
            names.setdefault(key, set()).add(int(bid))
    local = np.full(request.bid_count, np.inf)
    for key, amount in budgets.items():
        found = names.get(key)
        if not found:
            known = sorted({request.bid_label(bid) for bid in range(request.bid_count)})
            raise ConfigError(
                "names no bid of this scenario",
                key=f"allocation.local_match_gbp.{key}",
                got=key,
                expected="a bid's code or name, e.g. " + ", ".join(known[:4]),
                hint='key local match funding by a district\'s code or name (with allocation.bid_unit = "parent" at LSOA level)',
            )
        local[sorted(found)] = amount
    return local
