"""What every chart shares: colours, a figure with the run's caption at its foot, and £ and thousands on axes.

Figures are built with the object API on the Agg canvas (never pyplot); matplotlib is imported
only when a figure is made.
"""

from __future__ import annotations

import textwrap

from .result import RunResult

PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
PASS_COLOUR, FAIL_COLOUR, NEUTRAL = "#1b7837", "#b2182b", "#bdbdbd"


def captioned_figure(result: RunResult | str, height: float, width: float = 9.0, columns: int = 1, share_y: bool = True):
    """A constrained-layout figure with one row of `columns` axes and the run's caption (or the given text) in small print at the foot."""
    from matplotlib.figure import Figure

    caption = result if isinstance(result, str) else result.caption
    figure = Figure(figsize=(width if columns == 1 else max(width, 3.6 * columns), height), layout="constrained")
    axes = figure.subplots(1, columns, sharey=share_y) if columns > 1 else figure.subplots()
    figure.text(0.01, 0.005, "\n".join(textwrap.wrap(caption, int(figure.get_figwidth() * 17))), fontsize=7, color="#555555", va="bottom")
    figure.get_layout_engine().set(h_pad=0.25)
    return figure, axes


def pounds(value: float) -> str:
    """£ for a chart label: £1.50m, £750k, £80."""
    if abs(value) >= 1e6:
        return f"£{value / 1e6:.2f}m"
    if abs(value) >= 1e3:
        return f"£{value / 1e3:.0f}k"
    return f"£{value:.0f}"


def pound_formatter(signed: bool = False):
    """An axis formatter in `pounds`, signed for changes."""
    from matplotlib.ticker import FuncFormatter

    if signed:
        return FuncFormatter(lambda value, _: ("+" if value > 0 else "−" if value < 0 else "") + pounds(abs(value)))
    return FuncFormatter(lambda value, _: pounds(value))


def thousands_formatter():
    """An axis formatter with thousands separators."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: f"{value:,.0f}")
