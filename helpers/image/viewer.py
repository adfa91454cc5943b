"""The workbook's image viewer: a radiology-workstation viewer as an anywidget.

:class:`Viewer` (what :func:`show` returns) sends the modality values to the browser
once, as binary buffers (int16 or int32 stored values, plus Rescale Slope/Intercept
when the values are not whole numbers, PS3.3 C.11.1.1.2), and the browser applies
the VOI LUT itself with exactly the arithmetic of :func:`helpers.image.pixels.window`
(DCMTK's ``dcm2pnm +Ww``), for MONOCHROME1 and MONOCHROME2 (PS3.3 C.7.6.3.1.2): a
window with any VOI LUT Function (PS3.3 C.11.2.1.2.1 LINEAR, C.11.2.1.3 LINEAR_EXACT
and SIGMOID; the header's function for the header's windows, ``voi_function``), or a
VOI LUT Sequence table of the header (PS3.3 C.11.2.1.1,
:class:`~helpers.image.pixels.VoiLut`; offered in the preset menu next to the windows,
``voi_lut``). So dragging window/level, scrolling slices and
switching planes never waits for Python. The JavaScript ships inside the package
(``helpers/image/static/viewer.js``, an ES module; no CDN, no build step).

A good citizen of the notebook: the viewer is *active* after a click in it (a blue
ring and the label "active" say so) and inactive again after Esc or a click
elsewhere. Only while it is active are the keys and the wheel its own, and then no
key reaches JupyterLab's shortcuts; while inactive the page scrolls over it. A
viewer reopened without its kernel shows its saved picture, with its controls
disabled and a line saying to run the cell.

Mouse and keyboard, as on a workstation: left-drag sets the window (horizontal:
width, vertical: center; sensitivity scaled to the data's range), a click moves the
crosshair that links the axial, coronal and sagittal views, the wheel or the arrow
keys change the slice, ctrl-wheel or right-drag zooms, shift-drag or middle-drag
pans, a double-click resets; ``m`` and ``o`` pick the ruler and the rectangular ROI
(drag to draw); the help line under the views lists every key. The status line shows
the window, and the value under the cursor in the modality's units (HU only for CT)
with its patient coordinates in LPS millimetres (PS3.3 C.7.6.2.1.1), for the view under
the pointer. The corners show patient and series, the slice with its position along
the plane's normal and Slice Thickness, the window and the zoom; a scale bar and the
ruler measure with Pixel Spacing (PS3.3 C.7.6.2.1.1), or for a projection radiograph
with Imager Pixel Spacing, at the detector, not corrected for magnification (PS3.3
10.7.1.3, said next to the length); the ROI gives mean, SD, min, max and area of the
pixels whose centres lie inside it.

The state is shared with Python (:class:`Viewer` lists each trait and who writes
it): ``viewer.center``, ``.width``, ``.plane``, ``.crosshair`` (canonical voxel
``[i, j, k]``, see :attr:`helpers.image.volume.Volume.canonical`) and ``.cursor``;
``viewer.slice`` is the crosshair's index along the shown plane's normal
(``vol.plane(viewer.plane, viewer.slice)``). :meth:`Viewer.render` is the 8-bit
picture Python expects the browser to draw. The viewer renders arrays, ``Dataset``
objects already in memory and :class:`helpers.image.volume.Volume`; it never opens a
file. What Python sends is one documented structure, :class:`Meta`.

Usage (put it last in a cell)::

    from helpers.image.viewer import show
    show(ds)                     # a pydicom Dataset (single- or multi-frame)
    show(hu_array, center=40, width=400)
    show(volume, preset="lung")  # a helpers.image.volume.Volume: three linked planes
"""

from __future__ import annotations

import base64
import io
import os
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypedDict

import anywidget
import numpy as np
import traitlets
from pydicom.dataset import Dataset

from . import presets as _presets
from . import viewer_labels as _labels
from .pixels import (
    MONOCHROME,
    VOI_FUNCTIONS,
    VoiLut,
    compact,
    modality_values,
    value_dtype,
    window,
)
from .pixels import units as pixel_units
from .volume import Volume

__all__ = ["Viewer", "show", "prepare", "Pixels", "Meta", "PlaneMeta", "PLANE_AXES",
           "BUDGET_BYTES"]

