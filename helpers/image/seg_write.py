"""A model's masks back into DICOM: a Segmentation (SEG) that a PACS accepts.

A mask a program computed goes back to the archive as a SEG (PS3.3 A.51) that
references the image it was computed on (Referenced Series Sequence, C.8.20.1,
and each frame's Derivation Image Sequence) in the same Frame of Reference, and
names the program: a segment whose Segment Algorithm Type is AUTOMATIC must carry a
Segmentation Algorithm Identification Sequence (0062,0007) with the algorithm's
family, name and version (PS3.3 C.8.20.2, Table C.8.20-4; the macro is Table
10-19, Algorithm Identification). highdicom writes it; the frames follow the
image's slices, so a viewer places them by position.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import highdicom as hd
import numpy as np
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code
from pydicom.uid import generate_uid

from ..dicom.dicomio import read
from ..dicom.errors import OverwriteError
from .volume import Volume

__all__ = ["Algorithm", "SegmentSpec", "write_seg"]


@dataclass(frozen=True)
class Algorithm:
    """The program that made the masks (PS3.3 Table 10-19): its name, version, family
    (CID 7162, e.g. ``codes.cid7162.MorphologicalOperations``) and parameters."""

    name: str
    version: str
    family: Code
    parameters: dict[str, str] | None = None


@dataclass(frozen=True)
class SegmentSpec:
    """What one mask is: its label, category and type (PS3.3 C.8.20.2), display colour."""

    label: str
    property_type: Code
    property_category: Code = codes.SCT.AnatomicalStructure
    rgb: tuple[int, int, int] = (0, 151, 206)


def write_seg(masks: list[np.ndarray], specs: list[SegmentSpec], volume: Volume,
              algorithm: Algorithm, path: str | os.PathLike[str], *,
              series_number: int = 300, fractional: bool = False,
              overwrite: bool = False) -> Path:
    """Write ``masks`` (bool arrays on ``volume``'s grid, one per ``specs`` entry) as a
    binary SEG referencing ``volume``'s files, segments AUTOMATIC by ``algorithm``.

    ``fractional=True``: the masks are probabilities in 0-1, written as a FRACTIONAL
    SEG of type PROBABILITY, each value stored as a byte of Maximum Fractional Value
    255 (PS3.3 C.8.20.2), so read back to within 1/510.

    The UIDs are derived from the source series and the labels (the same input gives
    the same UIDs). Refuses to replace a file unless ``overwrite``.
    """
    p = Path(path)
    if p.exists() and not overwrite:
        raise OverwriteError(p, "exists already; pass overwrite=True to replace it")
    if len(masks) != len(specs):
        raise ValueError(f"{len(masks)} masks but {len(specs)} segment descriptions")
    for m in masks:
        if m.shape != volume.shape:
            raise ValueError(f"a mask of shape {m.shape} is not on the volume's grid "
                             f"{volume.shape}")
    sources = [read(f, stop_before_pixels=True) for f in volume.paths]
    identification = hd.AlgorithmIdentificationSequence(
        name=algorithm.name, family=algorithm.family, version=algorithm.version,
        parameters=algorithm.parameters)
    descriptions = [hd.seg.SegmentDescription(
        segment_number=i + 1, segment_label=s.label,
        segmented_property_category=s.property_category,
        segmented_property_type=s.property_type,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=identification,
        display_color=hd.color.CIELabColor.from_rgb(*s.rgb)) for i, s in enumerate(specs)]
    if fractional:
        stack = np.stack([np.clip(np.asarray(m, dtype=float), 0.0, 1.0) for m in masks], axis=-1)
        kind = hd.seg.SegmentationTypeValues.FRACTIONAL
    else:
        stack = np.stack([m.astype(bool) for m in masks], axis=-1)  # slices, rows, cols, segments
        kind = hd.seg.SegmentationTypeValues.BINARY
    seed = [volume.series_uid, algorithm.name, algorithm.version, str(fractional),
            *(s.label for s in specs)]
    seg = hd.seg.Segmentation(
        source_images=sources, pixel_array=stack,
        segmentation_type=kind,
        segment_descriptions=descriptions,
        series_instance_uid=generate_uid(entropy_srcs=[*seed, "series"]),
        series_number=series_number,
        sop_instance_uid=generate_uid(entropy_srcs=[*seed, "instance"]),
        instance_number=1, manufacturer="DICOM Workbook",
        manufacturer_model_name=algorithm.name, software_versions=algorithm.version,
        device_serial_number="0", series_description=f"{algorithm.name} SEG")
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "wb" if overwrite else "xb") as fh:
        seg.save_as(fh, enforce_file_format=True)
    return p
