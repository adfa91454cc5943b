"""Label files for the synthetic chest CT: the phantom's true organs as SEG and RTSTRUCT.

The phantom knows its anatomy: :func:`.synth_ct.painted` gives, for every pixel
centre of a slice, the organ of :data:`~.ct_phantom.ORGANS` (lungs, heart, liver,
vertebrae, aorta) that the painter's algorithm left there. This module writes that
truth, for the axial series ``ct_chest/axial``, twice:

- ``seg/SEG000001.dcm``: a binary Segmentation (PS3.3 A.51), one segment per organ,
  one frame per slice that holds the organ, each frame placed by its Plane
  Position (Patient) and its Derivation Image Sequence (the source slice), written
  with highdicom. Its masks equal the truth voxel for voxel.
- ``rtstruct/RS000001.dcm``: an RT Structure Set (PS3.3 A.19), one ROI per organ,
  written with pydicom (highdicom has no RTSTRUCT writer). Each slice's region is
  given by closed planar polygons (PS3.3 C.8.8.6) that run along the pixel *edges*
  of the truth mask: their vertices are pixel corners, half a pixel from every
  pixel centre, so no centre lies on a contour and the inside test used to
  rasterise them (a centre is inside when a ray from it crosses the ROI's contours
  on its plane an odd number of times, :mod:`helpers.image.labels`) gives back the
  truth exactly. Holes are separate contours, read by that even-odd rule.

Every value is fixed: UIDs derived from names (:func:`.uids.uid`), the study's
dates, the workbook's file meta. The contours are traced with integer arithmetic
and their corners computed with ``+ - *`` only, so the bytes are the same on every
CPU (see ``data/README.md``).
"""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, RTStructureSetStorage

from .ct_phantom import ORGANS, SEED, Organ, phantom
from .dicomfile import new_dataset, save_new
from .synth_ct import (
    SERIES,
    STUDY_DATE,
    SeriesDesign,
    StudyInfo,
    _ds,
    _time,
    ct_dataset,
    painted,
    study_info,
)
from .uids import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME, uid

#: The series the labels describe.
SOURCE = "axial"
SEG_NAME = "seg/SEG000001.dcm"
RTSTRUCT_NAME = "rtstruct/RS000001.dcm"
SEG_SERIES_NUMBER, RTSTRUCT_SERIES_NUMBER = 100, 101
LABEL_TIME = _time(3600)  # an hour after the acquisition


def source_design() -> SeriesDesign:
    """The design of the series the labels reference."""
    return next(s for s in SERIES if s.folder == SOURCE)


def organ_maps(seed: int = SEED) -> np.ndarray:
    """The truth: organ number (0 none, else :data:`ORGANS`' number) of every voxel of
    the axial series, ``[slice k, row, column]`` with slice ``k`` the series' ``k``-th
    position (Instance Number ``k + 1``)."""
    s, steps = source_design(), phantom(seed)
    return np.stack([painted(s.plane(k), steps)[1] for k in range(s.slices)])


def _source_headers(s: SeriesDesign, info: StudyInfo) -> list[Dataset]:
    """The axial slices' headers (pixels left empty): what a label file references."""
    blank = np.zeros((s.rows, s.cols), dtype=np.uint16)
    return [ct_dataset(s, k, blank, info) for k in range(s.slices)]


def _fixed_meta(ds: Dataset) -> None:
    """The workbook's file meta, creation time and UIDs instead of those the writer
    draws at random or from the clock (bytes that depend on content only): highdicom
    stamps its Contributing Equipment with the current time and gives the dimension
    organization (PS3.3 C.7.6.17) a random UID."""
    ds.file_meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    ds.file_meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    ds.InstanceCreationDate, ds.InstanceCreationTime = STUDY_DATE, LABEL_TIME
    for item in ds.get("ContributingEquipmentSequence", []):
        item.ContributionDateTime = STUDY_DATE + LABEL_TIME
    organization = uid("ct_labels", "dimension_organization", "seg")
    for item in [*ds.get("DimensionOrganizationSequence", []),
                 *ds.get("DimensionIndexSequence", [])]:
        if "DimensionOrganizationUID" in item:
            item.DimensionOrganizationUID = organization


def segment_description(organ: Organ) -> hd.seg.SegmentDescription:
    """One organ as a segment (PS3.3 C.8.20.2): label, category, type, display colour."""
    return hd.seg.SegmentDescription(
        segment_number=organ.number,
        segment_label=organ.name,
        segmented_property_category=codes.SCT.AnatomicalStructure,
        segmented_property_type=getattr(codes.SCT, organ.code),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,  # drawn by design
        display_color=hd.color.CIELabColor.from_dicom_value(organ.cielab),
    )


