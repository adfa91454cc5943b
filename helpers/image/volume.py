"""A series as a 3D :class:`Volume` in patient coordinates, and the planes shown of it.

:func:`load_series` takes the header rows of one series (the header table of
:func:`helpers.tables.crawl.scan`, or :func:`~helpers.tables.crawl.scan_files`' for a
folder or a list of files), orders and checks them with :mod:`helpers.image.stack`
(Image Plane module, PS3.3 C.7.6.2), and reads each file once, for its pixels, turned
into modality values (PS3.3 C.11.1: HU for CT). A :class:`Volume` maps array indices
to LPS millimetres with a 4x4 affine, as SimpleITK/ITK and NIfTI do, and cuts
:class:`Plane` views in radiological display (axial, coronal, sagittal).
No header is read here: the rows carry the geometry.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from ..dicom import errors as workbook_errors
from ..dicom.dicomio import read
from ..dicom.errors import SeriesError, WorkbookError
from ..dicom.header import GEOMETRY_FIELDS
from ..tables.crawl import scan, scan_files
from .pixels import modality_values, units, value_dtype
from .presets import Preset, from_header
from .stack import Stack, row_paths, stack

__all__ = ["Volume", "Plane", "PLANES", "load_series"]

PathLike = str | os.PathLike[str]

#: The three display planes, in the order a viewer offers them.
PLANES = ("axial", "coronal", "sagittal")


@dataclass(frozen=True)
class Plane:
    """One 2D view cut from a volume, oriented the way radiologists look at it.

    ``image[r, c]`` in modality values (HU for CT); ``pixel_mm = (height, width)`` of
    one pixel, so the right display aspect (matplotlib ``imshow(aspect=...)``) is
    :attr:`aspect`;
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
    """A 3D image: ``array[slice, row, column]`` of modality values (HU for CT) and the
    geometry to place it.

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
#: Entries of a folder that are not slices of its series: the DICOMDIR index (PS3.10
#: section 8) and, by their names, hidden files; and entries the walk does not read.
_NOT_SLICES = ("LinkNotFollowedError", "NotAFileError")


def _first_error(errors: pd.DataFrame, root: Path) -> WorkbookError:
    """The first row of a crawl's errors table as the error it records (``kind`` names
    the :class:`~helpers.dicom.errors.WorkbookError` subclass), naming the file."""
    row = errors.iloc[0]
    kind = getattr(workbook_errors, str(row["kind"]), None)
    if not (isinstance(kind, type) and issubclass(kind, WorkbookError)):
        kind = WorkbookError
    return kind(root / str(row["path"]), str(row["error"]), root=root)


def _slice_entry(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return not name.startswith(".") and name != "DICOMDIR"


def _rows_of(source: PathLike | Iterable[PathLike]) -> tuple[pd.DataFrame, list[Path], Path,
                                                             Path | None]:
    """The header rows of a folder or a list of files, crawled by
    :func:`helpers.tables.crawl.scan` (in this process for a series' worth of files):
    ``(rows, paths, root, folder given)``; the first file that is not a readable
    instance raises its error."""
    if isinstance(source, str | os.PathLike):
        folder = Path(source)
        if not folder.exists():
            raise SeriesError(folder, "no such file or folder")
        if folder.is_file():
            source = [folder]
        else:
            table, errors = scan(folder, fields=GEOMETRY_FIELDS, progress=False)
            table = table[table["path"].map(_slice_entry)]
            errors = errors[errors["path"].map(_slice_entry)
                            & ~errors["kind"].isin(_NOT_SLICES)]
            if not errors.empty:
                raise _first_error(errors, folder)
            if table.empty:
                raise SeriesError(folder, "holds no files")
            return table, [folder / p for p in table["path"]], folder, folder
    given = [Path(p) for p in source]
    if not given:
        raise SeriesError(None, "no files given")
    table, errors = scan_files(given, fields=GEOMETRY_FIELDS, progress=False)
    root = Path(table.attrs["root"])
    if not errors.empty:
        raise _first_error(errors, root)
    as_given = {Path(os.path.abspath(p)).relative_to(root).as_posix(): p for p in given}
    return table, [as_given[p] for p in table["path"]], root, None


@contextmanager
def _named_from(root: Path | None) -> Iterator[None]:
    """Re-raise a helper's error with its file named relative to ``root``."""
    try:
        yield
    except WorkbookError as exc:
        if root is None or exc.path is None:
            raise
        raise type(exc)(exc.path, exc.problem, root=root) from None


def _pixels(ordered: Stack, root: Path) -> tuple[np.ndarray, str, str, str,
                                                tuple[Preset, ...]]:
    """Each slice's modality values, in order, read once per file; and the photometric
    interpretation, Modality, units and windows of the first slice."""
    rows, cols = ordered.slices[0].shape
    array = np.empty((len(ordered.slices), rows, cols), dtype=np.int16)  # widened if needed
    photometric, modality, unit, windows = "MONOCHROME2", "", "", ()
    for k, s in enumerate(ordered.slices):
        with _named_from(root):
            ds = read(s.path, decode_all=False)
            photometric = str(ds.get("PhotometricInterpretation", photometric))
            if k == 0:
                modality, unit, windows = str(ds.get("Modality", "")), units(ds), \
                    tuple(from_header(ds))
            values = modality_values(ds)
        if values.shape != (rows, cols):
            raise SeriesError(s.path, f"holds an image of shape {values.shape}; "
                                      "load_series expects single-frame slices", root=s.root)
        wider = np.promote_types(array.dtype, value_dtype(values))
        if wider != array.dtype:
            array = array.astype(wider)
        array[k] = values
    return array, photometric, modality, unit, windows


def load_series(source: PathLike | Iterable[PathLike] | pd.DataFrame, *,
                folder: PathLike | None = None) -> Volume:
    """Read one series into a :class:`Volume` of modality values (HU for CT): from header
    rows, a folder or files.

    ``source`` is one of:

    - a **table of header rows** (a ``pandas.DataFrame``) of one series, with a ``path``
      column and the :data:`~helpers.dicom.header.GEOMETRY_FIELDS` columns as
      :func:`helpers.tables.crawl.scan`
      gives them (text as the file holds it, ``\\`` between values; Rows and Columns
      whole numbers). The geometry comes from the rows, so no file is opened for its
      header: each file is opened once, for its pixels. ``path`` is relative to
      ``folder``, which defaults to ``source.attrs["root"]`` (``scan`` records the
      folder it crawled there, and filtering the table keeps it), or absolute.
      Typical use::

          table, errors = scan(study, fields=GEOMETRY_FIELDS, progress=False)
          vol = load_series(table[table.SeriesDescription == "Chest 3.0 Body"])

      Rows lacking a column of :data:`helpers.image.stack.REQUIRED_COLUMNS` raise
      :class:`helpers.dicom.errors.MissingTagError` naming the missing columns;
      relative paths with no folder known raise :class:`helpers.dicom.errors.SeriesError`.
    - a **folder** (crawled with :func:`helpers.tables.crawl.scan`; hidden files and a
      DICOMDIR left out) or a **list of files** (:func:`helpers.tables.crawl.scan_files`):
      the same rows, which then take the same path. A series' worth of files
      (up to :data:`helpers.tables.crawl.IN_PROCESS_MAX`) is crawled in this process,
      which costs less than starting worker processes. To load a large study, crawl
      it once with ``scan`` and pass each series' rows.

    The pixels are read once per file (:func:`helpers.dicom.dicomio.read`), in slice
    order: Modality, the units and the header's windows come from the first slice,
    the Modality LUT is applied per slice (:func:`helpers.image.pixels.modality_values`).

    Raises :class:`helpers.dicom.errors.SeriesError` for files or rows of more than one
    series, inconsistent orientation/size/spacing, duplicate slices, a sheared
    stack (gantry tilt) or uneven gaps (missing slices), and
    :class:`helpers.dicom.errors.MissingTagError` for a slice without Image Plane
    geometry (PS3.3 C.7.6.2); warns (:class:`helpers.dicom.errors.GeometryWarning`)
    where the geometry is irregular but usable. :func:`helpers.image.stack.slice_order`
    states the tolerances and their sources. Files are named relative to the folder
    given (the rows' folder; for a list of files, or rows with absolute paths, their
    common folder).
    """
    if isinstance(source, pd.DataFrame):
        given = folder if folder is not None else source.attrs.get("root")
        where = Path(given) if given is not None else None
        paths = row_paths(source, where)
        root = where if where is not None else _common_folder(paths)
        table = source
    else:
        if folder is not None:
            raise TypeError("folder= names the folder a table's paths are relative to; "
                            "pass a folder or a list of files alone")
        table, paths, root, where = _rows_of(source)
    ordered = stack(table, paths, root, where)
    array, photometric, modality, unit, windows = _pixels(ordered, root)
    first = ordered.slices[0]
    return Volume(array, ordered.affine, [s.path for s in ordered.slices], first.series_uid,
                  first.description, photometric, modality, unit, windows)


def _common_folder(paths: list[Path]) -> Path:
    """The folder absolute rows' files are named relative to: their common folder."""
    return Path(os.path.commonpath([str(p.resolve().parent) for p in paths]))
