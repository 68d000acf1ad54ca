"""The uncertain inputs a Monte Carlo draw samples besides the counts: effects, cost scales and harm weights.

Each input is a distribution with its source (`[uncertainty]` in the scenario): an effect with a
published interval is a two-piece normal matched to that interval, with its mode at the catalogue's
max_reduction; any other effect is triangular over a range that follows its confidence label; the
cost-scale multiplier is lognormal; an assumed split behind a harm weight is triangular or uniform.
Counts and the forecast's own parameter error are drawn by `forecast`/`demand`; this module only
words them. Every input is drawn by inverse CDF from one uniform per draw, in a fixed order, and every
input consumes its uniforms whether or not its source varies, so switching one source off leaves
the other sources' draws unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .errors import InternalError
from .harm import HarmWeights, split_applies, weight_at_share
from .schema import CRIME_TYPES, HarmSplit, Intervention, PublishedEffect, UncertaintySettings

SOURCE_DESCRIPTIONS: dict[str, str] = {
    "counts": "counts (negative binomial around each area's expected records)",
    "forecast": "the forecast's own parameter error (level, trend, seasonality)",
    "effects": "each intervention's effect (a published interval where one exists, otherwise a range that follows its confidence label)",
    "cost_scales": "each intervention's cost scale (a lognormal multiplier, drawn per intervention: a planning assumption)",
    "harm_weights": "the assumed splits behind derived harm weights (e.g. the share of rape within sexual offences)",
}
"""What each source in `uncertainty.sources` varies, in words; its keys are schema.UNCERTAIN_SOURCES."""

TORNADO_PERCENTILES = (0.05, 0.95)
"""The percentiles a tornado chart sets an unbounded input to (a triangular or uniform input goes to its range ends)."""


@dataclass(frozen=True)
class InputDraws:
    """Effects, cost-scale multipliers and harm weights for each draw, interventions in the order they were given."""

    interventions: tuple[str, ...]
    max_reduction: np.ndarray
    """(draws, intervention): the largest fraction of the targeted harm each intervention averts."""
    cost_factor: np.ndarray
    """(draws, intervention): the multiplier on each intervention's cost scale (1 = the catalogue's)."""
    harm_weights: np.ndarray
    """(draws, crime type): days per record, crime types in schema.CRIME_TYPES order."""

    def __post_init__(self) -> None:
        for values in (self.max_reduction, self.cost_factor, self.harm_weights):
            values.flags.writeable = False

    @property
    def draws(self) -> int:
        """How many draws there are."""
        return self.max_reduction.shape[0]

    def at(self, draw: int) -> InputDraws:
        """One draw, as a single-draw InputDraws."""
        part = slice(draw, draw + 1)
        return InputDraws(
            self.interventions, self.max_reduction[part].copy(), self.cost_factor[part].copy(), self.harm_weights[part].copy()
        )


@dataclass(frozen=True)
class UncertainInput:
    """One input that varies between draws: what it is, where its spread comes from, and the values a tornado chart uses."""

    key: str
    """`effect:<intervention>`, `cost_scale:<intervention>` or `harm_split:<split id>`."""
    label: str
    source: str
    distribution: str
    point: float
    low: float
    high: float
    quantile: Callable[[np.ndarray], np.ndarray] = field(repr=False, compare=False)
    """The inverse CDF: uniforms in [0, 1) → values of the input."""


def describe_sources(
    settings: UncertaintySettings, interventions: dict[str, Intervention] | None = None, weights: HarmWeights | None = None
) -> str:
    """What varies between draws, in one phrase for a headline interval ("counts (each area's rate and ...), ... and 4 assumed splits ...").

    Given the interventions and weights, it counts them; a harm-weight source with no split that applies
    (the count set, or every split weight overridden) varies nothing and is left out.
    """
    parts = []
    if settings.varies("counts"):
        parts.append("counts (each area's rate and negative binomial noise, and a force-wide swing)")
    if settings.varies("forecast"):
        parts.append("the forecast's parameter error")
    effects = settings.varies("effects")
    if effects:
        parts.append(
            f"the effects of {_count(len(interventions), 'intervention')}" if interventions is not None else "intervention effects"
        )
    if settings.varies("cost_scales"):
        if effects:
            parts.append("their cost scales")
        else:
            parts.append(f"the cost scales of {_count(len(interventions), 'intervention')}" if interventions is not None else "cost scales")
    if settings.varies("harm_weights"):
        splits = [split for split in settings.harm_splits.values() if weights is None or split_applies(weights, split)]
        if splits:
            parts.append(f"{_count(len(splits), 'assumed split')} behind harm weights")
    if not parts:
        return "nothing: every input at its point value"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def uncertain_inputs(
    settings: UncertaintySettings, interventions: dict[str, Intervention], weights: HarmWeights
) -> tuple[UncertainInput, ...]:
    """The inputs this module draws whose source varies, in draw order: effects, cost scales, then harm splits that apply."""
    return tuple(item for item, varies in _all_inputs(settings, interventions, weights) if varies)


def draw_inputs(
    settings: UncertaintySettings,
    interventions: dict[str, Intervention],
    weights: HarmWeights,
    generator: np.random.Generator,
    draws: int,
    harm_weights_only: bool = False,
) -> InputDraws:
    """Sample effects, cost-scale multipliers and harm weights: the same generator state gives the same bytes.

    With `harm_weights_only` (all the rules need) the effects and cost scales stay at their point values, their
    uniforms drawn and set aside, so the harm weights are the bytes a full draw gives.

    A source switched off stays at its point value in every draw. A harm split moves only a CCHI weight that is
    the weight set's own value: a weight set by harm.overrides is the scenario's number, and the count set has
    no splits, so both stay fixed. Effects are additive, so in a draw where the effects on one crime type add
    up to more than 100 %, the interventions targeting it are scaled down until they reach 100 % (the scenario
    check refuses such a sum for the point values).
    """
    if draws < 1:
        raise InternalError(f"draw_inputs needs at least one draw (got {draws})")
    values = {}
    if harm_weights_only:
        for item_id, item in interventions.items():
            values[f"effect:{item_id}"] = np.full(draws, item.max_reduction)
            values[f"cost_scale:{item_id}"] = np.ones(draws)
        for _ in range(2 * len(interventions)):
            generator.random(draws)
        inputs = _split_inputs(settings, weights)
    else:
        inputs = _all_inputs(settings, interventions, weights)
    for item, varies in inputs:
        uniforms = generator.random(draws)
        values[item.key] = item.quantile(uniforms) if varies else np.full(draws, item.point)
    return _assemble(settings, interventions, weights, values, draws)


def point_inputs(settings: UncertaintySettings, interventions: dict[str, Intervention], weights: HarmWeights) -> InputDraws:
    """A single draw with every input at its point value."""
    values = {item.key: np.array([item.point]) for item, _ in _all_inputs(settings, interventions, weights)}
    return _assemble(settings, interventions, weights, values, 1)


def one_at_a_time(
    settings: UncertaintySettings, interventions: dict[str, Intervention], weights: HarmWeights, key: str, value: float
) -> InputDraws:
    """A single draw with every input at its point value except `key`, set to `value` (for a tornado chart)."""
    values = {item.key: np.array([item.point]) for item, _ in _all_inputs(settings, interventions, weights)}
    if key not in values:
        raise InternalError(f"no uncertain input {key!r}; known: {', '.join(values)}")
    values[key] = np.array([float(value)])
    return _assemble(settings, interventions, weights, values, 1)


def _all_inputs(
    settings: UncertaintySettings, interventions: dict[str, Intervention], weights: HarmWeights
) -> list[tuple[UncertainInput, bool]]:
    """Every input in draw order, with whether it varies: the fixed order keeps draws reproducible."""
    found = [(_effect_input(settings, item_id, item), settings.varies("effects")) for item_id, item in interventions.items()]
    found += [(_cost_input(settings, item_id, item), settings.varies("cost_scales")) for item_id, item in interventions.items()]
    return found + _split_inputs(settings, weights)


def _split_inputs(settings: UncertaintySettings, weights: HarmWeights) -> list[tuple[UncertainInput, bool]]:
    """The harm splits in draw order (after every effect and cost scale), with whether each varies."""
    return [
        (_split_input(split_id, split, weights), settings.varies("harm_weights") and split_applies(weights, split))
        for split_id, split in settings.harm_splits.items()
    ]


def _assemble(
    settings: UncertaintySettings, interventions: dict[str, Intervention], weights: HarmWeights, values: dict[str, np.ndarray], draws: int
) -> InputDraws:
    """Arrays from each input's values, split changes added to the weights.

    Each effect is drawn on its own and not capped against the others: scaling every intervention on a crime type down
    where their draws add past 100 % would tie an intervention's effect to others the plan may not fund at all (a high
    draw of target hardening would cut what funded alley gating averts on every crime type). The response curves only
    approach r·H as spending grows without bound, so a sum past 100 % matters only where several measures on one crime
    type are all bought near saturation; the point values are still refused above 100 % by the scenario check.
    """
    ids = tuple(interventions)
    reductions = np.column_stack([values[f"effect:{item_id}"] for item_id in ids]) if ids else np.zeros((draws, 0))
    factors = np.column_stack([values[f"cost_scale:{item_id}"] for item_id in ids]) if ids else np.zeros((draws, 0))
    harm_weights = np.tile(weights.weights.values.astype(float), (draws, 1))
    for split_id, split in settings.harm_splits.items():
        if split_applies(weights, split):
            column = CRIME_TYPES.index(split.crime_type)
            harm_weights[:, column] += weight_at_share(weights, split, values[f"harm_split:{split_id}"]) - weights.of(split.crime_type)
    return InputDraws(ids, reductions, factors, np.maximum(harm_weights, 0.0))


def _effect_input(settings: UncertaintySettings, item_id: str, item: Intervention) -> UncertainInput:
    """The effect's distribution: the published interval if there is one, else the range its confidence label gives."""
    point = item.max_reduction
    published = settings.effects.get(item_id)
    if published is not None:
        quantile = _two_piece_normal(point, published)
        low, high = (float(value) for value in quantile(np.array(TORNADO_PERCENTILES)))
        return UncertainInput(
            f"effect:{item_id}",
            f"{item.name} effect",
            published.source,
            f"two-piece normal matched to the {_percent(published.level)} interval {_percent(published.low)}-{_percent(published.high)}, "
            f"mode {_percent(point)}, cut to 0-100 %",
            point,
            low,
            high,
            quantile,
        )
    spread = settings.effect_ranges.of(item.confidence)
    low, high = spread.low * point, min(spread.high * point, 1.0)
    return UncertainInput(
        f"effect:{item_id}",
        f"{item.name} effect",
        f"{item.source}; range for '{item.confidence}' confidence: {settings.effect_ranges.source}",
        f"triangular {_percent(low)}-{_percent(high)}, mode {_percent(point)} ({spread.low:g}-{spread.high:g} × the stated effect)",
        point,
        low,
        high,
        lambda uniforms: _triangular(uniforms, low, point, high),
    )


