"""What every chart shares: colours, a figure with the run's caption at its foot, its layout, and £ and thousands on axes.

Figures are built with the object API on the Agg canvas (never pyplot); matplotlib is imported
only when a figure is made. A figure is laid out once, from its labels' estimated sizes, when it is
first drawn, rather than by matplotlib's constrained layout, which renders every label twice more.
"""

from __future__ import annotations

import textwrap
from functools import cache

from .result import RunResult

PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
PASS_COLOUR, FAIL_COLOUR, NEUTRAL = "#1b7837", "#b2182b", "#bdbdbd"


def captioned_figure(result: RunResult | str, height: float, width: float = 9.0, columns: int = 1, share_y: bool = True):
    """A figure with one row of `columns` axes and the run's caption (or the given text) in small print at the foot, laid
    out once when drawn (`ArrangedFigure`)."""
    caption = result if isinstance(result, str) else result.caption
    figure = _arranged_figure()(figsize=(width if columns == 1 else max(width, 3.6 * columns), height))
    axes = figure.subplots(1, columns, sharey=share_y) if columns > 1 else figure.subplots()
    figure.text(0.01, 0.005, "\n".join(textwrap.wrap(caption, int(figure.get_figwidth() * 17))), fontsize=7, color="#555555", va="bottom")
    return figure, axes


# Margins are measured from the labels' text with a table of glyph widths (DejaVu Sans, in ems) rather than by rendering
# it: matplotlib's constrained layout renders every label twice more before a figure is drawn, which was a third of the
# time to save a chart.
NARROW, WIDE = frozenset(" .,:;'|!()[]ijlt-"), frozenset("mwMW%@×●")
PAD = 0.08
"""Inches between an axes' parts (ticks, tick labels, axis label, title) and around the figure."""


def _text_inches(text: str, points: float) -> tuple[float, float]:
    """The width and height of `text` in inches at `points`, estimated from glyph widths (within a few % of DejaVu Sans's,
    more often over than under)."""
    lines = text.split("\n") if text else []
    widest = max((sum(_em(character) for character in line) for line in lines), default=0.0)
    return widest * points / 72, len(lines) * 1.22 * points / 72


def _em(character: str) -> float:
    """A character's advance in ems, by its kind (narrow, wide, capital or digit, other)."""
    if character in NARROW:
        return 0.34
    if character in WIDE:
        return 0.95
    if character.isdigit():
        return 0.64
    if character.isupper() or character == "£":
        return 0.68
    return 0.57


def _tick_labels(axis) -> list[str]:
    """The tick labels an axis will draw, formatted without making text objects; none where they are hidden."""
    params = axis.get_tick_params(which="major")
    shown = params.get("label1On", params.get("labelleft" if axis.axis_name == "y" else "labelbottom", True))
    shown = shown or params.get("label2On", False)
    if not shown or not axis.get_visible():
        return []
    locations = [location for location in axis.get_majorticklocs() if _in_view(axis, location)]
    return [label for label in axis.get_major_formatter().format_ticks(locations) if label]


def _in_view(axis, location: float) -> bool:
    low, high = sorted(axis.get_view_interval())
    return low - 1e-9 * max(1.0, abs(high - low)) <= location <= high + 1e-9 * max(1.0, abs(high - low))


def _label_points(axis) -> float:
    from matplotlib.font_manager import FontProperties

    size = axis.get_tick_params(which="major").get("labelsize")
    if size is None:
        import matplotlib

        size = matplotlib.rcParams[f"{axis.axis_name}tick.labelsize"]
    return FontProperties(size=size).get_size_in_points()


def _margins(axes) -> dict[str, float]:
    """How far an axes' decorations reach beyond its box on each side, in inches."""
    room = {"left": 0.0, "right": 0.0, "bottom": 0.0, "top": 0.0}
    if axes.axison:
        points = _label_points(axes.yaxis)
        labels = _tick_labels(axes.yaxis)
        side = "right" if axes.yaxis.get_ticks_position() == "right" else "left"
        room[side] += max((_text_inches(label, points)[0] for label in labels), default=0.0) + (PAD + 0.05 if labels else 0.05)
        if axes.yaxis.label.get_text():
            room[axes.yaxis.get_label_position()] += _text_inches(axes.yaxis.label.get_text(), axes.yaxis.label.get_fontsize())[1] + PAD
        points = _label_points(axes.xaxis)
        labels = _tick_labels(axes.xaxis)
        side = "top" if axes.xaxis.get_ticks_position() == "top" else "bottom"
        room[side] += max((_text_inches(label, points)[1] for label in labels), default=0.0) + (PAD + 0.05 if labels else 0.05)
        if axes.xaxis.label.get_text():
            room[axes.xaxis.get_label_position()] += _text_inches(axes.xaxis.label.get_text(), axes.xaxis.label.get_fontsize())[1] + PAD
        if labels and side == "bottom":
            room["right"] = max(room["right"], _text_inches(labels[-1], points)[0] / 2)
    if axes.title.get_text():
        room["top"] += _text_inches(axes.title.get_text(), axes.title.get_fontsize())[1] + PAD
    legend = axes.get_legend()
    if legend is not None and legend.get_bbox_to_anchor().y1 <= axes.bbox.y0 + 1:
        room["bottom"] += (
            _text_inches("\n".join(text.get_text() for text in legend.texts[: 1 if getattr(legend, "_ncols", 1) > 1 else None]), 8)[1]
            + 2 * PAD
        )
    return room