_STATIC = Path(__file__).parent / "static"

#: Voxel data the browser may hold for one viewer. A volume within it is sent whole
#: (512x512x512 int16 is 256 MiB); a larger one keeps the slabs near the shown slice
#: and asks Python for coronal and sagittal planes one by one.
BUDGET_BYTES = 256 * 2**20
SLAB_BYTES = 4 * 2**20  # about 4 MiB per message: 8 slices of 512x512 int16


# ===================================================================== orientation
@dataclass(frozen=True)
class PlaneAxes:
    """Where a display plane lies in the canonical volume, decided here once.

    Indices are those of a canonical point ``[i, j, k]`` (x, y, z growing towards the
    patient's L, P, S; :attr:`helpers.image.volume.Volume.canonical` is ``[k, j, i]``).
    ``axis`` is the index the plane holds fixed (its slice number), ``col`` the one
    that grows along the columns, ``row`` the one along the rows; ``row_flip``: the
    rows run against it (head at the top). This is radiological display
    (:meth:`helpers.image.volume.Volume.plane`): axial seen from the feet, coronal from
    the front, sagittal from the patient's left.
    """

    axis: int
    col: int
    row: int
    row_flip: bool


PLANE_AXES: dict[str, PlaneAxes] = {
    "axial": PlaneAxes(axis=2, col=0, row=1, row_flip=False),
    "frame": PlaneAxes(axis=2, col=0, row=1, row_flip=False),  # a 2D image or a frame
    "coronal": PlaneAxes(axis=1, col=0, row=2, row_flip=True),
    "sagittal": PlaneAxes(axis=0, col=1, row=2, row_flip=True),
}

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


# ===================================================================== what is shown
@dataclass(frozen=True)
class Pixels:
    """What a viewer shows: canonical stored values and how to read and place them.

    ``stored`` is ``(z, y, x)`` (one frame for a 2D image), int16/int32 (float64 only
    as a last resort); modality values are ``stored * slope + intercept`` in float64
    (PS3.3 C.11.1.1.2), exactly :func:`helpers.image.pixels.modality_values`'s values.
    ``spacing`` is mm per step along z, y, x; ``affine`` takes a canonical
    ``(i, j, k, 1)`` to LPS mm (``None`` without geometry); ``edges`` the
    orientation letters (top, bottom, left, right) of each plane. ``spacing_kind`` says
    where the row and column spacing came from: ``"PixelSpacing"`` (0028,0030), in the
    patient (PS3.3 C.7.6.2.1.1), ``"ImagerPixelSpacing"`` (0018,1164), at the detector of
    a projection radiograph and so not corrected for magnification (PS3.3 10.7.1.3), or
    ``""`` (none: distances are in pixels). ``patient``, ``series`` and ``thickness``
    (Slice Thickness (0018,0050), mm) label the overlays.
    """

    stored: np.ndarray
    slope: float
    intercept: float
    spacing: tuple[float, float, float]
    affine: np.ndarray | None
    planes: tuple[str, ...]
    edges: dict[str, tuple[str, str, str, str]]
    photometric: str
    units: str
    windows: tuple[_presets.Preset, ...]
    spacing_kind: str = ""
    patient: str = ""
    series: str = ""
    thickness: float | None = None

    def count(self, plane: str) -> int:
        """How many planes of this kind there are."""
        return self.stored.shape[2 - PLANE_AXES[plane].axis]

    def cut(self, plane: str, index: int) -> np.ndarray:
        """The stored values of one plane in display orientation (:data:`PLANE_AXES`)."""
        return cut_plane(self.stored, plane, index)

    def values(self, plane: str, index: int) -> np.ndarray:
        """Modality values of one plane in display orientation."""
        stored = self.cut(plane, index)
        if self.slope == 1 and self.intercept == 0:
            return stored
        out = stored.astype(np.float64) * self.slope
        out += self.intercept
        return out

    def pixel_mm(self, plane: str) -> tuple[float, float]:
        """(height, width) in mm of one pixel of the plane."""
        a = PLANE_AXES[plane]
        return self.spacing[2 - a.row], self.spacing[2 - a.col]

    @property
    def value_range(self) -> tuple[float, float]:
        """The smallest and largest modality value."""
        if not self.stored.size:
            return 0.0, 0.0
        lo, hi = (float(v) * self.slope + self.intercept
                  for v in (self.stored.min(), self.stored.max()))
        return (lo, hi) if lo <= hi else (hi, lo)

    @property
    def whole(self) -> bool:
        """The modality values are whole numbers (the stored integers themselves)."""
        return self.slope == 1 and self.intercept == 0 and self.stored.dtype.kind == "i"


