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

The geometry is read from a table of header rows (:data:`SERIES_FIELDS`, as
:func:`helpers.tables.crawl.scan` gives them), so a study crawled once yields each
series' volume with one read of each file, for its pixels; a folder or a list of
files is first turned into such rows with :func:`helpers.dicom.header.read_header`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from ..dicom.dicomio import read
from ..dicom.errors import GeometryWarning, MissingTagError, SeriesError, WorkbookError
from ..dicom.header import read_header
from ..dicom.vr import parse_ds, parse_is
from ..dicom.walk import files as walk_files
from ..paths import shown
from .pixels import modality_values, units, value_dtype
from .presets import Preset, from_header

__all__ = ["Volume", "Plane", "PLANES", "SERIES_FIELDS", "REQUIRED_COLUMNS", "load_series",
           "slice_order"]

PathLike = str | os.PathLike[str]

#: The three display planes, in the order a viewer offers them.
PLANES = ("axial", "coronal", "sagittal")

#: Geometry tolerances, as fractions of the physics (see :func:`slice_order`).
ORIENTATION_TOLERANCE = 1e-3  # direction cosines closer than this are "the same" (highdicom)
DUPLICATE_FRACTION = 0.1  # slices nearer than this fraction of the mean gap coincide
GRID_SILENT_FRACTION = 0.01  # off the regular grid by <= 1 % of the mean gap: rounding
GRID_WARN_FRACTION = 0.2  # up to a fifth of the mean gap: irregular but usable (warning)
IN_PLANE_SILENT_FRACTION = 0.1  # in-plane offset <= 0.1 pixel: rounding, silent
IN_PLANE_WARN_FRACTION = 0.5  # up to half a pixel: usable (warning); beyond: not a stack
PIXEL_SPACING_TOLERANCE = 1e-3  # relative difference of Pixel Spacing between slices


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
    :func:`helpers.image.pixels.value_dtype` decides: ``int16`` when every modality value
    is a whole number that fits (CT with integer slope/intercept), ``int32`` when
    whole but wider, otherwise ``float64``; use ``array.astype(float)`` before
    arithmetic that could overflow. ``modality`` is (0008,0060) Modality, ``units``
    the unit of the values (``"HU"`` for CT only, :func:`helpers.image.pixels.units`),
    ``windows`` the Window Center/Width pairs of the first slice's header
    (PS3.3 C.11.2.1.2) as :class:`helpers.image.presets.Preset`.
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
    """The folder given (``None`` for a list of files) and the files to read, sorted:
    the workbook's one walk (:func:`helpers.dicom.walk.files`: no link to a folder
    followed, no FIFO opened), without hidden files and the DICOMDIR index."""
    if isinstance(folder_or_paths, str | os.PathLike):
        folder = Path(folder_or_paths)
        if not folder.exists():
            raise SeriesError(folder, "no such file or folder")
        if folder.is_file():
            return None, [folder]
        files = [p for p in walk_files(folder)
                 if not p.name.startswith(".") and p.name != "DICOMDIR"]
        if not files:
            raise SeriesError(folder, "holds no files")
        return folder, files
    files = [Path(p) for p in folder_or_paths]
    if not files:
        raise SeriesError(None, "no files given")
    return None, files


def _root(folder: Path | None, files: list[Path]) -> Path:
    """The folder file names are shown relative to: the one given, or the files' common one."""
    if folder is not None:
        return folder
    return Path(os.path.commonpath([str(p.resolve().parent) for p in files]))


#: The header fields :func:`load_series` needs from every slice, by keyword: the Image
#: Plane module (PS3.3 C.7.6.2: position, orientation, pixel spacing), Rows and Columns
#: of the Image Pixel module (PS3.3 C.7.6.3) and the series it belongs to (PS3.3
#: C.7.3.1). Crawl with ``scan(folder, fields=SERIES_FIELDS)``
#: (:func:`helpers.tables.crawl.scan`) and pass one series' rows to :func:`load_series`.
SERIES_FIELDS: tuple[str, ...] = (
    "SeriesInstanceUID", "SeriesDescription", "ImagePositionPatient",
    "ImageOrientationPatient", "PixelSpacing", "Rows", "Columns",
)
#: The columns rows must have (``SeriesDescription`` may be absent: it only names the
#: series in messages and :attr:`Volume.description`).
REQUIRED_COLUMNS: tuple[str, ...] = ("path", *(f for f in SERIES_FIELDS
                                               if f != "SeriesDescription"))