def arrange(figure) -> None:
    """Place a row of axes (and any colour bars beside them) so that their labels, titles, the suptitle and the caption
    fit, from the labels' estimated sizes."""
    width, height = figure.get_size_inches()
    grid = [axes for axes in figure.axes if axes.get_subplotspec() is not None and not hasattr(axes, "_colorbar")]
    if not grid:
        return
    bars = [axes for axes in figure.axes if hasattr(axes, "_colorbar")]
    rooms = [_margins(axes) for axes in grid]
    caption = figure.texts[0].get_text() if figure.texts else ""
    bottom = _text_inches(caption, 7)[1] + PAD + max(room["bottom"] for room in rooms)
    top = PAD + max(room["top"] for room in rooms)
    if figure._suptitle is not None:
        top += _text_inches(figure._suptitle.get_text(), figure._suptitle.get_fontsize())[1] + PAD
    left = PAD + rooms[0]["left"]
    right = PAD + max(rooms[-1]["right"], 0.1)
    for bar in bars:
        right += max(_margins(bar)["right"], 0.1) + PAD
    between = max([room["left"] + rooms[k - 1]["right"] for k, room in enumerate(rooms) if k] or [0.0]) + 2 * PAD
    columns = len(grid)
    axes_width = max((width - left - right - between * (columns - 1)) / columns, 0.5)
    for end, axes in ((0, grid[0]), (1, grid[-1])):
        labels = (axes.xaxis.label, axes.title) if axes.axison else (axes.title,)
        overflow = max(_text_inches(text.get_text(), text.get_fontsize())[0] for text in labels) / 2 - axes_width / 2
        if overflow > 0 and end == 0:
            left = max(left, overflow + PAD)
        elif overflow > 0:
            right = max(right, overflow + PAD)
    axes_width = max((width - left - right - between * (columns - 1)) / columns, 0.5)
    figure.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        bottom=min(bottom / height, 0.45),
        top=max(1 - top / height, 0.55),
        wspace=between / axes_width if columns > 1 else 0.2,
    )


RENDERING = {"text.hinting": "no_hinting"}
"""matplotlib settings every chart is drawn with (`drawing.png_bytes`): text without FreeType's hinting, which at the
charts' 150 dpi looks the same and takes about 13 % less of the drawing time."""


@cache
def _arranged_figure():
    """The Figure class of every chart: it lays itself out once, just before it is first drawn (unless placed by hand)."""
    from matplotlib.figure import Figure

    class ArrangedFigure(Figure):
        """A figure laid out by `arrange` when first drawn, instead of by a layout engine on every draw (a figure legend,
        placed outside the axes, keeps the constrained layout)."""

        arranged = False

        def draw(self, renderer):
            if not self.arranged:
                arrange(self)
                self.arranged = True
            super().draw(renderer)

        def savefig(self, fname, **kwargs):
            if self.legends and not self.arranged:  # a figure legend outside the axes is placed by the constrained layout
                self.set_layout_engine("constrained", h_pad=0.25)
                self.arranged = True
            return super().savefig(fname, **kwargs)

    return ArrangedFigure


def fixed_figure(caption: str, width: float, height: float):
    """A figure with no layout engine (the caller places its axes, in inches, with `place`) and the caption at its foot:
    a fixed layout costs no extra pass over every text when the figure is saved."""
    figure = _arranged_figure()(figsize=(width, height))
    figure.arranged = True
    figure.text(0.01, 0.005, "\n".join(textwrap.wrap(caption, int(width * 17))), fontsize=7, color="#555555", va="bottom")
    return figure


def place(figure, left: float, bottom: float, width: float, height: float):
    """Axes at a place on the figure given in inches from its bottom-left corner."""
    figure_width, figure_height = figure.get_size_inches()
    return figure.add_axes((left / figure_width, bottom / figure_height, width / figure_width, height / figure_height))


def pounds(value: float) -> str:
    """£ for a chart label: £1.50m, £750k, £80."""
    if abs(value) >= 1e6:
        return f"£{value / 1e6:.2f}m"
    if abs(value) >= 1e3:
        return f"£{value / 1e3:.0f}k"
    return f"£{value:.0f}"


def pound_formatter(signed: bool = False, decimals: int | None = None):
    """An axis formatter in `pounds`, signed for changes; with `decimals`, plain £ to that many decimals (£ per resident)."""
    from matplotlib.ticker import FuncFormatter

    if decimals is not None:
        return FuncFormatter(lambda value, _: f"£{value:,.{decimals}f}")
    if signed:
        return FuncFormatter(lambda value, _: ("+" if value > 0 else "−" if value < 0 else "") + pounds(abs(value)))
    return FuncFormatter(lambda value, _: pounds(value))


def thousands_formatter():
    """An axis formatter with thousands separators."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: f"{value:,.0f}")
