"""The HTML reports in a real browser: nothing overflows on screen or on A4, and the printed pages are well filled.

Headless Chromium lays out the Kent baseline, the Kent LSOA run and the baseline-against-surge comparison.
On screen, a small script added to a copy of each page measures overflow and writes it into the DOM, read back
with --dump-dom. In print, poppler's pdftotext reads where every word landed on the A4 pages. Skipped when
Chromium or poppler-utils is not installed.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import REPO

import simulator
from simulator.rendering import TALL_RATIO

CHROMIUM = shutil.which("chromium")
POPPLER = shutil.which("pdftotext")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed: apt-get install chromium"),
    pytest.mark.skipif(POPPLER is None, reason="pdftotext is not installed: apt-get install poppler-utils"),
]

REPORTS = ("kent", "lsoa", "comparison")
SCREEN_WIDTHS = (1280, 800, 703)  # a wide screen, a narrow one, and A4's text width (186 mm at 96 px per inch)
POINTS_PER_MM = 72 / 25.4
SIDE_MARGIN_MM = 12
BOTTOM_MARGIN_MM = 14
FOOT_MM = 30
MIN_FILL = 0.55  # every page but the last has text at least this far down it
MAX_FIGURE_MM = 120  # a printed chart no taller than this, unless it is much taller than wide

PROBE = """<script>
window.addEventListener("load", function () {
  var root = document.documentElement, view = root.clientWidth, found = [];
  function name(element) { return element.tagName + ": " + (element.textContent || "").trim().slice(0, 60); }
  document.querySelectorAll("body *").forEach(function (element) {
    var box = element.getBoundingClientRect();
    if (box.width > 0 && box.right > view + 1 && !element.closest(".table-frame")) found.push("past the window: " + name(element));
  });
  document.querySelectorAll("table").forEach(function (table) {
    if (table.getBoundingClientRect().width > table.parentElement.clientWidth + 1) found.push("wider than its frame: " + name(table));
    table.querySelectorAll("th, td").forEach(function (cell) {
      if (cell.scrollWidth > cell.clientWidth + 1) found.push("text spills out of a cell: " + name(cell));
    });
  });
  var out = document.createElement("pre");
  out.id = "overflow-probe";
  out.textContent = JSON.stringify({document: root.scrollWidth - view, found: found});
  document.body.appendChild(out);
});
</script>"""


def chromium(*arguments: str, profile: Path) -> str:
    """Run headless Chromium with a throwaway profile and no network chatter; return what it printed."""
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *arguments,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout


def measure(page: Path, width: int, work: Path) -> dict:
    """Overflow of the page laid out in a window `width` px wide, as measured by the probe script."""
    copy = work / f"{page.parent.name}-{width}.html"
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = chromium(
        f"--window-size={width},2000", "--virtual-time-budget=5000", "--dump-dom", copy.as_uri(), profile=work / f"profile-{copy.stem}"
    )
    found = re.search(r'<pre id="overflow-probe">(.*?)</pre>', dom, re.S)
    assert found, f"the probe did not run in {copy}"
    return json.loads(html.unescape(found.group(1)))


def print_pdf(page: Path, work: Path) -> Path:
    """The page printed to PDF by Chromium, as a reader would print it (A4 from the page's own @page rule)."""
    pdf = work / f"{page.parent.name}.pdf"
    chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri(), profile=work / f"profile-{pdf.stem}")
    return pdf


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """report.html of the Kent baseline, the Kent LSOA run (with charts) and a comparison, built through the API."""
    out = tmp_path_factory.mktemp("reports")
    baseline = simulator.load_scenario(REPO / "scenarios" / "kent-baseline.toml")
    folders = {
        "kent": simulator.write_run(simulator.run(baseline), out / "kent"),
        "lsoa": simulator.write_run(simulator.run(simulator.load_scenario(REPO / "scenarios" / "kent-lsoa-2024.toml")), out / "lsoa"),
        "comparison": simulator.write_comparison(
            simulator.compare([baseline, simulator.load_scenario(REPO / "scenarios" / "kent-maidstone-violence-surge.toml")]),
            out / "comparison",
        ),
    }
    return {name: folder / "report.html" for name, folder in folders.items()}


@pytest.fixture(scope="module")
def browser(pages, tmp_path_factory) -> dict:
    """Every measurement and print, run side by side: ("screen", report, width) -> overflow, ("pdf", report) -> path."""
    work = tmp_path_factory.mktemp("browser")
    jobs = {("screen", name, width): (measure, pages[name], width, work) for name in REPORTS for width in SCREEN_WIDTHS}
    jobs.update({("pdf", name): (print_pdf, pages[name], work) for name in REPORTS})
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {key: pool.submit(*job) for key, job in jobs.items()}
        return {key: future.result() for key, future in futures.items()}