def _numbers(value: object, keyword: str, count: int, path: Path, root: Path | None
             ) -> np.ndarray:
    """A DS field's ``count`` numbers (text as the file holds it, parsed by
    :func:`helpers.dicom.vr.parse_ds`), or :class:`MissingTagError` naming the file."""
    parsed = parse_ds(value)
    numbers = np.array(parsed if parsed is not None else [np.nan], dtype=float)
    if len(numbers) != count or not np.all(np.isfinite(numbers)):
        raise MissingTagError(path, f"{keyword} is missing or does not hold {count} numbers "
                                    "(Image Plane module, PS3.3 C.7.6.2): no geometry to place "
                                    "the slice in a volume", root=root)
    return numbers


def _whole(value: object, keyword: str, path: Path, root: Path | None) -> int:
    """Rows or Columns (US: an integer in a crawl's table, text only if a table was
    written and read back), or :class:`MissingTagError` naming the file."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        number: int | None = int(value)
    else:
        parsed = parse_is(value)
        number = parsed[0] if parsed is not None and len(parsed) == 1 else None
    if number is None or number < 1:
        raise MissingTagError(path, f"{keyword} is missing or not a whole number above 0 "
                                    "(Image Pixel module, PS3.3 C.7.6.3)", root=root)
    return number


@dataclass
class _Header:
    """One slice's geometry, from one row of a header table."""

    path: Path
    series_uid: str
    orientation: np.ndarray
    position: np.ndarray
    pixel_spacing: np.ndarray
    shape: tuple[int, int]
    description: str
    root: Path | None = None  # the folder messages name the file relative to

    @property
    def name(self) -> str:
        """The file as messages show it (relative to the folder given)."""
        return shown(self.path, self.root)


@contextmanager
def _named_from(root: Path | None) -> Iterator[None]:
    """Re-raise a helper's error with its file named relative to ``root``."""
    try:
        yield
    except WorkbookError as exc:
        if root is None or exc.path is None:
            raise
        raise type(exc)(exc.path, exc.problem, root=root) from None


def _read_rows(files: list[Path], root: Path) -> pd.DataFrame:
    """The header rows of ``files`` (``path`` as given), read with the workbook's one
    header reader, :func:`helpers.dicom.header.read_header`, in this process."""
    rows = []
    for path in files:
        with _named_from(root):
            rows.append({"path": str(path), **read_header(path, fields=SERIES_FIELDS)})
    return pd.DataFrame(rows, columns=["path", *SERIES_FIELDS])


def _row_paths(rows: pd.DataFrame, folder: Path | None) -> list[Path]:
    """The files the rows name: ``path`` under ``folder``, or absolute."""
    missing = [c for c in REQUIRED_COLUMNS if c not in rows.columns]
    if missing:
        raise MissingTagError(None, f"the rows lack the column{'s' if len(missing) > 1 else ''} "
                                    f"{', '.join(missing)}; load_series needs "
                                    f"{', '.join(REQUIRED_COLUMNS)} (Image Plane and Image "
                                    "Pixel modules, PS3.3 C.7.6.2 and C.7.6.3): crawl with "
                                    "scan(folder, fields=SERIES_FIELDS) and pass one series' "
                                    "rows")
    if rows.empty:
        raise SeriesError(None, "no rows given")
    paths = [Path(str(p)) for p in rows["path"]]
    if folder is None:
        if not all(p.is_absolute() for p in paths):
            raise SeriesError(None, "the rows' paths are relative (as scan gives them) and no "
                                    "folder is known: pass folder=, the folder that was "
                                    "crawled")
        return paths
    return [folder / p for p in paths]


def _headers(rows: pd.DataFrame, paths: list[Path], root: Path | None) -> list[_Header]:
    """Each row's geometry, checked: :class:`MissingTagError` names a file without it."""
    def column(keyword: str) -> list:
        return rows[keyword].tolist() if keyword in rows.columns else [None] * len(paths)

    uids, descriptions = column("SeriesInstanceUID"), column("SeriesDescription")
    iops, ipps, spacings = (column("ImageOrientationPatient"), column("ImagePositionPatient"),
                            column("PixelSpacing"))
    heights, widths = column("Rows"), column("Columns")
    return [_Header(
        path=path,
        series_uid=uids[k] if isinstance(uids[k], str) else "",
        orientation=_numbers(iops[k], "ImageOrientationPatient", 6, path, root),
        position=_numbers(ipps[k], "ImagePositionPatient", 3, path, root),
        pixel_spacing=_numbers(spacings[k], "PixelSpacing", 2, path, root),
        shape=(_whole(heights[k], "Rows", path, root), _whole(widths[k], "Columns", path, root)),
        description=descriptions[k] if isinstance(descriptions[k], str) else "",
        root=root,
    ) for k, path in enumerate(paths)]