def _cost_input(settings: UncertaintySettings, item_id: str, item: Intervention) -> UncertainInput:
    """The cost-scale multiplier: lognormal through the configured median and percentiles, drawn per intervention."""
    from scipy.special import ndtri  # loaded when a draw needs it: the eligibility check alone never does

    spread = settings.cost_scales
    z = float(ndtri(0.5 + spread.level / 2))
    below, above = np.log(spread.median / spread.low) / z, np.log(spread.high / spread.median) / z
    kind = "lognormal" if np.isclose(below, above) else "two-piece lognormal"

    def quantile(uniforms: np.ndarray) -> np.ndarray:
        normal = ndtri(uniforms)
        return spread.median * np.exp(np.where(normal < 0, below, above) * normal)

    low, high = (float(value) for value in quantile(np.array(TORNADO_PERCENTILES)))
    return UncertainInput(
        f"cost_scale:{item_id}",
        f"{item.name} cost scale",
        f"{spread.source}; scale from {item.cost_source}",
        f"{kind} multiplier, median {spread.median:g}, {_percent(spread.level)} range {spread.low:g}-{spread.high:g}",
        1.0,
        low,
        high,
        quantile,
    )


def _split_input(split_id: str, split: HarmSplit, weights: HarmWeights) -> UncertainInput:
    """An assumed share: triangular around the shipped share, or uniform over its range; its weights in words."""
    low_weight, high_weight = (float(weight_at_share(weights, split, share)) for share in (split.low, split.high))
    if split.distribution == "uniform":
        shape, quantile = "uniform", (lambda uniforms: split.low + uniforms * (split.high - split.low))
    else:
        shape, quantile = f"triangular around {split.share:g}", (lambda uniforms: _triangular(uniforms, split.low, split.share, split.high))
    return UncertainInput(
        f"harm_split:{split_id}",
        split.label or f"{split_id.replace('_', ' ')} ({split.crime_type})",
        split.source,
        f"{shape}, {split.low:g}-{split.high:g}: {split.crime_type} weight {low_weight:,.1f}-{high_weight:,.1f} days per record",
        split.share,
        split.low,
        split.high,
        quantile,
    )


