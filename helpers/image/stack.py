"""Header rows of one series into a checked, ordered stack of slices and its affine.

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
step between slices). :func:`stack` gives the slices in that order with a 4x4
affine mapping array indices to millimetres, as SimpleITK/ITK and NIfTI do;
:func:`slice_order` states the checks and their tolerances.

The input is a header table (:func:`helpers.tables.crawl.scan` with
:data:`~helpers.dicom.header.GEOMETRY_FIELDS`): this module opens no file.
"""

from __future__ import annotations

import inspect
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..dicom.errors import GeometryWarning, MissingTagError, SeriesError
from ..dicom.header import GEOMETRY_FIELDS
from ..dicom.vr import parse_ds, parse_is
from ..paths import shown

__all__ = ["Slice", "Stack", "REQUIRED_COLUMNS", "row_paths", "slices", "slice_order", "stack",
           "ORIENTATION_TOLERANCE", "DUPLICATE_FRACTION", "GRID_SILENT_FRACTION",
           "GRID_WARN_FRACTION", "IN_PLANE_SILENT_FRACTION", "IN_PLANE_WARN_FRACTION",
           "PIXEL_SPACING_TOLERANCE"]

#: Geometry tolerances, as fractions of the physics (see :func:`slice_order`).
ORIENTATION_TOLERANCE = 1e-3  # direction cosines closer than this are "the same" (highdicom)
DUPLICATE_FRACTION = 0.1  # slices nearer than this fraction of the mean gap coincide
GRID_SILENT_FRACTION = 0.01  # off the regular grid by <= 1 % of the mean gap: rounding
GRID_WARN_FRACTION = 0.2  # up to a fifth of the mean gap: irregular but usable (warning)
IN_PLANE_SILENT_FRACTION = 0.1  # in-plane offset <= 0.1 pixel: rounding, silent
IN_PLANE_WARN_FRACTION = 0.5  # up to half a pixel: usable (warning); beyond: not a stack
PIXEL_SPACING_TOLERANCE = 1e-3  # relative difference of Pixel Spacing between slices

#: The columns rows must have (``SeriesDescription`` may be absent: it only names the
#: series in messages and :attr:`Slice.description`).
REQUIRED_COLUMNS: tuple[str, ...] = ("path", *(f for f in GEOMETRY_FIELDS
                                               if f != "SeriesDescription"))

_PACKAGE = str(Path(__file__).resolve().parents[1])  # helpers/: warnings point outside it


@dataclass(frozen=True)
class Slice:
    """One slice's geometry, from one row of a header table.

    ``orientation`` is Image Orientation (Patient) (six direction cosines: the row
    direction, then the column direction), ``position`` Image Position (Patient) (mm),
    ``pixel_spacing`` (row spacing, column spacing) in mm, ``shape`` (Rows, Columns);
    ``root`` is the folder messages name the file relative to.
    """

    path: Path
    series_uid: str
    orientation: np.ndarray
    position: np.ndarray
    pixel_spacing: np.ndarray
    shape: tuple[int, int]
    description: str = ""
    root: Path | None = None

    @property
    def name(self) -> str:
        """The file as messages show it (relative to the folder given)."""
        return shown(self.path, self.root)

    @property
    def normal(self) -> np.ndarray:
        """The unit slice normal, row direction x column direction (PS3.3 C.7.6.2.1.1)."""
        normal = np.cross(self.orientation[:3], self.orientation[3:])
        return normal / np.linalg.norm(normal) + 0.0  # + 0.0 turns -0.0 into 0.0


@dataclass(frozen=True)
class Stack:
    """The slices of one series in order along the normal, and where they lie.

    ``affine @ (column, row, slice, 1)`` gives a voxel centre in patient LPS mm.
    ``where`` is the folder given (``None`` for rows or a list of files).
    """

    slices: list[Slice]
    spacing: float
    affine: np.ndarray
    where: Path | None = None


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


