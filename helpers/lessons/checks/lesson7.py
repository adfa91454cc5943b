"""Checks for Lesson 7, labels in DICOM and a model-ready dataset.

The right answers are computed here with pydicom alone, straight from the label
files (frames, Per-frame Functional Groups, Contour Data), not with
:mod:`helpers.image.labels`, which the lesson uses.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pydicom

from ..feedback import Feedback, as_number, check, right, wrong

#: Exercise 1's organ, exercise 3's organ and shift, exercise 4's segment.
VOLUME_ORGAN = "liver"
DICE_ORGAN, DICE_SHIFT_ROWS = "heart", 3
FIRST_FRAME_ORGAN = "aorta"


@cache
def _seg() -> pydicom.Dataset:
    from ...data import ct_label_file

    return pydicom.dcmread(ct_label_file("seg"))


def _segment_number(label: str) -> int:
    return next(int(s.SegmentNumber) for s in _seg().SegmentSequence if s.SegmentLabel == label)


def _frames_of(label: str) -> list[int]:
    """0-based frame indices of a segment, in frame order."""
    n = _segment_number(label)
    return [i for i, f in enumerate(_seg().PerFrameFunctionalGroupsSequence)
            if int(f.SegmentIdentificationSequence[0].ReferencedSegmentNumber) == n]


def _voxel_mm3() -> float:
    measures = _seg().SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0]
    row, col = (float(v) for v in measures.PixelSpacing)
    return row * col * float(measures.SpacingBetweenSlices)


def organ_voxels(label: str = VOLUME_ORGAN) -> int:
    """Voxels of a segment: set bits of its frames (each frame is a different slice)."""
    pixels = _seg().pixel_array
    return int(sum(int(pixels[i].sum()) for i in _frames_of(label)))


@check
def check_liver_ml(answer: object) -> Feedback:
    """Exercise 1: the liver's volume in mL from the SEG."""
    value = as_number(answer)
    if value is None:
        return wrong("give a number of millilitres (a float).")
    voxels = organ_voxels()
    ml = voxels * _voxel_mm3() / 1000.0
    if math.isclose(value, ml, rel_tol=1e-3):
        return right(f"{voxels} voxels of {_voxel_mm3():.2f} mm3: {ml:.1f} mL.")
    if math.isclose(value, voxels, rel_tol=1e-3):
        return wrong("that is the number of voxels; multiply by the volume of one voxel "
                     "(mm3: pixel spacing x pixel spacing x slice spacing) and divide by 1000 "
                     "for mL.")
    if math.isclose(value, ml * 1000.0, rel_tol=1e-3):
        return wrong("that is in mm3; 1 mL is 1000 mm3.")
    if math.isclose(value, ml / 1000.0, rel_tol=1e-3):
        return wrong("that is in litres; give millilitres.")
    if math.isclose(value, voxels * 0.7 * 0.7 / 1000.0, rel_tol=1e-3):
        return wrong("the slice spacing (3 mm) is missing from the voxel volume.")
    return wrong("count the liver segment's voxels and multiply by the voxel volume "
                 "(`volume.spacing` gives the three spacings in mm).")


@cache
def most_anterior_points() -> dict[str, float]:
    """Smallest y (LPS: most anterior) over each ROI's contour points."""
    from ...data import ct_label_file

    ds = pydicom.dcmread(ct_label_file("rtstruct"))
    names = {int(r.ROINumber): str(r.ROIName) for r in ds.StructureSetROISequence}
    out = {}
    for rc in ds.ROIContourSequence:
        ys = [min(float(v) for v in c.ContourData[1::3]) for c in rc.ContourSequence]
        out[names[int(rc.ReferencedROINumber)]] = min(ys)
    return out


@check
def check_most_anterior(answer: object) -> Feedback:
    """Exercise 2: the RTSTRUCT structure that reaches furthest forward."""
    if not isinstance(answer, str):
        return wrong("give the ROI's name, as a string.")
    extremes = most_anterior_points()
    name = answer.strip().lower()
    if name not in extremes:
        return wrong(f"no ROI is called {answer!r}; the names are {sorted(extremes)}.")
    front = min(extremes, key=extremes.get)
    back = max(extremes, key=extremes.get)
    if name == front:
        return right(f"the {front} reaches y = {extremes[front]:.1f} mm, the smallest y: "
                     "the most anterior point (LPS: +y is posterior).")
    if name == back:
        return wrong("that one lies furthest back: in DICOM's LPS system +y points to the "
                     "patient's back (posterior), so anterior is the smallest y.")
    return wrong(f"compare the most anterior point of each ROI (the smallest y of its contour "
                 f"points), not its centre: {name} reaches y = {extremes[name]:.1f} mm.")


