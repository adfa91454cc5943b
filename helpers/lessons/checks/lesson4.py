"""Checks for Lesson 4, geometry and volumes.

Each check works the true answer out from the DICOM headers with pydicom alone, not with
the helpers the lesson uses, and explains the usual mistakes: measuring an oblique stack
along z, counting slices instead of gaps, trusting file names or Instance Numbers, and
reading the patient's left on the screen's left.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut

from ... import data
from ..feedback import Feedback, as_number, check, right, wrong

#: Exercises 1 and 2: the series whose stack the learner measures and orders (its
#: Instance Numbers do not follow position).
STACK_SERIES = "oblique"
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


@check
def check_stack_extent(answer: object) -> Feedback:
    """Exercise 1: the distance (mm) between the centres of the two outermost slices of
    :data:`STACK_SERIES`, measured along its normal."""
    value = as_number(answer)
    if value is None:
        return wrong("give one number: the distance in millimetres.")
    stack = _stack(STACK_SERIES)
    along = sorted(v[0] for v in stack.values())
    truth = along[-1] - along[0]
    gap = along[1] - along[0]
    close = lambda x: abs(value - x) < 1e-3 * max(1.0, abs(x))  # noqa: E731
    if close(truth):
        return right(f"{len(along)} slices, {len(along) - 1} gaps of {gap:g} mm: "
                     f"{truth:g} mm from the first slice's centre to the last's, along the "
                     "normal.")
    if close(len(along) * gap):
        return wrong(f"{len(along)} x {gap:g} counts slices, but between {len(along)} "
                     f"slice centres there are {len(along) - 1} gaps.")
    z = sorted(v[1] for v in stack.values())
    if close(z[-1] - z[0]):
        return wrong("that is the difference in z only. This series is oblique: its normal is "
                     "tilted, so measure along the normal (Image Position . normal), not "
                     "along z.")
    by_number = sorted(stack.values(), key=lambda v: v[2])
    if close(abs(by_number[-1][0] - by_number[0][0])):
        return wrong("that is the distance between Instance Numbers 1 and the last: in this "
                     "series they are not the outermost slices. Sort by position.")
    return wrong(f"not {value:g}: project each Image Position (Patient) on the normal "
                 "(row direction x column direction) and take the largest minus the smallest.")


@check
def check_last_slice(answer: object) -> Feedback:
    """Exercise 2: the file of :data:`STACK_SERIES` farthest along its normal (the last
    slice of the sorted stack)."""
    if isinstance(answer, Path):
        answer = answer.name
    if not isinstance(answer, str):
        return wrong("give the file name as a string, like 'CT000001.dcm'.")
    stack = _stack(STACK_SERIES)
    last = max(stack, key=lambda name: stack[name][0])
    name = Path(answer).name
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


@check
def check_left_lung(answer: object) -> Feedback:
    """Exercise 3: ``viewer.crosshair`` (column, row, slice of the :data:`VIEWER_SERIES`
    volume) on the patient's left lung: LPS x > 0 (PS3.3 C.7.6.2.1.1) and lung HU."""
    if (not isinstance(answer, list | tuple) or len(answer) != 3
            or not all(isinstance(v, int | np.integer) and not isinstance(v, bool)
                       for v in answer)):
        return wrong(f"give the crosshair, three whole numbers [column, row, slice] "
                     f"(answer = viewer.crosshair); you gave {answer!r}.")
    column, row, k = (int(v) for v in answer)
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
