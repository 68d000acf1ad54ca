"""Rendering a document: HTML without charts, Markdown tables, and how each kind of cell is formatted."""

from __future__ import annotations

import pytest

from simulator.document import Chart, Column, Document, Section, Table, run_document
from simulator.rendering import PROSE_CHARACTERS, STYLE, format_value, to_html, to_markdown


def test_report_without_charts_says_so(kent_result):
    """With no chart images the HTML says the charts were not drawn, and has no img tag."""
    text = to_html(run_document(kent_result, "reports/kent-baseline"), {})
    assert "<img" not in text and "Charts were not drawn" in text


def test_markdown_escapes_table_pipes():
    """A | in a cell cannot break a Markdown table."""
    document = Document("t", "", (Section("s", (Table("c", (Column("a", "A"),), ({"a": "x | y"},)),)),))
    assert "x \\| y" in to_markdown(document, {})


def test_charts_missing_from_images_are_left_out():
    """A chart block with no image is skipped, not drawn as a broken image."""
    document = Document("t", "", (Section("s", (Chart("absent", "the absent chart"),)),))
    assert "the absent chart" not in to_html(document, {"other": b""})
    assert "the absent chart" not in to_markdown(document, {})


@pytest.mark.parametrize(
    "value, kind, text",
    [
        (1234567.891, "gbp", "£1,234,568"),
        (122212.4, "days", "122,212"),
        (12.274, "decimal", "12.27"),
        (94.66, "pct", "94.7 %"),
        (0.1764, "share", "17.6 %"),
        (True, "flag", "yes"),
        ("false", "flag", "no"),
        (None, "gbp", ""),
        (None, "flag", "n/a"),
    ],
)
def test_format_value(value, kind, text):
    """Cells read as a planner writes them."""
    assert format_value(value, kind) == text


def test_tables_have_a_header_group_and_a_body():
    """Each table's column headings sit in <thead> (repeated on every printed page) and its rows in <tbody>."""
    document = Document("t", "", (Section("s", (Table("c", (Column("a", "A"), Column("b", "B", "gbp")), ({"a": "x", "b": 1.0},)),)),))
    text = to_html(document, {})
    assert '<thead><tr><th scope="col">A</th><th class="num" scope="col">B</th></tr></thead><tbody><tr>' in text
    assert "thead { display: table-header-group;" in text