def seg_dataset(truth: np.ndarray, sources: list[Dataset]) -> hd.seg.Segmentation:
    """The organ truth as a binary SEG referencing ``sources`` (highdicom)."""
    seg = hd.seg.Segmentation(
        source_images=sources,
        pixel_array=truth,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[segment_description(o) for o in ORGANS],
        series_instance_uid=uid("ct_labels", "series", "seg"),
        series_number=SEG_SERIES_NUMBER,
        sop_instance_uid=uid("ct_labels", "instance", "seg"),
        instance_number=1,
        manufacturer="Workbook Medical Systems",
        manufacturer_model_name="Phantom truth",
        software_versions="WB 1.0",
        device_serial_number="SN-000451",
        content_description="Organs of the synthetic chest phantom",
        content_label="ORGANS",
        content_creator_name="Workbook^Phantom",
        series_description="Organs (phantom truth) SEG",
        content_date=STUDY_DATE, content_time=LABEL_TIME,
        series_date=STUDY_DATE, series_time=LABEL_TIME,
        transfer_syntax_uid=ExplicitVRLittleEndian,
    )
    _fixed_meta(seg)
    return seg


# ---- RTSTRUCT: pixel-edge contours ------------------------------------------------------

def edge_loops(mask: np.ndarray) -> list[list[tuple[int, int]]]:
    """Closed loops along the pixel edges that separate ``mask`` from the rest.

    A vertex ``(r, c)`` is the corner shared by pixels ``(r-1, c-1)`` and ``(r, c)``,
    i.e. the point half a pixel up and left of pixel ``(r, c)``'s centre. Every edge
    between an inside and an outside pixel is used once, walked with the inside on
    the same side, so the loops are outer boundaries and holes, and a point (not on
    an edge) is inside ``mask`` exactly when it is inside an odd number of loops.
    Collinear vertices are dropped. Integer arithmetic only.
    """
    m = np.pad(np.asarray(mask, dtype=bool), 1)
    inside = m[1:-1, 1:-1]
    r, c = np.nonzero(inside & ~m[:-2, 1:-1])           # top edges, left to right
    edges = [((a, b), (a, b + 1)) for a, b in zip(r.tolist(), c.tolist(), strict=True)]
    r, c = np.nonzero(inside & ~m[1:-1, 2:])             # right edges, downwards
    edges += [((a, b + 1), (a + 1, b + 1)) for a, b in zip(r.tolist(), c.tolist(), strict=True)]
    r, c = np.nonzero(inside & ~m[2:, 1:-1])             # bottom edges, right to left
    edges += [((a + 1, b + 1), (a + 1, b)) for a, b in zip(r.tolist(), c.tolist(), strict=True)]
    r, c = np.nonzero(inside & ~m[1:-1, :-2])            # left edges, upwards
    edges += [((a + 1, b), (a, b)) for a, b in zip(r.tolist(), c.tolist(), strict=True)]
    following: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for start, end in sorted(edges):
        following.setdefault(start, []).append(end)
    loops = []
    for first in sorted(following):
        while following.get(first):
            loop, here = [first], following[first].pop(0)
            while here != first:
                loop.append(here)
                here = following[here].pop(0)
            loops.append(_corners_only(loop))
    return loops