def words(pdf: Path) -> list[dict]:
    """Each printed page: its size and every word with its box, in points (pdftotext -bbox)."""
    text = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    result = []
    for width, height, body in re.findall(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', text, re.S):
        boxes = [
            {"x_min": float(x0), "y_min": float(y0), "x_max": float(x1), "y_max": float(y1), "text": html.unescape(word)}
            for x0, y0, x1, y1, word in re.findall(
                r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', body
            )
        ]
        result.append({"width": float(width), "height": float(height), "words": boxes})
    return result


@pytest.mark.parametrize("width", SCREEN_WIDTHS)
@pytest.mark.parametrize("name", REPORTS)
def test_nothing_overflows_on_screen(browser, name, width):
    """At 1280 px, 800 px and A4's text width no element sticks out of the window, no table out of its frame, no text out of its cell."""
    measured = browser[("screen", name, width)]
    assert measured["document"] <= 0, measured
    assert measured["found"] == [], measured["found"][:10]


@pytest.mark.parametrize("name", REPORTS)
def test_printed_words_stay_inside_the_page_margins(browser, name):
    """On A4 every printed word lies between the left and right margins: no table is cut off at the page edge."""
    pages = words(browser[("pdf", name)])
    assert pages, "the PDF has pages"
    tolerance = 1 * POINTS_PER_MM
    for number, page in enumerate(pages, start=1):
        left, right = SIDE_MARGIN_MM * POINTS_PER_MM - tolerance, page["width"] - SIDE_MARGIN_MM * POINTS_PER_MM + tolerance
        outside = [word["text"] for word in page["words"] if word["x_min"] < left or word["x_max"] > right]
        assert outside == [], f"page {number}: {outside[:10]}"


def test_interventions_evidence_is_printed_whole(browser, kent_result):
    """Each intervention's evidence and source, the table's last and longest column, is on paper to its last word (a row
    that long may break across pages, where the table's header is repeated)."""
    from simulator.document import run_document

    table = next(
        block
        for section in run_document(kent_result, "kent").sections
        for block in section.blocks
        if getattr(block, "caption", "") == "Interventions this round funds"
    )
    printed = re.sub(
        r"\s+",
        "",
        subprocess.run(["pdftotext", "-raw", str(browser[("pdf", "kent")]), "-"], capture_output=True, text=True, check=True).stdout,
    )
    header = re.sub(r"\s+", "", " ".join(column.title for column in table.columns))
    printed = printed.replace(header, "")  # the header a page break repeats, even inside a long row
    last = table.columns[-1].key
    for row in table.rows:
        assert re.sub(r"\s+", "", row[last]) in printed, row[last]


@pytest.mark.parametrize("name", REPORTS)
def test_no_page_but_the_last_is_left_half_empty(browser, name):
    """Every printed page but the last is filled at least MIN_FILL of the way down."""
    pages = words(browser[("pdf", name)])
    fills = [max((word["y_max"] for word in page["words"]), default=0) / page["height"] for page in pages]
    assert all(fill >= MIN_FILL for fill in fills[:-1]), [round(fill, 2) for fill in fills]


@pytest.mark.parametrize("name", REPORTS)
def test_printed_charts_take_at_most_part_of_a_page(browser, name):
    """A chart prints at most MAX_FIGURE_MM tall, so it cannot push a half page of space before it; only a chart much taller than wide may take a page."""
    listing = subprocess.run(["pdfimages", "-list", str(browser[("pdf", name)])], capture_output=True, text=True, check=True).stdout
    images = [line.split() for line in listing.splitlines()[2:] if line.strip()]
    assert images, "the report prints its charts"
    for image in images:
        width, height, ppi = int(image[3]), int(image[4]), float(image[13])
        if height <= TALL_RATIO * width:
            assert height / ppi * 25.4 <= MAX_FIGURE_MM, image


def test_a_table_over_several_pages_repeats_its_header(browser):
    """Every printed page holding rows of the LSOA report's eligible-areas table starts them under its header row."""
    printed = [[line for _, line in page_lines(page)] for page in words(browser[("pdf", "lsoa")])]
    row = re.compile(r" yes [\d.]+ % (clear|marginal) eligible:")
    holding = [lines for lines in printed if any(row.search(line) for line in lines)]
    assert len(holding) >= 2, "the table runs over several pages"
    for lines in holding:
        assert "Area Eligible Chance of Verdict Why" in lines, lines[:3]


@pytest.mark.parametrize("name", REPORTS)
def test_headings_and_captions_are_not_left_at_the_foot_of_a_page(browser, pages, name):
    """No section heading or table caption sits in a page's last FOOT_MM with fewer than three lines after it there."""
    text = pages[name].read_text(encoding="utf-8")
    titles = [
        html.unescape(re.sub(r"<.*?>", "", title)).strip()[:25]
        for title in re.findall(r"<h2>(.*?)</h2>", text) + re.findall(r"<caption>(.*?)(?:<span|</caption>)", text)
    ]
    printed = words(browser[("pdf", name)])
    for number, page in enumerate(printed[:-1], start=1):
        lines = page_lines(page)
        foot = page["height"] - (BOTTOM_MARGIN_MM + FOOT_MM) * POINTS_PER_MM
        for index, (top, line) in enumerate(lines):
            if top > foot and any(line.startswith(title) for title in titles):
                assert len(lines) - index - 1 >= 3, f"page {number} ends with {[line for _, line in lines[index:]]}"


def page_lines(page: dict) -> list[tuple[float, str]]:
    """A page's words joined into lines, top to bottom: (top in points, text)."""
    lines: list[tuple[float, list[dict]]] = []
    for word in sorted(page["words"], key=lambda word: (word["y_min"], word["x_min"])):
        if lines and abs(word["y_min"] - lines[-1][0]) < 2:
            lines[-1][1].append(word)
        else:
            lines.append((word["y_min"], [word]))
    return [(top, " ".join(word["text"] for word in sorted(line, key=lambda word: word["x_min"]))) for top, line in lines]
