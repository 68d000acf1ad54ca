"""Monte Carlo through the whole pipeline: every uncertain input drawn, the rules re-applied and the split re-solved per draw.

A draw samples the data period's records as they might have been (the rates the rules compare),
the funding period's records (count noise and the forecast's parameter error), each
intervention's effect and cost scale, and the splits behind the harm weights, each source from
its own seeded stream, so switching one source off leaves the others' draws as they were. Per
draw the round's rules are applied again and the best split is solved again. A plan is chosen
before the uncertainty resolves, so each plan (the point-estimate plan, the expected and the
CVaR plan) is scored on every draw's curves; its regret in a draw is what that draw's own best
split (under the published verdicts, which the fund decides on) would have averted beyond it.
The mean regret of the expected plan is the expected value of perfect information.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .allocation import exact_fill_applies, quick_best_amounts
from .arrays import Labelled
from .constraints import AllocationRequest, funded_areas
from .demand import Demand, DemandDraws, draw_demand
from .eligibility import Eligibility, eligible_in_draws
from .formulation import QUICK_SEGMENTS
from .interventions import CurveDraws, Curves, curve_draws
from .robust import PlanOutcome, evaluate_plan, plan_for_draws
from .schema import Scenario
from .uncertainty import InputDraws, describe_sources, draw_inputs, one_at_a_time, uncertain_inputs

QUANTILES = (0.05, 0.5, 0.95)
PLAN_LABELS = {
    "point": "point-estimate plan",
    "expected": "expected plan (best mean over the draws)",
    "cvar": "CVaR plan (best mean of the worst draws)",
}
STREAMS = ("demand", "inputs")

Progress = Callable[[int], None]


@dataclass(frozen=True)
class PlanOnDraws:
    """One plan scored on every draw: its outcome (`robust.evaluate_plan`) and its regret against each draw's own best split."""

    objective: str
    amounts: np.ndarray
    outcome: PlanOutcome
    regret: np.ndarray | None
    """Harm each draw's own best split would have averted beyond the plan (days); None where the goal is not harm averted,
    so no best split in harm days is sought."""
    how: str = ""

    @property
    def label(self) -> str:
        """The plan in words."""
        return PLAN_LABELS[self.objective]

    @property
    def averted(self) -> np.ndarray:
        """Harm averted in each draw (days)."""
        return self.outcome.averted_days

    @property
    def tail_share(self) -> float:
        """The share of worst draws `worst_share_mean` averages."""
        return self.outcome.tail_share

    @property
    def mean(self) -> float:
        """Mean harm averted over the draws (days)."""
        return self.outcome.mean_days

    @property
    def worst_share_mean(self) -> float:
        """Mean harm averted over the worst `tail_share` of draws (days): the CVaR."""
        return self.outcome.worst_share_mean_days

    def quantile(self, q: float) -> float:
        """A quantile of harm averted over the draws (days)."""
        return float(np.quantile(self.averted, q))

    @property
    def mean_regret(self) -> float | None:
        """Mean harm each draw's own best split would have averted beyond this plan (days), or None where not measured."""
        return None if self.regret is None else float(self.regret.mean())


@dataclass(frozen=True)
class TornadoBar:
    """Harm averted by the chosen plan, and the top funded area's best amount, with one input at its low and at its high."""

    key: str
    label: str
    low: float
    high: float
    averted_low: float
    averted_high: float
    amount_low: float
    amount_high: float

    @property
    def swing(self) -> float:
        """How far harm averted moves between the input's low and high (days)."""
        return abs(self.averted_high - self.averted_low)


@dataclass(frozen=True)
class VerdictOdds:
    """How often each area passes the round's test when the records behind the rates are drawn again."""

    draws: int
    point_eligible: np.ndarray
    p_eligible: Labelled
    marginal_share: float

    @property
    def codes(self) -> tuple[str, ...]:
        """Area codes, in order."""
        return self.p_eligible.labels("area")

    @property
    def flip_share(self) -> np.ndarray:
        """Per area, the share of draws whose verdict differs from the published one."""
        p = self.p_eligible.values
        return np.where(self.point_eligible, 1.0 - p, p)

    @property
    def marginal(self) -> np.ndarray:
        """Per area, whether its verdict flips in more than `marginal_share` of draws: a knife-edge verdict."""
        return self.flip_share > self.marginal_share + 1e-12

    def describe(self, position: int) -> str:
        """The verdict's odds in words, e.g. 'marginal: eligible in 54 % of draws'."""
        p = float(self.p_eligible.values[position])
        words = f"eligible in {p:.0%} of {self.draws:,} draws"
        return f"marginal: {words}" if self.marginal[position] else words