def _one_series(headers: list[_Header], where: Path | None) -> None:
    groups: dict[str, list[_Header]] = {}
    for h in headers:
        groups.setdefault(h.series_uid, []).append(h)
    if len(groups) > 1:
        parts = [f"{uid or '(no UID)'} ({len(hs)} file{'s' if len(hs) != 1 else ''}"
                 + (f", '{hs[0].description}'" if hs[0].description else "") + ")"
                 for uid, hs in sorted(groups.items())]
        raise SeriesError(where or headers[0].path, root=headers[0].root, problem=
                          f"holds {len(groups)} series, not one: {'; '.join(parts)}; "
                          "load each series' files (or rows) separately")


def _error(h: _Header, problem: str) -> SeriesError:
    return SeriesError(h.path, problem, root=h.root)


def slice_order(headers: list[_Header], where: Path | None = None) -> tuple[list[int], float]:
    """Indices sorting ``headers`` along the slice normal, and the slice spacing (mm).

    The rules, and where they come from. Scanners write Image Position (Patient)
    as decimal strings (DS, at most 16 characters, PS3.5 6.2), often rounded to
    0.1 mm or coarser, so a reader must tolerate what rounding does -- measured
    against the physics of the series (the pixel size, the gap between slices),
    not a fixed number of millimetres:

    - *Same orientation*: direction cosines equal within
      :data:`ORIENTATION_TOLERANCE` (1e-3, highdicom's tolerance on the dot
      product when it decides perpendicularity), else refused.
    - *Same size and pixel spacing*: Rows, Columns equal; Pixel Spacing equal
      within :data:`PIXEL_SPACING_TOLERANCE` (relative), else refused.
    - *Order*: by the position projected on the normal (GDCM's ``IPPSorter``,
      used by SimpleITK's ``GetGDCMSeriesFileNames``; dcm2niix likewise).
    - *Duplicates*: two slices nearer than :data:`DUPLICATE_FRACTION` of the mean
      gap along the normal are at the same position: refused (two echoes, two
      series, or a copy -- not one volume; GDCM's sorter also fails on them).
    - *In-plane offset* of a slice from the stack through the first slice:
      up to :data:`IN_PLANE_SILENT_FRACTION` of a pixel is rounding (silent); up
      to :data:`IN_PLANE_WARN_FRACTION` of a pixel the volume is usable -- every
      voxel lies within half a voxel of where the affine puts it -- and a
      :class:`~helpers.dicom.errors.GeometryWarning` says so; beyond, the slices are
      sheared (gantry tilt, Gantry/Detector Tilt (0018,1120) in PS3.3 C.8.2.1)
      and refused. A tilted stack is not a rectilinear volume: dcm2niix resamples
      it (its gantry-tilt correction) and SimpleITK reads it as if it were not
      tilted (wrong positions); the workbook does not resample, so it refuses
      with the tilt in the message.
    - *Even gaps*: the slices are compared to the regular grid from the first to
      the last position. Off by at most :data:`GRID_SILENT_FRACTION` of the mean
      gap is rounding (highdicom's relative spacing tolerance, 1e-2); up to
      :data:`GRID_WARN_FRACTION` it is irregular but usable, with a
      :class:`~helpers.dicom.errors.GeometryWarning` (as ITK's ``ImageSeriesReader``
      warns of "non uniform sampling" and dcm2niix that the "interslice distance
      varies"; dcm2niix allows 0.2 mm before it warns); beyond, a slice is missing
      or the gaps vary on purpose: refused, naming the two files around the
      largest gap (a missing slice would shift every slice after it).
    """
    first = headers[0]
    for h in headers[1:]:
        if np.max(np.abs(h.orientation - first.orientation)) > ORIENTATION_TOLERANCE:
            raise _error(h, f"Image Orientation (Patient) {list(h.orientation)} differs "
                            f"from {list(first.orientation)} in {first.name}: "
                            "inconsistent orientation, not one stack of slices")
        if h.shape != first.shape:
            raise _error(h, f"is {h.shape[0]}x{h.shape[1]} pixels while "
                            f"{first.name} is {first.shape[0]}x{first.shape[1]}: "
                            "mixed image sizes, not one volume")
        if np.max(np.abs(h.pixel_spacing - first.pixel_spacing)
                  / np.abs(first.pixel_spacing)) > PIXEL_SPACING_TOLERANCE:
            raise _error(h, f"Pixel Spacing {list(h.pixel_spacing)} differs from "
                            f"{list(first.pixel_spacing)} in {first.name}")
    row, col = first.orientation[:3], first.orientation[3:]
    normal = np.cross(row, col)
    if abs(np.linalg.norm(normal) - 1) > 1e-3 or abs(row @ col) > 1e-3:
        raise _error(first, "Image Orientation (Patient) is not two orthogonal unit "
                            "vectors (PS3.3 C.7.6.2.1.1)")
    normal /= np.linalg.norm(normal)
    distance = np.array([h.position @ normal for h in headers])
    order = sorted(range(len(headers)), key=lambda i: (distance[i], str(headers[i].path)))
    if len(headers) == 1:
        return order, 1.0
    d = distance[order]
    mean_gap = (d[-1] - d[0]) / (len(d) - 1)
    for a, b in zip(order, order[1:], strict=False):
        if distance[b] - distance[a] <= max(DUPLICATE_FRACTION * mean_gap, 1e-6):
            raise _error(headers[b], f"is at the same position as {headers[a].name} "
                                     f"({distance[b] - distance[a]:.3f} mm apart along the "
                                     f"normal, mean gap {mean_gap:.3f} mm): duplicate slice, "
                                     "or two series or echoes mixed")
    _check_in_plane(headers, order, distance, normal)
    _check_gaps(headers, order, d, mean_gap, where)
    return order, float(mean_gap)


