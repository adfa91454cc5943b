"""Two synthetic screening mammograms, "For Presentation", as real vendors write them.

``generate(out_dir)`` writes ``out_dir/LCC.dcm`` and ``out_dir/LMLO.dcm``: the left
breast of one made-up woman in the cranio-caudal (CC) and the medio-lateral oblique
(MLO) view, each a Digital Mammography X-Ray Image Storage - For Presentation
instance (SOP Class 1.2.840.10008.5.1.4.1.1.1.2, PS3.4 B.5; the Digital Mammography
X-Ray Image IOD, PS3.3 A.27, with the Mammography Image Module C.8.11.7).

What is in each file:

- 512 rows x 416 columns of 0.5 mm (256 x 208 mm), MONOCHROME2, 12 bits stored in
  16 allocated, unsigned (PS3.3 C.7.6.3); Presentation Intent Type FOR PRESENTATION
  (C.8.11.1.1.1): the pixels are already processed for display, as a vendor's
  workstation shows them.
- The picture: background air (black), the skin line, fat (dark grey), fibroglandular
  tissue (brighter, a seeded texture densest behind the nipple), the nipple, a few
  calcifications (bright specks), and on the MLO the pectoral muscle across the
  upper chest-wall corner. The chest wall is on the image left and the nipple points
  right, as Patient Orientation ``A\\R`` (CC) and ``A\\FR`` (MLO) say (C.8.11.7.1.1).
- The VOI LUT Module (PS3.3 C.11.2) as vendors fill it, both ways at once:
  three windows (Window Center/Width with explanations NORMAL, HARDER, SOFTER) with
  VOI LUT Function (0028,1056) ``SIGMOID`` (C.11.2.1.3.1), and a VOI LUT Sequence
  (0028,3010) item (C.11.2.1.1): a 4096-entry, 12-bit table, the NORMAL sigmoid
  sampled at every stored value.

Every value that reaches a stored pixel or the table is computed in float64 with
``+ - * /``, ``sqrt`` and the functions of :mod:`.exact` (as :mod:`.cxr_render`),
then rounded with ``rint``, so the bytes are the same on every CPU (see
``data/README.md``). Names, IDs and dates are made up (:mod:`.fake_people`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from . import exact
from .dicomfile import new_dataset, save_new
from .fake_people import fake_patient
from .uids import uid

#: Digital Mammography X-Ray Image Storage - For Presentation (PS3.4 B.5).
MG_FOR_PRESENTATION = "1.2.840.10008.5.1.4.1.1.1.2"
ROWS, COLUMNS, SPACING = 512, 416, 0.5       # pixels, pixels, mm
BITS_STORED = 12
MAX_STORED = (1 << BITS_STORED) - 1
#: stored value = OFFSET + GAIN * attenuation, before clipping (MONOCHROME2).
OFFSET, GAIN = 90.0, 3500.0
SEED = 20_240_611
STUDY_DATE, STUDY_TIME = "20240611", "093015"
#: (explanation, width as a fraction of the NORMAL width): Window Center & Width
#: Explanation values as a Hologic-style header lists them (PS3.3 C.11.2.1.2).
WINDOWS = (("NORMAL", 4, 4), ("HARDER", 3, 4), ("SOFTER", 5, 4))
#: Breast pixels at these ranks (of 1000) bound the NORMAL window.
WINDOW_RANKS = (20, 995)


@dataclass(frozen=True)
class View:
    """One view of the left breast (PS3.3 C.8.11.7: View Code Sequence, CID 4014)."""

    name: str               #: View Position (0018,5101): CC or MLO
    code: str               #: SNOMED CT concept of the view
    meaning: str
    orientation: tuple[str, str]   #: Patient Orientation (0020,0020), C.8.11.7.1.1
    depth: float            #: chest wall to nipple, mm
    half_height: float      #: half the breast's extent along the chest wall, mm
    centre: float           #: mm below the image's middle row
    angle: int              #: Positioner Primary Angle (0018,1510), degrees
    instance: int


VIEWS = (
    View("CC", "399162004", "cranio-caudal", ("A", "R"), 150.0, 92.0, 0.0, 0, 1),
    View("MLO", "399368009", "medio-lateral oblique", ("A", "FR"), 140.0, 118.0, 8.0, 45, 2),
)


def _sig(x: np.ndarray, eps: float) -> np.ndarray:
    """Smooth step 0 -> 1 at x = 0 with width ``eps``."""
    return exact.sigmoid(x / eps)


def _texture(rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Smooth random field of zero mean and unit standard deviation (pixels: sigma)."""
    k = exact.gaussian_kernel(sigma)
    noise = exact.standard_normal(rng, (ROWS, COLUMNS))
    return exact.convolve_separable(noise, k) / math.fsum(k * k)


