"""A deterministic synthetic chest CT study: an analytic phantom written as CT Image IODs.

The study has one folder per series under ``out_dir``:

- ``axial/``: the acquired series, 80 axial slices of 512 x 512 (0.7 mm pixels,
  3.0 mm slices), InstanceNumber 1 the most superior slice, as many scanners do;
- ``coronal/``: a reformat of the same patient, 50 coronal slices of 160 x 480
  with non-square pixels (1.5 mm between rows, 0.75 mm between columns);
- ``oblique/``: a reformat on a tilted plane (an oblique coronal, tipped 37 degrees),
  whose Instance Numbers do not follow position: the reformat was numbered in two
  passes, every second slice first (odd k get 1..20, even k get 21..40), so sorting
  by Instance Number interleaves the stack (PS3.3 C.7.6.1 does not tie Instance
  Number to position).

All three share one Frame of Reference (PS3.3 C.7.4.1): they are sampled from one
analytic phantom defined in patient coordinates (LPS, millimetres: +x to the
patient's left, +y posterior, +z toward the head; PS3.3 C.7.6.2.1.1), so a point
has the same tissue whichever series it is seen in. File names are a seeded
permutation (``CT000017.dcm``), so sorting by name does not sort the slices.

The phantom itself (:data:`~.ct_phantom.TISSUES`, every tissue and its Hounsfield
units in one table, the shapes, and :func:`~.ct_phantom.phantom` that lists them in
painting order) is :mod:`.ct_phantom`. This module has two parts, top to bottom:

1. the geometry: :class:`ImageGrid` (one image grid in patient space, PS3.3
   C.7.6.2) and :data:`SERIES` (the design of each series);
2. the writing: :func:`generate`, which renders every slice (blur and seeded
   noise on top of the phantom) and writes a complete CT Image IOD (PS3.3 A.3).

Every number is fixed (seeds, dates, UIDs derived from names), so two runs write
identical bytes. The arithmetic on pixel coordinates uses only ``+ - * /`` and
``sqrt`` (correctly rounded in IEEE 754), never library ``sin``/``pow`` whose last
bit may vary between CPUs; the rib arcs' sines and the noise come from
:mod:`.exact` (Box-Muller on 53-bit uniforms, not numpy's ziggurat, which calls
libm in its tails), so the files hash the same on every machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage

from . import exact
from .ct_phantom import (
    LUNG_GRADIENT,
    NOISE_SD,
    ORGANS,
    SEED,
    TISSUES,
    Paint,
    T,
    Vec,
    cross,
    phantom,
)
from .dicomfile import new_dataset, save_new
from .fake_people import fake_patient
from .uids import uid

#: Organ name -> its number in :data:`~.ct_phantom.ORGANS` (None: no organ).
ORGAN_NUMBER: dict[str | None, int] = {o.name: o.number for o in ORGANS}

# --------------------------------------------------------------------------------------
# 1. Geometry: image planes in patient coordinates (PS3.3 C.7.6.2)
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImageGrid:
    """One image's grid in patient space (PS3.3 C.7.6.2.1.1).

    The centre of the pixel in row ``i``, column ``j`` (both from 0) is
    ``origin + j * col_spacing * row_dir + i * row_spacing * col_dir``: ``origin`` is
    Image Position (Patient), ``row_dir`` and ``col_dir`` are the two vectors of Image
    Orientation (Patient) (the direction along a row, then down a column), and
    Pixel Spacing is ``(row_spacing, col_spacing)`` in that order: the spacing
    between rows first (PS3.3 10.7.1.3).
    """

    origin: Vec
    row_dir: Vec
    col_dir: Vec
    row_spacing: float
    col_spacing: float
    rows: int
    cols: int

    @property
    def normal(self) -> Vec:
        return cross(self.row_dir, self.col_dir)

    def grid(self) -> Grid:
        return Grid(self, 0, self.rows, 0, self.cols)


class Grid:
    """A rectangle ``[i0, i1) x [j0, j1)`` of a :class:`ImageGrid`'s pixels and their coordinates.

    ``x``, ``y``, ``z`` are computed as ``origin + i * a + j * b`` in that order for
    every pixel, whatever the window, so a point gets bit-identical coordinates in
    every window that holds it. An axis along which a coordinate does not change
    has length 1 (numpy broadcasting), which makes axial and coronal planes cheap.
    """

    def __init__(self, plane: ImageGrid, i0: int, i1: int, j0: int, j1: int):
        self.plane, self.i0, self.i1, self.j0, self.j1 = plane, i0, i1, j0, j1
        self.shape = (i1 - i0, j1 - j0)
        self._xyz: list[np.ndarray] | None = None

    def _coords(self) -> list[np.ndarray]:
        if self._xyz is None:
            p = self.plane
            ii = np.arange(self.i0, self.i1, dtype=float)
            jj = np.arange(self.j0, self.j1, dtype=float)
            self._xyz = []
            for c in range(3):
                a, b = p.row_spacing * p.col_dir[c], p.col_spacing * p.row_dir[c]
                col = (p.origin[c] + ii * a)[:, None] if a != 0.0 else np.full((1, 1), p.origin[c])
                self._xyz.append(col + (jj * b)[None, :] if b != 0.0 else col)
        return self._xyz

    @property
    def x(self) -> np.ndarray:
        return self._coords()[0]

    @property
    def y(self) -> np.ndarray:
        return self._coords()[1]

    @property
    def z(self) -> np.ndarray:
        return self._coords()[2]

    def windows(self, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, ...]:
        """For boxes ``lo[k]``-``hi[k]`` (K x 3): the pixel rectangles ``(i0, i1, j0, j1)``
        of this grid that can hold points of each box, and whether the plane meets it."""
        p = self.plane
        lo, hi = np.atleast_2d(lo), np.atleast_2d(hi)
        c = (lo + hi) / 2.0 - np.asarray(p.origin)
        h = (hi - lo) / 2.0

        def proj(v: Vec) -> tuple[np.ndarray, np.ndarray]:
            mid = c[:, 0] * v[0] + c[:, 1] * v[1] + c[:, 2] * v[2]
            half = h[:, 0] * abs(v[0]) + h[:, 1] * abs(v[1]) + h[:, 2] * abs(v[2])
            return mid, half

        mn, hn = proj(p.normal)
        mu, hu = proj(p.row_dir)
        mv, hv = proj(p.col_dir)
        j0 = np.maximum(np.floor((mu - hu) / p.col_spacing) - 1, self.j0).astype(int)
        j1 = np.minimum(np.ceil((mu + hu) / p.col_spacing) + 2, self.j1).astype(int)
        i0 = np.maximum(np.floor((mv - hv) / p.row_spacing) - 1, self.i0).astype(int)
        i1 = np.minimum(np.ceil((mv + hv) / p.row_spacing) + 2, self.i1).astype(int)
        ok = (np.abs(mn) <= hn + 1e-6) & (j1 > j0) & (i1 > i0)
        return i0, i1, j0, j1, ok

    def sub(self, w: tuple[np.ndarray, ...], k: int) -> tuple[tuple[slice, slice], Grid]:
        """The ``k``-th window of :meth:`windows`: its slices into this grid, and its grid."""
        i0, i1, j0, j1 = (int(a[k]) for a in w[:4])
        return ((slice(i0 - self.i0, i1 - self.i0), slice(j0 - self.j0, j1 - self.j0)),
                Grid(self.plane, i0, i1, j0, j1))

    def sub_box(self, lo, hi) -> tuple[tuple[slice, slice], Grid] | None:
        w = self.windows(np.asarray(lo, dtype=float), np.asarray(hi, dtype=float))
        return self.sub(w, 0) if w[4][0] else None


def painted(plane: ImageGrid, steps: Sequence[Paint]) -> tuple[np.ndarray, np.ndarray]:
    """Tissue label and organ number (:data:`~.ct_phantom.ORGANS`, 0 for none) of every
    pixel centre of ``plane``: the painter's algorithm over ``steps``, the organ that
    of the last step that painted the pixel."""
    g = plane.grid()
    labels = np.full(g.shape, T["air"], dtype=np.uint8)
    organs = np.zeros(g.shape, dtype=np.uint8)
    for step in steps:
        hit = g.sub_box(step.shape.lo, step.shape.hi)
        if hit is None:
            continue
        sl, sub = hit
        m = np.broadcast_to(step.shape.mask(sub), sub.shape)
        view = labels[sl]
        if step.only is not None:
            m = m & np.isin(view, [T[n] for n in step.only])
        view[m] = T[step.tissue]
        organs[sl][m] = ORGAN_NUMBER.get(step.organ, 0)
    return labels, organs


def labels_on(plane: ImageGrid, steps: Sequence[Paint]) -> np.ndarray:
    """Tissue label of every pixel centre of ``plane`` (painter's algorithm over ``steps``)."""
    return painted(plane, steps)[0]


def _smooth(a: np.ndarray) -> np.ndarray:
    """Separable [1 2 1]/4 filter along both axes (edges repeated): the reconstruction
    kernel's blur."""
    p = np.pad(a, 1, mode="edge")
    r = (p[:, :-2] + 2.0 * p[:, 1:-1] + p[:, 2:]) * 0.25
    return (r[:-2, :] + 2.0 * r[1:-1, :] + r[2:, :]) * 0.25


_HU_OF_LABEL = np.array([t.hu for t in sorted(TISSUES.values(), key=lambda t: t.index)])
#: The [1 2 1]/4 filter in 2D scales the standard deviation of white noise by 6/16.
_NOISE_GAIN = 6.0 / 16.0


def render(plane: ImageGrid, steps: Sequence[Paint], rng: np.random.Generator) -> np.ndarray:
    """CT numbers (HU, float) on ``plane``: tissue means, lung gradient, blur, noise."""
    labels = labels_on(plane, steps)
    hu = _HU_OF_LABEL[labels]
    g = plane.grid()
    lung = labels == T["lung"]
    hu = hu + np.where(lung, LUNG_GRADIENT * np.broadcast_to(g.y, g.shape), 0.0)
    noise = exact.standard_normal(rng, g.shape) * (NOISE_SD / _NOISE_GAIN)
    return _smooth(hu + noise)


# --------------------------------------------------------------------------------------
# 2. The series and the files
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesDesign:
    """The geometry and description of one series.

    Slice ``k`` has Image Position (Patient) ``first + k * step * normal``, where
    ``normal = row_dir x col_dir``, and Instance Number :meth:`instance_number`: ``k + 1``,
    or, for an ``interleaved`` series, the odd slices first, then the even ones.
    """

    folder: str
    number: int
    description: str
    row_dir: Vec
    col_dir: Vec
    rows: int
    cols: int
    pixel_spacing: tuple[float, float]   # (between rows, between columns), as in the header
    first: Vec
    step: float                          # mm along the normal from one instance to the next
    slices: int
    thickness: float
    derived: bool
    interleaved: bool = False

    @property
    def normal(self) -> Vec:
        return cross(self.row_dir, self.col_dir)

    def instance_number(self, k: int) -> int:
        """Instance Number (0020,0013) of slice ``k``."""
        if not self.interleaved:
            return k + 1
        return (k + 1) // 2 if k % 2 else self.slices // 2 + k // 2 + 1

    def position(self, k: int) -> Vec:
        """Image Position (Patient) of slice ``k``, rounded to 0.1 um as written."""
        n = self.normal
        return tuple(round(self.first[c] + k * self.step * n[c], 4) for c in range(3))

    def plane(self, k: int) -> ImageGrid:
        return ImageGrid(self.position(k), self.row_dir, self.col_dir, self.pixel_spacing[0],
                     self.pixel_spacing[1], self.rows, self.cols)


def _oblique_first() -> Vec:
    """First position of the oblique series: a 40-slice stack centred in the chest."""
    row, col = (1.0, 0.0, 0.0), (0.0, 0.6, -0.8)
    n = cross(row, col)
    centre, half = (0.0, -5.0, -140.0), (384 - 1) / 2 * 0.8
    return tuple(round(centre[c] - 19.5 * 5.0 * n[c] - half * row[c] - half * col[c], 4)
                 for c in range(3))


#: The study's series. Axial: InstanceNumber 1 is the most superior slice, so
#: positions step toward the feet (-z). Coronal: viewed from the front, row
#: direction +x (to the patient's left, shown on the viewer's right), column
#: direction -z (head at the top), slices from front to back. Oblique: a coronal
#: plane tipped 37 degrees (cosines 0.6 and 0.8: a 3-4-5 triangle, exact in decimal),
#: numbered in two interleaved passes, so its Instance Numbers do not follow position.
SERIES: tuple[SeriesDesign, ...] = (
    SeriesDesign("axial", 2, "Chest 3.0 Body", (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), 512, 512,
                 (0.7, 0.7), (-178.85, -178.85, -20.0), -3.0, 80, 3.0, derived=False),
    SeriesDesign("coronal", 3, "Chest Coronal 4.5 MPR", (1.0, 0.0, 0.0), (0.0, 0.0, -1.0),
                 160, 480, (1.5, 0.75), (-179.625, -108.0, -15.0), 4.5, 50, 4.5, derived=True),
    SeriesDesign("oblique", 4, "Chest Oblique 5.0 MPR", (1.0, 0.0, 0.0), (0.0, 0.6, -0.8),
                 384, 384, (0.8, 0.8), _oblique_first(), 5.0, 40, 5.0, derived=True,
                 interleaved=True),
)

RESCALE_INTERCEPT = -1024
BITS_STORED = 12
STUDY_DATE, STUDY_TIME = "20240315", "093012"
ACQUISITION_TIME = "093245"
WINDOWS = (("40", "400", "MEDIASTINUM"), ("-600", "1500", "LUNG"))


def to_stored(hu: np.ndarray) -> np.ndarray:
    """Stored pixel values for ``hu``: the inverse of the Modality LUT (PS3.3 C.11.1),
    HU = stored * RescaleSlope + RescaleIntercept, clipped to the 12 stored bits."""
    return np.clip(np.rint(hu) - RESCALE_INTERCEPT, 0, 2**BITS_STORED - 1).astype(np.uint16)


def _ds(v: float) -> str:
    """A Decimal String (PS3.5 6.2): at most 16 characters, no trailing zeros."""
    s = f"{v:.4f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _time(seconds_after: int, base: str = ACQUISITION_TIME) -> str:
    h, m, s = int(base[:2]), int(base[2:4]), int(base[4:6])
    t = h * 3600 + m * 60 + s + seconds_after
    return f"{t // 3600:02d}{t // 60 % 60:02d}{t % 60:02d}"


@dataclass(frozen=True)
class StudyInfo:
    """The values shared by every file of the study (patient, study, equipment)."""

    patient_name: str
    patient_id: str
    birth_date: str
    sex: str
    age: str
    institution: str
    institution_address: str
    referring_physician: str
    accession: str


def study_info(seed: int = SEED) -> StudyInfo:
    rng = np.random.default_rng(seed)
    p = fake_patient(rng, on_date=STUDY_DATE)
    return StudyInfo(p.name, p.patient_id, p.birth_date, p.sex, f"{p.age_on(STUDY_DATE):03d}Y",
                     p.institution, p.institution_address, p.referring_physician,
                     f"ACC{int(rng.integers(10**7, 10**8))}")


def ct_dataset(s: SeriesDesign, k: int, stored: np.ndarray, info: StudyInfo) -> Dataset:
    """One slice as a CT Image IOD (PS3.3 A.3), module by module."""
    ds = new_dataset(CTImageStorage, uid("ct_chest", "image", s.folder, k))
    # SOP Common (C.12.1)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.InstanceCreationDate, ds.InstanceCreationTime = STUDY_DATE, _time(600 + s.number * 60)
    ds.InstanceNumber = s.instance_number(k)
    # Patient (C.7.1.1)
    ds.PatientName, ds.PatientID = info.patient_name, info.patient_id
    ds.PatientBirthDate, ds.PatientSex = info.birth_date, info.sex
    # General Study (C.7.2.1) and Patient Study (C.7.2.2)
    ds.StudyInstanceUID = uid("ct_chest", "study")
    ds.StudyDate, ds.StudyTime = STUDY_DATE, STUDY_TIME
    ds.ReferringPhysicianName = info.referring_physician
    ds.StudyID, ds.AccessionNumber = "1", info.accession
    ds.StudyDescription = "CT CHEST WITHOUT CONTRAST"
    ds.PatientAge, ds.PatientSize, ds.PatientWeight = info.age, "1.74", "76"
    # General Series (C.7.3.1)
    ds.Modality = "CT"
    ds.SeriesInstanceUID = uid("ct_chest", "series", s.folder)
    ds.SeriesNumber = s.number
    ds.SeriesDate, ds.SeriesTime = STUDY_DATE, _time(s.number * 60 if s.derived else 0)
    ds.SeriesDescription = s.description
    ds.ProtocolName = "Chest routine"
    ds.BodyPartExamined = "CHEST"
    ds.PatientPosition = "HFS"
    # Frame of Reference (C.7.4.1)
    ds.FrameOfReferenceUID = uid("ct_chest", "frame_of_reference")
    ds.PositionReferenceIndicator = ""
    # General Equipment (C.7.5.1)
    ds.Manufacturer = "Workbook Medical Systems"
    ds.InstitutionName, ds.InstitutionAddress = info.institution, info.institution_address
    ds.StationName = "CT01"
    ds.ManufacturerModelName = "Synthetica 64"
    ds.DeviceSerialNumber = "SN-000451"
    ds.SoftwareVersions = "WB 1.0"
    # General Acquisition (C.7.10.1) and General Image (C.7.6.1)
    ds.AcquisitionNumber = 1
    ds.AcquisitionDate, ds.AcquisitionTime = STUDY_DATE, ACQUISITION_TIME
    ds.ContentDate, ds.ContentTime = STUDY_DATE, _time(s.number * 60 if s.derived else k // 10)
    ds.ImageType = (["DERIVED", "SECONDARY", "REFORMATTED"] if s.derived
                    else ["ORIGINAL", "PRIMARY", "AXIAL"])
    ds.LossyImageCompression = "00"
    ds.BurnedInAnnotation = "NO"
    if s.derived:
        ds.DerivationDescription = "Multiplanar reformat of the axial series"
    # Image Plane (C.7.6.2)
    pos = s.position(k)
    ds.PixelSpacing = [_ds(v) for v in s.pixel_spacing]
    ds.ImageOrientationPatient = [_ds(v) for v in (*s.row_dir, *s.col_dir)]
    ds.ImagePositionPatient = [_ds(v) for v in pos]
    ds.SliceThickness = _ds(s.thickness)
    ds.SpacingBetweenSlices = _ds(abs(s.step))
    ds.SliceLocation = _ds(sum(p * n for p, n in zip(pos, s.normal, strict=True)))
    # Image Pixel (C.7.6.3) and CT Image (C.8.2.1)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = s.rows, s.cols
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, BITS_STORED, BITS_STORED - 1
    ds.PixelRepresentation = 0
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = str(RESCALE_INTERCEPT), "1", "HU"
    ds.KVP = "120"
    ds.ScanOptions = "HELICAL MODE"
    ds.DataCollectionDiameter = "500"
    ds.ReconstructionDiameter = _ds(s.cols * s.pixel_spacing[1])
    ds.DistanceSourceToDetector = "1085.6"
    ds.DistanceSourceToPatient = "595"
    ds.GantryDetectorTilt = "0"
    ds.TableHeight = "160"
    ds.RotationDirection = "CW"
    ds.ExposureTime = "500"
    ds.XRayTubeCurrent = 200
    ds.Exposure = 100
    ds.FilterType = "BODY FILTER"
    ds.GeneratorPower = 24
    ds.FocalSpots = "1.2"
    ds.ConvolutionKernel = "STANDARD"
    ds.RevolutionTime = 0.5
    ds.SingleCollimationWidth = 0.625
    ds.TotalCollimationWidth = 40.0
    ds.TableSpeed = 78.75
    ds.TableFeedPerRotation = 39.375
    ds.SpiralPitchFactor = 0.984375
    ds.CTDIvol = 8.4
    phantom_code = Dataset()       # the CTDI phantom that CTDIvol refers to (CID 4052)
    phantom_code.CodeValue, phantom_code.CodingSchemeDesignator = "113691", "DCM"
    phantom_code.CodeMeaning = "IEC Body Dosimetry Phantom"
    ds.CTDIPhantomTypeCodeSequence = [phantom_code]
    # VOI LUT (C.11.2): two presets, the first the default
    ds.WindowCenter = [c for c, _, _ in WINDOWS]
    ds.WindowWidth = [w for _, w, _ in WINDOWS]
    ds.WindowCenterWidthExplanation = [e for _, _, e in WINDOWS]
    ds.PixelData = stored.astype("<u2").tobytes()
    return ds


def generate(out_dir: Path, seed: int = SEED) -> None:
    """Write the synthetic chest CT study into ``out_dir``, one folder per series.

    File names are ``CT%06d.dcm`` numbered by a seeded permutation, not in slice order.
    """
    out_dir = Path(out_dir)
    steps = phantom(seed)
    info = study_info(seed)
    for s in SERIES:
        names = np.random.default_rng([seed, s.number]).permutation(s.slices) + 1
        for k in range(s.slices):
            hu = render(s.plane(k), steps, np.random.default_rng([seed, s.number, k]))
            ds = ct_dataset(s, k, to_stored(hu), info)
            save_new(ds, out_dir / s.folder / f"CT{int(names[k]):06d}.dcm")
