"""The workbook's image viewer: a radiology-workstation viewer as an anywidget.

:class:`Viewer` (what :func:`show` returns) sends the modality values to the browser
once, as binary buffers (int16 or int32 stored values, plus Rescale Slope/Intercept
when the values are not whole numbers, PS3.3 C.11.1.1.2), and the browser applies
the VOI LUT itself (PS3.3 C.11.2.1.2.1, LINEAR) with exactly the arithmetic of
:func:`helpers.image.pixels.window` (DCMTK's ``dcm2pnm +Ww``), for MONOCHROME1 and
MONOCHROME2 (PS3.3 C.7.6.3.1.2). So dragging window/level, scrolling slices and
switching planes never waits for Python. The JavaScript ships inside the package
(``helpers/image/static/viewer.js``, an ES module; no CDN, no build step).

Mouse and keyboard, as on a workstation: left-drag sets the window (horizontal:
width, vertical: center; sensitivity scaled to the data's range), a click moves the
crosshair that links the axial, coronal and sagittal views, the wheel or the arrow
keys change the slice, ctrl-wheel or right-drag zooms, shift-drag or middle-drag
pans, a double-click resets, keys 1-9 pick the presets, ``i`` inverts, ``a``/``c``/``s``
pick the plane and ``l`` switches between one and three views. The status line shows
the window, and the value under the cursor in the modality's units (HU only for CT)
with its patient coordinates in LPS millimetres (PS3.3 C.7.6.2.1.1).

The state is shared with Python: ``viewer.center``, ``.width``, ``.slice`` (0-based
index of the shown plane, ``vol.plane(viewer.plane, viewer.slice)``), ``.plane``,
``.crosshair`` (canonical voxel ``[i, j, k]``, see :attr:`helpers.image.volume.Volume.canonical`)
and ``.cursor`` are synced traits; :meth:`Viewer.render` is the 8-bit picture Python
expects the browser to draw. The viewer renders arrays, ``Dataset`` objects already
in memory and :class:`helpers.image.volume.Volume`; it never opens a file.

Usage (put it last in a cell)::

    from helpers.image.viewer import show
    show(ds)                     # a pydicom Dataset (single- or multi-frame)
    show(hu_array, center=40, width=400)
    show(volume, preset="lung")  # a helpers.image.volume.Volume: three linked planes

:class:`WindowLevelViewer` is the earlier slider viewer (ipywidgets; Python windows
and sends a PNG per change), kept as the peer the browser benchmark measures against.
"""

from __future__ import annotations

import base64
import io
import os
import statistics
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path

import anywidget
import numpy as np
import traitlets
from pydicom.dataset import Dataset

from . import presets as _presets
from .pixels import MONOCHROME, compact, modality_values, value_dtype, window, window_bounds
from .pixels import units as pixel_units
from .volume import PLANES, Volume

__all__ = ["Viewer", "WindowLevelViewer", "show", "encode_png", "decode_png", "measure_updates"]

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


def _from_dataset(ds: Dataset) -> _Source:
    hu = compact(modality_values(ds))
    frames = hu if hu.ndim == 3 else hu[np.newaxis]
    spacing = ds.get("PixelSpacing") or ds.get("ImagerPixelSpacing")
    pixel_mm = (1.0, 1.0)
    if spacing is not None and len(spacing) == 2 and float(spacing[0]) > 0 and \
            float(spacing[1]) > 0:
        pixel_mm = (float(spacing[0]), float(spacing[1]))
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
    return _Source(None, frames, pixel_mm, photometric, tuple(_presets.from_header(ds)),
                   ds.get("Modality") == "CT", str(ds.get("Modality", "")))


def _refuse_path(obj: object) -> None:
    """The viewers render what they are given and never open a file."""
    if isinstance(obj, str | os.PathLike):
        raise TypeError("the viewer shows a Dataset, an array or a Volume and opens no file: "
                        "read it first (helpers.dicom.dicomio.read, "
                        "helpers.image.volume.load_series)")


def _source(obj: object, photometric: str | None, pixel_mm: tuple[float, float] | None,
            ct: bool | None) -> _Source:
    _refuse_path(obj)
    if isinstance(obj, Dataset):
        src = _from_dataset(obj)
    elif isinstance(obj, Volume):
        src = _Source(obj, None, (1.0, 1.0), obj.photometric, obj.windows, obj.units == "HU",
                      "volume")
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
    modality values (HU), or a :class:`helpers.image.volume.Volume`. ``center``/``width``
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