def cut_plane(canonical: np.ndarray, plane: str, index: int) -> np.ndarray:
    """One plane of a canonical ``(z, y, x)`` array in display orientation
    (:data:`PLANE_AXES`): the stored values, or the packed label bits."""
    a = PLANE_AXES[plane]
    fixed = 2 - a.axis  # array axes are (z, y, x) = point indices (2, 1, 0)
    cut = np.take(canonical, index, axis=fixed) if fixed else canonical[index]
    rest = [ax for ax in (0, 1, 2) if ax != fixed]
    if rest.index(2 - a.row) == 1:
        cut = cut.T
    return cut[::-1] if a.row_flip else cut


def _refuse_path(obj: object) -> None:
    """The viewer renders what it is given and never opens a file."""
    if isinstance(obj, str | os.PathLike):
        raise TypeError("the viewer shows a Dataset, an array or a Volume and opens no file: "
                        "read it first (helpers.dicom.dicomio.read, "
                        "helpers.image.volume.load_series)")


def _spacing_kind(ds: Dataset) -> str:
    """Which attribute gives a 2D image's row and column spacing (see :class:`Pixels`).

    A projection radiograph carries Imager Pixel Spacing (0018,1164), at the detector;
    a Pixel Spacing (0028,0030) equal to it is that same detector spacing, and only one
    that differs has been calibrated to the patient (PS3.3 10.7.1.3)."""
    def usable(keyword: str) -> list[float] | None:
        value = ds.get(keyword)
        if value is None or len(value) != 2 or min(map(float, value)) <= 0:
            return None
        return [float(v) for v in value]

    pixel, imager = usable("PixelSpacing"), usable("ImagerPixelSpacing")
    if imager is not None and (pixel is None or pixel == imager):
        return "ImagerPixelSpacing"
    return "PixelSpacing" if pixel is not None else ""


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


def prepare(image: object, photometric: str | None = None,
            pixel_mm: tuple[float, float] | None = None, units: str | None = None) -> Pixels:
    """What a viewer shows of ``image`` (a Volume, a Dataset in memory or a 2D/3D array
    of modality values): the one preparation every viewer uses.

    ``photometric``, ``pixel_mm`` (row, column spacing) and ``units`` override what the
    image says. Only MONOCHROME1 and MONOCHROME2 images are shown (PS3.3 C.7.6.3.1.2).
    """
    _refuse_path(image)
    ds = image if isinstance(image, Dataset) else None
    if isinstance(image, Volume):
        stored, slope, intercept = _as_stored(image.canonical, None)
        names = ("axial", "coronal", "sagittal")
        data = Pixels(np.ascontiguousarray(stored), slope, intercept, image.canonical_spacing,
                      _canonical_affine(image), names,
                      {n: image.plane(n, 0).edges for n in names}, image.photometric,
                      image.units, tuple(image.windows), "PixelSpacing",
                      series=image.description)
    else:
        if ds is not None:
            values = modality_values(ds)
            kind = _spacing_kind(ds)
            mm = (float(ds[kind].value[0]), float(ds[kind].value[1])) if kind else (1.0, 1.0)
            phot = str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
            windows = tuple(_presets.from_header(ds))
            unit = pixel_units(ds)
        else:
            values = np.asarray(image)
            mm, phot, windows, unit, kind = (1.0, 1.0), "MONOCHROME2", (), "", ""
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
        labels = {}
        if ds is not None:
            who = [str(ds.get(k, "") or "") for k in ("PatientName", "PatientID")]
            thickness = ds.get("SliceThickness")
            labels = {"patient": " · ".join(w for w in who if w),
                      "series": str(ds.get("SeriesDescription", "") or ""),
                      "thickness": float(thickness) if thickness not in (None, "") else None}
        data = Pixels(np.ascontiguousarray(stored), slope, intercept, (1.0, mm[0], mm[1]),
                      affine, ("frame",), {"frame": _image_edges(ds)}, phot, unit, windows,
                      kind, **labels)
    if pixel_mm is not None:
        data = replace(data, spacing=(data.spacing[0], float(pixel_mm[0]), float(pixel_mm[1])),
                       spacing_kind=data.spacing_kind or "PixelSpacing")
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