def _warn(message: str) -> None:
    warnings.warn(message, GeometryWarning, stacklevel=5)  # at the caller of load_series


def _check_in_plane(headers: list[_Header], order: list[int], distance: np.ndarray,
                    normal: np.ndarray) -> None:
    """Refuse a sheared stack (gantry tilt); warn about in-plane rounding over 0.1 pixel."""
    first = headers[order[0]]
    pixel = float(np.min(first.pixel_spacing))
    offsets = [float(np.linalg.norm(headers[i].position - first.position
                                    - (distance[i] - distance[order[0]]) * normal))
               for i in order]
    worst = int(np.argmax(offsets))
    off, h = offsets[worst], headers[order[worst]]
    if off > IN_PLANE_WARN_FRACTION * pixel:
        step = off / max(distance[order[worst]] - distance[order[0]], 1e-9)
        tilt = float(np.degrees(np.arctan(step)))
        raise _error(h, f"is shifted {off:.3f} mm ({off / pixel:.2f} pixel) within the slice "
                        f"plane from the stack through {first.name}: the slices are sheared "
                        f"(gantry tilt of about {tilt:.1f} degrees; see Gantry/Detector Tilt "
                        "(0018,1120)), not a rectilinear volume; resample first, e.g. with "
                        "dcm2niix, which corrects gantry tilt")
    if off > IN_PLANE_SILENT_FRACTION * pixel:
        _warn(f"{h.name}: is shifted {off:.3f} mm ({off / pixel:.2f} pixel) within the slice "
              f"plane from the stack through {first.name}; loaded on the first slice's grid "
              "(every voxel within half a pixel of its true place): rounded Image Position "
              "(Patient) values")


def _check_gaps(headers: list[_Header], order: list[int], d: np.ndarray, mean_gap: float,
                where: Path | None) -> None:
    """Compare the slices with the regular grid from the first to the last position."""
    grid = d[0] + mean_gap * np.arange(len(d))
    error = np.abs(d - grid)
    worst_error = float(error.max())
    gaps = np.diff(d)
    k = int(np.argmax(np.abs(gaps - mean_gap)))
    a, b = headers[order[k]], headers[order[k + 1]]
    usual = float(np.median(gaps))
    if worst_error > GRID_WARN_FRACTION * mean_gap:
        hint = (f"about {gaps[k] / usual:.0f} gaps wide: {round(gaps[k] / usual) - 1} slice(s) "
                "missing?" if gaps[k] > 1.5 * usual else "gaps vary: not one regular volume")
        raise SeriesError(where or b.path, root=b.root, problem=
                          f"uneven gaps between slices: {gaps[k]:.3f} mm between "
                          f"{a.name} and {b.name}, {usual:.3f} mm elsewhere ({hint})")
    if worst_error > GRID_SILENT_FRACTION * mean_gap:
        _warn(f"{shown(where, b.root) if where is not None else b.name}: slice positions depart "
              f"up to {worst_error:.3f} mm ({worst_error / mean_gap:.1%} of the "
              f"{mean_gap:.3f} mm mean gap) from a regular grid (gaps {gaps.min():.3f} to "
              f"{gaps.max():.3f} mm); loaded with the mean gap: rounded Image Position "
              "(Patient) values, or slightly uneven slices")


