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

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .errors import InternalError
from .harm import HarmWeights, split_applies, weight_at_share
from .schema import CRIME_TYPES, CostScaleSettings, HarmSplit, Intervention, PublishedEffect, UncertaintySettings

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
        quantile, low, high = _two_piece_normal(point, published)
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
    spread = settings.cost_scales
    quantile, low, high, kind = _lognormal(spread)
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


@functools.lru_cache(maxsize=64)
def _lognormal(spread: CostScaleSettings) -> tuple[Callable[[np.ndarray], np.ndarray], float, float, str]:
    """The multiplier's inverse CDF, its values at TORNADO_PERCENTILES and its kind, the same for every intervention.

    Cached, as `_two_piece_normal` is: the Monte Carlo's tornado rebuilds every input for each end of each of its bars.
    """
    z = float(_normal_quantile(0.5 + spread.level / 2))
    below, above = np.log(spread.median / spread.low) / z, np.log(spread.high / spread.median) / z
    kind = "lognormal" if np.isclose(below, above) else "two-piece lognormal"

    def quantile(uniforms: np.ndarray) -> np.ndarray:
        normal = _normal_quantile(uniforms)
        return spread.median * np.exp(np.where(normal < 0, below, above) * normal)

    low, high = (float(value) for value in quantile(np.array(TORNADO_PERCENTILES)))
    return quantile, low, high, kind


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


@functools.lru_cache(maxsize=256)
def _two_piece_normal(mode: float, published: PublishedEffect) -> tuple[Callable[[np.ndarray], np.ndarray], float, float]:
    """Inverse CDF of the two-piece normal with mode `mode` whose tails put (1 − level)/2 beyond each end of the interval,
    with its values at TORNADO_PERCENTILES.

    Below the mode the density is N(mode, σ₁), above it N(mode, σ₂), joined continuously, so P(below mode) =
    σ₁ / (σ₁ + σ₂). The ratio ρ = σ₂/σ₁ solving both tail conditions is found by bisection; values are cut to 0-1.
    Cached: the fit takes a few milliseconds, and the Monte Carlo's tornado rebuilds every input for each end of each bar.
    """
    tail = (1 - published.level) / 2
    below, above = mode - published.low, published.high - mode

    def scales(ratio: float) -> tuple[float, float]:
        under, over = _normal_quantile(np.array([tail * (1 + ratio) / 2, tail * (1 + ratio) / (2 * ratio)]))
        return -below / under, -above / over

    def mismatch(ratio: float) -> float:
        lower, upper = scales(ratio)
        return upper / lower - ratio

    edge = 1e-12
    # brentq, which this replaced, was asked for 1e-12 and mostly landed far closer; a bisection stops where its bracket
    # does, so it is asked for 1e-15, about ten more halvings
    ratio = _bisect(mismatch, tail / (1 - tail) * (1 + edge), (1 / tail - 1) * (1 - edge), xtol=1e-15, rtol=1e-15)
    lower, upper = scales(ratio)
    share_below = lower / (lower + upper)

    def quantile(uniforms: np.ndarray) -> np.ndarray:
        uniforms = np.asarray(uniforms, dtype=float)
        left = mode + lower * _normal_quantile(np.minimum(uniforms, share_below) / (2 * share_below))
        right = mode + upper * _normal_quantile(0.5 + np.maximum(uniforms - share_below, 0.0) / (2 * (1 - share_below)))
        return np.clip(np.where(uniforms < share_below, left, right), 0.0, 1.0)

    low, high = (float(value) for value in quantile(np.array(TORNADO_PERCENTILES)))
    return quantile, low, high


def _bisect(function: Callable[[float], float], low: float, high: float, xtol: float, rtol: float) -> float:
    """A root of `function` between `low` and `high`, where it must change sign, to within xtol + rtol·|root|.

    Plain bisection: the bracket halves every step, so the 55 or so steps a published interval takes are known in
    advance, and a function that is huge near one end of the bracket (as the ratio's mismatch is) slows it no
    more than a tame one. It stops early on an exact zero, and when the midpoint can no longer split the bracket.
    """
    at_low, at_high = function(low), function(high)
    if at_low == 0:
        return low
    if at_high == 0:
        return high
    if (at_low < 0) == (at_high < 0) or math.isnan(at_low) or math.isnan(at_high):
        raise InternalError(f"no sign change to bisect between {low!r} ({at_low!r}) and {high!r} ({at_high!r})")
    while True:
        middle = low + (high - low) / 2
        if high - low <= xtol + rtol * abs(middle) or middle in (low, high):
            return middle
        at_middle = function(middle)
        if at_middle == 0:
            return middle
        if (at_middle < 0) == (at_low < 0):
            low, at_low = middle, at_middle
        else:
            high = middle