def shifted_dice(label: str = DICE_ORGAN, rows: int = DICE_SHIFT_ROWS) -> tuple[float, float]:
    """Dice and Jaccard of a segment against itself moved ``rows`` rows down."""
    pixels = _seg().pixel_array
    mask = np.stack([pixels[i].astype(bool) for i in _frames_of(label)])
    moved = np.zeros_like(mask)
    moved[:, rows:, :] = mask[:, :-rows, :]
    both = int((mask & moved).sum())
    dice = 2 * both / (int(mask.sum()) + int(moved.sum()))
    return dice, both / int((mask | moved).sum())


@check
def check_shifted_dice(answer: object) -> Feedback:
    """Exercise 3: the Dice of the heart mask moved three rows."""
    value = as_number(answer)
    if value is None:
        return wrong("give the Dice coefficient, a float between 0 and 1.")
    dice, jaccard = shifted_dice()
    if math.isclose(value, dice, abs_tol=1e-4):
        return right(f"Dice {dice:.4f}: a shift of 2.1 mm already costs "
                     f"{1 - dice:.1%} of the overlap on an organ this size.")
    if math.isclose(value, jaccard, abs_tol=1e-4):
        return wrong("that is the Jaccard index (intersection over union); Dice is "
                     "2 |A and B| / (|A| + |B|).")
    if math.isclose(value, 100 * dice, abs_tol=1e-2):
        return wrong("that is a percentage; give the fraction.")
    if math.isclose(value, 1 - dice, abs_tol=1e-4):
        return wrong("that is 1 - Dice (a distance); give the Dice coefficient itself.")
    return wrong("compare the shifted mask with the SEG's heart mask: "
                 "2 x (voxels in both) / (voxels in one + voxels in the other).")


def first_frame_slice(label: str = FIRST_FRAME_ORGAN) -> tuple[int, int, int]:
    """(index in the loaded volume, index in Instance Number order, frame index) of the
    segment's first frame: the volume's slices run along +z from the lowest position."""
    seg = _seg()
    frame = _frames_of(label)[0]
    z = float(seg.PerFrameFunctionalGroupsSequence[frame].PlanePositionSequence[0]
              .ImagePositionPatient[2])
    from ...data import ct_series

    positions = []
    for p in ct_series("axial").iterdir():
        ds = pydicom.dcmread(p, stop_before_pixels=True,
                             specific_tags=["ImagePositionPatient", "InstanceNumber"])
        positions.append((float(ds.ImagePositionPatient[2]), int(ds.InstanceNumber)))
    by_z = sorted(positions)
    volume_index = next(i for i, (pz, _) in enumerate(by_z) if abs(pz - z) < 1e-3)
    instance = next(n for pz, n in positions if abs(pz - z) < 1e-3)
    return volume_index, instance - 1, frame


@check
def check_first_frame_slice(answer: object) -> Feedback:
    """Exercise 4: the volume slice that the aorta segment's first frame belongs to."""
    value = as_number(answer)
    if value is None or value != int(value):
        return wrong("give a slice index of the loaded volume (a whole number).")
    volume_index, instance_index, frame = first_frame_slice()
    if int(value) == volume_index:
        return right(f"slice {volume_index} of the volume: the frame's Plane Position "
                     "(Patient) puts it there, whatever its frame number.")
    if int(value) in (frame, _frames_of(FIRST_FRAME_ORGAN)[0] + 1, 0, 1):
        return wrong("that is the frame's place in the file (frame order); place it by its "
                     "Image Position (Patient) in the Plane Position Sequence.")
    if int(value) == instance_index:
        return wrong("that is its place in Instance Number order (the source image it was "
                     "derived from); the loaded volume is sorted by position along +z.")
    return wrong("find the frame's z in its Plane Position Sequence, then the volume slice "
                 "at that z (`volume.to_patient(0, 0, k)[2]`).")