# ===================================================================== the anywidget viewer
_STATIC = Path(__file__).parent / "static"

#: Voxel data the browser may hold for one viewer. A volume within it is sent whole
#: (512x512x512 int16 is 256 MiB); a larger one keeps the slabs near the shown slice
#: and asks Python for coronal and sagittal planes one by one.
BUDGET_BYTES = 256 * 2**20
SLAB_BYTES = 4 * 2**20  # about 4 MiB per message: 8 slices of 512x512 int16

_OPPOSITE = {"L": "R", "R": "L", "A": "P", "P": "A", "S": "I", "I": "S", "H": "F", "F": "H"}


def _letters(vector: np.ndarray) -> str:
    """Patient directions of an LPS unit vector, largest component first (PS3.3
    C.7.6.1.1.1): ``[1, 0, 0]`` is ``"L"``, a slightly oblique one ``"LP"``."""
    parts = []
    for axis in np.argsort(-np.abs(vector)):
        if abs(vector[axis]) > 0.25:
            parts.append("LPS"[axis] if vector[axis] > 0 else "RAI"[axis])
    return "".join(parts)


def _image_edges(ds: Dataset | None) -> tuple[str, str, str, str]:
    """(top, bottom, left, right) letters of a 2D image, from Image Orientation
    (Patient) (PS3.3 C.7.6.2.1.1) or else Patient Orientation (PS3.3 C.7.6.1.1.1)."""
    if ds is None:
        return ("", "", "", "")
    iop = ds.get("ImageOrientationPatient")
    if iop is not None and len(iop) == 6:
        row, col = np.array([float(v) for v in iop[:3]]), np.array([float(v) for v in iop[3:]])
        return _letters(-col), _letters(col), _letters(-row), _letters(row)
    po = ds.get("PatientOrientation")
    if po is not None and len(po) == 2:
        right, bottom = str(po[0]), str(po[1])
        flip = lambda s: "".join(_OPPOSITE.get(ch, ch) for ch in s)  # noqa: E731
        return flip(bottom), bottom, flip(right), right
    return ("", "", "", "")


@dataclass(frozen=True)
class _Data:
    """What the browser receives: canonical stored values and how to read them."""

    stored: np.ndarray  # (z, y, x), int16/int32 (or float64 as a last resort)
    slope: float
    intercept: float
    spacing: tuple[float, float, float]  # mm per step along z, y, x
    affine: np.ndarray | None  # canonical (i, j, k, 1) -> LPS mm
    planes: tuple[str, ...]
    edges: dict[str, tuple[str, str, str, str]]
    photometric: str
    units: str
    windows: tuple[_presets.Preset, ...]
    volume: Volume | None


def _canonical_affine(vol: Volume) -> np.ndarray:
    """4x4 matrix taking a canonical index (i, j, k) (x, y, z of
    :attr:`Volume.canonical`) to LPS mm, found by mapping the canonical corners back
    to array indices."""
    order, flips = vol._axes  # noqa: SLF001 - our own class
    shape = vol.array.shape

    def array_index(canonical: tuple[int, int, int]) -> np.ndarray:
        zyx = list(canonical)[::-1]  # canonical (i, j, k) -> (z, y, x)
        idx = [0, 0, 0]
        for axis in range(3):
            a = order[axis]
            idx[a] = shape[a] - 1 - zyx[axis] if flips[axis] else zyx[axis]
        return vol.to_patient(idx[2], idx[1], idx[0])

    out = np.eye(4)
    out[:3, 3] = array_index((0, 0, 0))
    for n in range(3):  # canonical i, j, k run along array axis order[2 - n]
        a = order[2 - n]
        out[:3, n] = (-1.0 if flips[2 - n] else 1.0) * vol.affine[:3, 2 - a] + 0.0
    return out