_AS241_CENTRAL = np.array([
    (2.5090809287301226727e3, 5.2264952788528545610e3), (3.3430575583588128105e4, 2.8729085735721942674e4),
    (6.7265770927008700853e4, 3.9307895800092710610e4), (4.5921953931549871457e4, 2.1213794301586595867e4),
    (1.3731693765509461125e4, 5.3941960214247511077e3), (1.9715909503065514427e3, 6.8718700749205790830e2),
    (1.3314166789178437745e2, 4.2313330701600911252e1), (3.3871328727963666080e0, 1.0),
])  # fmt: skip
"""AS241's (numerator, denominator) coefficients, highest power first, in r = 0.180625 − q² where |q| = |p − 0.5| ≤ 0.425."""
_AS241_NEAR = np.array([
    (7.74545014278341407640e-4, 1.05075007164441684324e-9), (2.27238449892691845833e-2, 5.47593808499534494600e-4),
    (2.41780725177450611770e-1, 1.51986665636164571966e-2), (1.27045825245236838258e0, 1.48103976427480074590e-1),
    (3.64784832476320460504e0, 6.89767334985100004550e-1), (5.76949722146069140550e0, 1.67638483018380384940e0),
    (4.63033784615654529590e0, 2.05319162663775882187e0), (1.42343711074968357734e0, 1.0),
])  # fmt: skip
"""AS241's tail coefficients in r − 1.6, where r = √(−ln t) ≤ 5 and t is the smaller tail, min(p, 1 − p)."""
_AS241_FAR = np.array([
    (2.01033439929228813265e-7, 2.04426310338993978564e-15), (2.71155556874348757815e-5, 1.42151175831644588870e-7),
    (1.24266094738807843860e-3, 1.84631831751005468180e-5), (2.65321895265761230930e-2, 7.86869131145613259100e-4),
    (2.96560571828504891230e-1, 1.48753612908506148525e-2), (1.78482653991729133580e0, 1.36929880922735805310e-1),
    (5.46378491116411436990e0, 5.99832206555887937690e-1), (6.65790464350110377720e0, 1.0),
])  # fmt: skip
"""AS241's tail coefficients in r − 5, for r > 5 (t below about 1.4e-11)."""

_erfc = np.frompyfunc(math.erfc, 1, 1)
_LOG_ROOT_TWO_PI = 0.5 * math.log(2 * math.pi)


def _normal_quantile(probabilities: np.ndarray | float) -> np.ndarray:
    """The standard normal quantile Φ⁻¹(p), elementwise: −inf at 0, inf at 1, nan for nan and outside [0, 1].

    Wichura's algorithm AS241 (PPND16; Applied Statistics 37 (1988) 477-484, the method and coefficients of
    statistics.NormalDist.inv_cdf): a rational function of (p − 0.5)² in the centre, |p − 0.5| ≤ 0.425, and of
    √(−ln t) in the tails, t = min(p, 1 − p), each good to about 1e-16, the tails then refined by one Halley step.
    Agrees with scipy.special.ndtri to 1.2e-15 relative, a third of values to the bit (the tests hold it to 1e-14),
    so the draws need neither scipy.special nor the 0.2 s its import costs.
    """
    p = np.asarray(probabilities, dtype=float)
    flat = p.reshape(-1)
    q = flat - 0.5
    central = np.minimum(np.maximum(q, -0.425), 0.425)  # the tails' values are replaced below; cut, they raise no overflow
    x = central * _rational(_AS241_CENTRAL, 0.180625 - central * central)
    tails = np.abs(q) > 0.425
    if tails.any():
        x[tails] = _normal_tail_quantile(flat[tails])
    return x.reshape(p.shape)[()]


def _normal_tail_quantile(p: np.ndarray) -> np.ndarray:
    """`_normal_quantile` where |p − 0.5| > 0.425: AS241's tail fractions, then one Halley step.

    The step solves Φ(−z) = t for z = |x| with Φ(−z) = erfc(z/√2)/2 from math.erfc, which is accurate to the
    last bits however small t is; it takes off most of the rational function's last-bit error (more of these
    values come out as ndtri's to the bit). Below t = 1e-300 erfc itself loses precision, so there the
    rational function stands alone.
    """
    t = np.minimum(p, 1.0 - p)
    z = np.where(t == 0, np.inf, np.nan)
    inside = t > 0
    t = t[inside]
    r = np.sqrt(-np.log(t))
    tail = _rational(_AS241_NEAR, r - 1.6)
    far = r > 5.0
    if far.any():
        tail[far] = _rational(_AS241_FAR, r[far] - 5.0)
    exact = t >= 1e-300
    te, ze = t[exact], tail[exact]
    # Halley's step for f(z) = Φ(−z) − t (f′ = −φ, f″ = zφ) is z + u/(1 − zu/2) with u = (Φ(−z) − t)/φ(z), here
    # taken as (Φ(−z)/t − 1)·t/φ(z) so that neither factor underflows
    u = (0.5 * _erfc(ze / math.sqrt(2)).astype(float) / te - 1.0) * np.exp(np.log(te) + ze * ze / 2 + _LOG_ROOT_TWO_PI)
    tail[exact] = ze + u / (1 - ze * u / 2)
    z[inside] = tail
    return np.where(p < 0.5, -z, z)


def _rational(coefficients: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Numerator over denominator, both polynomials in r evaluated together by Horner's rule (coefficients highest power first)."""
    r = r[:, None]
    found = r * coefficients[0] + coefficients[1]
    for pair in coefficients[2:]:
        found *= r
        found += pair
    return found[:, 0] / found[:, 1]


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.3g} %"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
