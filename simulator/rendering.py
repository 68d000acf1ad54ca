"""The report rendered: one self-contained HTML page and its Markdown twin, from a `Document`.

The HTML has its styles inline and its charts as base64 PNG data, fetches nothing from anywhere,
and prints on A4 (table headings repeat on each page; long text wraps inside the page; charts scale to
fit); every text that comes from data or a scenario file is escaped. tests/test_browser.py checks the
layout in headless Chromium.
"""

from __future__ import annotations

import base64
import html
import json
import re

import numpy as np

from .document import Block, Bullets, Chart, Code, Document, Facts, Kind, Table
from .sweep_document import PointExplorer


def format_value(value, kind: Kind) -> str:
    """A cell's text: £ in whole pounds, days whole, decimals to 2 places, shares and % to 1; words in a figure's column
    (such as "not measured") as they are."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a" if kind == "flag" else ""
    if isinstance(value, str) and kind in NUMERIC:
        return value
    if kind == "gbp":
        return f"£{value:,.0f}"
    if kind == "days":
        return f"{value:,.0f}"
    if kind == "decimal":
        return f"{value:,.2f}"
    if kind == "pct":
        return f"{value:,.1f} %"
    if kind == "share":
        return f"{value * 100:,.1f} %"
    if kind == "flag":
        return "yes" if value in (True, "true") else "no"
    return str(value)


NUMERIC = {"gbp", "days", "decimal", "pct", "share"}
URL = re.compile(r"https?://[^\s<>\"')]+[^\s<>\"').,;]")
PROSE_CHARACTERS = 80
LONG_ROW_CHARACTERS = 600
"""A row with more text than this may break across printed pages: kept whole, it could leave half a page empty before it."""
SHORT_CODE_CHARACTERS = 16
TALL_RATIO = 1.4

STYLE = """
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1a1a1a;
       max-width: 186mm; margin: 0 auto; padding: 8mm 3mm; font-size: 10.5pt; line-height: 1.45; }