def _as_stored(values: np.ndarray, ds: Dataset | None) -> tuple[np.ndarray, float, float]:
    """Integers to send plus the slope and intercept that turn them back into exactly
    ``values`` (float64 ``s * slope + intercept``, as
    :func:`helpers.image.pixels.modality_values`)."""
    if value_dtype(values).kind == "i":
        return compact(values), 1.0, 0.0
    if ds is not None and not ds.get("ModalityLUTSequence") and "RescaleSlope" in ds:
        from ..dicom.dicomio import pixels as stored_pixels

        stored = np.asarray(stored_pixels(ds)).reshape(values.shape)
        slope, intercept = float(ds.RescaleSlope), float(ds.get("RescaleIntercept", 0))
        again = stored.astype(np.float64) * slope
        again += intercept
        if value_dtype(stored).kind == "i" and np.array_equal(again, values):
            return compact(stored), slope, intercept
    return np.asarray(values, dtype=np.float64), 1.0, 0.0


def _prepare(obj: object, photometric: str | None, pixel_mm: tuple[float, float] | None,
             units: str | None) -> _Data:
    _refuse_path(obj)
    ds = obj if isinstance(obj, Dataset) else None
    if isinstance(obj, Volume):
        stored, slope, intercept = _as_stored(obj.canonical, None)
        names = ("axial", "coronal", "sagittal")
        data = _Data(np.ascontiguousarray(stored), slope, intercept, obj.canonical_spacing,
                     _canonical_affine(obj), names,
                     {n: obj.plane(n, 0).edges for n in names}, obj.photometric, obj.units,
                     tuple(obj.windows), obj)
    else:
        if ds is not None:
            values = modality_values(ds)
            spacing = ds.get("PixelSpacing") or ds.get("ImagerPixelSpacing")
            mm = (1.0, 1.0)
            if spacing is not None and len(spacing) == 2 and min(map(float, spacing)) > 0:
                mm = (float(spacing[0]), float(spacing[1]))
            phot = str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
            windows = tuple(_presets.from_header(ds))
            unit = pixel_units(ds)
        else:
            values = np.asarray(obj)
            mm, phot, windows, unit = (1.0, 1.0), "MONOCHROME2", (), ""
        if values.ndim not in (2, 3):
            raise ValueError(f"the viewer shows a 2D image or a 3D stack, got shape {values.shape}")
        frames = values if values.ndim == 3 else values[np.newaxis]
        stored, slope, intercept = _as_stored(frames, ds)
        affine = None
        ipp, iop = (ds.get("ImagePositionPatient"), ds.get("ImageOrientationPatient")) \
            if ds is not None else (None, None)
        if ipp is not None and iop is not None and len(ipp) == 3 and len(iop) == 6 \
                and frames.shape[0] == 1:
            affine = np.eye(4)
            affine[:3, 0] = np.array([float(v) for v in iop[:3]]) * mm[1]
            affine[:3, 1] = np.array([float(v) for v in iop[3:]]) * mm[0]
            affine[:3, 2] = np.cross(affine[:3, 0], affine[:3, 1])
            affine[:3, 3] = [float(v) for v in ipp]
        data = _Data(np.ascontiguousarray(stored), slope, intercept, (1.0, mm[0], mm[1]),
                     affine, ("frame",), {"frame": _image_edges(ds)}, phot, unit, windows, None)
    if pixel_mm is not None:
        data = replace(data, spacing=(data.spacing[0], float(pixel_mm[0]), float(pixel_mm[1])))
    if photometric is not None:
        data = replace(data, photometric=photometric)
    if units is not None:
        data = replace(data, units=units)
    if data.photometric not in MONOCHROME:
        raise ValueError(f"the viewer shows grayscale images (MONOCHROME1 or MONOCHROME2); "
                         f"this one is {data.photometric}")
    return data


def _nice_step(span: float, whole: bool) -> float:
    """The window step: 1 for whole-number data, else a power of ten near span/2000."""
    if whole:
        return 1.0
    return float(min(1.0, 10.0 ** np.floor(np.log10(max(span, 1e-12) / 2000))))


