"""Checks for Lesson 4, geometry and volumes.

Each check works the true answer out from the DICOM headers with pydicom alone, not with
the helpers the lesson uses, and explains the usual mistakes: measuring the tilt of an
oblique stack against the wrong axis or in radians, trusting file names or Instance
Numbers, and reading the patient's left on the screen's left.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut

from ... import data
from ..feedback import (
    Expected,
    Feedback,
    as_counts,
    as_number,
    as_text,
    check,
    close_more_decimals,
    expects,
    right,
    rounded_from,
    wrong,
)

#: Exercises 1 and 2: the series whose tilt the learner measures and whose stack the
#: learner orders (its Instance Numbers do not follow position).
STACK_SERIES = "oblique"
#: Exercise 1: the oblique series' tilt is the angle between its slice normal and the
#: patient's z axis.
Z_AXIS = (0.0, 0.0, 1.0)
#: Exercise 3: the series the lesson's viewer shows, and the HU range of lung (the range
#: lesson 3's HU histogram searches for the lung peak), averaged over a small square so
#: that one noisy voxel of air or a vessel's edge does not decide.
VIEWER_SERIES = "axial"
LUNG_HU = (-950.0, -700.0)
LUNG_SQUARE = 5


def _stack(series: str) -> dict[str, tuple[float, float, int]]:
    """Each file of ``series``: (position along the slice normal, z, Instance Number).

    The normal is row direction x column direction of Image Orientation (Patient)
    (PS3.3 C.7.6.2.1.1); a slice's position along it is Image Position (Patient) . normal.
    """
    out = {}
    for f in sorted(data.ct_series(series).glob("*.dcm")):
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        o = [float(v) for v in ds.ImageOrientationPatient]
        n = (o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3])
        p = [float(v) for v in ds.ImagePositionPatient]
        out[f.name] = (sum(a * b for a, b in zip(p, n, strict=True)), p[2],
                       int(ds.InstanceNumber))
    return out


def _tilt_degrees(series: str) -> float:
    """The angle between the slice normal of ``series`` (row direction x column direction
    of Image Orientation (Patient), PS3.3 C.7.6.2.1.1) and the patient's z axis, 0..90."""
    first = sorted(data.ct_series(series).glob("*.dcm"))[0]
    o = [float(v) for v in pydicom.dcmread(first, stop_before_pixels=True)
         .ImageOrientationPatient]
    n = np.cross(o[:3], o[3:])
    return float(np.degrees(np.arccos(min(1.0, abs(float(np.dot(n, Z_AXIS)))
                                          / float(np.linalg.norm(n))))))


def tilt_truth() -> float:
    """The tilt of :data:`STACK_SERIES` in degrees."""
    return _tilt_degrees(STACK_SERIES)


@expects(lambda: Expected(tilt_truth(), near=r"(?i)tilt|angle|deg|°"))
@check
def check_tilt(answer: object) -> Feedback:
    """Exercise 1: by how many degrees the slices of :data:`STACK_SERIES` are tilted,
    the angle between their normal and the patient's z axis (its depth would follow from
    the series description and instance count printed earlier)."""
    value = as_number(answer)
    if value is None:
        return wrong("give one number: the angle in degrees.")
    truth = tilt_truth()
    close = lambda x: abs(value - x) < 1e-3  # noqa: E731
    if close(truth):
        return right(f"the normal (row direction x column direction) makes {truth:.2f} "
                     "degrees with z: arccos of its z component. Slices tilted like this "
                     "must be stacked along the normal, not along z.")
    if close(180 - truth):
        return wrong("that is the angle to -z: the normal points the other way along z. "
                     "Take the absolute value of its z component (the tilt is at most 90).")
    if close(90 - truth):
        return wrong("that is the complement: the angle between the slice *plane* and z "
                     "(or between the normal and the y axis). The tilt is between the "
                     "*normal* and z.")
    if close(math.radians(truth)):
        return wrong("that is in radians; give degrees (np.degrees).")
    if close(math.radians(90 - truth)) or close(math.radians(180 - truth)):
        return wrong("that is in radians, and not the angle between the normal and z.")
    if rounded_from(value, truth):
        return close_more_decimals(value, truth)
    if close(0):
        return wrong("0 degrees would be an axial series; read this series' Image "
                     "Orientation (Patient).")
    return wrong(f"not {value:g}: take the cross product of the two direction vectors of "
                 "Image Orientation (Patient), and the angle between it and (0, 0, 1).")


