"""An interactive window/level viewer for a 2D image or a 3D volume (ipywidgets).

Drag *center* and *width* (or pick a preset) and the picture changes at once; for a
volume, choose the plane (axial, coronal, sagittal) and scroll the slices. Each
update windows the modality values with :func:`helpers.pixels.window` (the LINEAR
VOI function of PS3.3 C.11.2.1.2.1, identical to DCMTK's ``dcm2pnm +Ww``) and
sends a losslessly compressed PNG to an ``ipywidgets.Image``, so what the browser
shows is exactly that 8-bit array. The browser scales the picture to the physical
aspect of the pixels (from Pixel Spacing and the slice spacing).

Usage (put it last in a cell, or pass it to ``display``)::

    from helpers.viewer import show
    show(ds)                     # a pydicom Dataset (single- or multi-frame)
    show(hu_array, center=40, width=400)
    show(volume, preset="lung")  # a helpers.volume.Volume: plane + slice controls
"""

from __future__ import annotations

import io
import os
import statistics
import time
from dataclasses import dataclass, replace

import numpy as np
from pydicom.dataset import Dataset

from . import presets as _presets
from .pixels import MONOCHROME, to_hu, window, window_bounds
from .volume import PLANES, Volume

__all__ = ["WindowLevelViewer", "show", "encode_png", "decode_png", "measure_updates"]

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
    """Decode PNG bytes (as the viewer sends them) back to a 2D ``uint8`` array."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("L") if im.mode != "L" else im).copy()


@dataclass(frozen=True)
class _Source:
    """What the viewer shows: a stack of planes or one image, with geometry."""

    volume: Volume | None
    frames: np.ndarray | None  # (n, rows, cols) when no geometry (2D or multi-frame)
    pixel_mm: tuple[float, float]
    photometric: str
    header_windows: tuple[_presets.Preset, ...]
    ct: bool
    label: str


def _compact(values: np.ndarray) -> np.ndarray:
    """Whole-number values as int16/uint16 when they fit, so windowing is a table lookup."""
    if values.dtype.kind == "f" and values.size and np.all(values == np.trunc(values)):
        lo, hi = values.min(), values.max()
        for dtype in (np.int16, np.uint16):
            info = np.iinfo(dtype)
            if info.min <= lo and hi <= info.max:
                return values.astype(dtype)
    return values


def _from_dataset(ds: Dataset) -> _Source:
    hu = _compact(to_hu(ds))
    frames = hu if hu.ndim == 3 else hu[np.newaxis]
    spacing = ds.get("PixelSpacing") or ds.get("ImagerPixelSpacing")
    pixel_mm = (1.0, 1.0)
    if spacing is not None and len(spacing) == 2 and float(spacing[0]) > 0 and \
            float(spacing[1]) > 0:
        pixel_mm = (float(spacing[0]), float(spacing[1]))
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
    return _Source(None, frames, pixel_mm, photometric, tuple(_presets.from_header(ds)),
                   ds.get("Modality") == "CT", str(ds.get("Modality", "")))


def _source(obj: object, photometric: str | None, pixel_mm: tuple[float, float] | None,
            ct: bool | None) -> _Source:
    if isinstance(obj, str | os.PathLike):
        from .dicomio import read

        obj = read(obj)
    if isinstance(obj, Dataset):
        src = _from_dataset(obj)
    elif isinstance(obj, Volume):
        src = _Source(obj, None, (1.0, 1.0), obj.photometric, (), True, "volume")
    else:
        arr = np.asarray(obj)
        if arr.ndim not in (2, 3):
            raise ValueError(f"the viewer shows a 2D image or a 3D stack, got shape {arr.shape}")
        frames = arr if arr.ndim == 3 else arr[np.newaxis]
        src = _Source(None, frames, (1.0, 1.0), "MONOCHROME2", (), True, "array")
    if photometric is not None:
        if photometric not in MONOCHROME:
            raise ValueError(f"photometric must be MONOCHROME1 or MONOCHROME2, got {photometric!r}")
        src = replace(src, photometric=photometric)
    if pixel_mm is not None:
        src = replace(src, pixel_mm=(float(pixel_mm[0]), float(pixel_mm[1])))
    if ct is not None:
        src = replace(src, ct=bool(ct))
    if src.photometric not in MONOCHROME:
        raise ValueError(f"the viewer shows grayscale images; this one is {src.photometric}")
    return src


class WindowLevelViewer:
    """Window/level sliders, a preset picker and (for volumes) plane and slice controls.

    Parameters: ``image`` is a pydicom ``Dataset`` (or a path), a 2D/3D array of
    modality values (HU), or a :class:`helpers.volume.Volume`. ``center``/``width``
    or ``preset`` choose the first window (default: the header's first window, else
    the mediastinum preset for CT, else the full value range). ``size`` is the
    longer side of the picture on screen in CSS pixels.

    The state is in ``center``, ``width``, ``plane`` and ``index``; :meth:`render`
    returns the displayed 8-bit image; ``update_seconds`` keeps the Python-side
    time of each update (windowing + PNG encode + sending).
    """

    def __init__(
        self,
        image: object,
        *,
        center: float | None = None,
        width: float | None = None,
        preset: str | None = None,
        photometric: str | None = None,
        pixel_mm: tuple[float, float] | None = None,
        ct: bool | None = None,
        plane: str = "axial",
        index: int | None = None,
        size: int = 512,
    ) -> None:
        import ipywidgets as w

        self._src = _source(image, photometric, pixel_mm, ct)
        self.size = int(size)
        self.update_seconds: list[float] = []
        self._busy = False
        self._range_cache: dict[tuple[str, int], tuple[float, float]] = {}

        lo, hi = self._data_range()
        self._choices: dict[str, _presets.Preset] = {}
        for p in self._src.header_windows:
            self._choices[f"header: {p.name}"] = p
        if self._src.ct:
            for p in _presets.PRESETS.values():
                self._choices[p.name] = p
        if preset is not None:
            chosen = self._choices.get(preset) or _presets.get(preset)
            center, width = chosen.center if center is None else center, \
                chosen.width if width is None else width
        if center is None or width is None:
            default = next(iter(self._choices.values()), None)
            if default is None or not self._src.ct and not self._src.header_windows:
                default = _presets.Preset("full range", (lo + hi + 1) / 2, max(hi - lo + 1, 1.0))
            center = default.center if center is None else center
            width = default.width if width is None else width

        span = max(hi - lo, 1.0)
        c_min, c_max = np.floor(min(lo, center) - span / 2), np.ceil(max(hi, center) + span / 2)
        w_max = np.ceil(max(2 * span, width))
        style = {"description_width": "60px"}
        self.center_slider = w.FloatSlider(
            value=float(center), min=float(c_min), max=float(c_max), step=1.0,
            description="center", continuous_update=True, readout_format=".0f", style=style,
            layout=w.Layout(width="460px"))
        self.width_slider = w.FloatSlider(
            value=float(width), min=1.0, max=float(w_max), step=1.0, description="width",
            continuous_update=True, readout_format=".0f", style=style,
            layout=w.Layout(width="460px"))
        self.preset_picker = w.Dropdown(
            options=[CUSTOM, *self._choices], value=CUSTOM, description="preset", style=style,
            layout=w.Layout(width="300px"))
        self.center_slider.add_class("wl-center")
        self.width_slider.add_class("wl-width")
        self.preset_picker.add_class("wl-preset")

        volume = self._src.volume
        n_frames = 1 if self._src.frames is None else self._src.frames.shape[0]
        self.plane_picker = w.ToggleButtons(
            options=list(PLANES) if volume is not None else ["frame"],
            value=plane if volume is not None else "frame", description="plane", style=style)
        self.plane_picker.add_class("wl-plane")
        count = volume.n_planes(self.plane_picker.value) if volume is not None else n_frames
        self.index_slider = w.IntSlider(
            value=count // 2 if index is None else int(index), min=0, max=max(count - 1, 0),
            description="slice" if volume is not None else "frame", continuous_update=True,
            style=style, layout=w.Layout(width="460px"))
        self.index_slider.add_class("wl-index")
        self.image = w.Image(format="png")
        self.image.add_class("wl-image")
        self.status = w.HTML()
        self.status.add_class("wl-status")

        controls = [w.HBox([self.preset_picker]), self.center_slider, self.width_slider]
        if volume is not None:
            controls.append(self.plane_picker)
        if volume is not None or n_frames > 1:
            controls.append(self.index_slider)
        self.widget = w.VBox([*controls, self.status, self.image])
        self.widget.add_class("wl-viewer")

        for slider in (self.center_slider, self.width_slider):
            slider.observe(self._on_window, names="value")
        self.preset_picker.observe(self._on_preset, names="value")
        self.plane_picker.observe(self._on_plane, names="value")
        self.index_slider.observe(self._on_index, names="value")
        if preset is not None and preset in self._choices:
            self._set_picker(preset)
        else:
            self._sync_picker()
        self.update()

    # -- state ----------------------------------------------------------------------------
    # A browser slider may send back a value with floating-point noise
    # (1499.9999999999998 for 1500); the window uses the value rounded to 1e-6.
    @property
    def center(self) -> float:
        """The window center in use (the slider's value, rounded to 6 decimals)."""
        return round(float(self.center_slider.value), 6) + 0.0

    @property
    def width(self) -> float:
        """The window width in use (the slider's value, rounded to 6 decimals)."""
        return round(float(self.width_slider.value), 6) + 0.0

    @property
    def plane(self) -> str:
        return str(self.plane_picker.value)

    @property
    def index(self) -> int:
        return int(self.index_slider.value)

    @property
    def photometric(self) -> str:
        return self._src.photometric

    def values(self) -> np.ndarray:
        """The modality values (HU) of the plane on screen, display-oriented."""
        if self._src.volume is not None:
            return self._src.volume.plane(self.plane, self.index).image
        return self._src.frames[self.index]  # type: ignore[index]

    def pixel_mm(self) -> tuple[float, float]:
        """(height, width) in mm of one displayed pixel."""
        if self._src.volume is not None:
            return self._src.volume.plane(self.plane, self.index).pixel_mm
        return self._src.pixel_mm

    @property
    def stride(self) -> int:
        """Pictures more than twice ``size`` on their longer side are shown decimated
        by this integer stride (each shown pixel is one stored pixel; no
        interpolation), which keeps a 2000x2000 radiograph as fast as a CT slice."""
        return max(1, -(-max(self.values().shape) // (2 * self.size)))

    def shown_values(self) -> np.ndarray:
        """The modality values behind the displayed pixels: ``values()[::s, ::s]``."""
        s = self.stride
        return self.values()[::s, ::s]

    def render(self) -> np.ndarray:
        """The 8-bit image the viewer shows for the current state:
        ``window(shown_values(), center, width, photometric)``."""
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
        if self._busy:
            return
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
        volume = self._src.volume
        if volume is None:
            return
        n = volume.n_planes(self.plane)
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

    def _set_picker(self, name: str) -> None:
        self._busy = True
        try:
            self.preset_picker.value = name
        finally:
            self._busy = False

    def _sync_picker(self) -> None:
        match = next((k for k, p in self._choices.items()
                      if p.center == self.center and p.width == self.width), CUSTOM)
        if self.preset_picker.value != match:
            self._set_picker(match)

    # -- drawing --------------------------------------------------------------------------
    def _data_range(self) -> tuple[float, float]:
        data = self._src.volume.array if self._src.volume is not None else self._src.frames
        return float(np.min(data)), float(np.max(data))  # type: ignore[arg-type]

    def _plane_range(self, values: np.ndarray) -> tuple[float, float]:
        key = (self.plane, self.index)
        if key not in self._range_cache:
            self._range_cache[key] = (float(values.min()), float(values.max()))
        return self._range_cache[key]

    def status_text(self) -> str:
        """The status line: window, the HU interval it spreads over the grey scale,
        and the HU range of the plane on screen."""
        values = self.values()
        lo, hi = self._plane_range(values)
        left, right = window_bounds(self.center, self.width)
        where = (f"{self.plane} {self.index + 1}/{self.index_slider.max + 1} · "
                 if self._src.volume is not None or self.index_slider.max > 0 else "")
        ends = "white→black" if self.photometric == "MONOCHROME1" else "black→white"
        scale = f" · shown 1:{self.stride}" if self.stride > 1 else ""
        unit = " HU" if self._src.ct else ""
        return (f"{where}C={self.center:g} W={self.width:g} · "
                f"grey ramp {left:g} … {right:g}{unit} ({ends}) · "
                f"image {lo:g} … {hi:g}{unit}{scale}")

    def _display_size(self, shape: tuple[int, int]) -> tuple[int, int]:
        ph, pw = self.pixel_mm()
        height_mm, width_mm = shape[0] * ph, shape[1] * pw
        scale = self.size / max(height_mm, width_mm)
        return max(1, round(width_mm * scale)), max(1, round(height_mm * scale))

    def update(self) -> None:
        """Re-render the picture and the status line for the current state."""
        start = time.perf_counter()
        shown = self.render()
        png = encode_png(shown)
        width_px, height_px = self._display_size(self.values().shape)
        self.image.layout.width = f"{width_px}px"
        self.image.layout.height = f"{height_px}px"
        self.image.value = png
        self.status.value = f"<span class='wl-status-text'>{self.status_text()}</span>"
        self.update_seconds.append(time.perf_counter() - start)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def show(image: object, **options: object) -> WindowLevelViewer:
    """Make a :class:`WindowLevelViewer` for ``image`` (Dataset, path, array or Volume).

    Put the call last in a cell (or ``display(...)`` the result) to show it, e.g.
    ``show(ds, preset="lung")``. Options are those of :class:`WindowLevelViewer`.
    """
    return WindowLevelViewer(image, **options)  # type: ignore[arg-type]


def measure_updates(viewer: WindowLevelViewer, n: int = 50) -> float:
    """Median Python-side seconds per update over ``n`` window changes (a width sweep)."""
    c, w = viewer.center, viewer.width
    before = len(viewer.update_seconds)
    for k in range(n):
        viewer.set_window(c, w + 1 + k)
    times = viewer.update_seconds[before:]
    viewer.set_window(c, w)
    return statistics.median(times)
