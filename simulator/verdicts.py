"""The round's verdicts under uncertainty: the inputs, the published verdicts, and how often each area passes when the
records behind the rates are drawn again.

This is all the `eligibility` command needs, so nothing here loads the allocator, the solvers or scipy; the Monte Carlo
(`montecarlo`) draws its world through `draw_world` here, so a run's eligibility table and the command agree draw for draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .arrays import Labelled
from .demand import Demand, DemandDraws, build_demand, draw_demand
from .eligibility import Eligibility, assess, eligible_in_draws
from .inputs import Areas, load_areas
from .scenario import LoadedScenario
from .schema import Scenario
from .uncertainty import InputDraws, draw_inputs

STREAMS = ("demand", "inputs")
"""The seed's independent streams, one per source of draws."""


def read_areas(loaded: LoadedScenario) -> Areas:
    """The scenario's areas and counts, each input file checked against a rerun's recorded hash."""
    areas = load_areas(loaded.scenario.data)
    loaded.check_inputs((source.role, source.path, source.sha256) for source in areas.sources)
    return areas


def assess_eligibility(loaded: LoadedScenario) -> tuple[Demand, Eligibility]:
    """Inputs, demand and the round's verdicts, without allocating."""
    scenario = loaded.scenario
    demand = build_demand(read_areas(loaded), scenario.harm, scenario.demand, scenario.shocks)
    return demand, assess(demand, scenario.fund_round, scenario.round, rate_estimator=scenario.demand.rate_estimator)


def eligibility_odds(loaded: LoadedScenario) -> tuple[Demand, Eligibility, VerdictOdds]:
    """The round's verdicts and each area's chance of passing over the scenario's Monte Carlo draws (the same draws a run makes)."""
    demand, eligibility = assess_eligibility(loaded)
    scenario = loaded.scenario
    return demand, eligibility, verdict_odds(scenario, demand, eligibility, scenario.demand.draws, scenario.seed)


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

    @cached_property
    def flip_share(self) -> np.ndarray:
        """Per area, the share of draws whose verdict differs from the published one."""
        p = self.p_eligible.values
        return np.where(self.point_eligible, 1.0 - p, p)

    @cached_property
    def marginal(self) -> np.ndarray:
        """Per area, whether its verdict flips in more than `marginal_share` of draws: a knife-edge verdict."""
        return self.flip_share > self.marginal_share + 1e-12

    def describe(self, position: int) -> str:
        """The verdict's odds in words, e.g. 'marginal: eligible in 54 % of draws'."""
        p = float(self.p_eligible.values[position])
        words = f"eligible in {p:.0%} of {self.draws:,} draws"
        return f"marginal: {words}" if self.marginal[position] else words


def verdict_odds(scenario: Scenario, demand: Demand, eligibility: Eligibility, draws: int, seed: int) -> VerdictOdds:
    """The verdicts alone under the Monte Carlo: each area's chance of passing when the records behind the rates are drawn again.

    The draws are the same as a full run's with this seed, so the odds match its eligibility table; only what the
    rules read is drawn (the data period's records and the harm weights), so no solver or statistics library loads.
    """
    drawn = draw_world(scenario, demand, draws, seed, verdicts_only=True)
    return odds_from(eligibility, eligible_per_draw(scenario, demand, drawn), scenario.uncertainty.marginal_share)


def eligible_per_draw(scenario: Scenario, demand: Demand, drawn: DrawnWorld) -> np.ndarray:
    return eligible_in_draws(
        demand, scenario.round, drawn.records.period_records, drawn.inputs.harm_weights, rate_estimator=scenario.demand.rate_estimator
    )


def odds_from(eligibility: Eligibility, eligible: np.ndarray, marginal_share: float) -> VerdictOdds:
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


def draw_world(scenario: Scenario, demand: Demand, draws: int, seed: int, verdicts_only: bool = False) -> DrawnWorld:
    """Every source's draws from its own stream of the seed, so one source switched off leaves the rest unchanged.

    With `verdicts_only` only what the rules read is drawn: the data period's records and the harm weights (the same
    bytes as in a full draw); the horizon's records are None and the effects and cost scales stay at their point values."""
    streams = dict(zip(STREAMS, np.random.SeedSequence(seed).spawn(len(STREAMS))))
    sources = frozenset(scenario.uncertainty.sources)
    records = draw_demand(
        demand, np.random.default_rng(streams["demand"]), draws, sources & {"counts", "forecast"}, horizon=not verdicts_only
    )
    inputs = draw_inputs(
        scenario.uncertainty,
        scenario.active_interventions(),
        demand.weights,
        np.random.default_rng(streams["inputs"]),
        draws,
        harm_weights_only=verdicts_only,
    )
    return DrawnWorld(records, inputs)