@dataclass(frozen=True)
class MonteCarlo:
    """Per area the odds of each verdict and of funding, intervals of amount and harm averted; per plan its outcome over the draws."""

    draws: int
    seed: int
    coverage: float
    tail_share: float
    includes: str
    verdicts: VerdictOdds
    p_funded: Labelled
    amount: Labelled
    averted: Labelled
    plans: tuple[PlanOnDraws, ...]
    chosen: str
    tornado: tuple[TornadoBar, ...]
    top_area: str
    seconds: float
    exact_per_draw: bool = True
    best_split_by_chords: bool = False
    """Each draw's best split came from the array-built chord program (rules or an objective water-filling does not handle)."""

    @property
    def codes(self) -> tuple[str, ...]:
        """Area codes, in order."""
        return self.p_funded.labels("area")

    @property
    def best_split_words(self) -> str:
        """How each draw's best split was found, in a sentence for the report."""
        if self.exact_per_draw:
            return "Each draw's best split is exact: water-filling the draw's curves over every fundable bid."
        if self.best_split_by_chords:
            return (
                f"Under the scenario's rules and objective, each draw's best split is the optimum of a linear program over "
                f"{QUICK_SEGMENTS} chords per curve (under each curve, so slightly short of the exact optimum): the regret and the "
                f"value of perfect information are lower bounds and P(funded) is approximate."
            )
        return (
            "Under the round's bid limit or minimum grant, each draw's best split is the better of the plan's own bids and "
            "the bids the draw's split without those rules favours, water-filled exactly: a heuristic, so the regret and the "
            "value of perfect information are lower bounds and P(funded) is approximate."
        )

    @property
    def plan(self) -> PlanOnDraws:
        """The chosen plan scored on the draws."""
        return next(plan for plan in self.plans if plan.objective == self.chosen)

    @property
    def interval(self) -> tuple[float, float]:
        """The chosen plan's central `coverage` interval of harm averted over the draws (days)."""
        tail = (1.0 - self.coverage) / 2.0
        return self.plan.quantile(tail), self.plan.quantile(1.0 - tail)

    @property
    def perfect_information_days(self) -> float:
        """The expected value of perfect information (days): the mean over the draws of each draw's best split, less the
        best mean any plan scored on the same draws reaches. 0 when nothing varies."""
        regrets = [plan.mean_regret for plan in self.plans if plan.mean_regret is not None]
        return max(0.0, min(regrets)) if regrets else None

    @property
    def perfect_information_words(self) -> str:
        """The value of perfect information in a sentence, saying when it is only a lower bound or not measured."""
        if self.perfect_information_days is None:
            return (
                "The value of perfect information is not measured: it counts harm days a draw's best split would add, and "
                "this plan's objective is not harm averted."
            )
        plans = "the plan" if len(self.plans) == 1 else f"the best of the {len(self.plans)} plans"
        words = (
            f"Knowing each draw's demand, effects, costs and harm weights before deciding would avert "
            f"{self.perfect_information_days:,.0f} days more on average than {plans}"
        )
        if self.exact_per_draw:
            return words + ": the expected value of perfect information."
        if self.best_split_by_chords:
            return words + ", at least (each draw's best split is solved on chords under the curves)."
        return words + ", at least (each draw's best split is a heuristic under the round's bid limit or minimum grant)."


def simulate(
    scenario: Scenario,
    demand: Demand,
    eligibility: Eligibility,
    curves: Curves,
    request: AllocationRequest,
    point_amounts: np.ndarray,
    draws: int,
    seed: int,
    progress: Progress | None = None,
) -> MonteCarlo:
    """Draw every uncertain input `draws` times, re-apply the rules and re-solve the split per draw, and score the plans.

    `point_amounts` is the point-estimate plan; the expected and CVaR plans are solved on the same
    draws, and `allocation.objective` says which of the three is chosen.
    """
    started = time.perf_counter()
    settings = scenario.uncertainty
    interventions = scenario.active_interventions()
    drawn = draw_world(scenario, demand, draws, seed)
    world = curve_draws(
        curves, interventions, drawn.records.future_records, drawn.inputs.harm_weights, drawn.inputs.max_reduction, drawn.inputs.cost_factor
    )
    eligible = _eligible(scenario, demand, drawn)
    best_own, best_published, exact = _best_per_draw(request, world, eligible, point_amounts, progress)
    plans = _plans(request, world, point_amounts, settings.tail_share, best_published if request.goal == "harm" else None)
    chosen_name = scenario.allocation.objective if scenario.allocation.objective in PLAN_LABELS else "point"
    chosen = next(plan for plan in plans if plan.objective == chosen_name)
    codes = curves.codes
    quantile_labels = tuple(f"{q:.0%}" for q in QUANTILES)
    top = int(np.argmax(chosen.amounts.sum(axis=1)))
    return MonteCarlo(
        draws=draws,
        seed=seed,
        coverage=scenario.demand.interval,
        tail_share=settings.tail_share,
        includes=describe_sources(settings, interventions, demand.weights),
        verdicts=_odds(eligibility, eligible, settings.marginal_share),
        p_funded=Labelled(funded_share(best_own), ("area",), (codes,), "P(funded by the draw's best split)", "probability"),
        amount=Labelled(
            np.quantile(best_own.sum(axis=2), QUANTILES, axis=0).T, ("area", "quantile"), (codes, quantile_labels), "best amount", "£"
        ),
        averted=Labelled(
            np.quantile(world.averted_by_area(chosen.amounts), QUANTILES, axis=0).T,
            ("area", "quantile"),
            (codes, quantile_labels),
            "harm averted by the plan",
            "days",
        ),
        plans=plans,
        chosen=chosen_name,
        tornado=tornado(scenario, demand, curves, request, chosen.amounts, top, drawn.records.future_records),
        exact_per_draw=exact,
        best_split_by_chords=not exact_fill_applies(request),
        top_area=codes[top],
        seconds=time.perf_counter() - started,
    )