def _on_grid(value: float, step: float) -> float:
    return round(round(value / step) * step, 12)


# ===================================================================== the contract
class PlaneMeta(TypedDict):
    """One display plane in :class:`Meta`: :class:`PlaneAxes` plus its letters."""

    axis: int
    col: int
    row: int
    row_flip: bool
    edges: list[str]  # orientation letters at the top, bottom, left and right edge


class PresetMeta(TypedDict):
    name: str  # the menu label (keys 1-9 pick the first nine)
    center: float | None  # None for a VOI LUT table
    width: float | None
    function: str  # VOI LUT Function: LINEAR, LINEAR_EXACT or SIGMOID (PS3.3 C.11.2.1.3)
    lut: int  # index into Meta.luts, or -1 for a window


class WindowMeta(TypedDict):
    center: float
    width: float
    function: str
    lut: int


class LutMeta(TypedDict):
    """A VOI LUT Sequence item (PS3.3 C.11.2.1.1) as the browser applies it:
    ``grey = table[clamp(trunc(x) - first_mapped, 0, len(table) - 1)]`` for modality
    value ``x``, with ``table`` :meth:`helpers.image.pixels.VoiLut.grey_table`."""

    name: str
    first_mapped: int
    grey: dict[str, str]  # photometric -> base64 of the uint8 grey table


class SegmentMeta(TypedDict):
    """One overlaid segment (:class:`helpers.image.viewer_labels.OverlaySegment`)."""

    name: str
    number: int  # Segment Number (0062,0004) or ROI Number (3006,0022)
    rgb: list[int]  # sRGB of the Recommended Display CIELab Value (PS3.3 C.10.7.1.1)
    style: str  # "fill" (SEG) or "contour" (RTSTRUCT)
    bit: int  # the voxel belongs to it when bit ``bit`` of the packed labels is set
    source: str  # the label file's name


class LabelsMeta(TypedDict):
    """The label overlay: one canonical ``(z, y, x)`` volume of ``dtype``, one bit per
    segment, sent once as ``{"type": "labels"}`` with one buffer when the browser asks
    ``{"type": "labels"}``."""

    dtype: str  # "uint8", "uint16" or "uint32"
    segments: list[SegmentMeta]


class Meta(TypedDict):
    """Everything Python tells the browser about a viewer, once, in the ``_meta`` trait
    (written by Python only; the browser never writes it back).

    The voxels themselves follow as binary messages on request: the browser asks
    ``{"type": "need", "slabs": [ids]}`` (slab ``n`` is canonical slices
    ``n * slab_slices`` onwards) and ``{"type": "plane", "plane": name, "index": k}``
    (a coronal or sagittal plane of a volume over the budget); Python answers
    ``{"type": "slab", "id": n}`` or ``{"type": "plane", ...}`` with one little-endian
    buffer of ``dtype``.
    """

    uid: str  # one browser store per viewer (views of the same viewer share it)
    shape: list[int]  # [nz, ny, nx] of the canonical stored values
    dtype: str  # "int16", "int32" or "float64"
    slope: float  # modality value = stored * slope + intercept (PS3.3 C.11.1.1.2)
    intercept: float
    stored_range: list[int] | None  # [min, max] stored integer (one LUT entry each)
    value_range: list[float]  # [min, max] modality value: the sliders' ranges
    step: float  # the window's step (1 for whole-number data)
    sensitivity: float  # window units per pixel of drag
    spacing: list[float]  # mm per step along z, y, x
    planes: dict[str, PlaneMeta]  # in the order of the plane buttons
    affine: list[list[float]] | None  # canonical (i, j, k, 1) -> LPS mm
    photometric: str  # MONOCHROME1 or MONOCHROME2 (PS3.3 C.7.6.3.1.2)
    units: str  # "HU" for CT, else the Rescale Type or ""
    presets: list[PresetMeta]
    luts: list[LutMeta]  # the header's VOI LUT tables (presets point into it)
    initial: WindowMeta  # the window a reset returns to
    whole: bool  # the whole volume fits BUDGET_BYTES: the browser asks for all of it
    budget_bytes: int
    slab_slices: int
    size: int  # largest side of one view in CSS pixels (the view also fits its cell)
    spacing_kind: str  # "PixelSpacing", "ImagerPixelSpacing" or "" (see Pixels)
    patient: str  # overlay labels: Patient's Name · Patient ID, Series Description,
    series: str
    thickness: float | None  # Slice Thickness (0018,0050) in mm
    labels: LabelsMeta | None  # the label overlay, if any