def row_paths(rows: pd.DataFrame, folder: Path | None) -> list[Path]:
    """The files the rows name: ``path`` under ``folder``, or absolute; checks that the
    rows have :data:`REQUIRED_COLUMNS` (:class:`MissingTagError` naming those missing)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in rows.columns]
    if missing:
        raise MissingTagError(None, f"the rows lack the column{'s' if len(missing) > 1 else ''} "
                                    f"{', '.join(missing)}; load_series needs "
                                    f"{', '.join(REQUIRED_COLUMNS)} (Image Plane and Image "
                                    "Pixel modules, PS3.3 C.7.6.2 and C.7.6.3): crawl with "
                                    "scan(folder, fields=GEOMETRY_FIELDS) and pass one series' "
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


def slices(rows: pd.DataFrame, paths: Sequence[Path], root: Path | None = None) -> list[Slice]:
    """Each row's geometry (``paths[k]`` is row k's file), checked:
    :class:`MissingTagError` names a file without it."""
    def column(keyword: str) -> list:
        return rows[keyword].tolist() if keyword in rows.columns else [None] * len(paths)

    uids, descriptions = column("SeriesInstanceUID"), column("SeriesDescription")
    iops, ipps, spacings = (column("ImageOrientationPatient"), column("ImagePositionPatient"),
                            column("PixelSpacing"))
    heights, widths = column("Rows"), column("Columns")
    return [Slice(
        path=path,
        series_uid=uids[k] if isinstance(uids[k], str) else "",
        orientation=_numbers(iops[k], "ImageOrientationPatient", 6, path, root),
        position=_numbers(ipps[k], "ImagePositionPatient", 3, path, root),
        pixel_spacing=_numbers(spacings[k], "PixelSpacing", 2, path, root),
        shape=(_whole(heights[k], "Rows", path, root), _whole(widths[k], "Columns", path, root)),
        description=descriptions[k] if isinstance(descriptions[k], str) else "",
        root=root,
    ) for k, path in enumerate(paths)]


def _one_series(found: list[Slice], where: Path | None) -> None:
    """Refuse slices of more than one series (Series Instance UID, PS3.3 C.7.3.1)."""
    groups: dict[str, list[Slice]] = {}
    for s in found:
        groups.setdefault(s.series_uid, []).append(s)
    if len(groups) > 1:
        parts = [f"{uid or '(no UID)'} ({len(ss)} file{'s' if len(ss) != 1 else ''}"
                 + (f", '{ss[0].description}'" if ss[0].description else "") + ")"
                 for uid, ss in sorted(groups.items())]
        raise SeriesError(where or found[0].path, root=found[0].root, problem=
                          f"holds {len(groups)} series, not one: {'; '.join(parts)}; "
                          "load each series' files (or rows) separately")


def _error(s: Slice, problem: str) -> SeriesError:
    return SeriesError(s.path, problem, root=s.root)


def slice_order(found: Sequence[Slice], where: Path | None = None) -> tuple[list[int], float]:
    """Indices sorting ``found`` along the slice normal, and the slice spacing (mm).

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

    ``where`` is the folder the slices came from, if any (named in messages about the
    whole series).
    """
    found = list(found)
    first = found[0]
    for s in found[1:]:
        if np.max(np.abs(s.orientation - first.orientation)) > ORIENTATION_TOLERANCE:
            raise _error(s, f"Image Orientation (Patient) {list(s.orientation)} differs "
                            f"from {list(first.orientation)} in {first.name}: "
                            "inconsistent orientation, not one stack of slices")
        if s.shape != first.shape:
            raise _error(s, f"is {s.shape[0]}x{s.shape[1]} pixels while "
                            f"{first.name} is {first.shape[0]}x{first.shape[1]}: "
                            "mixed image sizes, not one volume")
        if np.max(np.abs(s.pixel_spacing - first.pixel_spacing)
                  / np.abs(first.pixel_spacing)) > PIXEL_SPACING_TOLERANCE:
            raise _error(s, f"Pixel Spacing {list(s.pixel_spacing)} differs from "
                            f"{list(first.pixel_spacing)} in {first.name}")
    row, col = first.orientation[:3], first.orientation[3:]
    normal = np.cross(row, col)
    if abs(np.linalg.norm(normal) - 1) > 1e-3 or abs(row @ col) > 1e-3:
        raise _error(first, "Image Orientation (Patient) is not two orthogonal unit "
                            "vectors (PS3.3 C.7.6.2.1.1)")
    normal /= np.linalg.norm(normal)
    distance = np.array([s.position @ normal for s in found])
    order = sorted(range(len(found)), key=lambda i: (distance[i], str(found[i].path)))
    if len(found) == 1:
        return order, 1.0
    d = distance[order]
    mean_gap = (d[-1] - d[0]) / (len(d) - 1)
    for a, b in zip(order, order[1:], strict=False):
        if distance[b] - distance[a] <= max(DUPLICATE_FRACTION * mean_gap, 1e-6):
            raise _error(found[b], f"is at the same position as {found[a].name} "
                                   f"({distance[b] - distance[a]:.3f} mm apart along the "
                                   f"normal, mean gap {mean_gap:.3f} mm): duplicate slice, "
                                   "or two series or echoes mixed")
    _check_in_plane(found, order, distance, normal)
    _check_gaps(found, order, d, mean_gap, where)
    return order, float(mean_gap)


def _warn(message: str) -> None:
    """Warn at the first caller outside the ``helpers`` package (a learner's cell)."""
    level, frame = 2, inspect.currentframe()
    frame = frame.f_back if frame is not None else None  # the caller of _warn
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE + os.sep):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, GeometryWarning, stacklevel=level)