class Viewer(anywidget.AnyWidget):
    """The workbook's viewer (see the module docstring for mouse and keyboard).

    ``image``: a :class:`helpers.image.volume.Volume` (three linked planes), a pydicom
    ``Dataset`` already read (single- or multi-frame), or a 2D/3D array of modality
    values. ``center``/``width`` or ``preset`` choose the first window (default: the
    header's first window, else the mediastinum preset for CT, else the full range);
    ``plane`` and ``index`` the first plane and slice; ``layout`` ``"three"`` or
    ``"one"`` view; ``size`` the longer side of one view in CSS pixels.
    """

    _esm = _STATIC / "viewer.js"
    _css = _STATIC / "viewer.css"

    center = traitlets.Float().tag(sync=True)
    width = traitlets.Float(1.0).tag(sync=True)
    plane = traitlets.Unicode("axial").tag(sync=True)
    slice = traitlets.Int(0).tag(sync=True)
    crosshair = traitlets.List(traitlets.Int(), [0, 0, 0], minlen=3, maxlen=3).tag(sync=True)
    cursor = traitlets.Dict().tag(sync=True)
    invert = traitlets.Bool(False).tag(sync=True)
    interpolation = traitlets.Enum(("nearest", "linear"), "nearest").tag(sync=True)
    layout = traitlets.Enum(("three", "one"), "three").tag(sync=True)
    _meta = traitlets.Dict().tag(sync=True)
    _preview = traitlets.Unicode("").tag(sync=True)

    def __init__(self, image: object, *, center: float | None = None,
                 width: float | None = None, preset: str | None = None,
                 photometric: str | None = None, pixel_mm: tuple[float, float] | None = None,
                 units: str | None = None, plane: str | None = None, index: int | None = None,
                 layout: str | None = None, interpolation: str = "nearest",
                 size: int = 512) -> None:
        data = _prepare(image, photometric, pixel_mm, units)
        self._data = data
        stored = data.stored
        nz, ny, nx = stored.shape
        lo_s, hi_s = (stored.min(), stored.max()) if stored.size else (0, 0)
        lo, hi = sorted((self._value(lo_s), self._value(hi_s)))
        whole = data.slope == 1 and data.intercept == 0 and stored.dtype.kind == "i"
        step = _nice_step(hi - lo, whole)
        choices = {p.name if p.name.startswith("header") else f"header: {p.name}": p
                   for p in data.windows}
        if data.units == "HU":
            choices.update({p.name: p for p in _presets.PRESETS.values()})
        full = _presets.Preset("full range", round(round((lo + hi + step) / 2 / step) * step, 12),
                               max(round(round((hi - lo + step) / step) * step, 12), 1.0))
        choices[full.name] = full
        self._choices = choices
        if preset is not None:
            chosen = choices.get(preset) or _presets.get(preset)
            center = chosen.center if center is None else center
            width = chosen.width if width is None else width
        default = next(iter(choices.values()))
        center = default.center if center is None else center
        width = default.width if width is None else width
        plane = plane or data.planes[0]
        if plane not in data.planes:
            raise ValueError(f"plane must be one of {', '.join(data.planes)}, got {plane!r}")
        point = [nx // 2, ny // 2, nz // 2]
        axis = _AXIS[plane]
        count = (nx, ny, nz)[axis]
        if index is not None:
            if not 0 <= int(index) < count:
                raise IndexError(f"{plane} slice {index} is outside 0..{count - 1}")
            point[axis] = int(index)
        slice_bytes = ny * nx * stored.itemsize
        meta = {
            "uid": uuid.uuid4().hex, "shape": [nz, ny, nx], "dtype": stored.dtype.name,
            "slope": data.slope, "intercept": data.intercept,
            "vmin": int(lo_s) if whole or data.slope != 1 or data.intercept != 0 else 0,
            "vmax": int(hi_s) if stored.dtype.kind == "i" else 0,
            "vmin_value": lo, "vmax_value": hi, "step": step,
            "sensitivity": max(step, (hi - lo) / 2048),
            "spacing": list(data.spacing), "planes": list(data.planes),
            "edges": {k: list(v) for k, v in data.edges.items()},
            "affine": None if data.affine is None else data.affine.tolist(),
            "photometric": data.photometric, "units": data.units,
            "presets": [{"name": k, "center": p.center, "width": p.width}
                        for k, p in choices.items()],
            "initial": {"center": float(center), "width": float(width)},
            "whole": bool(stored.nbytes <= BUDGET_BYTES), "budget_bytes": BUDGET_BYTES,
            "slab_slices": max(1, SLAB_BYTES // max(slice_bytes, 1)), "size": int(size),
        }
        if stored.dtype.kind == "i":
            meta["vmin"] = int(lo_s)
        super().__init__(
            center=float(center), width=float(width), plane=plane, slice=point[axis],
            crosshair=point, interpolation=interpolation,
            layout=layout or ("three" if len(data.planes) > 1 else "one"), _meta=meta)
        self.bytes_sent = 0
        self.on_msg(self._on_msg)
        self._preview = base64.b64encode(self.preview_png()).decode("ascii")

    # -- state ----------------------------------------------------------------------------
    def _value(self, stored: float) -> float:
        d = self._data
        return float(stored) * d.slope + d.intercept

    @traitlets.validate("width")
    def _valid_width(self, proposal: dict) -> float:
        if not np.isfinite(proposal["value"]) or proposal["value"] < 1:
            raise traitlets.TraitError(f"window width must be >= 1 (PS3.3 C.11.2.1.2.1), got "
                                       f"{proposal['value']!r}")
        return proposal["value"]

    @traitlets.observe("plane")
    def _plane_changed(self, change: dict) -> None:
        if not self._meta:
            return
        if change["new"] not in self._data.planes:
            raise traitlets.TraitError(f"plane must be one of {', '.join(self._data.planes)}")
        self.slice = self.crosshair[_AXIS[change["new"]]]

    @traitlets.observe("slice")
    def _slice_changed(self, change: dict) -> None:
        if not self._meta:
            return
        axis = _AXIS[self.plane]
        count = self._meta["shape"][2 - axis]
        if not 0 <= change["new"] < count:
            raise traitlets.TraitError(f"{self.plane} slice {change['new']} is outside "
                                       f"0..{count - 1}")
        if self.crosshair[axis] != change["new"]:
            point = list(self.crosshair)
            point[axis] = change["new"]
            self.crosshair = point

    @property
    def photometric(self) -> str:
        """The Photometric Interpretation the picture is drawn with (``invert`` swaps
        MONOCHROME1 and MONOCHROME2)."""
        phot = self._data.photometric
        return {"MONOCHROME1": "MONOCHROME2", "MONOCHROME2": "MONOCHROME1"}[phot] \
            if self.invert else phot

    @property
    def presets(self) -> dict[str, _presets.Preset]:
        """The windows the preset menu offers, in menu order (keys 1-9)."""
        return dict(self._choices)

    def set_window(self, center: float, width: float) -> None:
        """Set center and width together (one update in the browser)."""
        with self.hold_sync():
            self.center, self.width = float(center), float(width)

    def values(self, plane: str | None = None, index: int | None = None) -> np.ndarray:
        """Modality values of a plane in display orientation (default: the one shown)."""
        plane = plane or self.plane
        index = self.crosshair[_AXIS[plane]] if index is None else index
        d = self._data
        if d.volume is not None:
            return d.volume.plane(plane, index).image
        stored = d.stored[index]
        if d.slope == 1 and d.intercept == 0:
            return stored
        out = stored.astype(np.float64) * d.slope
        out += d.intercept
        return out

    def render(self, plane: str | None = None) -> np.ndarray:
        """The 8-bit picture the browser draws for a plane (default: the one shown):
        ``window(values(), center, width, photometric)``, one pixel per plane pixel."""
        return window(self.values(plane), self.center, self.width, self.photometric)

    def preview_png(self) -> bytes:
        """A PNG of the views as the viewer first shows them (each plane at its
        physical aspect, with its orientation letters, PS3.3 C.7.6.1.1.1) and the
        status line's window, for notebooks opened without a kernel."""
        from PIL import Image, ImageDraw, ImageFont

        font = ImageFont.load_default(size=14)
        tiles = []
        d = self._data
        for name in d.planes:
            img = Image.fromarray(self.render(name)).convert("RGB")
            rows, cols = img.height, img.width
            ph, pw = d.spacing[1:] if name in ("axial", "frame") else \
                (d.spacing[0], d.spacing[2] if name == "coronal" else d.spacing[1])
            side = 512 if len(d.planes) == 1 else 320
            scale = side / max(rows * ph, cols * pw)
            tile = img.resize((max(1, round(cols * pw * scale)),
                               max(1, round(rows * ph * scale))), Image.BILINEAR)
            top, bottom, left, right = d.edges.get(name, ("", "", "", ""))
            draw = ImageDraw.Draw(tile)
            w, h = tile.size
            for text, xy, anchor in ((top, (w / 2, 3), "mt"), (bottom, (w / 2, h - 3), "mb"),
                                     (left, (4, h / 2), "lm"), (right, (w - 4, h / 2), "rm")):
                if text:
                    draw.text(xy, text, fill=(255, 200, 40), font=font, anchor=anchor,
                              stroke_width=2, stroke_fill=(0, 0, 0))
            tiles.append(tile)
        gap, caption = 6, 42
        sheet = Image.new("RGB", (sum(t.width for t in tiles) + gap * (len(tiles) - 1),
                                  max(t.height for t in tiles) + caption), (255, 255, 255))
        x = 0
        for t in tiles:
            sheet.paste(t, (x, 0))
            x += t.width + gap
        lines = (self.status_text().replace("→", " to "),  # the bitmap font has no arrow
                 "a still picture of the first view: run the cell to interact")
        draw = ImageDraw.Draw(sheet)
        for k, line in enumerate(lines):
            draw.text((2, sheet.height - caption + 4 + 18 * k), line, fill=(0, 0, 0), font=font)
        buf = io.BytesIO()
        sheet.save(buf, format="PNG", compress_level=6)
        return buf.getvalue()

    def status_text(self) -> str:
        """The status line's window part, as the browser writes it."""
        left, right = window_bounds(self.center, self.width)
        unit = f" {self._data.units}" if self._data.units else ""
        ends = "white→black" if self.photometric == "MONOCHROME1" else "black→white"
        axis = _AXIS[self.plane]
        where = (f"{self.plane} {self.crosshair[axis] + 1}/{self._meta['shape'][2 - axis]} · "
                 if len(self._data.planes) > 1 or self._meta["shape"][0] > 1 else "")
        return (f"{where}C={self.center:g} W={self.width:g} · "
                f"grey ramp {left:g} … {right:g}{unit} ({ends})")

    # -- data to the browser --------------------------------------------------------------
    def _on_msg(self, _widget: object, content: dict, _buffers: list) -> None:
        stored = self._data.stored
        if content.get("type") == "need":
            n = self._meta["slab_slices"]
            for slab in content.get("slabs", []):
                k0 = int(slab) * n
                if 0 <= k0 < stored.shape[0]:
                    self._send_values({"type": "slab", "id": int(slab)}, stored[k0:k0 + n])
        elif content.get("type") == "plane" and self._data.volume is not None:
            name, index = str(content["plane"]), int(content["index"])
            axis = {"coronal": 1, "sagittal": 2}.get(name)
            if axis is not None and 0 <= index < stored.shape[axis]:
                cut = stored[::-1, index, :] if axis == 1 else stored[::-1, :, index]
                self._send_values({"type": "plane", "plane": name, "index": index}, cut)

    def _send_values(self, content: dict, values: np.ndarray) -> None:
        data = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<")).tobytes()
        self.bytes_sent += len(data)
        self.send(content, buffers=[data])

    def _repr_mimebundle_(self, **kwargs: object) -> dict:
        """The live widget plus a static PNG of its first view (``image/png``) and a
        one-line text, so a notebook saved without widget state shows a picture."""
        bundle = super()._repr_mimebundle_(**kwargs)
        data, meta = bundle if isinstance(bundle, tuple) else (bundle, {})
        data = dict(data or {})
        data["image/png"] = self._preview
        data["text/plain"] = f"Viewer({self.status_text()})"
        return (data, meta) if isinstance(bundle, tuple) else data


_AXIS = {"axial": 2, "frame": 2, "coronal": 1, "sagittal": 0}


def show(image: object, **options: object) -> Viewer:
    """Make a :class:`Viewer` for ``image`` (a Volume, a Dataset in memory or an array).

    Put the call last in a cell to show it, e.g. ``show(vol, preset="lung")``.
    Options are those of :class:`Viewer`.
    """
    return Viewer(image, **options)  # type: ignore[arg-type]


def measure_updates(viewer: Viewer | WindowLevelViewer, n: int = 50) -> float:
    """Median Python-side seconds per window change over ``n`` changes (a width sweep).

    For the slider viewer that is windowing, PNG encoding and sending; for
    :class:`Viewer` it is setting the synced traits plus Python's reference
    :meth:`Viewer.render` (the browser does its own windowing)."""
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
