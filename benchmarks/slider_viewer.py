"""The slider viewer: the peer the anywidget viewer's latency is measured against.

An earlier design of the workbook's viewer, kept only as a benchmark peer (no lesson
uses it): ipywidgets sliders and a preset menu; every change windows the plane in
Python (:func:`helpers.image.pixels.window`) and sends a PNG to the page. It shows
what :func:`helpers.image.viewer.prepare` prepares, exactly as the anywidget viewer
does, so the two differ only in where the window is applied. ``benchmarks/window.py``
times its update; ``tests/browser`` measures it in the page next to the new viewer.
"""

from __future__ import annotations

import io
import statistics
import time

import numpy as np

from helpers.image import presets as _presets
from helpers.image.pixels import window, window_bounds
from helpers.image.viewer import Viewer, prepare

__all__ = ["WindowLevelViewer", "encode_png", "decode_png", "measure_updates", "CUSTOM"]

CUSTOM = "(custom)"


def encode_png(image: np.ndarray, compress_level: int = 1) -> bytes:
    """Encode a 2D ``uint8`` array as an 8-bit greyscale PNG (lossless, fast)."""
    from PIL import Image

    arr = np.ascontiguousarray(image, dtype=np.uint8)
    if arr.ndim != 2:
        raise ValueError(f"encode_png expects a 2D image, got shape {arr.shape}")
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def decode_png(data: bytes) -> np.ndarray:
    """Decode PNG bytes (as the slider viewer sends them) back to a 2D ``uint8`` array."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("L") if im.mode != "L" else im).copy()


class WindowLevelViewer:
    """Window/level sliders, a preset picker and (for volumes) plane and slice controls.

    ``image`` and the options are those of :class:`helpers.image.viewer.Viewer`
    (``units="HU"`` gives a plain array the CT presets). ``size`` is the longer side
    of the picture on screen in CSS pixels; a picture more than twice as large is
    decimated by :attr:`stride`. The state is in ``center``, ``width``, ``plane`` and
    ``index``; :meth:`render` returns the displayed 8-bit image; ``update_seconds``
    keeps the Python-side time of each update (window + PNG + sending).
    """

    def __init__(self, image: object, *, center: float | None = None,
                 width: float | None = None, preset: str | None = None,
                 photometric: str | None = None, pixel_mm: tuple[float, float] | None = None,
                 units: str | None = None, plane: str | None = None, index: int | None = None,
                 size: int = 512) -> None:
        import ipywidgets as w

        self._data = data = prepare(image, photometric, pixel_mm, units)
        self.size = int(size)
        self.update_seconds: list[float] = []
        self._busy = False
        lo, hi = data.value_range
        self._choices = _presets.menu(data.windows, ct=data.units == "HU")
        if preset is not None:
            chosen = next((p for k, p in self._choices.items() if preset in k.split(" = ")),
                          None) or _presets.get(preset)
            center = chosen.center if center is None else center
            width = chosen.width if width is None else width
        default = next(iter(self._choices.values()), None) or \
            _presets.Preset("full range", (lo + hi + 1) / 2, max(hi - lo + 1, 1.0))
        center = default.center if center is None else center
        width = default.width if width is None else width

        span = max(hi - lo, 1.0)
        style = {"description_width": "60px"}
        self.center_slider = w.FloatSlider(
            value=float(center), min=float(np.floor(min(lo, center) - span / 2)),
            max=float(np.ceil(max(hi, center) + span / 2)), step=1.0, description="center",
            continuous_update=True, readout_format=".0f", style=style,
            layout=w.Layout(width="460px"))
        self.width_slider = w.FloatSlider(
            value=float(width), min=1.0, max=float(np.ceil(max(2 * span, width))), step=1.0,
            description="width", continuous_update=True, readout_format=".0f", style=style,
            layout=w.Layout(width="460px"))
        self.preset_picker = w.Dropdown(
            options=[CUSTOM, *self._choices], value=CUSTOM, description="preset", style=style,
            layout=w.Layout(width="300px"))
        self.center_slider.add_class("wl-center")
        self.width_slider.add_class("wl-width")
        self.preset_picker.add_class("wl-preset")
        plane = plane or data.planes[0]
        self.plane_picker = w.ToggleButtons(options=list(data.planes), value=plane,
                                            description="plane", style=style)
        self.plane_picker.add_class("wl-plane")
        count = data.count(plane)
        self.index_slider = w.IntSlider(
            value=count // 2 if index is None else int(index), min=0, max=max(count - 1, 0),
            description="slice" if len(data.planes) > 1 else "frame", continuous_update=True,
            style=style, layout=w.Layout(width="460px"))
        self.index_slider.add_class("wl-index")
        self.image = w.Image(format="png")
        self.image.add_class("wl-image")
        self.status = w.HTML()
        self.status.add_class("wl-status")

        controls = [w.HBox([self.preset_picker]), self.center_slider, self.width_slider]
        if len(data.planes) > 1:
            controls.append(self.plane_picker)
        if len(data.planes) > 1 or count > 1:
            controls.append(self.index_slider)
        self.widget = w.VBox([*controls, self.status, self.image])
        self.widget.add_class("wl-viewer")

        for slider in (self.center_slider, self.width_slider):
            slider.observe(self._on_window, names="value")
        self.preset_picker.observe(self._on_preset, names="value")
        self.plane_picker.observe(self._on_plane, names="value")
        self.index_slider.observe(self._on_index, names="value")
        self._sync_picker()
        self.update()

    # -- state ----------------------------------------------------------------------------
    # A browser slider may send back a value with floating-point noise
    # (1499.9999999999998 for 1500); the window uses the value rounded to 1e-6.
    @property
    def center(self) -> float:
        return round(float(self.center_slider.value), 6) + 0.0

    @property
    def width(self) -> float:
        return round(float(self.width_slider.value), 6) + 0.0

    @property
    def plane(self) -> str:
        return str(self.plane_picker.value)

    @property
    def index(self) -> int:
        return int(self.index_slider.value)

    @property
    def photometric(self) -> str:
        return self._data.photometric

    @property
    def stride(self) -> int:
        """Pictures more than twice ``size`` on their longer side are shown decimated
        by this integer stride (one stored pixel per shown pixel, no interpolation)."""
        return max(1, -(-max(self._data.values(self.plane, self.index).shape)
                        // (2 * self.size)))

    def shown_values(self) -> np.ndarray:
        """The modality values behind the displayed pixels."""
        s = self.stride
        return self._data.values(self.plane, self.index)[::s, ::s]

    def render(self) -> np.ndarray:
        """``window(shown_values(), center, width, photometric)``."""
        return window(self.shown_values(), self.center, self.width, self.photometric)

    def set_window(self, center: float, width: float) -> None:
        """Move both sliders, rendering once."""
        self._busy = True
        try:
            self.center_slider.value = float(center)
            self.width_slider.value = float(width)
        finally:
            self._busy = False
        self._sync_picker()
        self.update()

    # -- events ---------------------------------------------------------------------------
    def _on_window(self, _change: dict) -> None:
        if not self._busy:
            self._sync_picker()
            self.update()

    def _on_preset(self, change: dict) -> None:
        if self._busy or change["new"] == CUSTOM:
            return
        p = self._choices[change["new"]]
        self._busy = True
        try:
            self.center_slider.value = float(p.center)
            self.width_slider.value = float(p.width)
        finally:
            self._busy = False
        self.update()

    def _on_plane(self, _change: dict) -> None:
        n = self._data.count(self.plane)
        self._busy = True
        try:
            self.index_slider.max = n - 1
            self.index_slider.value = n // 2
        finally:
            self._busy = False
        self.update()

    def _on_index(self, _change: dict) -> None:
        if not self._busy:
            self.update()

    def _sync_picker(self) -> None:
        match = next((k for k, p in self._choices.items()
                      if p.center == self.center and p.width == self.width), CUSTOM)
        if self.preset_picker.value != match:
            self._busy = True
            try:
                self.preset_picker.value = match
            finally:
                self._busy = False

    # -- drawing --------------------------------------------------------------------------
    def status_text(self) -> str:
        left, right = window_bounds(self.center, self.width)
        where = (f"{self.plane} {self.index + 1}/{self.index_slider.max + 1} · "
                 if len(self._data.planes) > 1 or self.index_slider.max > 0 else "")
        ends = "white→black" if self.photometric == "MONOCHROME1" else "black→white"
        scale = f" · shown 1:{self.stride}" if self.stride > 1 else ""
        unit = f" {self._data.units}" if self._data.units else ""
        return (f"{where}C={self.center:g} W={self.width:g} · "
                f"grey ramp {left:g} … {right:g}{unit} ({ends}){scale}")

    def update(self) -> None:
        """Re-render the picture and the status line for the current state."""
        start = time.perf_counter()
        png = encode_png(self.render())
        rows, cols = self._data.values(self.plane, self.index).shape
        ph, pw = self._data.pixel_mm(self.plane)
        scale = self.size / max(rows * ph, cols * pw)
        self.image.layout.width = f"{max(1, round(cols * pw * scale))}px"
        self.image.layout.height = f"{max(1, round(rows * ph * scale))}px"
        self.image.value = png
        self.status.value = f"<span class='wl-status-text'>{self.status_text()}</span>"
        self.update_seconds.append(time.perf_counter() - start)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def measure_updates(viewer: Viewer | WindowLevelViewer, n: int = 50) -> float:
    """Median Python-side seconds per window change over ``n`` changes (a width sweep).

    For the slider viewer that is windowing, PNG encoding and sending; for
    :class:`helpers.image.viewer.Viewer` it is setting the synced traits plus Python's
    reference :meth:`~helpers.image.viewer.Viewer.render` (the browser windows itself)."""
    c, w = viewer.center, viewer.width
    times = []
    for k in range(n):
        start = time.perf_counter()
        viewer.set_window(c, w + 1 + k)
        if isinstance(viewer, Viewer):
            viewer.render()
        times.append(time.perf_counter() - start)
    viewer.set_window(c, w)
    return statistics.median(times)
