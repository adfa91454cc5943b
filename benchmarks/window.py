"""Benchmark 3: one window/level update, from a 512x512 HU slice to the PNG bytes shown.

Candidates, each called with the same sequence of windows (center 40 HU, width
stepping 350, 351, ... as a slider drag does), on the same ``int16`` HU slice (the
one lesson 4's viewer opens on, see :func:`.inputs.viewer_slice`):

- the viewer's path: :func:`helpers.image.pixels.window` (LINEAR VOI, PS3.3
  C.11.2.1.2.1) then :func:`.slider_viewer.encode_png`;
- :func:`pydicom.pixels.apply_windowing` on a VOI LUT module data set with an
  8-bit unsigned output range (so its float output is already 0-255), cast to
  ``uint8``, then the same ``encode_png``;
- what ``ipywidgets.interact`` redraws on each slider move: a new matplotlib figure
  (default size and dpi), ``imshow(cmap="gray", vmin, vmax)``, and the inline
  backend's ``print_figure(fig, "png", bbox_inches="tight")``, then ``close``;
- the whole slider-viewer update (:meth:`.slider_viewer.WindowLevelViewer.set_window`:
  window, PNG, widget state), outside a kernel: the peer of the anywidget viewer.

The browser's input-to-pixels latencies of the anywidget viewer and of the slider
viewer, measured in the same run, are read from ``output/browser/latency.json``,
written by ``tests/browser/test_viewer_browser.py`` (``make browser``).
"""

from __future__ import annotations

import itertools
import json

import numpy as np

from helpers.paths import OUTPUT_DIR

from ._common import Goal, Row, Section, interleaved

GOAL_MS = 10.0
GOAL_VS_MATPLOTLIB = 5.0
CENTER = 40.0
TIMINGS = OUTPUT_DIR / "browser" / "latency.json"
#: Goals of issue 13 for the anywidget viewer in the browser (ms).
BROWSER_GOALS = (("new: window/level drag", "median_ms", 16.0),
                 ("new: window/level drag", "max_ms", 33.0),
                 ("new: slice (wheel)", "median_ms", 33.0),
                 ("new: slice (arrow key)", "median_ms", 33.0),
                 ("new: plane switch", "max_ms", 100.0))


def _widths():
    return itertools.cycle(range(350, 450))


def candidates(hu: np.ndarray) -> dict:
    """The four update paths as zero-argument callables (each with its own width counter)."""
    import matplotlib

    matplotlib.use("Agg")  # the inline backend draws with Agg too
    import matplotlib.pyplot as plt
    from IPython.core.pylabtools import print_figure
    from pydicom.dataset import Dataset
    from pydicom.pixels import apply_windowing

    from helpers.image.pixels import window

    from .slider_viewer import WindowLevelViewer, encode_png

    w1, w2, w3, w4 = _widths(), _widths(), _widths(), _widths()

    def helpers_path() -> bytes:
        return encode_png(window(hu, CENTER, next(w1)))

    voi = Dataset()
    voi.PhotometricInterpretation = "MONOCHROME2"
    voi.BitsStored, voi.PixelRepresentation = 8, 0  # output range 0-255

    def pydicom_path() -> bytes:
        voi.WindowCenter, voi.WindowWidth = CENTER, next(w2)
        return encode_png(apply_windowing(hu, voi).astype(np.uint8))

    def matplotlib_path() -> bytes:
        w = next(w3)
        fig, ax = plt.subplots()
        ax.imshow(hu, cmap="gray", vmin=CENTER - w / 2, vmax=CENTER + w / 2)
        png = print_figure(fig, "png", bbox_inches="tight")
        plt.close(fig)
        return png

    viewer = WindowLevelViewer(hu, center=CENTER, width=350, units="HU")

    def viewer_path() -> None:
        viewer.set_window(CENTER, next(w4))

    return {
        "helpers: window + encode_png": helpers_path,
        "pydicom apply_windowing + encode_png": pydicom_path,
        "matplotlib re-render (interact, inline PNG)": matplotlib_path,
        "slider viewer set_window (incl. widget state)": viewer_path,
    }


def browser_timing() -> dict | None:
    """What the browser test recorded, or None when it has not run."""
    try:
        return json.loads(TIMINGS.read_text())
    except (OSError, ValueError):
        return None