@expects(lambda: Expected(_last_slice_name(), near=r"(?i)oblique|last|farthest"))
@check
def check_last_slice(answer: object) -> Feedback:
    """Exercise 2: the file of :data:`STACK_SERIES` farthest along its normal (the last
    slice of the sorted stack)."""
    text = as_text(answer)
    if not text:
        return wrong("give the file name as a string, like 'CT000001.dcm'.")
    stack = _stack(STACK_SERIES)
    last = _last_slice_name()
    name = Path(text).name
    name = {n.lower(): n for n in stack}.get(name.lower(), name)  # case carries no meaning
    if name == last:
        return right(f"{last} is {stack[last][0]:g} mm along the normal, the largest; its "
                     f"Instance Number is {stack[last][2]}, which says nothing about where it "
                     "lies.")
    if name not in stack:
        return wrong(f"{name!r} is not a file of the {STACK_SERIES} series.")
    numbers = {n: v[2] for n, v in stack.items()}
    if name == max(numbers, key=numbers.get):
        return wrong("that has the highest Instance Number, but this series was numbered in "
                     "two passes: Instance Number says in which order the images were made, "
                     "not where they lie (PS3.3 C.7.6.1). Use Image Position (Patient).")
    if name == min(numbers, key=numbers.get):
        return wrong("that is Instance Number 1: numbers need not follow position. Compare "
                     "Image Position (Patient) projected on the normal.")
    if name == sorted(stack)[-1] or name == sorted(stack)[0]:
        return wrong("that is picked by its file name; names say nothing about position.")
    if name == min(stack, key=lambda n: stack[n][0]):
        return wrong("that is the first slice along the normal; you want the last (the "
                     "largest projection).")
    return wrong(f"{name} lies {stack[name][0]:g} mm along the normal; look for the largest.")


def _last_slice_name() -> str:
    """The file of :data:`STACK_SERIES` farthest along its normal."""
    stack = _stack(STACK_SERIES)
    return max(stack, key=lambda name: stack[name][0])


def _axial_voxel(series: str, voxel: tuple[int, int, int]) -> tuple[float, np.ndarray, float]:
    """(x in LPS mm, the slice in HU, the voxel in HU) for a voxel
    ``(column, row, slice)`` of ``series``, slices sorted along the normal, from the
    headers alone: position = Image Position (Patient) + column x column spacing x row
    direction + row x row spacing x column direction (PS3.3 C.7.6.2.1.1)."""
    stack = _stack(series)
    names = sorted(stack, key=lambda n: stack[n][0])
    column, row, k = voxel
    ds = pydicom.dcmread(data.ct_series(series) / names[k])
    o = [float(v) for v in ds.ImageOrientationPatient]
    row_mm, col_mm = (float(v) for v in ds.PixelSpacing)
    x = float(ds.ImagePositionPatient[0]) + column * col_mm * o[0] + row * row_mm * o[3]
    hu = apply_modality_lut(ds.pixel_array, ds).astype(np.float64)
    return x, hu, float(hu[row, column])


@expects(lambda: Expected(None, why_none="any voxel of the left lung is right"))
@check
def check_left_lung(answer: object) -> Feedback:
    """Exercise 3: ``viewer.crosshair`` (column, row, slice of the :data:`VIEWER_SERIES`
    volume) on the patient's left lung: LPS x > 0 (PS3.3 C.7.6.2.1.1) and lung HU."""
    voxel = as_counts(answer, 3)
    if voxel is None:
        return wrong(f"give the crosshair, three whole numbers [column, row, slice] "
                     f"(answer = viewer.crosshair); you gave {answer!r}.")
    column, row, k = voxel
    stack = _stack(VIEWER_SERIES)
    first = pydicom.dcmread(sorted(data.ct_series(VIEWER_SERIES).glob("*.dcm"))[0],
                            stop_before_pixels=True)
    if not (0 <= column < first.Columns and 0 <= row < first.Rows and 0 <= k < len(stack)):
        return wrong(f"[{column}, {row}, {k}] is outside the volume ({first.Columns} columns, "
                     f"{first.Rows} rows, {len(stack)} slices).")
    x, hu, value = _axial_voxel(VIEWER_SERIES, (column, row, k))
    h = LUNG_SQUARE // 2
    around = float(hu[max(row - h, 0):row + h + 1, max(column - h, 0):column + h + 1].mean())
    lo, hi = LUNG_HU
    if not lo <= around <= hi:
        return wrong(f"that voxel holds {value:g} HU ({around:.0f} HU on average around it): "
                     f"not lung, which is about {lo:g} to {hi:g} HU. Click inside the dark "
                     "lung, away from vessels and the chest wall, and read the value under "
                     "the pointer in the status line first.")
    if x < 0:
        return wrong(f"that is lung, but at x = {x:.1f} mm: the patient's right. The axial "
                     "view is seen from the feet, so the patient's left is on the screen's "
                     "right, where the letter L is.")
    return right(f"lung ({value:g} HU) at x = {x:.1f} mm, on the patient's left (+x points "
                 "to the patient's Left, PS3.3 C.7.6.2.1.1), shown on the screen's right.")