def render(view: View, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """The stored values (``uint16``, 12 bits used) of one view, and its breast mask.

    Attenuation ``a`` runs from 0 (air, black) to about 1 (dense tissue, white).
    """
    rng = np.random.default_rng([seed, view.instance])
    x = (np.arange(COLUMNS) + 0.5) * SPACING                      # mm from the chest wall
    y = (np.arange(ROWS) + 0.5) * SPACING - ROWS * SPACING / 2 - view.centre
    xx = x[None, :].repeat(ROWS, 0)
    yy = y[:, None].repeat(COLUMNS, 1)
    # the compressed breast: a half ellipse from the chest wall, skin at r = 1
    r = exact.hypot(xx / view.depth, yy / view.half_height)
    inside = _sig(1.0 - r, 0.004)
    # the tissue thins toward the skin (thickness rolls off over the last 12 % of r)
    edge = np.sqrt(np.clip((1.0 - r) / 0.12, 0.0, 1.0))
    a = (0.22 + 0.08 * edge) * inside
    a = a + 0.09 * exact.gauss((r - 0.992) / 0.006)               # the skin line
    # fibroglandular tissue: a texture, densest in a cone behind the nipple
    cone = exact.gauss(exact.hypot((xx - 0.42 * view.depth) / (0.42 * view.depth),
                                   yy / (0.5 * view.half_height)))
    gland = _sig(0.6 * _texture(rng, 9.0) + 0.5 * _texture(rng, 3.0) + 2.0 * cone - 1.5, 0.3)
    gland = gland * edge * inside
    a = a + 0.34 * gland
    a = a + 0.06 * _texture(rng, 2.0) * (0.3 + gland) * inside     # fine structure
    # the nipple, just beyond the skin line
    a = a + 0.22 * _sig(1.0 - exact.hypot((xx - view.depth) / 6.0, yy / 7.0), 0.08)
    # calcifications: specks of about 0.5 mm in the glandular cone
    for _ in range(6):
        cx = float(exact.uniform(rng, 0.3, 0.7)) * view.depth
        cy = float(exact.uniform(rng, -0.35, 0.35)) * view.half_height
        a = a + 0.30 * exact.gauss(exact.hypot(xx - cx, yy - cy) / 0.45)
    if view.name == "MLO":
        # the pectoral muscle: a band from the top of the chest wall, edge tilted
        top = -ROWS * SPACING / 2 - view.centre
        edge_x = 70.0 - 0.42 * (yy - top)                          # its edge, mm from the wall
        muscle = _sig(edge_x - xx, 1.5) * _sig(edge_x, 4.0)
        a = a * (1.0 - muscle) + (0.62 + 0.03 * _texture(rng, 3.0)) * muscle
    breast = np.maximum(inside, _sig(1.0 - exact.hypot((xx - view.depth) / 6.0, yy / 7.0), 0.08))
    a = exact.gaussian_blur(a, 0.7)
    a = a + 0.006 * exact.standard_normal(rng, a.shape)
    stored = np.clip(np.rint(OFFSET + GAIN * a), 0, MAX_STORED).astype(np.uint16)
    return stored, breast > 0.5


def windows(stored: np.ndarray, breast: np.ndarray) -> list[tuple[str, int, int]]:
    """The header's windows, ``(explanation, center, width)``: NORMAL spans the breast's
    2nd to 99.5th percentile of stored values (by rank, exact), HARDER and SOFTER are
    narrower and wider about the same center."""
    values = np.sort(stored[breast], kind="stable")
    lo, hi = (int(values[(values.size - 1) * k // 1000]) for k in WINDOW_RANKS)
    center, width = (lo + hi) // 2, hi - lo
    return [(name, center, width * num // den) for name, num, den in WINDOWS]


def sigmoid_table(center: int, width: int) -> np.ndarray:
    """The VOI LUT Data: ``rint(4095 / (1 + exp(-4 (x - c) / w)))`` for every stored
    value x = 0 .. 4095 (the SIGMOID of PS3.3 C.11.2.1.3.1, 12-bit output)."""
    x = np.arange(MAX_STORED + 1, dtype=np.float64)
    return np.rint(MAX_STORED * exact.sigmoid(4.0 * (x - center) / width)).astype(np.uint16)


def _code(value: str, meaning: str, scheme: str = "SCT") -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def dataset(view: View) -> Dataset:
    """The complete Digital Mammography For Presentation dataset of one view."""
    person = fake_patient(np.random.default_rng(SEED), sex="F", age=57, on_date=STUDY_DATE)
    ds = new_dataset(MG_FOR_PRESENTATION, uid("mg", "image", view.name))
    ds.SpecificCharacterSet = "ISO_IR 100"                        # SOP Common C.12.1
    ds.ImageType = ["DERIVED", "PRIMARY"]                         # General Image C.7.6.1
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = ds.AcquisitionDate = STUDY_DATE
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = ds.AcquisitionTime = STUDY_TIME
    ds.AccessionNumber = "MG24061107"                             # General Study C.7.2.1
    ds.Modality = "MG"                                            # DX Series C.8.11.1
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.Manufacturer = "Synthetic Mammography Systems"            # General Equipment C.7.5.1
    ds.ManufacturerModelName = "SYNTH-MG 1"
    ds.InstitutionName, ds.InstitutionAddress = person.institution, person.institution_address
    ds.ReferringPhysicianName = person.referring_physician
    ds.StationName = "MAMMO01"
    ds.StudyDescription = "MG SCREENING BILATERAL"
    ds.SeriesDescription = f"L {view.name}"
    ds.PatientName, ds.PatientID = person.name, person.patient_id  # Patient C.7.1.1
    ds.PatientBirthDate, ds.PatientSex = person.birth_date, person.sex
    ds.PatientAge = f"{person.age_on(STUDY_DATE):03d}Y"            # Patient Study C.7.2.2
    ds.BodyPartExamined = "BREAST"                                # General Series C.7.3.1
    ds.StudyInstanceUID = uid("mg", "study")
    ds.SeriesInstanceUID = uid("mg", "series", view.name)
    ds.StudyID = "1"
    ds.SeriesNumber = view.instance
    ds.InstanceNumber = 1
    ds.PatientOrientation = list(view.orientation)                # C.8.11.7.1.1
    ds.BurnedInAnnotation = "NO"
    ds.ImageLaterality = "L"                                      # DX Anatomy Imaged C.8.11.2
    ds.AnatomicRegionSequence = Sequence([_code("76752008", "Breast")])
    ds.PositionerType = "MAMMOGRAPHIC"                            # Mammography Image C.8.11.7
    ds.ViewPosition = view.name                                   # DX Positioning C.8.11.5
    ds.PositionerPrimaryAngle = view.angle
    ds.ViewCodeSequence = Sequence([_code(view.code, view.meaning)])
    ds.ViewCodeSequence[0].ViewModifierCodeSequence = Sequence()
    ds.OrganExposed = "BREAST"
    ds.BreastImplantPresent = "NO"
    ds.KVP = 29                                                   # X-Ray Acquisition Dose C.8.7.8
    ds.BodyPartThickness = 52 if view.name == "CC" else 56
    ds.CompressionForce = 118 if view.name == "CC" else 126
    ds.AcquisitionContextSequence = Sequence()                   # Acquisition Context C.7.6.14
    ds.DetectorType = "DIRECT"                                    # DX Detector C.8.11.4
    spacing = f"{SPACING:g}"
    ds.ImagerPixelSpacing = [spacing, spacing]
    ds.PixelSpacing = [spacing, spacing]
    ds.SamplesPerPixel = 1                                        # Image Pixel C.7.6.3
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = ROWS, COLUMNS
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, BITS_STORED, BITS_STORED - 1
    ds.PixelRepresentation = 0
    ds.PixelIntensityRelationship = "LOG"                         # DX Image C.8.11.3
    ds.PixelIntensityRelationshipSign = 1
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = 0, 1, "US"
    ds.PresentationLUTShape = "IDENTITY"
    ds.LossyImageCompression = "00"
    stored, breast = render(view)
    found = windows(stored, breast)                               # VOI LUT C.11.2
    ds.WindowCenter = [c for _, c, _ in found]
    ds.WindowWidth = [w for _, _, w in found]
    ds.WindowCenterWidthExplanation = [name for name, _, _ in found]
    ds.VOILUTFunction = "SIGMOID"
    item = Dataset()
    _, center, width = found[0]
    item.add(DataElement(0x00283002, "US", [MAX_STORED + 1, 0, BITS_STORED]))  # LUT Descriptor
    item.LUTExplanation = "NORMAL SIGMOID TABLE"
    item.add(DataElement(0x00283006, "OW", sigmoid_table(center, width).astype("<u2").tobytes()))
    ds.VOILUTSequence = Sequence([item])
    ds.PixelData = stored.astype("<u2").tobytes()
    return ds


def generate(out_dir: Path) -> None:
    """Write ``LCC.dcm`` and ``LMLO.dcm`` into ``out_dir``; refuses to overwrite."""
    for view in VIEWS:
        save_new(dataset(view), Path(out_dir) / f"L{view.name}.dcm")
