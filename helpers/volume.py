"""Assemble a series of 2D slices into a 3D volume in patient coordinates.

Geometry comes from the Image Plane module (PS3.3 C.7.6.2):

- (0020,0037) Image Orientation (Patient): the direction cosines of the first row
  (the direction of increasing column index) and of the first column (increasing
  row index), in the patient-based LPS system (PS3.3 C.7.6.2.1.1: +x towards the
  patient's Left, +y Posterior, +z Superior/head);
- (0020,0032) Image Position (Patient): the centre of the first transmitted voxel;
- (0028,0030) Pixel Spacing: *row spacing* (between rows) then *column spacing*.

Slices are ordered by their position projected on the slice normal
``n = row direction x column direction``, never by Instance Number or file name
(neither is required to follow anatomy), and the slice spacing is taken from the
positions (Slice Thickness is the thickness of the reconstructed slab, not the
step between slices). The result maps array indices to millimetres with a 4x4
affine, as SimpleITK/ITK and NIfTI do.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from pydicom.multival import MultiValue

from .dicomio import read
from .errors import MissingTagError, SeriesError
from .pixels import to_hu, units, value_dtype
from .presets import Preset, from_header

__all__ = ["Volume", "Plane", "PLANES", "load_series", "slice_order"]

PathLike = str | os.PathLike[str]

#: The three display planes, in the order a viewer offers them.
PLANES = ("axial", "coronal", "sagittal")

ORIENTATION_TOLERANCE = 1e-4  # direction cosines that differ less are "the same"
POSITION_TOLERANCE = 0.01  # mm: positions this close coincide; in-plane offsets allowed
GAP_TOLERANCE = 0.01  # fraction of the slice spacing by which a gap may differ


@dataclass(frozen=True)
class Plane:
    """One 2D view cut from a volume, oriented the way radiologists look at it.

    ``image[r, c]`` in HU; ``pixel_mm = (height, width)`` of one pixel, so the
    right display aspect (matplotlib ``imshow(aspect=...)``) is :attr:`aspect`;
    ``edges`` names the patient side at the (top, bottom, left, right) edge.
    """

    name: str
    index: int
    image: np.ndarray
    pixel_mm: tuple[float, float]
    edges: tuple[str, str, str, str]

    @property
    def aspect(self) -> float:
        """Pixel height / pixel width: stretch rows by this to get true proportions."""
        return self.pixel_mm[0] / self.pixel_mm[1]

    @property
    def extent_mm(self) -> tuple[float, float]:
        """(height, width) of the whole plane in millimetres."""
        rows, cols = self.image.shape
        return rows * self.pixel_mm[0], cols * self.pixel_mm[1]


@dataclass
class Volume:
    """A 3D image: ``array[slice, row, column]`` in HU and the geometry to place it.

    ``affine @ (column, row, slice, 1)`` gives the voxel centre in patient LPS
    millimetres. ``paths`` are the files in slice order. ``array`` is in the dtype
    :func:`helpers.pixels.value_dtype` decides: ``int16`` when every modality value
    is a whole number that fits (CT with integer slope/intercept), ``int32`` when
    whole but wider, otherwise ``float64``; use ``array.astype(float)`` before
    arithmetic that could overflow. ``modality`` is (0008,0060) Modality, ``units``
    the unit of the values (``"HU"`` for CT only, :func:`helpers.pixels.units`),
    ``windows`` the Window Center/Width pairs of the first slice's header
    (PS3.3 C.11.2.1.2) as :class:`helpers.presets.Preset`.
    """

    array: np.ndarray
    affine: np.ndarray
    paths: list[Path] = field(default_factory=list)
    series_uid: str = ""
    description: str = ""
    photometric: str = "MONOCHROME2"
    modality: str = ""
    units: str = ""
    windows: tuple[Preset, ...] = ()

    # -- geometry ---------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.array.shape)  # type: ignore[return-value]

    @property
    def spacing(self) -> tuple[float, float, float]:
        """Millimetres per index step along (column, row, slice), i.e. ITK/SimpleITK order."""
        return tuple(float(np.linalg.norm(self.affine[:3, i])) for i in range(3))  # type: ignore

    @property
    def origin(self) -> np.ndarray:
        """LPS position (mm) of the centre of voxel (0, 0, 0): the first slice's
        Image Position (Patient)."""
        return self.affine[:3, 3].copy()

    @property
    def direction(self) -> np.ndarray:
        """3x3 matrix whose columns are the unit vectors of increasing column,
        row and slice index (SimpleITK's ``GetDirection()`` reshaped to 3x3)."""
        return self.affine[:3, :3] / np.asarray(self.spacing)

    def to_patient(self, column: float, row: float, slice_: float) -> np.ndarray:
        """LPS millimetres of a (possibly fractional) voxel index."""
        return (self.affine @ np.array([column, row, slice_, 1.0]))[:3]

    # -- display planes ---------------------------------------------------------------
    @cached_property
    def _axes(self) -> tuple[tuple[int, int, int], tuple[bool, bool, bool]]:
        """For patient axes (z, y, x): which array axis runs along it, and whether
        that axis points the negative way (nearest-axis assignment)."""
        # array axis a (0 slice, 1 row, 2 column) has direction column 2 - a
        vec = {a: self.direction[:, 2 - a] for a in range(3)}
        order: list[int] = []
        flips: list[bool] = []
        free = {0, 1, 2}
        for patient in (2, 1, 0):  # z, y, x (LPS component index)
            best = max(sorted(free), key=lambda a: abs(vec[a][patient]))
            free.discard(best)
            order.append(best)
            flips.append(bool(vec[best][patient] < 0))
        return (order[0], order[1], order[2]), (flips[0], flips[1], flips[2])

    @property
    def canonical(self) -> np.ndarray:
        """A view of ``array`` with axes (z, y, x) increasing towards S, P, L.

        Exact for series whose rows and columns follow the patient axes (axial,
        coronal, sagittal); for an oblique series it is the nearest such ordering
        (no resampling).
        """
        order, flips = self._axes
        view = np.transpose(self.array, order)
        for axis, flip in enumerate(flips):
            if flip:
                view = np.flip(view, axis)
        return view

    @property
    def canonical_spacing(self) -> tuple[float, float, float]:
        """Millimetres per step of :attr:`canonical`'s axes (z, y, x)."""
        col, row, sl = self.spacing
        per_axis = {0: sl, 1: row, 2: col}
        order, _ = self._axes
        return per_axis[order[0]], per_axis[order[1]], per_axis[order[2]]

    def n_planes(self, name: str) -> int:
        """How many planes of kind ``name`` (axial, coronal, sagittal) there are."""
        return self.canonical.shape[_plane_axis(name)]

    def plane(self, name: str = "axial", index: int | None = None) -> Plane:
        """The ``index``-th plane (default: the middle one) in radiological display:

        - axial: seen from the feet, patient's right on the left, anterior at the top;
        - coronal: seen from the front, right on the left, head at the top;
        - sagittal: seen from the patient's left, anterior on the left, head at the top.
        """
        axis = _plane_axis(name)
        vol = self.canonical
        n = vol.shape[axis]
        i = n // 2 if index is None else int(index)
        if not 0 <= i < n:
            raise IndexError(f"{name} plane {i} is outside 0..{n - 1}")
        dz, dy, dx = self.canonical_spacing
        if axis == 0:
            return Plane("axial", i, vol[i], (dy, dx), ("A", "P", "R", "L"))
        if axis == 1:
            return Plane("coronal", i, vol[::-1, i, :], (dz, dx), ("S", "I", "R", "L"))
        return Plane("sagittal", i, vol[::-1, :, i], (dz, dy), ("S", "I", "A", "P"))


def _plane_axis(name: str) -> int:
    try:
        return PLANES.index(name.lower())
    except ValueError:
        raise ValueError(f"unknown plane {name!r}; choose one of {', '.join(PLANES)}") from None


# --------------------------------------------------------------------------- reading
def _files(folder_or_paths: PathLike | Iterable[PathLike]) -> tuple[Path | None, list[Path]]:
    if isinstance(folder_or_paths, str | os.PathLike):
        folder = Path(folder_or_paths)
        if not folder.exists():
            raise FileNotFoundError(f"{folder}: no such folder")
        if folder.is_file():
            return None, [folder]
        files = sorted(p for p in folder.rglob("*")
                       if p.is_file() and not p.name.startswith(".") and p.name != "DICOMDIR")
        if not files:
            raise SeriesError(folder, "holds no files")
        return folder, files
    files = [Path(p) for p in folder_or_paths]
    if not files:
        raise SeriesError(None, "no files given")
    return None, files


def _floats(ds, keyword: str, count: int, path: Path) -> np.ndarray:
    value = ds.get(keyword)
    values = [] if value is None else list(value) if isinstance(value, MultiValue) else [value]
    try:
        numbers = np.array([float(v) for v in values])
    except (TypeError, ValueError):
        numbers = np.array([np.nan])
    if len(numbers) != count or not np.all(np.isfinite(numbers)):
        raise MissingTagError(path, f"{keyword} is missing or does not hold {count} numbers "
                                    "(Image Plane module, PS3.3 C.7.6.2)")
    return numbers


def _int(ds, keyword: str, path: Path) -> int:
    value = ds.get(keyword, 0)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise MissingTagError(path, f"{keyword} {value!r} is not a whole number "
                                    "(Image Pixel module, PS3.3 C.7.6.3)") from None


@dataclass
class _Header:
    path: Path
    series_uid: str
    orientation: np.ndarray
    position: np.ndarray
    pixel_spacing: np.ndarray
    shape: tuple[int, int]
    description: str


#: The attributes :func:`_header` uses. Reading only these keeps the first pass cheap:
#: :func:`helpers.dicomio.read` decodes every element it reads. The second pass (the
#: pixels) skips that: :func:`helpers.pixels.to_hu` and :func:`helpers.dicomio.pixels`
#: turn any error of the elements they use into a documented one.
_HEADER_KEYWORDS = ("SeriesInstanceUID", "ImageOrientationPatient", "ImagePositionPatient",
                    "PixelSpacing", "Rows", "Columns", "SeriesDescription")


def _header(path: Path) -> _Header:
    ds = read(path, stop_before_pixels=True, specific_tags=list(_HEADER_KEYWORDS))
    return _Header(
        path=path,
        series_uid=str(ds.get("SeriesInstanceUID", "")),
        orientation=_floats(ds, "ImageOrientationPatient", 6, path),
        position=_floats(ds, "ImagePositionPatient", 3, path),
        pixel_spacing=_floats(ds, "PixelSpacing", 2, path),
        shape=(_int(ds, "Rows", path), _int(ds, "Columns", path)),
        description=str(ds.get("SeriesDescription", "")),
    )


def _one_series(headers: list[_Header], where: Path | None) -> None:
    groups: dict[str, list[_Header]] = {}
    for h in headers:
        groups.setdefault(h.series_uid, []).append(h)
    if len(groups) > 1:
        parts = [f"{uid or '(no UID)'} ({len(hs)} file{'s' if len(hs) != 1 else ''}"
                 + (f", '{hs[0].description}'" if hs[0].description else "") + ")"
                 for uid, hs in sorted(groups.items())]
        raise SeriesError(where or headers[0].path,
                          f"holds {len(groups)} series, not one: {'; '.join(parts)}; "
                          "load each series' files separately")


def slice_order(headers: list[_Header], where: Path | None = None) -> tuple[list[int], float]:
    """Indices sorting ``headers`` along the slice normal, and the slice spacing (mm).

    Checks that every slice has the same orientation, size and pixel spacing, that
    the slices are stacked along the normal, and that the gaps are even.
    """
    first = headers[0]
    for h in headers[1:]:
        if np.max(np.abs(h.orientation - first.orientation)) > ORIENTATION_TOLERANCE:
            raise SeriesError(h.path, f"Image Orientation (Patient) {list(h.orientation)} differs "
                                      f"from {list(first.orientation)} in {first.path.name}: "
                                      "inconsistent orientation, not one stack of slices")
        if h.shape != first.shape:
            raise SeriesError(h.path, f"is {h.shape[0]}x{h.shape[1]} pixels while "
                                      f"{first.path.name} is {first.shape[0]}x{first.shape[1]}")
        if np.max(np.abs(h.pixel_spacing - first.pixel_spacing)) > 1e-6:
            raise SeriesError(h.path, f"Pixel Spacing {list(h.pixel_spacing)} differs from "
                                      f"{list(first.pixel_spacing)} in {first.path.name}")
    row, col = first.orientation[:3], first.orientation[3:]
    normal = np.cross(row, col)
    if abs(np.linalg.norm(normal) - 1) > 1e-3 or abs(row @ col) > 1e-3:
        raise SeriesError(first.path, "Image Orientation (Patient) is not two orthogonal unit "
                                      "vectors (PS3.3 C.7.6.2.1.1)")
    normal /= np.linalg.norm(normal)
    distance = np.array([h.position @ normal for h in headers])
    order = sorted(range(len(headers)), key=lambda i: (distance[i], headers[i].path.name))
    if len(headers) == 1:
        thickness = 1.0
        return order, thickness
    d = distance[order]
    for a, b in zip(order, order[1:], strict=False):
        if abs(distance[b] - distance[a]) < POSITION_TOLERANCE:
            raise SeriesError(headers[b].path, f"is at the same position as {headers[a].path.name}"
                                               " (duplicate slice, or two series mixed)")
    p0 = headers[order[0]].position
    for i in order:
        off = headers[i].position - p0 - (distance[i] - d[0]) * normal
        if np.linalg.norm(off) > POSITION_TOLERANCE:
            raise SeriesError(headers[i].path, f"is shifted {np.linalg.norm(off):.3f} mm within "
                                               "the slice plane: the slices are not one straight "
                                               "stack (gantry tilt?)")
    gaps = np.diff(d)
    spacing = (d[-1] - d[0]) / (len(d) - 1)
    worst = int(np.argmax(np.abs(gaps - spacing)))
    if abs(gaps[worst] - spacing) > GAP_TOLERANCE * spacing:
        a, b = headers[order[worst]], headers[order[worst + 1]]
        expected = float(np.median(gaps))
        raise SeriesError(where or b.path,
                          f"uneven gaps between slices: {gaps[worst]:.3f} mm between "
                          f"{a.path.name} and {b.path.name}, {expected:.3f} mm elsewhere "
                          "(missing slices?)")
    return order, float(spacing)


def load_series(folder_or_paths: PathLike | Iterable[PathLike]) -> Volume:
    """Read one series (a folder, or a list of files) into a :class:`Volume` in HU.

    Raises :class:`helpers.errors.SeriesError` for a folder holding more than one
    series, inconsistent orientation/size/spacing, duplicate slices or uneven gaps
    (missing slices), and :class:`helpers.errors.MissingTagError` for a slice
    without Image Plane geometry.
    """
    where, files = _files(folder_or_paths)
    headers = [_header(p) for p in files]
    _one_series(headers, where)
    order, slice_spacing = slice_order(headers, where)
    first = headers[order[0]]
    row_dir, col_dir = first.orientation[:3], first.orientation[3:]
    normal = np.cross(row_dir, col_dir)
    normal = normal / np.linalg.norm(normal) + 0.0  # + 0.0 turns -0.0 into 0.0
    row_spacing, col_spacing = first.pixel_spacing
    affine = np.eye(4)
    affine[:3, 0] = row_dir * col_spacing + 0.0  # along a row: increasing column index
    affine[:3, 1] = col_dir * row_spacing + 0.0  # down a column: increasing row index
    affine[:3, 2] = normal * slice_spacing + 0.0
    affine[:3, 3] = first.position

    rows, cols = first.shape
    stack = np.empty((len(order), rows, cols), dtype=np.int16)  # widened if needed
    photometric, modality, unit, windows = "MONOCHROME2", "", "", ()
    for k, i in enumerate(order):
        ds = read(headers[i].path, decode_all=False)
        photometric = str(ds.get("PhotometricInterpretation", photometric))
        if k == 0:
            modality, unit, windows = str(ds.get("Modality", "")), units(ds), \
                tuple(from_header(ds))
        hu = to_hu(ds)
        if hu.shape != (rows, cols):
            raise SeriesError(headers[i].path, f"holds an image of shape {hu.shape}; "
                                               "load_series expects single-frame slices")
        wider = np.promote_types(stack.dtype, value_dtype(hu))
        if wider != stack.dtype:
            stack = stack.astype(wider)
        stack[k] = hu
    return Volume(stack, affine, [headers[i].path for i in order], first.series_uid,
                  first.description, photometric, modality, unit, windows)
