"""Checks for Lesson 3, image properties.

Each check works the true answer out from the DICOM files with pydicom alone
(or with exact fractions for the window formula), not with the helpers the lesson
uses, and explains the usual mistakes: forgetting the intercept, rounding instead
of truncating, ignoring the half-unit shift of the window, measuring an oblique stack
along z, counting slices instead of gaps, trusting file names or Instance Numbers,
inverting a MONOCHROME1 image at the wrong step, and reading the patient's left on the
screen's left.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut

from ... import data
from ..feedback import (
    Expected,
    Feedback,
    as_count,
    as_counts,
    as_number,
    as_text,
    check,
    close_more_decimals,
    exact_grey,
    expects,
    right,
    rounded_from,
    wrong,
)

#: Exercise 1: the CT file and the pixel (row, column) whose HU the learner computes.
HU_FILE = "693_J2KR.dcm"
HU_PIXEL = (300, 200)
#: The lossy copy of the same slice, which the lesson loads as ``ct``: a hint names it.
LOSSY_COPY_FILE = "693_UNCI.dcm"
#: Exercise 2: the HU value and the window (brain preset) of the grey-level question,
#: chosen so that the exact, rounded and textbook results are three different greys.
GREY_HU = 60
GREY_WINDOW = (40, 80)
#: Exercises 3 and 4: the series whose stack the learner measures and orders (its
#: Instance Numbers do not follow position).
STACK_SERIES = "oblique"
#: Exercise 3 (new form): the oblique series' tilt, the angle between its slice normal
#: and the patient's z axis.
Z_AXIS = (0.0, 0.0, 1.0)
#: Exercise 5: the MONOCHROME1 file and the MONOCHROME2 file a fixed loader must show
#: correctly, each with a window (center, width) in its modality values.
LOADER_CASES = (("RG1_UNCI.dcm", (12712.0, 21755.0)), ("CT_small.dcm", (40.0, 400.0)))
#: Exercise 6: the series the lesson's viewer shows, and the HU range of lung (the range
#: the lesson's histogram searches for the lung peak), averaged over a small square so
#: that one noisy voxel of air or a vessel's edge does not decide.
VIEWER_SERIES = "axial"
LUNG_HU = (-950.0, -700.0)
LUNG_SQUARE = 5


def _hu_of(name: str, pixel: tuple[int, int]) -> tuple[int, float, float, float]:
    """(stored value, slope, intercept, HU) of one pixel of ``name``, by pydicom."""
    ds = pydicom.dcmread(data.real(name))
    return (int(ds.pixel_array[pixel]), float(ds.RescaleSlope), float(ds.RescaleIntercept),
            float(apply_modality_lut(ds.pixel_array, ds)[pixel]))


@expects(lambda: Expected(_hu_of(HU_FILE, HU_PIXEL)[3], near=r"(?i)HU|\(300, 200\)"))
@check
def check_hu(answer: object) -> Feedback:
    """Exercise 1: the HU of pixel ``HU_PIXEL`` of ``HU_FILE`` (Rescale Slope/Intercept)."""
    value = as_number(answer)
    if value is None:
        return wrong(f"give one number (the HU), not {type(answer).__name__}.")
    stored, slope, intercept, truth = _hu_of(HU_FILE, HU_PIXEL)
    if abs(value - truth) < 1e-6:
        return right(f"stored value {stored} x slope {slope:g} + intercept {intercept:g} = "
                     f"{truth:g} HU (PS3.3 C.11.1.1.2).")
    if value == stored:
        return wrong(f"{stored} is the stored value; the Modality LUT turns it into HU: "
                     "stored x Rescale Slope + Rescale Intercept.")
    if abs(value - (stored * slope - intercept)) < 1e-6:
        return wrong("check the sign: the intercept is added, and here it is negative.")
    if abs(value - _hu_of(HU_FILE, HU_PIXEL[::-1])[3]) < 1e-6:
        return wrong(f"that is the pixel at row {HU_PIXEL[1]}, column {HU_PIXEL[0]}: row "
                     "and column swapped. Arrays are indexed [row, column].")
    if abs(value - _hu_of(LOSSY_COPY_FILE, HU_PIXEL)[3]) < 1e-6:
        return wrong(f"that is the pixel of {LOSSY_COPY_FILE} (`ct`), the lossy copy of "
                     f"the same slice: its values differ. Read {HU_FILE}.")
    return wrong(f"not {value:g}. Read ds.pixel_array[{HU_PIXEL[0]}, {HU_PIXEL[1]}], "
                 "ds.RescaleSlope and ds.RescaleIntercept, then apply HU = stored x slope "
                 "+ intercept.")


@expects(lambda: Expected(exact_grey(GREY_HU, *GREY_WINDOW), near=r"(?i)grey|gray|level"))
@check
def check_grey(answer: object) -> Feedback:
    """Exercise 2: the 8-bit grey level of ``GREY_HU`` in window ``GREY_WINDOW``."""
    c, w = GREY_WINDOW
    truth = exact_grey(GREY_HU, c, w)
    exact = ((GREY_HU - (c - 0.5)) / (w - 1) + 0.5) * 255
    number = as_number(answer)
    if number is not None and number != int(number):
        if abs(number - exact) < 0.01 or rounded_from(number, exact):
            return wrong(f"{number:g} is the real-valued y; the grey level is a whole number: "
                         "truncate it as DCMTK does (int(...)).")
        return wrong("give a whole number between 0 and 255 (a grey level).")
    value = as_count(answer)
    if value is None:
        return wrong("give a whole number between 0 and 255 (a grey level).")
    if value == truth:
        return right(f"(({GREY_HU} - ({c} - 0.5)) / ({w} - 1) + 0.5) x 255 = {exact:.2f}, "
                     f"truncated to {truth}.")
    simple = (GREY_HU - (c - w / 2)) / w * 255
    if value in (math.floor(simple), round(simple)) and value != round(exact):
        return wrong("close: that is the textbook (x - (c - w/2)) / w. The standard's LINEAR "
                     "function shifts by half a unit: ((x - (c - 0.5)) / (w - 1) + 0.5) x 255.")
    if value == round(exact):
        return wrong(f"{exact:.2f} is right before the last step, and you rounded it. PS3.3 "
                     "C.11.2.1.2.1 defines a real-valued output and leaves the step to an "
                     "integer to the implementation: DCMTK truncates, pydicom returns the "
                     "float, other viewers round. This exercise asks for DCMTK's truncation.")
    if value == GREY_HU:
        return wrong(f"{GREY_HU} is the HU value itself; the window maps HU onto the grey "
                     "levels 0..255.")
    if value == exact_grey(GREY_HU, 40, 100):
        return wrong("that is the grey in lesson 0's brain window (40, 100); this exercise's "
                     f"window is ({c}, {w}).")
    if not 0 <= value <= 255:
        return wrong("a grey level is between 0 (black) and 255 (white).")
    return wrong(f"not {value:g}: apply ((x - (c - 0.5)) / (w - 1) + 0.5) x 255 with "
                 f"x = {GREY_HU}, c = {c}, w = {w}, and truncate.")


def _extent_truth() -> float:
    along = sorted(v[0] for v in _stack(STACK_SERIES).values())
    return along[-1] - along[0]


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


@expects(lambda: Expected(_extent_truth(), near=r"(?i)mm|deep|extent|apart"))
@check
def check_stack_extent(answer: object) -> Feedback:
    """Exercise 3: the distance (mm) between the centres of the two outermost slices of
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
    if rounded_from(value, truth):
        return close_more_decimals(value, truth)
    return wrong(f"not {value:g}: project each Image Position (Patient) on the normal "
                 "(row direction x column direction) and take the largest minus the smallest.")


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
    """Exercise 3 (to replace :func:`check_stack_extent`, whose answer follows from the
    series description and count printed earlier): by how many degrees the slices of
    :data:`STACK_SERIES` are tilted, the angle between their normal and the z axis."""
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
    """Exercise 4: the file of :data:`STACK_SERIES` farthest along its normal (the last
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


def _reference_display(ds: pydicom.Dataset, center: float, width: float) -> np.ndarray:
    """The 8-bit display of ``ds``: modality LUT (PS3.3 C.11.1), the LINEAR window
    (C.11.2.1.2.1, truncated), then for MONOCHROME1 the inversion of the output
    (C.7.6.3.1.2), written here with numpy alone."""
    x = apply_modality_lut(ds.pixel_array, ds).astype(np.float64)
    y = ((x - (center - 0.5)) / (width - 1) + 0.5) * 255.0
    y = np.where(x <= center - 0.5 - (width - 1) / 2, 0.0, y)
    y = np.where(x > center - 0.5 + (width - 1) / 2, 255.0, y)
    grey = np.trunc(y).astype(np.int16)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        grey = 255 - grey
    return grey


@expects(lambda: Expected(None, why_none="a function the learner writes"))
@check
def check_loader(answer: object) -> Feedback:
    """Exercise 5: a fixed ``load_for_display(ds, center, width)`` that shows both a
    MONOCHROME1 and a MONOCHROME2 image the way PS3.3 defines (output 0..255)."""
    if not callable(answer):
        return wrong("give the function itself (answer = load_for_display), not its result.")
    loader: Callable = answer
    from ...data import real

    for name, (c, w) in LOADER_CASES:
        ds = pydicom.dcmread(real(name))
        expected = _reference_display(ds, c, w)
        try:
            got = np.asarray(loader(ds, c, w)).astype(np.int16)
        except Exception as exc:  # the learner's code: report, do not raise
            return wrong(f"load_for_display raised {type(exc).__name__}: {exc}")
        if got.shape != expected.shape:
            return wrong(f"{name}: the result has shape {got.shape}, not {expected.shape}.")
        # PS3.3 defines a real-valued output; whether the inversion comes before or after
        # the step to an integer is the implementation's choice (DCMTK, and so
        # helpers.image.pixels.window, inverts first), so one grey level either way is the same
        # picture.
        if np.abs(got - expected).max() <= 1:
            continue
        mono1 = ds.PhotometricInterpretation == "MONOCHROME1"
        if np.abs(got - (255 - expected)).max() <= 1:
            if mono1:
                return wrong(f"{name} is MONOCHROME1 and comes out as a negative: its minimum "
                             "must be white. Invert the 8-bit output for MONOCHROME1 "
                             "(PS3.3 C.7.6.3.1.2).")
            return wrong(f"{name} is MONOCHROME2 and you inverted it too: invert only when "
                         "Photometric Interpretation is MONOCHROME1.")
        if mono1:
            return wrong(f"{name}: not the picture PS3.3 defines. Apply the window to the "
                         "modality values first, then invert the output (255 - grey); "
                         "inverting the stored values before the window moves the window.")
        return wrong(f"{name}: the MONOCHROME2 image changed; the window itself must stay "
                     "as it was.")
    return right("the MONOCHROME1 chest X-ray shows bone white and the MONOCHROME2 CT is "
                 "unchanged: window first, then invert the output, only for MONOCHROME1.")


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
    """Exercise 6: ``viewer.crosshair`` (column, row, slice of the :data:`VIEWER_SERIES`
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
