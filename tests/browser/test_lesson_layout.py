"""At 1280 x 720 no table of a committed lesson scrolls sideways (issue 20).

JupyterLab 4 at 1280 x 720, file browser collapsed, gives a cell's output an area about
848 px wide. Every HTML table a lesson shows (a pandas DataFrame) is laid out by Chromium
with JupyterLab's own rules for rendered tables (``.jp-RenderedHTMLCommon table``:
13 px UI font, 0.5 em padding, text wrapping at spaces) in an area of that width, and
must fit it. Printed text is not measured: JupyterLab wraps it (``pre-wrap``).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
OUTPUT_AREA_PX = 848
#: JupyterLab 4.x, packages/rendermime/style/base.css (tables of rendered HTML).
JUPYTERLAB_TABLE_CSS = f"""
body {{ margin: 0; font-family: system-ui, -apple-system, 'Segoe UI', helvetica, arial,
        sans-serif; }}
.out {{ width: {OUTPUT_AREA_PX}px; overflow-x: auto; font-size: 13px; }}
.out table {{ border-collapse: collapse; border-spacing: 0; border: none; font-size: 13px;
              table-layout: fixed; margin: 0 0 1em 0; }}
.out td, .out th, .out tr {{ vertical-align: middle; padding: 0.5em; line-height: normal;
              white-space: normal; max-width: none; border: none; text-align: right; }}
.out th {{ font-weight: bold; }}
"""


def tables(lesson: Path) -> list[tuple[int, str]]:
    """(cell index, HTML) of every table output of ``lesson``."""
    found = []
    for i, cell in enumerate(nbformat.read(lesson, as_version=4).cells):
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html", "")
            if "<table" in html:
                found.append((i, html))
    return found


@pytest.mark.browser
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_no_table_scrolls_sideways(browser, lesson: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        too_wide = []
        for i, html in tables(lesson):
            page.set_content(f"<style>{JUPYTERLAB_TABLE_CSS}</style><div class='out'>{html}</div>")
            width = page.evaluate("document.querySelector('.out').scrollWidth")
            if width > OUTPUT_AREA_PX:
                too_wide.append(f"cell {i}: {width} px")
        assert not too_wide, (f"{lesson.name}: tables wider than the {OUTPUT_AREA_PX} px "
                              f"output area: {too_wide}")
    finally:
        page.close()