def load_series(source: PathLike | Iterable[PathLike] | pd.DataFrame, *,
                folder: PathLike | None = None) -> Volume:
    """Read one series into a :class:`Volume` in HU: from header rows, a folder or files.

    ``source`` is one of:

    - a **table of header rows** (a ``pandas.DataFrame``) of one series, with a ``path``
      column and the :data:`SERIES_FIELDS` columns as :func:`helpers.tables.crawl.scan`
      gives them (text as the file holds it, ``\\`` between values; Rows and Columns
      whole numbers). The geometry comes from the rows, so no file is opened for its
      header: each file is opened once, for its pixels. ``path`` is relative to
      ``folder``, which defaults to ``source.attrs["root"]`` (``scan`` records the
      folder it crawled there, and filtering the table keeps it), or absolute.
      Typical use::

          table, errors = scan(study, fields=SERIES_FIELDS, progress=False)
          vol = load_series(table[table.SeriesDescription == "Chest 3.0 Body"])

      Rows lacking a column of :data:`REQUIRED_COLUMNS` raise
      :class:`helpers.dicom.errors.MissingTagError` naming the missing columns;
      relative paths with no folder known raise :class:`helpers.dicom.errors.SeriesError`.
    - a **folder** (walked with :func:`helpers.dicom.walk.files`; hidden files and a
      DICOMDIR left out) or a **list of files**: each header is read with
      :func:`helpers.dicom.header.read_header` (the workbook's one header reader) into
      the same rows, which then take the same path. The headers are read in this
      process, not through ``scan``'s Dask processes: for a series that costs less
      than starting them (measured on 2 cores: 80 slices 0.17 s in a loop against
      0.37 s through ``scan``; 200 slices 0.75 s against 0.68 s). To load a large
      study, crawl it once with ``scan`` and pass each series' rows.

    The pixels are read once per file (:func:`helpers.dicom.dicomio.read`), in slice
    order: Modality, the units and the header's windows come from the first slice,
    the Modality LUT is applied per slice (:func:`helpers.image.pixels.modality_values`).

    Raises :class:`helpers.dicom.errors.SeriesError` for files or rows of more than one
    series, inconsistent orientation/size/spacing, duplicate slices, a sheared
    stack (gantry tilt) or uneven gaps (missing slices), and
    :class:`helpers.dicom.errors.MissingTagError` for a slice without Image Plane
    geometry (PS3.3 C.7.6.2); warns (:class:`helpers.dicom.errors.GeometryWarning`)
    where the geometry is irregular but usable. :func:`slice_order` states the
    tolerances and their sources. Files are named relative to the folder given (the
    rows' folder; for a list of files, or rows with absolute paths, their common folder).
    """
    if isinstance(source, pd.DataFrame):
        given = folder if folder is not None else source.attrs.get("root")
        where = Path(given) if given is not None else None
        paths = _row_paths(source, where)
        root = _root(where, paths)
        table = source
    else:
        if folder is not None:
            raise TypeError("folder= names the folder a table's paths are relative to; "
                            "pass a folder or a list of files alone")
        where, paths = _files(source)
        root = _root(where, paths)
        table = _read_rows(paths, root)
    headers = _headers(table, paths, root)
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
        with _named_from(root):
            ds = read(headers[i].path, decode_all=False)
            photometric = str(ds.get("PhotometricInterpretation", photometric))
            if k == 0:
                modality, unit, windows = str(ds.get("Modality", "")), units(ds), \
                    tuple(from_header(ds))
            hu = modality_values(ds)
        if hu.shape != (rows, cols):
            raise _error(headers[i], f"holds an image of shape {hu.shape}; "
                                     "load_series expects single-frame slices")
        wider = np.promote_types(stack.dtype, value_dtype(hu))
        if wider != stack.dtype:
            stack = stack.astype(wider)
        stack[k] = hu
    return Volume(stack, affine, [headers[i].path for i in order], first.series_uid,
                  first.description, photometric, modality, unit, windows)