def verdict_odds(scenario: Scenario, demand: Demand, eligibility: Eligibility, draws: int, seed: int) -> VerdictOdds:
    """The verdicts alone under the Monte Carlo: each area's chance of passing when the records behind the rates are drawn again.

    The draws are the same as a full run's with this seed, so the odds match its eligibility table.
    """
    return _odds(eligibility, _eligible(scenario, demand, draw_world(scenario, demand, draws, seed)), scenario.uncertainty.marginal_share)


def _eligible(scenario: Scenario, demand: Demand, drawn: DrawnWorld) -> np.ndarray:
    return eligible_in_draws(
        demand, scenario.round, drawn.records.period_records, drawn.inputs.harm_weights, rate_estimator=scenario.demand.rate_estimator
    )


def _odds(eligibility: Eligibility, eligible: np.ndarray, marginal_share: float) -> VerdictOdds:
    codes = eligibility.codes
    return VerdictOdds(
        draws=eligible.shape[0],
        point_eligible=np.asarray(eligibility.eligible.values, dtype=bool),
        p_eligible=Labelled(eligible.mean(axis=0), ("area",), (codes,), "P(eligible)", "probability"),
        marginal_share=marginal_share,
    )


@dataclass(frozen=True)
class DrawnWorld:
    """The raw draws: records over the data period and the funding period, and the other inputs."""

    records: DemandDraws
    inputs: InputDraws


def draw_world(scenario: Scenario, demand: Demand, draws: int, seed: int) -> DrawnWorld:
    """Every source's draws from its own stream of the seed, so one source switched off leaves the rest unchanged."""
    streams = dict(zip(STREAMS, np.random.SeedSequence(seed).spawn(len(STREAMS))))
    sources = frozenset(scenario.uncertainty.sources)
    records = draw_demand(demand, np.random.default_rng(streams["demand"]), draws, sources & {"counts", "forecast"})
    inputs = draw_inputs(
        scenario.uncertainty, scenario.active_interventions(), demand.weights, np.random.default_rng(streams["inputs"]), draws
    )
    return DrawnWorld(records, inputs)