def _check_in_plane(found: list[Slice], order: list[int], distance: np.ndarray,
                    normal: np.ndarray) -> None:
    """Refuse a sheared stack (gantry tilt); warn about in-plane rounding over 0.1 pixel."""
    first = found[order[0]]
    pixel = float(np.min(first.pixel_spacing))
    offsets = [float(np.linalg.norm(found[i].position - first.position
                                    - (distance[i] - distance[order[0]]) * normal))
               for i in order]
    worst = int(np.argmax(offsets))
    off, s = offsets[worst], found[order[worst]]
    if off > IN_PLANE_WARN_FRACTION * pixel:
        step = off / max(distance[order[worst]] - distance[order[0]], 1e-9)
        tilt = float(np.degrees(np.arctan(step)))
        raise _error(s, f"is shifted {off:.3f} mm ({off / pixel:.2f} pixel) within the slice "
                        f"plane from the stack through {first.name}: the slices are sheared "
                        f"(gantry tilt of about {tilt:.1f} degrees; see Gantry/Detector Tilt "
                        "(0018,1120)), not a rectilinear volume; resample first, e.g. with "
                        "dcm2niix, which corrects gantry tilt")
    if off > IN_PLANE_SILENT_FRACTION * pixel:
        _warn(f"{s.name}: is shifted {off:.3f} mm ({off / pixel:.2f} pixel) within the slice "
              f"plane from the stack through {first.name}; loaded on the first slice's grid "
              "(every voxel within half a pixel of its true place): rounded Image Position "
              "(Patient) values")


def _check_gaps(found: list[Slice], order: list[int], d: np.ndarray, mean_gap: float,
                where: Path | None) -> None:
    """Compare the slices with the regular grid from the first to the last position."""
    grid = d[0] + mean_gap * np.arange(len(d))
    error = np.abs(d - grid)
    worst_error = float(error.max())
    gaps = np.diff(d)
    k = int(np.argmax(np.abs(gaps - mean_gap)))
    a, b = found[order[k]], found[order[k + 1]]
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


def stack(rows: pd.DataFrame, paths: Sequence[Path], root: Path | None = None,
          where: Path | None = None) -> Stack:
    """The rows of one series (row k names the file ``paths[k]``) as a :class:`Stack`:
    one series (:class:`SeriesError` otherwise), ordered and checked by
    :func:`slice_order`, with the affine of the first slice along the normal.
    Files are named relative to ``root``; ``where`` is the folder given, if any."""
    found = slices(rows, paths, root)
    _one_series(found, where)
    order, slice_spacing = slice_order(found, where)
    first = found[order[0]]
    row_dir, col_dir = first.orientation[:3], first.orientation[3:]
    row_spacing, col_spacing = first.pixel_spacing
    affine = np.eye(4)
    affine[:3, 0] = row_dir * col_spacing + 0.0  # along a row: increasing column index
    affine[:3, 1] = col_dir * row_spacing + 0.0  # down a column: increasing row index
    affine[:3, 2] = first.normal * slice_spacing + 0.0
    affine[:3, 3] = first.position
    return Stack([found[i] for i in order], slice_spacing, affine, where)
