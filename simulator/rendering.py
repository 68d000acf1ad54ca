"""The report rendered: one self-contained HTML page and its Markdown twin, from a `Document`.

The HTML has its styles inline and its charts as base64 PNG data, fetches nothing from anywhere,
and prints on A4; every text that comes from data or a scenario file is escaped.
"""

from __future__ import annotations

import base64
import html
import re

import numpy as np

from .document import Block, Bullets, Chart, Code, Document, Facts, Kind, Table

def format_value(value, kind: Kind) -> str:
    """A cell's text: £ in whole pounds, days whole, decimals to 2 places, shares and % to 1."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a" if kind == "flag" else ""
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

STYLE = """
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1a1a1a;
       max-width: 186mm; margin: 0 auto; padding: 8mm 0; font-size: 10.5pt; line-height: 1.45; }
h1 { font-size: 19pt; margin: 0 0 2mm; }
h2 { font-size: 14pt; margin: 8mm 0 2mm; border-bottom: 2px solid #2b8cbe; padding-bottom: 1mm; break-after: avoid; }
.subtitle { font-size: 11.5pt; color: #444; margin: 0 0 5mm; }
.facts { display: flex; flex-wrap: wrap; gap: 2.5mm; margin: 3mm 0; }
.fact { border: 1px solid #c6dbef; background: #f3f8fc; border-radius: 2mm; padding: 2mm 3mm; min-width: 38mm; }
.fact .label { font-size: 8.5pt; color: #555; }
.fact .value { font-size: 13pt; font-weight: 600; }
figure { margin: 4mm 0; break-inside: avoid; text-align: center; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: 9pt; color: #555; }
table { border-collapse: collapse; width: 100%; margin: 3mm 0 5mm; font-size: 8.8pt; }
caption { text-align: left; font-weight: 600; padding-bottom: 1.5mm; caption-side: top; }
caption .source { font-weight: normal; color: #666; }
th, td { border-bottom: 1px solid #ddd; padding: 1.2mm 1.6mm; vertical-align: top; text-align: left; }
th { background: #f0f0f0; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr { break-inside: avoid; }
tr.total td { font-weight: 600; border-top: 2px solid #999; }
code { font-family: Menlo, Consolas, monospace; font-size: 9pt; background: #f4f4f4; padding: 0.3mm 1mm; overflow-wrap: anywhere; }
pre { background: #f4f4f4; padding: 2mm 3mm; white-space: pre-wrap; }
.note { color: #666; font-size: 9pt; }
@media print { body { padding: 0; } a { color: inherit; } }
"""


def to_html(document: Document, images: dict[str, bytes]) -> str:
    """The document as one self-contained HTML page; charts not in `images` are left out with a note."""
    parts = ["<!DOCTYPE html>", '<html lang="en-GB">', "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{_escape(document.title)}</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
             f"<h1>{_escape(document.title)}</h1>"]
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
        boxes = "".join(f'<div class="fact"><div class="label">{_escape(label)}</div><div class="value">{_escape(value)}</div></div>'
                        for label, value in block.items)
        return f'<div class="facts">{boxes}</div>'
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{_linked(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Code):
        return f"<pre><code>{_escape(block.text)}</code></pre>"
    if isinstance(block, Chart):
        data = base64.b64encode(images[block.name]).decode("ascii")
        return (f'<figure><img src="data:image/png;base64,{data}" alt="{_escape(block.caption)}">'
                f"<figcaption>{_escape(block.caption)}</figcaption></figure>")
    return _html_table(block)


def _html_table(table: Table) -> str:
    source = f' <span class="source">({_escape(table.source)})</span>' if table.source else ""
    head = "".join(f'<th{" class=num" if column.kind in NUMERIC else ""} scope="col">{_escape(column.title)}</th>' for column in table.columns)
    body = []
    for row in table.rows:
        total = ' class="total"' if row.get(table.columns[0].key) in ("Total", "TOTAL") else ""
        cells = []
        for column in table.columns:
            text = format_value(row.get(column.key), column.kind)
            if column.kind in NUMERIC:
                cells.append(f'<td class="num">{_escape(text)}</td>')
            elif column.kind == "code":
                cells.append(f"<td><code>{_escape(text)}</code></td>")
            elif column.kind == "file":
                cells.append(f'<td><a href="{_escape(text)}">{_escape(text)}</a></td>')
            else:
                cells.append(f"<td>{_linked(text)}</td>")
        body.append(f"<tr{total}>{''.join(cells)}</tr>")
    attribute = f' data-source="{_escape(table.source)}"' if table.source else ""
    return (f"<table{attribute}><caption>{_escape(table.caption)}{source}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


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
        return ["| " + " | ".join(_md_cell(label) for label, _ in block.items) + " |",
                "|" + "---|" * len(block.items),
                "| " + " | ".join(f"**{_md_cell(value)}**" for _, value in block.items) + " |"]
    if isinstance(block, Bullets):
        return [f"- {_md_text(item)}" for item in block.items]
    if isinstance(block, Code):
        return ["```", block.text, "```"]
    if isinstance(block, Chart):
        return [f"![{_md_cell(block.caption)}]({chart_paths[block.name]})", "", f"_{_md_text(block.caption)}_"]
    table = block
    lines = [f"**{_md_text(table.caption)}**" + (f" ({table.source})" if table.source else ""), ""]
    lines.append("| " + " | ".join(_md_cell(column.title) for column in table.columns) + " |")
    lines.append("|" + "".join("---:|" if column.kind in NUMERIC else "---|" for column in table.columns))
    for row in table.rows:
        lines.append("| " + " | ".join(_md_link(row.get(column.key)) if column.kind == "file" else _md_cell(format_value(row.get(column.key), column.kind))
                                       for column in table.columns) + " |")
    return lines


def _md_text(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", str(text))


def _md_link(path: str) -> str:
    return f"[{_md_cell(path)}]({path})"


def _md_cell(text: str) -> str:
    return _md_text(text).replace("\n", " ")