def _best_per_draw(
    request: AllocationRequest,
    world: CurveDraws,
    eligible: np.ndarray,
    plan: np.ndarray,
    progress: Progress | None,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Each draw's best split under its own verdicts, its best harm averted under the published verdicts, and whether
    every one of those splits is the exact optimum (`allocation.quick_best_amounts`).

    The second is what perfect knowledge of the draw would have achieved with the verdicts the fund actually
    gives (with a heuristic split, the plans scored on the draw can beat it; `_plans` takes the best of them all).
    """
    count = world.targeted_harm.shape[0]
    own = np.zeros((count, *plan.shape))
    published = np.zeros(count)
    point_eligible = np.asarray(request.eligible, dtype=bool)
    exact = True
    for d in range(count):
        curves = world.draw(d)
        own[d], own_exact = quick_best_amounts(dataclasses.replace(request, curves=curves, eligible=eligible[d]), incumbents=[plan])
        if np.array_equal(eligible[d], point_eligible):
            best, best_exact = own[d], own_exact
        else:
            best, best_exact = quick_best_amounts(dataclasses.replace(request, curves=curves), incumbents=[plan])
        exact = exact and own_exact and best_exact
        published[d] = float(curves.averted(best).sum())
        if progress is not None:
            progress(1)
    return own, published, exact


def _plans(
    request: AllocationRequest, world: CurveDraws, point: np.ndarray, tail_share: float, best: np.ndarray | None
) -> tuple[PlanOnDraws, ...]:
    """The point-estimate, expected and CVaR plans, each scored on the same draws, with how each was found.

    Every plan obeys the published verdicts and the round's rules, so each draw's best split is at least the best of
    them in that draw; regret is measured from that best. Where the rules or the goal are beyond the robust plans
    (`AllocationRequest.robust_plans_refused`) only the point plan is scored; where the goal is not harm averted (`best` None) no regret
    is measured."""
    refused = request.robust_plans_refused()
    found = [
        (
            "point",
            point,
            evaluate_plan(point, world, tail_share),
            "the allocation's optimum at the point estimates" + (f"; only this plan is scored, because {refused}" if refused else ""),
        )
    ]
    for name in () if refused else ("expected", "cvar"):
        plan = plan_for_draws(request, world, name, tail_share)
        objective = plan.objective_days
        bound = (
            f"{plan.gap_bound_days:,.0f} days ({plan.gap_bound_days / objective:.1%})"
            if objective > 0
            else f"{plan.gap_bound_days:,.0f} days"
        )
        found.append(
            (
                name,
                plan.amounts.values,
                plan.outcome,
                f"linear program over the draws' chords, {plan.fitted_words}; {plan.status}; within {bound} of the best possible",
            )
        )
    if best is None:
        return tuple(PlanOnDraws(name, amounts, outcome, None, how) for name, amounts, outcome, how in found)
    best = np.max([best, *(outcome.averted_days for _, _, outcome, _ in found)], axis=0)
    return tuple(PlanOnDraws(name, amounts, outcome, best - outcome.averted_days, how) for name, amounts, outcome, how in found)


def tornado(
    scenario: Scenario,
    demand: Demand,
    curves: Curves,
    request: AllocationRequest,
    plan: np.ndarray,
    top: int,
    future_records: np.ndarray | None = None,
) -> tuple[TornadoBar, ...]:
    """Each uncertain input at its low and high, the rest at their point values: the plan's harm averted and the top area's best amount.

    Counts and the forecast enter as one bar: every area's records at the lower and at the upper
    end of its drawn records (`future_records`, drawn with the sources switched on) together, an
    extreme that bounds what those sources do.
    """
    interventions = scenario.active_interventions()
    bars = []
    for item in uncertain_inputs(scenario.uncertainty, interventions, demand.weights):
        outcomes = []
        for value in (item.low, item.high):
            inputs = one_at_a_time(scenario.uncertainty, interventions, demand.weights, item.key, value)
            drawn = curve_draws(
                curves, interventions, demand.expected.values[None], inputs.harm_weights, inputs.max_reduction, inputs.cost_factor
            ).draw(0)
            best = quick_best_amounts(dataclasses.replace(request, curves=drawn), incumbents=[plan])[0]
            outcomes.append((float(drawn.averted(plan).sum()), float(best[top].sum())))
        (averted_low, amount_low), (averted_high, amount_high) = outcomes
        bars.append(TornadoBar(item.key, item.label, item.low, item.high, averted_low, averted_high, amount_low, amount_high))
    if future_records is not None and {"counts", "forecast"} & set(scenario.uncertainty.sources):
        outcomes = []
        tail = (1.0 - scenario.demand.interval) / 2.0
        for bound in np.quantile(future_records, [tail, 1.0 - tail], axis=0):
            drawn = _curves_for_records(curves, interventions, demand, bound)
            best = quick_best_amounts(dataclasses.replace(request, curves=drawn), incumbents=[plan])[0]
            outcomes.append((float(drawn.averted(plan).sum()), float(best[top].sum())))
        bars.append(
            TornadoBar(
                "demand",
                f"records: every area at the {tail:.0%} / {1 - tail:.0%} point of its drawn records",
                tail,
                1.0 - tail,
                outcomes[0][0],
                outcomes[1][0],
                outcomes[0][1],
                outcomes[1][1],
            )
        )
    return tuple(sorted(bars, key=lambda bar: -bar.swing))


def _curves_for_records(curves: Curves, interventions: dict, demand: Demand, records: np.ndarray) -> Curves:
    """The point curves with every area's records replaced by `records` (area × crime type)."""
    weights = demand.weights.weights.values[None]
    reductions = curves.max_reduction[None]
    ones = np.ones_like(reductions)
    return curve_draws(curves, interventions, records[None], weights, reductions, ones).draw(0)


def funded_share(amounts_per_draw: np.ndarray) -> np.ndarray:
    """Per area, the share of draws in which it is funded (amounts per draw × area × intervention)."""
    return np.mean([funded_areas(amounts) for amounts in amounts_per_draw], axis=0)