def _triangular(uniforms: np.ndarray, low: float, mode: float, high: float) -> np.ndarray:
    """Inverse CDF of the triangular distribution (low, mode, high); a range of zero width gives its one value."""
    width = high - low
    if width <= 0:
        return np.full(np.shape(uniforms), float(mode))
    turn = (mode - low) / width
    rising = low + np.sqrt(uniforms * width * (mode - low))
    falling = high - np.sqrt((1 - uniforms) * width * (high - mode))
    return np.where(uniforms < turn, rising, falling)


def _two_piece_normal(mode: float, published: PublishedEffect) -> Callable[[np.ndarray], np.ndarray]:
    """Inverse CDF of the two-piece normal with mode `mode` whose tails put (1 − level)/2 beyond each end of the interval.

    Below the mode the density is N(mode, σ₁), above it N(mode, σ₂), joined continuously, so P(below mode) =
    σ₁ / (σ₁ + σ₂). The ratio ρ = σ₂/σ₁ solving both tail conditions is found by root-finding; values are cut to 0-1.
    """
    from scipy.optimize import brentq
    from scipy.special import ndtri

    tail = (1 - published.level) / 2
    below, above = mode - published.low, published.high - mode

    def scales(ratio: float) -> tuple[float, float]:
        return -below / ndtri(tail * (1 + ratio) / 2), -above / ndtri(tail * (1 + ratio) / (2 * ratio))

    def mismatch(ratio: float) -> float:
        lower, upper = scales(ratio)
        return upper / lower - ratio

    edge = 1e-12
    ratio = brentq(mismatch, tail / (1 - tail) * (1 + edge), (1 / tail - 1) * (1 - edge), xtol=1e-14, rtol=1e-12)
    lower, upper = scales(ratio)
    share_below = lower / (lower + upper)

    def quantile(uniforms: np.ndarray) -> np.ndarray:
        uniforms = np.asarray(uniforms, dtype=float)
        left = mode + lower * ndtri(np.minimum(uniforms, share_below) / (2 * share_below))
        right = mode + upper * ndtri(0.5 + np.maximum(uniforms - share_below, 0.0) / (2 * (1 - share_below)))
        return np.clip(np.where(uniforms < share_below, left, right), 0.0, 1.0)

    return quantile


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.3g} %"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
