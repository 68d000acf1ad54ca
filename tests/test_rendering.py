"""Rendering a document: HTML without charts, Markdown tables, and how each kind of cell is formatted."""

from __future__ import annotations

import pytest

from simulator.document import Chart, Column, Document, Section, Table, run_document
from simulator.rendering import format_value, to_html, to_markdown


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


@pytest.mark.parametrize("value, kind, text", [
    (1234567.891, "gbp", "£1,234,568"), (122212.4, "days", "122,212"), (12.274, "decimal", "12.27"),
    (94.66, "pct", "94.7 %"), (0.1764, "share", "17.6 %"), (True, "flag", "yes"), ("false", "flag", "no"),
    (None, "gbp", ""), (None, "flag", "n/a"),
])
def test_format_value(value, kind, text):
    """Cells read as a planner writes them."""
    assert format_value(value, kind) == text