h1 { font-size: 19pt; margin: 0 0 2mm; }
h2 { font-size: 14pt; margin: 8mm 0 2mm; border-bottom: 2px solid #2b8cbe; padding-bottom: 1mm; break-after: avoid; }
h1, h2 { break-inside: avoid; }
p, li { overflow-wrap: break-word; }
a { overflow-wrap: anywhere; }
.subtitle { font-size: 11.5pt; color: #444; margin: 0 0 5mm; }
.facts { display: flex; flex-wrap: wrap; gap: 2.5mm; margin: 3mm 0; break-inside: avoid; }
.fact { border: 1px solid #c6dbef; background: #f3f8fc; border-radius: 2mm; padding: 2mm 3mm; min-width: 38mm; }
.fact .label { font-size: 8.5pt; color: #555; }
.fact .value { font-size: 13pt; font-weight: 600; }
figure { margin: 4mm 0; break-inside: avoid; text-align: center; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: 9pt; color: #555; }
.table-frame { margin: 3mm 0 5mm; }
table { border-collapse: collapse; width: 100%; font-size: 8.8pt; }
caption { text-align: left; font-weight: 600; padding-bottom: 1.5mm; caption-side: top; break-after: avoid; }
caption .source { font-weight: normal; color: #666; }
thead { display: table-header-group; break-after: avoid; }
tbody tr:first-child { break-before: avoid; }
tr { break-inside: avoid; }
tr.long { break-inside: auto; }
th, td { border-bottom: 1px solid #ddd; padding: 1.2mm 1.6mm; vertical-align: top; text-align: left; overflow-wrap: break-word; }
th { background: #f0f0f0; }
th.num { text-align: right; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
/* Long text (evidence, sources, reasons) wraps anywhere, so a web address cannot widen its column. */
td.prose { font-size: 8pt; line-height: 1.35; overflow-wrap: anywhere; }
tr.total td { font-weight: 600; border-top: 2px solid #999; }
code { font-family: Menlo, Consolas, monospace; font-size: 9pt; background: #f4f4f4; padding: 0.3mm 1mm; overflow-wrap: anywhere; }
td code { font-size: 8pt; }
td.nowrap { white-space: nowrap; }
td.nowrap code { overflow-wrap: normal; }
pre { background: #f4f4f4; padding: 2mm 3mm; white-space: pre-wrap; overflow-wrap: anywhere; }
.note { color: #666; font-size: 9pt; }
/* On a phone a wide table scrolls inside its frame rather than widening the page. */
@media screen { .table-frame { overflow-x: auto; } }
@media print {
  body { padding: 0; max-width: none; }
  a { color: inherit; }
  /* A chart shrinks to well under half a page so it never pushes a half-empty page before it; one much taller
     than wide needs most of a page, so it floats to the next page while the text after it fills this one. */
  figure img { max-height: 115mm; width: auto; }
  figure.tall { float: left; width: 100%; }
  figure.tall img { max-height: 220mm; }
  h2 { clear: both; }
}
"""


def to_html(document: Document, images: dict[str, bytes]) -> str:
    """The document as one self-contained HTML page; charts not in `images` are left out with a note."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en-GB">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_escape(document.title)}</title>",
        f"<style>{STYLE}{EXPLORER_STYLE if _has_explorer(document) else ''}</style>",
        "</head>",
        "<body>",
        f"<h1>{_escape(document.title)}</h1>",
    ]
    if document.subtitle:
        parts.append(f'<p class="subtitle">{_escape(document.subtitle)}</p>')
    missing = 0
    for section in document.sections:
        blocks = []
        for block in section.blocks:
            if isinstance(block, Chart) and block.name not in images:
                missing += 1
                continue
            blocks.append(_html_block(block, images))
        parts.append(f"<section><h2>{_escape(section.title)}</h2>")
        parts += blocks
        parts.append("</section>")
    if missing and not images:
        parts.append('<p class="note">Charts were not drawn for this run (--no-charts).</p>')
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def _html_block(block: Block, images: dict[str, bytes]) -> str:
    if isinstance(block, str):
        return f"<p>{_linked(block)}</p>"
    if isinstance(block, Facts):
        boxes = "".join(
            f'<div class="fact"><div class="label">{_escape(label)}</div><div class="value">{_escape(value)}</div></div>'
            for label, value in block.items
        )
        return f'<div class="facts">{boxes}</div>'
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{_linked(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Code):
        return f"<pre><code>{_escape(block.text)}</code></pre>"
    if isinstance(block, Chart):
        return _html_figure(block, images[block.name])
    if isinstance(block, PointExplorer):
        return _html_explorer(block)
    return _html_table(block)


def _html_figure(chart: Chart, image: bytes) -> str:
    """A chart as inline PNG; one much taller than wide may take most of a printed page, others at most ~40 %."""
    size = _png_size(image)
    dimensions = f' width="{size[0]}" height="{size[1]}"' if size else ""
    tall = ' class="tall"' if size and size[1] > TALL_RATIO * size[0] else ""
    data = base64.b64encode(image).decode("ascii")
    return (
        f'<figure{tall}><img src="data:image/png;base64,{data}"{dimensions} alt="{_escape(chart.caption)}">'
        f"<figcaption>{_escape(chart.caption)}</figcaption></figure>"
    )


def _has_explorer(document: Document) -> bool:
    return any(isinstance(block, PointExplorer) for section in document.sections for block in section.blocks)


EXPLORER_STYLE = """
.explorer { border: 1px solid #c6dbef; border-radius: 2mm; padding: 3mm; margin: 3mm 0; break-inside: avoid; }
.explorer-controls { display: flex; align-items: center; gap: 3mm; flex-wrap: wrap; }
.explorer-controls input[type=range] { flex: 1 1 60mm; min-width: 40mm; }
.explorer-controls output { flex: 1 1 100%; font-weight: 600; }
.explorer svg { display: block; max-width: 100%; height: auto; margin: 2mm auto; }
.explorer svg polygon { stroke: #fff; stroke-width: 2; }
.explorer svg text { font-size: 9px; text-anchor: middle; pointer-events: none; }
.explorer .bar-row { display: flex; align-items: center; gap: 2mm; font-size: 8.5pt; margin: 0.6mm 0; }
.explorer .bar-name { flex: 0 0 45mm; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.explorer .bar { height: 3.2mm; background: #3182bd; }
.explorer .bar-value { white-space: nowrap; color: #333; }
"""
HEX_SIZE = 70.0
"""Pixels between neighbouring tile centres in the slider's map."""
HEX_ROW_STEP = 0.866
HEX_RADIUS = 0.56
EXPLORER_SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById("sweep-data").textContent);
  var slider = document.getElementById("sweep-point");
  var label = document.getElementById("sweep-point-label");
  var facts = document.getElementById("sweep-point-facts");
  var body = document.querySelector("#sweep-point-table tbody");
  var bars = document.getElementById("sweep-bars");
  var tiles = document.querySelectorAll("#sweep-map polygon");
  var values = document.querySelectorAll("#sweep-map text.value");
  var most = 0, mostBid = 0;
  data.points.forEach(function (point) {
    point.funded.forEach(function (area) { most = Math.max(most, area[3]); });
    point.bids.forEach(function (bid) { mostBid = Math.max(mostBid, bid[1]); });
  });
  function whole(value) { return Math.round(value).toLocaleString("en-GB"); }
  function pounds(value) { return "\u00a3" + whole(value); }
  function short(value) {
    if (value >= 1e6) { return "\u00a3" + (value / 1e6).toFixed(2) + "m"; }
    if (value >= 1e3) { return "\u00a3" + Math.round(value / 1e3) + "k"; }
    return value > 0 ? "\u00a3" + Math.round(value) : "";
  }
  function shade(share) {
    var low = [239, 243, 255], high = [8, 81, 156];
    return "rgb(" + low.map(function (c, i) { return Math.round(c + (high[i] - c) * share); }).join(",") + ")";
  }
  function add(row, text, numeric) {
    var cell = document.createElement("td");
    cell.textContent = text;
    if (numeric) { cell.className = "num"; }
    row.appendChild(cell);
  }
  function fact(name, value) {
    var box = document.createElement("div");
    box.className = "fact";
    var top = document.createElement("div");
    top.className = "label";
    top.textContent = name;
    var figure = document.createElement("div");
    figure.className = "value";
    figure.textContent = value;
    box.appendChild(top);
    box.appendChild(figure);
    facts.appendChild(box);
  }
  function show(k) {
    var point = data.points[k];
    label.textContent = "Point " + (k + 1) + " of " + data.points.length + ": " + point.label;
    facts.textContent = "";
    body.textContent = "";
    if (point.status === "ok") {
      fact("Allocated", pounds(point.allocated));
      fact("Harm averted", whole(point.averted) + " " + data.unit);
      fact("Eligible " + data.levelNoun + "s", whole(point.eligible));
      fact("Funded bids", whole(point.bids.length));
    } else {
      fact("Status", point.status);
    }
    var rows = data.byBid ? point.bids.map(function (bid) { return [bid[0], bid[1], bid[2]]; })
                          : point.funded.map(function (area) { return [area[1], area[3], area[4]]; });
    rows.forEach(function (item) {
      var row = document.createElement("tr");
      add(row, item[0], false);
      add(row, pounds(item[1]), true);
      add(row, whole(item[2]), true);
      body.appendChild(row);
    });
    if (!rows.length) {
      var row = document.createElement("tr");
      add(row, point.status === "ok" ? "nothing funded" : "no allocation at this point", false);
      add(row, "", true);
      add(row, "", true);
      body.appendChild(row);
    }
    var amounts = {};
    point.funded.forEach(function (area) { if (area[0] >= 0) { amounts[area[0]] = area[3]; } });
    tiles.forEach(function (tile) {
      var amount = amounts[tile.getAttribute("data-area")] || 0;
      tile.setAttribute("fill", amount > 0 ? shade(most > 0 ? amount / most : 0) : "#e0e0e0");
    });
    values.forEach(function (text) {
      var amount = amounts[text.getAttribute("data-area")] || 0;
      text.textContent = short(amount);
      text.setAttribute("fill", most > 0 && amount / most > 0.55 ? "#fff" : "#1a1a1a");
    });
    document.querySelectorAll("#sweep-map text.name").forEach(function (text) {
      var amount = amounts[text.getAttribute("data-area")] || 0;
      text.setAttribute("fill", most > 0 && amount / most > 0.55 ? "#fff" : "#1a1a1a");
    });
    if (bars) {
      bars.textContent = "";
      point.bids.slice(0, 15).forEach(function (bid) {
        var line = document.createElement("div");
        line.className = "bar-row";
        var name = document.createElement("span");
        name.className = "bar-name";
        name.textContent = bid[0];
        name.title = bid[0];
        var bar = document.createElement("span");
        bar.className = "bar";
        bar.style.width = (mostBid > 0 ? 60 * bid[1] / mostBid : 0).toFixed(1) + "%";
        var value = document.createElement("span");
        value.className = "bar-value";
        value.textContent = pounds(bid[1]);
        line.appendChild(name);
        line.appendChild(bar);
        line.appendChild(value);
        bars.appendChild(line);
      });
    }
  }
  slider.addEventListener("input", function () { show(Number(slider.value)); });
  show(Number(slider.value));
})();
"""


def _html_explorer(explorer: PointExplorer) -> str:
    """The sweep's slider: a range input, the chosen point's facts, a tile map (or bars of the top funded bids) and a table
    of its funded areas or bids, filled in by a small inline script from the figures embedded as JSON."""
    data = dict(explorer.data)
    points = data["points"]
    data["byBid"] = any(area[1] != area[2] for point in points for area in point["funded"])
    level = str(data["level"]) if str(data["level"]).isupper() else str(data["level"]).lower()
    data["levelNoun"] = level
    noun = "Bid" if data["byBid"] else level[:1].upper() + level[1:]
    # "</" inside the JSON would end the script element early; "\/" reads back as "/"
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    picture = _hex_map(explorer.tiles, data["names"]) if explorer.tiles else '<div id="sweep-bars" aria-label="Top funded bids"></div>'
    last = max(len(points) - 1, 0)
    return (
        '<div class="explorer">'
        f'<p class="note">{_escape(explorer.caption)}</p>'
        '<div class="explorer-controls"><label for="sweep-point">Point</label>'
        f'<input type="range" id="sweep-point" min="0" max="{last}" step="1" value="0">'
        '<output id="sweep-point-label" for="sweep-point"></output></div>'
        '<div class="facts" id="sweep-point-facts"></div>'
        f"{picture}"
        '<div class="table-frame"><table id="sweep-point-table">'
        f"<caption>Where the chosen point's money goes ({'bids' if data['byBid'] else _escape(level) + 's'} funded, most first)</caption>"
        f'<thead><tr><th scope="col">{_escape(noun)}</th><th class="num" scope="col">Amount</th>'
        f'<th class="num" scope="col">Harm averted ({_escape(data["unit"])})</th></tr></thead><tbody></tbody></table></div>'
        "</div>"
        f'<script type="application/json" id="sweep-data">{payload}</script>'
        f"<script>{EXPLORER_SCRIPT}</script>"
    )


def _hex_map(tiles: tuple[tuple[int, int], ...], names: list[str]) -> str:
    """An inline SVG of hexagon tiles (the layout the run's maps use), one polygon per area, coloured by the script."""
    centres = [((column + 0.5 * (row % 2)) * HEX_SIZE, row * HEX_ROW_STEP * HEX_SIZE) for row, column in tiles]
    radius = HEX_RADIUS * HEX_SIZE
    left = min(x for x, _ in centres) - radius - 4
    top = min(y for _, y in centres) - radius - 4
    width = max(x for x, _ in centres) - left + radius + 4
    height = max(y for _, y in centres) - top + radius + 4
    shapes = []
    for a, ((x, y), name) in enumerate(zip(centres, names)):
        x, y = x - left, y - top
        corners = " ".join(
            f"{x + radius * np.cos(np.radians(90 + 60 * k)):.1f},{y - radius * np.sin(np.radians(90 + 60 * k)):.1f}" for k in range(6)
        )
        words = _two_lines(name)
        lines = "".join(f'<tspan x="{x:.1f}" dy="{0 if n == 0 else 10}">{_escape(line)}</tspan>' for n, line in enumerate(words))
        shapes.append(
            f'<polygon data-area="{a}" points="{corners}" fill="#e0e0e0"><title>{_escape(name)}</title></polygon>'
            f'<text class="name" data-area="{a}" x="{x:.1f}" y="{y - 6 - 5 * (len(words) - 1):.1f}" font-weight="600">{lines}</text>'
            f'<text class="value" data-area="{a}" x="{x:.1f}" y="{y + 14:.1f}"></text>'
        )
    return (
        f'<svg id="sweep-map" role="img" aria-label="Map of the chosen point\'s allocation" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}">{"".join(shapes)}</svg>'
    )


def _two_lines(name: str, width: int = 12) -> list[str]:
    """A name on at most two lines of about `width` characters, for a tile."""
    words = name.split()
    first = ""
    while words and (not first or len(first) + 1 + len(words[0]) <= width):
        first = f"{first} {words.pop(0)}".strip()
    rest = " ".join(words)
    if len(rest) > width + 2:
        rest = rest[: width + 1] + "…"
    return [first, rest] if rest else [first]


def _png_size(image: bytes) -> tuple[int, int] | None:
    """Width and height in pixels from a PNG's header, or None if the bytes are not a PNG."""
    if len(image) < 24 or image[:8] != b"\x89PNG\r\n\x1a\n" or image[12:16] != b"IHDR":
        return None
    return int.from_bytes(image[16:20], "big"), int.from_bytes(image[20:24], "big")


def _column_class(table: Table, column) -> str:
    """`num` for figures (right-aligned, never wrapped), `prose` for long text (smaller, wraps anywhere),
    `nowrap` for short codes such as hashes (long codes, like file paths, may break anywhere), else none."""
    if column.kind in NUMERIC:
        return "num"
    longest = max((len(str(row.get(column.key) or "")) for row in table.rows), default=0)
    if column.kind == "text" and longest > PROSE_CHARACTERS:
        return "prose"
    if column.kind == "code" and longest <= SHORT_CODE_CHARACTERS:
        return "nowrap"
    return ""


def _html_table(table: Table) -> str:
    source = f' <span class="source">({_escape(table.source)})</span>' if table.source else ""
    classes = [_column_class(table, column) for column in table.columns]
    head = "".join(f'<th{_class(css)} scope="col">{_escape(column.title)}</th>' for column, css in zip(table.columns, classes))
    body = []
    for row in table.rows:
        row_class = _row_class(table, row)
        cells = []
        for column, css in zip(table.columns, classes):
            text = format_value(row.get(column.key), column.kind)
            opening = f"<td{_class(css)}>"
            if column.kind in NUMERIC:
                cells.append(f"{opening}{_escape(text)}</td>")
            elif column.kind == "code":
                cells.append(f"{opening}<code>{_escape(text)}</code></td>")
            elif column.kind == "file":
                cells.append(f'{opening}<a href="{_escape(text)}">{_escape(text)}</a></td>')
            else:
                cells.append(f"{opening}{_linked(text)}</td>")
        body.append(f"<tr{_class(row_class)}>{''.join(cells)}</tr>")
    attribute = f' data-source="{_escape(table.source)}"' if table.source else ""
    return (
        f'<div class="table-frame"><table{attribute}><caption>{_escape(table.caption)}{source}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _row_class(table: Table, row: dict) -> str:
    """`total` for a table's total row (bold, ruled above), `long` for a row long enough to break across printed pages."""
    if row.get(table.columns[0].key) in ("Total", "TOTAL"):
        return "total"
    return "long" if sum(len(str(row.get(column.key) or "")) for column in table.columns) > LONG_ROW_CHARACTERS else ""


def _class(name: str) -> str:
    return f' class="{name}"' if name else ""


def _escape(text) -> str:
    return html.escape(str(text), quote=True)


def _linked(text: str) -> str:
    """Escaped text with web addresses made into links (links out are fine; nothing is loaded from them)."""
    escaped = _escape(text)
    return URL.sub(lambda match: f'<a href="{match.group(0)}">{match.group(0)}</a>', escaped)


def to_markdown(document: Document, chart_paths: dict[str, str]) -> str:
    """The document as Markdown, charts linked by relative path (charts/<name>.png)."""
    lines = [f"# {document.title}", ""]
    if document.subtitle:
        lines += [f"_{_md_text(document.subtitle)}_", ""]
    for section in document.sections:
        lines += [f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Chart) and block.name not in chart_paths:
                continue
            lines += _md_block(block, chart_paths) + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_block(block: Block, chart_paths: dict[str, str]) -> list[str]:
    if isinstance(block, str):
        return [_md_text(block)]
    if isinstance(block, Facts):
        return [
            "| " + " | ".join(_md_cell(label) for label, _ in block.items) + " |",
            "|" + "---|" * len(block.items),
            "| " + " | ".join(f"**{_md_cell(value)}**" for _, value in block.items) + " |",
        ]
    if isinstance(block, Bullets):
        return [f"- {_md_text(item)}" for item in block.items]
    if isinstance(block, Code):
        return ["```", block.text, "```"]
    if isinstance(block, Chart):
        return [f"![{_md_cell(block.caption)}]({chart_paths[block.name]})", "", f"_{_md_text(block.caption)}_"]
    if isinstance(block, PointExplorer):
        return [_md_text("report.html steps through each point's allocation with a slider; allocations.csv holds the same figures.")]
    table = block
    lines = [f"**{_md_text(table.caption)}**" + (f" ({table.source})" if table.source else ""), ""]
    lines.append("| " + " | ".join(_md_cell(column.title) for column in table.columns) + " |")
    lines.append("|" + "".join("---:|" if column.kind in NUMERIC else "---|" for column in table.columns))
    for row in table.rows:
        lines.append(
            "| "
            + " | ".join(
                _md_link(row.get(column.key)) if column.kind == "file" else _md_cell(format_value(row.get(column.key), column.kind))
                for column in table.columns
            )
            + " |"
        )
    return lines


def _md_text(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", str(text))


def _md_link(path: str) -> str:
    return f"[{_md_cell(path)}]({path})"


def _md_cell(text: str) -> str:
    return _md_text(text).replace("\n", " ")
