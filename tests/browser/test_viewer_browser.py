"""The window/level viewer of lesson 3, in a real browser.

JupyterLab (started by the fixture) serves a copy of lesson 3; headless Chromium
opens it, waits for an idle kernel, runs all cells, then drags the center and
width sliders and picks a preset. After each change the status line must show
the new window, and the picture on the page -- the PNG bytes behind the ``<img>``,
fetched from its blob URL and decoded -- must equal ``helpers.pixels.window`` of the
plane's HU values for the window the status line shows, computed here
independently from the DICOM files. Screenshots go to ``output/browser/``; the
drag-to-pixels times go to ``output/browser/timings.json``.
"""

from __future__ import annotations

import base64
import json
import re
import statistics
import time

import numpy as np
import pytest

from helpers import data
from helpers.pixels import window
from helpers.viewer import decode_png
from helpers.volume import load_series

pytestmark = pytest.mark.browser

LESSON = "03_image_properties.ipynb"
STATUS = re.compile(
    r"(?P<plane>axial|coronal|sagittal) (?P<index>\d+)/(?P<count>\d+) · "
    r"C=(?P<c>-?[\d.]+) W=(?P<w>[\d.]+)")
IMG = ".wl-viewer img.wl-image"

FETCH_IMG = """async (sel) => {
    const img = document.querySelector(sel);
    const buf = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
    let s = ''; for (const b of buf) s += String.fromCharCode(b);
    return btoa(s);
}"""

# Record when the pointer/keyboard acts and when the <img> finishes loading new pixels.
INSTALL_PROBE = """(sel) => {
    const probe = window.__wl = {input: [], loads: []};
    for (const type of ['pointermove', 'pointerdown', 'keydown']) {
        document.addEventListener(type, () => probe.input.push(performance.now()), true);
    }
    const img = document.querySelector(sel);
    img.addEventListener('load', () => probe.loads.push(performance.now()));
}"""


@pytest.fixture(scope="module")
def volume():
    """The series the lesson's viewer shows (the synthetic axial CT)."""
    return load_series(data.ct_series("axial"))


def status(page) -> dict:
    text = page.locator(".wl-viewer .wl-status").first.inner_text()
    m = STATUS.search(text)
    assert m, f"status line not understood: {text!r}"
    return {"plane": m["plane"], "index": int(m["index"]) - 1,
            "center": float(m["c"]), "width": float(m["w"]), "text": text}


def shown_pixels(page) -> np.ndarray:
    return decode_png(base64.b64decode(page.evaluate(FETCH_IMG, IMG)))


def expected_pixels(volume, st: dict) -> np.ndarray:
    values = volume.plane(st["plane"], st["index"]).image
    return window(values, st["center"], st["width"], volume.photometric)


def settle(page, volume, timeout: float = 20.0) -> tuple[dict, np.ndarray]:
    """Wait until the picture equals window() for the state the status line shows
    and nothing changes any more; return that state and the picture."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        st = status(page)
        shown = shown_pixels(page)
        key = (st["text"], shown.tobytes())
        if key == last and np.array_equal(shown, expected_pixels(volume, st)):
            return st, shown
        last = key
        page.wait_for_timeout(300)
    st, shown = status(page), shown_pixels(page)
    bad = int((shown != expected_pixels(volume, st)).sum()) if shown.shape == \
        expected_pixels(volume, st).shape else "shape differs"
    raise AssertionError(f"picture never matched window() for {st['text']!r}: {bad} pixels")


def drag(page, slider_class: str, dx: float, steps: int = 12) -> None:
    handle = page.locator(f".wl-viewer .{slider_class} .noUi-handle").first
    box = handle.bounding_box()
    assert box, f"no handle for {slider_class}"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for k in range(1, steps + 1):
        page.mouse.move(x + dx * k / steps, y)
        page.wait_for_timeout(30)
    page.mouse.up()


def run_all_cells(page, timeout_ms: int = 180_000) -> None:
    page.wait_for_selector(".jp-NotebookPanel", timeout=timeout_ms)
    # the kernel must be ready before "Run All Cells"
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                           timeout=timeout_ms)
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=timeout_ms)
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
    page.wait_for_selector(IMG, state="attached", timeout=timeout_ms)
    # every cell has run: no "[*]" prompt left and the kernel is idle again
    page.wait_for_function(
        """() => ![...document.querySelectorAll('.jp-InputPrompt')]
                  .some(p => p.textContent.includes('*'))""", timeout=timeout_ms)
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=timeout_ms)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    tracebacks = [t for t in errors.all_inner_texts() if "Traceback" in t or "Error" in t]
    assert not tracebacks, f"cells raised: {tracebacks[:1]}"


def test_viewer_drag_and_preset_show_exact_pixels(lab_with_lesson3, browser, volume,
                                                   screenshots):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(lab_with_lesson3.url(f"lab/tree/{LESSON}"))
    run_all_cells(page)
    viewer = page.locator(".wl-viewer").first
    viewer.scroll_into_view_if_needed()
    start, start_pixels = settle(page, volume)
    preset = page.locator(".wl-viewer .wl-preset select").first
    assert (start["center"], start["width"]) == (50, 350)  # the lesson opens on mediastinum
    assert preset.input_value() == "mediastinum"
    viewer.screenshot(path=str(screenshots / "viewer_before.png"))

    # drag the center slider to the right: status and picture follow
    drag(page, "wl-center", 25)
    after_center, pixels = settle(page, volume)
    assert after_center["center"] > start["center"]
    assert after_center["width"] == start["width"]
    assert not np.array_equal(pixels, start_pixels)
    assert preset.input_value() == "(custom)"
    viewer.screenshot(path=str(screenshots / "viewer_after_center_drag.png"))

    # drag the width slider to the left
    drag(page, "wl-width", -20)
    after_width, pixels2 = settle(page, volume)
    assert after_width["width"] < after_center["width"]
    assert after_width["center"] == after_center["center"]
    assert not np.array_equal(pixels2, pixels)
    viewer.screenshot(path=str(screenshots / "viewer_after_width_drag.png"))

    # a preset
    preset.select_option("lung")
    lung, pixels3 = settle(page, volume)
    assert (lung["center"], lung["width"]) == (-600, 1500)
    assert preset.input_value() == "lung"
    assert not np.array_equal(pixels3, pixels2)
    viewer.screenshot(path=str(screenshots / "viewer_after_lung_preset.png"))

    # drag-to-pixels latency: one pointer step at a time, until the new image loads
    page.evaluate(INSTALL_PROBE, IMG)
    handle = page.locator(".wl-viewer .wl-center .noUi-handle").first
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    latencies = []
    for k in range(1, 16):
        before = page.evaluate("() => window.__wl.loads.length")
        page.mouse.move(x + 4 * k, y)
        t_input = page.evaluate("() => window.__wl.input[window.__wl.input.length - 1]")
        page.wait_for_function(f"() => window.__wl.loads.length > {before}", timeout=10_000)
        t_load = page.evaluate("() => window.__wl.loads[window.__wl.loads.length - 1]")
        latencies.append(t_load - t_input)
    page.mouse.up()
    final, _ = settle(page, volume)
    shape = list(expected_pixels(volume, final).shape)
    result = {"drag_to_pixels_ms_median": round(statistics.median(latencies), 1),
              "drag_to_pixels_ms_max": round(max(latencies), 1),
              "steps": len(latencies), "image_shape": shape}
    (screenshots / "timings.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"drag-to-pixels: {result}")
    page.close()