# ===================================================================== the viewer
class Viewer(anywidget.AnyWidget):
    """The workbook's viewer (see the module docstring for mouse and keyboard).

    ``image``: a :class:`helpers.image.volume.Volume` (three linked planes), a pydicom
    ``Dataset`` already read (single- or multi-frame), or a 2D/3D array of modality
    values. ``center``/``width`` or ``preset`` choose the first window (default: the
    header's first window or VOI LUT table, else the mediastinum preset for CT, else the
    full range), ``function`` its VOI LUT Function (default: the chosen preset's, so
    the header's function for a header window, else LINEAR);
    ``plane`` and ``index`` the first plane and slice; ``layout`` ``"three"`` or
    ``"one"`` view (the :attr:`arrangement` trait); ``size`` the largest side of one
    view in CSS pixels (smaller when the cell or the screen is smaller). ``labels``: one
    or more :class:`helpers.image.labels.Labels` read onto the Volume shown (SEG and/or
    RTSTRUCT), drawn over the picture as :mod:`helpers.image.viewer_labels` says: each
    segment in its recommended display colour, SEG filled and RTSTRUCT as contours,
    with per-segment visibility and opacity (``segment_styles``, :meth:`style_segment`)
    and the segments under the pointer in the status line.

    Synced traits and who writes them:

    - ``center``, ``width``, ``voi_function``, ``voi_lut`` (index of the header's VOI LUT
      table shown instead of the window, -1: none), ``plane``, ``crosshair``, ``invert``,
      ``interpolation``, ``arrangement``, ``segment_styles`` (one ``{"visible", "opacity"}``
      per overlaid segment): the viewer's state; the learner changes it in the
      browser and Python may set it (``viewer.center = 40``); neither side derives one from another.
    - ``cursor``: written by the browser only (what is under the pointer).
    - ``_meta`` (a :class:`Meta`) and ``_preview``: written by Python only, once.
    """

    _esm = _STATIC / "viewer.js"
    _css = _STATIC / "viewer.css"

    center = traitlets.Float().tag(sync=True)
    width = traitlets.Float(1.0).tag(sync=True)
    voi_function = traitlets.Enum(VOI_FUNCTIONS, "LINEAR").tag(sync=True)
    voi_lut = traitlets.Int(-1).tag(sync=True)
    plane = traitlets.Unicode("axial").tag(sync=True)
    crosshair = traitlets.List(traitlets.Int(), [0, 0, 0], minlen=3, maxlen=3).tag(sync=True)
    cursor = traitlets.Dict().tag(sync=True)
    invert = traitlets.Bool(False).tag(sync=True)
    interpolation = traitlets.Enum(("nearest", "linear"), "nearest").tag(sync=True)
    arrangement = traitlets.Enum(("three", "one"), "three").tag(sync=True)
    segment_styles = traitlets.List(traitlets.Dict()).tag(sync=True)
    _meta = traitlets.Dict().tag(sync=True)
    _preview = traitlets.Unicode("").tag(sync=True)

    def __init__(self, image: object, *, center: float | None = None,
                 width: float | None = None, preset: str | None = None,
                 function: str | None = None,
                 photometric: str | None = None, pixel_mm: tuple[float, float] | None = None,
                 units: str | None = None, plane: str | None = None, index: int | None = None,
                 layout: str | None = None, interpolation: str = "nearest",
                 size: int = 512, labels: object = None) -> None:
        data = prepare(image, photometric, pixel_mm, units)
        self._data = data
        self._bits: np.ndarray | None = None
        self._segments: list[_labels.OverlaySegment] = []
        if labels is not None:
            if not isinstance(image, Volume):
                raise TypeError("labels are drawn over a Volume (helpers.image.volume."
                                "load_series) they were read onto (helpers.image.labels)")
            self._bits, self._segments = _labels.pack(labels, image)  # type: ignore[arg-type]
        lo, hi = data.value_range
        step = _nice_step(hi - lo, data.whole)
        choices = _presets.menu(data.windows, ct=data.units == "HU")
        full = _presets.Preset("full range", _on_grid((lo + hi + step) / 2, step),
                               max(_on_grid(hi - lo + step, step), 1.0))
        choices.setdefault(full.name, full)
        self._choices = choices
        self._luts: list[VoiLut] = []
        lut_of: dict[str, int] = {}
        for key, p in choices.items():
            if p.lut is not None:
                lut_of[key] = len(self._luts)
                self._luts.append(p.lut)
        chosen = next(iter(choices.values()))
        if preset is not None:
            chosen = next((p for k, p in choices.items() if preset in k.split(" = ")), None) \
                or _presets.get(preset)
        lut = -1
        if chosen.lut is not None and center is None and width is None:
            lut = self._luts.index(chosen.lut)
        window_default = next((p for p in choices.values() if p.lut is None), full) \
            if chosen.lut is not None else chosen
        center = window_default.center if center is None else center
        width = window_default.width if width is None else width
        function = str(function or window_default.function).upper()
        if function not in VOI_FUNCTIONS:
            raise ValueError(f"VOI LUT Function must be one of {', '.join(VOI_FUNCTIONS)} "
                             f"(PS3.3 C.11.2.1.3), got {function!r}")
        plane = plane or data.planes[0]
        if plane not in data.planes:
            raise ValueError(f"plane must be one of {', '.join(data.planes)}, got {plane!r}")
        nz, ny, nx = data.stored.shape
        point = [nx // 2, ny // 2, nz // 2]
        axis = PLANE_AXES[plane].axis
        if index is not None:
            if not 0 <= int(index) < data.count(plane):
                raise IndexError(f"{plane} slice {index} is outside 0..{data.count(plane) - 1}")
            point[axis] = int(index)
        stored = data.stored
        meta: Meta = {
            "uid": uuid.uuid4().hex, "shape": [nz, ny, nx], "dtype": stored.dtype.name,
            "slope": data.slope, "intercept": data.intercept,
            "stored_range": [int(stored.min()), int(stored.max())]
            if stored.dtype.kind == "i" and stored.size else None,
            "value_range": [lo, hi], "step": step, "sensitivity": max(step, (hi - lo) / 2048),
            "spacing": list(data.spacing),
            "planes": {name: {**PLANE_AXES[name].__dict__, "edges": list(data.edges[name])}
                       for name in data.planes},
            "affine": None if data.affine is None else data.affine.tolist(),
            "photometric": data.photometric, "units": data.units,
            "presets": [{"name": k, "center": p.center, "width": p.width,
                         "function": p.function, "lut": lut_of.get(k, -1)}
                        for k, p in choices.items()],
            "luts": [{"name": p.name, "first_mapped": int(p.lut.first_mapped),
                      "grey": {ph: base64.b64encode(p.lut.grey_table(ph).tobytes()).decode()
                               for ph in MONOCHROME}}
                     for k, p in choices.items() if p.lut is not None],
            "initial": {"center": float(center), "width": float(width), "function": function,
                        "lut": lut},
            "whole": bool(stored.nbytes <= BUDGET_BYTES), "budget_bytes": BUDGET_BYTES,
            "slab_slices": max(1, SLAB_BYTES // max(ny * nx * stored.itemsize, 1)),
            "size": int(size), "spacing_kind": data.spacing_kind, "patient": data.patient,
            "series": data.series, "thickness": data.thickness,
            "labels": None if self._bits is None else {
                "dtype": self._bits.dtype.name,
                "segments": [{"name": g.name, "number": g.number, "rgb": list(g.rgb),
                              "style": g.style, "bit": g.bit, "source": g.source}
                             for g in self._segments]},
        }
        super().__init__(
            center=float(center), width=float(width), voi_function=function, voi_lut=lut,
            plane=plane, crosshair=point,
            interpolation=interpolation,
            arrangement=layout or ("three" if len(data.planes) > 1 else "one"), _meta=meta,
            segment_styles=[{"visible": True, "opacity": 1.0 if g.style == "contour" else 0.5}
                            for g in self._segments])
        self.bytes_sent = 0
        self.on_msg(self._on_msg)
        self._preview = base64.b64encode(self.preview_png()).decode("ascii")

    # -- state ----------------------------------------------------------------------------
    @traitlets.validate("width")
    def _valid_width(self, proposal: dict) -> float:
        value = proposal["value"]
        least = "> 0 (PS3.3 C.11.2.1.3)"
        if self.voi_function == "LINEAR":
            least = ">= 1 for the LINEAR VOI function (PS3.3 C.11.2.1.2.1)"
        if not np.isfinite(value) or value <= 0 or (self.voi_function == "LINEAR" and value < 1):
            raise traitlets.TraitError(f"window width must be {least}, got {value!r}")
        return value

    @traitlets.validate("voi_lut")
    def _valid_voi_lut(self, proposal: dict) -> int:
        if not -1 <= proposal["value"] < len(getattr(self, "_luts", ())):
            raise traitlets.TraitError(f"voi_lut must be -1 (a window) or the index of one of "
                                       f"the header's {len(self._luts)} VOI LUT tables")
        return proposal["value"]

    @traitlets.validate("plane")
    def _valid_plane(self, proposal: dict) -> str:
        if self._meta and proposal["value"] not in self._data.planes:
            raise traitlets.TraitError(f"plane must be one of {', '.join(self._data.planes)}")
        return proposal["value"]

    @traitlets.validate("crosshair")
    def _valid_crosshair(self, proposal: dict) -> list[int]:
        point = [int(v) for v in proposal["value"]]
        if self._meta:
            nz, ny, nx = self._data.stored.shape
            for name, v, n in zip("ijk", point, (nx, ny, nz), strict=True):
                if not 0 <= v < n:
                    raise traitlets.TraitError(f"crosshair {name}={v} is outside 0..{n - 1}")
        return point

    @property
    def slice(self) -> int:
        """The shown plane's index (0-based): the crosshair along that plane's normal."""
        return self.crosshair[PLANE_AXES[self.plane].axis]

    @slice.setter
    def slice(self, index: int) -> None:
        count = self._data.count(self.plane)
        if not 0 <= int(index) < count:
            raise traitlets.TraitError(f"{self.plane} slice {index} is outside 0..{count - 1}")
        point = list(self.crosshair)
        point[PLANE_AXES[self.plane].axis] = int(index)
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
        """The windows the preset menu offers, by menu label, in menu order (keys 1-9)."""
        return dict(self._choices)

    def set_window(self, center: float, width: float, function: str | None = None) -> None:
        """Set center and width (and the VOI LUT Function) together, one update in the
        browser; a VOI LUT table shown gives way to the window."""
        with self.hold_sync():
            if function is not None:
                self.voi_function = str(function).upper()
            self.center, self.width = float(center), float(width)
            self.voi_lut = -1

    @property
    def luts(self) -> list[VoiLut]:
        """The header's VOI LUT tables, in the order ``voi_lut`` counts them."""
        return list(self._luts)

    def values(self, plane: str | None = None, index: int | None = None) -> np.ndarray:
        """Modality values of a plane in display orientation (default: the one shown)."""
        plane = plane or self.plane
        index = self.crosshair[PLANE_AXES[plane].axis] if index is None else index
        return self._data.values(plane, index)

    def render(self, plane: str | None = None) -> np.ndarray:
        """The 8-bit picture the browser draws for a plane (default: the one shown):
        ``window(values(), center, width, photometric, voi_function)``, or with a VOI LUT
        table shown ``luts[voi_lut].apply(values(), photometric)``; one pixel per plane
        pixel."""
        if self.voi_lut >= 0:
            return self._luts[self.voi_lut].apply(self.values(plane), self.photometric)
        return window(self.values(plane), self.center, self.width, self.photometric,
                      self.voi_function)

    @property
    def segments(self) -> list[_labels.OverlaySegment]:
        """The overlaid segments, in drawing order (``segment_styles`` follows it)."""
        return list(self._segments)

    def style_segment(self, name: str, *, visible: bool | None = None,
                      opacity: float | None = None) -> None:
        """Show or hide one overlaid segment, or set its opacity (0-1)."""
        names = [g.name for g in self._segments]
        if name not in names:
            raise KeyError(f"no overlaid segment {name!r}; there are {names}")
        styles = [dict(st) for st in self.segment_styles]
        if visible is not None:
            styles[names.index(name)]["visible"] = bool(visible)
        if opacity is not None:
            if not 0 <= float(opacity) <= 1:
                raise ValueError(f"opacity must be within 0..1, got {opacity!r}")
            styles[names.index(name)]["opacity"] = float(opacity)
        self.segment_styles = styles

    def label_bits(self, plane: str | None = None, index: int | None = None) -> np.ndarray:
        """The packed label bits of a plane in display orientation (default: the one
        shown): bit ``segment.bit`` set where that segment is."""
        if self._bits is None:
            raise ValueError("this viewer has no labels")
        plane = plane or self.plane
        index = self.crosshair[PLANE_AXES[plane].axis] if index is None else index
        return cut_plane(self._bits, plane, index)

    def render_rgb(self, plane: str | None = None) -> np.ndarray:
        """The RGB picture of a plane with the label overlay, as the browser draws it
        (:func:`helpers.image.viewer_labels.compose` of :meth:`render`)."""
        grey = self.render(plane)
        if self._bits is None:
            return np.repeat(grey[..., None], 3, axis=2)
        return _labels.compose(grey, self.label_bits(plane), self._segments,
                               list(self.segment_styles))

    def summary(self) -> str:
        """One line for the static picture and the text form: window and slice."""
        where = ""
        if len(self._data.planes) > 1 or self._data.stored.shape[0] > 1:
            where = f"{self.plane} {self.slice + 1}/{self._data.count(self.plane)} · "
        unit = f" {self._data.units}" if self._data.units else ""
        if self.voi_lut >= 0:
            lut = next(k for k, p in self._choices.items() if p.lut is self._luts[self.voi_lut])
            return f"{where}VOI LUT {lut} · {self.photometric}"
        curve = "" if self.voi_function == "LINEAR" else f" {self.voi_function}"
        return f"{where}C={self.center:g} W={self.width:g}{unit}{curve} · {self.photometric}"

    def preview_png(self) -> bytes:
        """A PNG of the views as the viewer first shows them (each plane at its
        physical aspect, with its orientation letters, PS3.3 C.7.6.1.1.1) and its
        window, for notebooks opened without a kernel."""
        from PIL import Image, ImageDraw, ImageFont

        font = ImageFont.load_default(size=14)
        tiles = []
        d = self._data
        for name in d.planes:
            img = Image.fromarray(self.render_rgb(name))
            rows, cols = img.height, img.width
            ph, pw = d.pixel_mm(name)
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
        lines = (self.summary(), "a still picture of the first view: run the cell to interact")
        draw = ImageDraw.Draw(sheet)
        for k, line in enumerate(lines):
            draw.text((2, sheet.height - caption + 4 + 18 * k), line, fill=(0, 0, 0), font=font)
        buf = io.BytesIO()
        sheet.save(buf, format="PNG", compress_level=6)
        return buf.getvalue()

    # -- data to the browser --------------------------------------------------------------
    def _on_msg(self, _widget: object, content: dict, _buffers: list) -> None:
        stored = self._data.stored
        if content.get("type") == "labels" and self._bits is not None:
            self._send_values({"type": "labels"}, self._bits)
        elif content.get("type") == "need":
            n = self._meta["slab_slices"]
            for slab in content.get("slabs", []):
                k0 = int(slab) * n
                if 0 <= k0 < stored.shape[0]:
                    self._send_values({"type": "slab", "id": int(slab)}, stored[k0:k0 + n])
        elif content.get("type") == "plane" and str(content.get("plane")) in ("coronal",
                                                                              "sagittal"):
            name, index = str(content["plane"]), int(content["index"])
            if name in self._data.planes and 0 <= index < self._data.count(name):
                self._send_values({"type": "plane", "plane": name, "index": index},
                                  self._data.cut(name, index))

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
        data["text/plain"] = f"Viewer({self.summary()})"
        return (data, meta) if isinstance(bundle, tuple) else data


def show(image: object, **options: object) -> Viewer:
    """Make a :class:`Viewer` for ``image`` (a Volume, a Dataset in memory or an array).

    Put the call last in a cell to show it, e.g. ``show(vol, preset="lung")``.
    Options are those of :class:`Viewer`.
    """
    return Viewer(image, **options)  # type: ignore[arg-type]