def run(repeat: int = 50) -> Section:
    """Time every update path ``repeat`` times (interleaved), return the section."""
    from pydicom.dataset import Dataset
    from pydicom.pixels import apply_windowing

    from helpers.image.pixels import window

    from .inputs import viewer_slice
    from .slider_viewer import decode_png, encode_png

    hu, where = viewer_slice()
    cands = candidates(hu)
    times = interleaved(cands, repeat, warmup=3)

    section = Section("3. Window/level update (512x512 HU slice to PNG bytes)", unit="ms")
    # agreement: helpers' pixels vs pydicom's, and the PNG round trip
    voi = Dataset()
    voi.PhotometricInterpretation, voi.BitsStored, voi.PixelRepresentation = "MONOCHROME2", 8, 0
    voi.WindowCenter, voi.WindowWidth = CENTER, 400
    ours = window(hu, CENTER, 400)
    theirs = apply_windowing(hu, voi).astype(np.uint8)
    png = encode_png(window(hu, CENTER, 350))
    size = len(png)
    round_trip = np.array_equal(decode_png(png), window(hu, CENTER, 350))
    section.notes += [
        f"Slice: {where}, {hu.shape[0]}x{hu.shape[1]} {hu.dtype} HU; {repeat} interleaved repeats, "
        f"window center {CENTER:g}, width 350, 351, ...; PNG {size / 1024:.0f} KiB.",
        f"helpers.image.pixels.window vs pydicom apply_windowing at (40, 400): "
        f"{int(np.count_nonzero(ours != theirs))} pixels differ; "
        f"PNG decodes back to the windowed array: {round_trip}.",
    ]
    for name, (walls, cpus) in times.items():
        section.rows.append(Row(name, walls, cpus))
    ours_t = section.row("helpers: window + encode_png").median
    pyd = section.row("pydicom apply_windowing + encode_png").median / ours_t
    mpl = section.row("matplotlib re-render (interact, inline PNG)").median / ours_t
    full = section.row("slider viewer set_window (incl. widget state)").median
    section.ratios += [("helpers vs pydicom apply_windowing (speed-up)", pyd),
                       ("helpers vs matplotlib re-render (speed-up)", mpl)]
    browser = browser_timing()
    if browser:
        import datetime

        when = datetime.datetime.fromtimestamp(TIMINGS.stat().st_mtime, datetime.UTC)
        section.notes.append(
            f"Browser input-to-pixels (tests/browser, headless Chromium, volume "
            f"{browser['meta']['volume']}, recorded {when:%Y-%m-%d %H:%M} UTC), median / max ms: "
            + "; ".join(f"{k} {v['median_ms']} / {v['max_ms']} (n={v['n']})"
                        for k, v in browser["results"].items()) + ".")
    else:
        section.notes.append("Browser input-to-pixels: not recorded (run `make browser`, which "
                             "writes output/browser/latency.json).")
    section.goals += [
        Goal("window: helpers update, median", f"{ours_t * 1e3:.2f} ms", f"< {GOAL_MS:g} ms",
             ours_t * 1e3 < GOAL_MS),
        Goal("window: full viewer update, median (report)", f"{full * 1e3:.2f} ms",
             f"< {GOAL_MS:g} ms", full * 1e3 < GOAL_MS),
        Goal("window: helpers vs matplotlib re-render", f"{mpl:.1f}x",
             f">= {GOAL_VS_MATPLOTLIB:g}x", mpl >= GOAL_VS_MATPLOTLIB),
        Goal("window: helpers vs pydicom apply_windowing (report)", f"{pyd:.1f}x", "report",
             None),
    ]
    results = browser["results"] if browser else {}
    for name, stat, goal in BROWSER_GOALS:
        got = results.get(name, {}).get(stat)
        section.goals.append(Goal(f"viewer in the browser: {name}, {stat.removesuffix('_ms')}",
                                  "not recorded" if got is None else f"{got} ms",
                                  f"<= {goal:g} ms", None if got is None else got <= goal))
    old_wl = results.get("old: window/level (width slider drag)", {}).get("median_ms")
    new_wl = results.get("new: window/level drag", {}).get("median_ms")
    if old_wl and new_wl:
        section.goals.append(Goal("viewer in the browser: W/L median, slider viewer / new",
                                  f"{old_wl / new_wl:.1f}x", "report", None))
    return section