def test_long_text_columns_are_marked_as_prose():
    """A text column with a cell longer than PROSE_CHARACTERS gets the prose class (smaller, wraps anywhere); short ones do not."""
    long_text = "word " * (PROSE_CHARACTERS // 5 + 1)
    document = Document(
        "t",
        "",
        (
            Section(
                "s",
                (
                    Table(
                        "c",
                        (Column("name", "Name"), Column("note", "Note")),
                        ({"name": "short", "note": long_text}, {"name": "also short", "note": "brief"}),
                    ),
                ),
            ),
        ),
    )
    text = to_html(document, {})
    assert '<th class="prose" scope="col">Note</th>' in text
    assert text.count('<td class="prose">') == 2 and "<td>short</td>" in text


def test_numbers_never_wrap_but_their_headings_may():
    """Numeric cells are right-aligned and kept on one line; numeric headings are right-aligned but free to wrap."""
    assert "td.num { text-align: right; white-space: nowrap;" in STYLE
    assert "th.num { text-align: right; }" in STYLE


def test_prose_cells_are_still_escaped_and_linked():
    """Markup in a long cell is shown as text; a web address in it becomes a link with its & escaped."""
    hostile = '<script>alert("x")</script> ' + "see " * 30 + "https://example.org/a?b=1&c=2."
    document = Document("t", "", (Section("s", (Table("<b>c</b>", (Column("note", "<i>Note</i>"),), ({"note": hostile},)),)),))
    text = to_html(document, {})
    assert "<script>" not in text and "<b>c</b>" not in text and "<i>Note</i>" not in text
    assert '<td class="prose">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; see' in text
    assert '<a href="https://example.org/a?b=1&amp;c=2">https://example.org/a?b=1&amp;c=2</a>.' in text


def png_header(width: int, height: int) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + (13).to_bytes(4, "big") + b"IHDR" + width.to_bytes(4, "big") + height.to_bytes(4, "big")


@pytest.mark.parametrize("width, height, tall", [(960, 720, False), (1350, 1149, False), (1350, 2850, True)])
def test_figures_carry_their_size_and_tall_ones_are_marked(width, height, tall):
    """A chart's pixel size is on its img; one much taller than wide is marked tall so print may give it a page."""
    document = Document("t", "", (Section("s", (Chart("chart", "A chart"),)),))
    text = to_html(document, {"chart": png_header(width, height)})
    assert f'width="{width}" height="{height}"' in text
    assert ('<figure class="tall">' in text) == tall


def test_figure_from_bytes_that_are_not_png_has_no_size():
    """Bytes that are not a PNG still make a figure, just without width and height."""
    text = to_html(Document("t", "", (Section("s", (Chart("chart", "A chart"),)),)), {"chart": b"not a png"})
    assert "<figure><img" in text and ' width="' not in text


def test_short_codes_stay_on_one_line_and_long_ones_may_break():
    """A column of short codes (hashes) is kept on one line; a column holding a long code (a file path) is not."""
    document = Document(
        "t",
        "",
        (
            Section(
                "s",
                (
                    Table(
                        "c",
                        (Column("hash", "Hash", "code"), Column("file", "File", "code")),
                        ({"hash": "774ccf2a1724", "file": "embedded:kent_lsoa_crime_2024-01_to_2024-04.csv"},),
                    ),
                ),
            ),
        ),
    )
    text = to_html(document, {})
    assert '<td class="nowrap"><code>774ccf2a1724</code></td><td><code>embedded:' in text


def _explorer(names, tiles=None, funded=()):
    from simulator.sweep_document import PointExplorer

    data = {
        "level": "District",
        "unit": "harm days",
        "names": list(names),
        "points": [
            {"label": "budget_gbp = 1", "status": "ok", "allocated": 1.0, "averted": 2.0, "eligible": 1, "funded": list(funded), "bids": []}
        ],
    }
    return Document("t", "", (Section("s", (PointExplorer("caption", data, tiles),)),))


def test_explorer_embeds_its_data_safely():
    """A name holding '</script>' cannot end the embedded JSON early: it is written as '<\\/script>' and reads back whole."""
    import json
    import re

    text = to_html(_explorer(["A</script><b>x"]), {})
    payload = re.search(r'<script type="application/json" id="sweep-data">(.*?)</script>', text, re.S).group(1)
    assert json.loads(payload)["names"] == ["A</script><b>x"]


def test_explorer_draws_a_hexagon_per_tile():
    """With a tile layout the slider's map has one polygon per area, each with its name as a tooltip."""
    text = to_html(_explorer(["Ashford", "Dover"], tiles=((0, 0), (0, 1))), {})
    assert text.count("<polygon ") == 2
    assert "<title>Dover</title>" in text
    assert 'id="sweep-bars"' not in text


def test_explorer_without_tiles_shows_bars_instead():
    """Without a tile layout (LSOAs, say) the slider shows bars of the top funded bids and no map."""
    text = to_html(_explorer(["E01000001"]), {})
    assert 'id="sweep-bars"' in text and "<svg" not in text


def test_explorer_in_markdown_points_to_the_html():
    """Markdown cannot hold a slider: it says where the slider and the same figures are."""
    assert "report.html steps through each point's allocation with a slider" in to_markdown(_explorer(["A"]), {})


def test_pages_without_an_explorer_carry_no_script():
    """A run's or a comparison's page has no script at all."""
    document = Document("t", "", (Section("s", ("text",)),))
    assert "<script" not in to_html(document, {})