def _corners_only(loop: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``loop`` without the vertices where it goes straight on."""
    n = len(loop)
    keep = []
    for i, (r, c) in enumerate(loop):
        (pr, pc), (nr, nc) = loop[i - 1], loop[(i + 1) % n]
        if (r - pr, c - pc) != (nr - r, nc - c):
            keep.append((r, c))
    return keep


def contour_points(loop: list[tuple[int, int]], s: SeriesDesign, k: int) -> list[str]:
    """Contour Data (3006,0050) of one loop on slice ``k``: x, y, z in patient mm of
    each corner (PS3.3 C.8.8.6), as Decimal Strings."""
    p = s.plane(k)
    out = []
    for r, c in loop:
        i, j = r - 0.5, c - 0.5   # a corner, in pixel index units
        out += [_ds(p.origin[a] + j * p.col_spacing * p.row_dir[a]
                    + i * p.row_spacing * p.col_dir[a]) for a in range(3)]
    return out


def _ref(sop_class: str, sop_instance: str) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID, item.ReferencedSOPInstanceUID = sop_class, sop_instance
    return item


def rtstruct_dataset(truth: np.ndarray, sources: list[Dataset]) -> Dataset:
    """The organ truth as an RT Structure Set IOD (PS3.3 A.19), module by module."""
    s, first = source_design(), sources[0]
    ds = new_dataset(RTStructureSetStorage, uid("ct_labels", "instance", "rtstruct"))
    # SOP Common (C.12.1)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.InstanceCreationDate, ds.InstanceCreationTime = STUDY_DATE, LABEL_TIME
    # Patient (C.7.1.1), General Study (C.7.2.1): the CT's
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex",
                    "StudyInstanceUID", "StudyDate", "StudyTime", "ReferringPhysicianName",
                    "StudyID", "AccessionNumber", "StudyDescription"):
        setattr(ds, keyword, first[keyword].value)
    # RT Series (C.8.8.1)
    ds.Modality = "RTSTRUCT"
    ds.SeriesInstanceUID = uid("ct_labels", "series", "rtstruct")
    ds.SeriesNumber = RTSTRUCT_SERIES_NUMBER
    ds.SeriesDate, ds.SeriesTime = STUDY_DATE, LABEL_TIME
    ds.SeriesDescription = "Organs (phantom truth) RTSTRUCT"
    ds.OperatorsName = ""
    # Frame of Reference (C.7.4.1): the CT's
    ds.FrameOfReferenceUID = first.FrameOfReferenceUID
    ds.PositionReferenceIndicator = ""
    # General Equipment (C.7.5.1)
    ds.Manufacturer = "Workbook Medical Systems"
    ds.ManufacturerModelName = "Phantom truth"
    ds.SoftwareVersions = "WB 1.0"
    # Structure Set (C.8.8.5)
    ds.StructureSetLabel = "ORGANS"
    ds.StructureSetName = "Phantom organs"
    ds.StructureSetDate, ds.StructureSetTime = STUDY_DATE, LABEL_TIME
    series_ref = Dataset()
    series_ref.SeriesInstanceUID = first.SeriesInstanceUID
    series_ref.ContourImageSequence = [_ref(CTImageStorage, d.SOPInstanceUID) for d in sources]
    study_ref = _ref("1.2.840.10008.3.1.2.3.1", first.StudyInstanceUID)  # study component
    study_ref.RTReferencedSeriesSequence = [series_ref]
    frame_ref = Dataset()
    frame_ref.FrameOfReferenceUID = first.FrameOfReferenceUID
    frame_ref.RTReferencedStudySequence = [study_ref]
    ds.ReferencedFrameOfReferenceSequence = [frame_ref]
    rois, contours, observations = [], [], []
    for organ in ORGANS:
        roi = Dataset()
        roi.ROINumber = organ.number
        roi.ReferencedFrameOfReferenceUID = first.FrameOfReferenceUID
        roi.ROIName = organ.name
        roi.ROIGenerationAlgorithm = "MANUAL"
        rois.append(roi)
        items = []
        for k in range(s.slices):
            for loop in edge_loops(truth[k] == organ.number):
                item = Dataset()
                item.ContourImageSequence = [_ref(CTImageStorage, sources[k].SOPInstanceUID)]
                item.ContourGeometricType = "CLOSED_PLANAR"
                item.NumberOfContourPoints = len(loop)
                item.ContourNumber = len(items) + 1
                item.ContourData = contour_points(loop, s, k)
                items.append(item)
        roi_contour = Dataset()
        roi_contour.ROIDisplayColor = list(organ.rgb)
        roi_contour.ContourSequence = items
        roi_contour.ReferencedROINumber = organ.number
        contours.append(roi_contour)
        obs = Dataset()
        obs.ObservationNumber = organ.number
        obs.ReferencedROINumber = organ.number
        obs.RTROIInterpretedType = "ORGAN"
        obs.ROIInterpreter = ""
        observations.append(obs)
    ds.StructureSetROISequence = rois
    # ROI Contour (C.8.8.6), RT ROI Observations (C.8.8.8)
    ds.ROIContourSequence = contours
    ds.RTROIObservationsSequence = observations
    return ds


def generate(out_dir: Path, seed: int = SEED) -> None:
    """Write the SEG and the RTSTRUCT of the phantom's organs into ``out_dir``."""
    out_dir = Path(out_dir)
    s, info = source_design(), study_info(seed)
    truth = organ_maps(seed)
    sources = _source_headers(s, info)
    seg = seg_dataset(truth, sources)
    path = out_dir / SEG_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as fh:
        seg.save_as(fh, enforce_file_format=True)
    save_new(rtstruct_dataset(truth, sources), out_dir / RTSTRUCT_NAME)
