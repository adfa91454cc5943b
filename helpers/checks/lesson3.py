"""Checks for Lesson 3, image properties.

Each check works the true answer out from the DICOM files with pydicom alone
(or with exact fractions for the window formula), not with the helpers the lesson
uses, and explains the usual mistakes: forgetting the intercept, rounding instead
of truncating, ignoring the half-unit shift of the window, swapping the two
Pixel Spacing values, trusting file names or Instance Numbers.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import pydicom
from pydicom.pixels import apply_modality_lut

from .. import data
from ..exercises import Feedback, as_number, is_placeholder, not_answered, right, wrong

#: Exercise 1: the CT file and the pixel (row, column) whose HU the learner computes.
HU_FILE = "693_UNCI.dcm"
HU_PIXEL = (300, 200)
#: Exercise 2: the HU value and the window (mediastinum preset) of the grey-level question.
GREY_HU = 110
GREY_WINDOW = (50, 350)
#: Exercise 3: the series whose field of view the learner measures.
FOV_SERIES = "coronal"
#: Exercise 4: the series whose most superior slice the learner finds.
TOP_SERIES = "axial"


def check_hu(answer: object) -> Feedback:
    """Exercise 1: the HU of pixel ``HU_PIXEL`` of ``HU_FILE`` (Rescale Slope/Intercept)."""
    if is_placeholder(answer):
        return not_answered()
    value = as_number(answer)
    if value is None:
        return wrong(f"give one number (the HU), not {type(answer).__name__}.")
    ds = pydicom.dcmread(data.real(HU_FILE))
    stored = int(ds.pixel_array[HU_PIXEL])
    slope, intercept = float(ds.RescaleSlope), float(ds.RescaleIntercept)
    truth = float(apply_modality_lut(ds.pixel_array, ds)[HU_PIXEL])
    if abs(value - truth) < 1e-6:
        return right(f"stored value {stored} x slope {slope:g} + intercept {intercept:g} = "
                     f"{truth:g} HU (PS3.3 C.11.1.1.2).")
    if value == stored:
        return wrong(f"{stored} is the stored value; the Modality LUT turns it into HU: "
                     "stored x Rescale Slope + Rescale Intercept.")
    if abs(value - (stored * slope - intercept)) < 1e-6:
        return wrong("check the sign: the intercept is added, and here it is negative.")
    return wrong(f"not {value:g}. Read ds.pixel_array[{HU_PIXEL[0]}, {HU_PIXEL[1]}], "
                 "ds.RescaleSlope and ds.RescaleIntercept, then apply HU = stored x slope "
                 "+ intercept.")


def _grey_truth(x: float, center: float, width: float) -> int:
    """PS3.3 C.11.2.1.2.1 with exact fractions, output 0..255, truncated."""
    xf, c, w = Fraction(x), Fraction(center), Fraction(width)
    half = Fraction(1, 2)
    if xf <= c - half - (w - 1) / 2:
        return 0
    if xf > c - half + (w - 1) / 2:
        return 255
    y = ((xf - (c - half)) / (w - 1) + half) * 255
    return y.numerator // y.denominator


def check_grey(answer: object) -> Feedback:
    """Exercise 2: the 8-bit grey level of ``GREY_HU`` in window ``GREY_WINDOW``."""
    if is_placeholder(answer):
        return not_answered()
    value = as_number(answer)
    if value is None or value != int(value):
        return wrong("give a whole number between 0 and 255 (a grey level).")
    c, w = GREY_WINDOW
    truth = _grey_truth(GREY_HU, c, w)
    exact = ((GREY_HU - (c - 0.5)) / (w - 1) + 0.5) * 255
    if value == truth:
        return right(f"(({GREY_HU} - ({c} - 0.5)) / ({w} - 1) + 0.5) x 255 = {exact:.2f}, "
                     f"truncated to {truth}.")
    if value == round(exact):
        return wrong(f"{exact:.2f} is right before the last step: DICOM viewers (and DCMTK) "
                     "truncate toward zero; they do not round.")
    simple = (GREY_HU - (c - w / 2)) / w * 255
    if value in (math.floor(simple), round(simple)):
        return wrong("close: that is the textbook (x - (c - w/2)) / w. The standard's LINEAR "
                     "function shifts by half a unit: ((x - (c - 0.5)) / (w - 1) + 0.5) x 255.")
    if not 0 <= value <= 255:
        return wrong("a grey level is between 0 (black) and 255 (white).")
    return wrong(f"not {value:g}: apply ((x - (c - 0.5)) / (w - 1) + 0.5) x 255 with "
                 f"x = {GREY_HU}, c = {c}, w = {w}, and truncate.")


def _first_file(series: str) -> Path:
    return sorted(data.ct_series(series).glob("*.dcm"))[0]


def check_field_of_view(answer: object) -> Feedback:
    """Exercise 3: the width in mm of one image of the ``FOV_SERIES`` series."""
    if is_placeholder(answer):
        return not_answered()
    value = as_number(answer)
    if value is None:
        return wrong("give one number: the width in millimetres.")
    ds = pydicom.dcmread(_first_file(FOV_SERIES), stop_before_pixels=True)
    row_spacing, col_spacing = (float(v) for v in ds.PixelSpacing)
    truth = ds.Columns * col_spacing
    if abs(value - truth) < 1e-6 * max(1.0, truth):
        return right(f"{ds.Columns} columns x {col_spacing:g} mm (the second value of Pixel "
                     f"Spacing, the column spacing) = {truth:g} mm.")
    if abs(value - ds.Columns * row_spacing) < 1e-6 * max(1.0, truth):
        return wrong("Pixel Spacing is (row spacing, column spacing): the first value is the "
                     "distance between rows (vertical). The width needs the second one.")
    if abs(value - ds.Rows * row_spacing) < 1e-6 * max(1.0, truth):
        return wrong("that is the height (rows x row spacing); the width is across the "
                     "columns.")
    if value in (ds.Columns, ds.Rows):
        return wrong("that is a number of pixels; multiply by the spacing to get millimetres.")
    return wrong(f"not {value:g}: width = Columns x column spacing (PixelSpacing[1]).")


def check_top_slice(answer: object) -> Feedback:
    """Exercise 4: the file name of the most superior (head-most) slice of ``TOP_SERIES``."""
    if is_placeholder(answer):
        return not_answered()
    if isinstance(answer, Path):
        answer = answer.name
    if not isinstance(answer, str):
        return wrong("give the file name as a string, like 'CT000001.dcm'.")
    files = sorted(data.ct_series(TOP_SERIES).glob("*.dcm"))
    headers = {f.name: pydicom.dcmread(f, stop_before_pixels=True) for f in files}
    z = {name: float(ds.ImagePositionPatient[2]) for name, ds in headers.items()}
    top = max(z, key=z.get)  # LPS: +z points to the head
    name = Path(answer).name
    if name == top:
        return right(f"{top} has the largest z ({z[top]:g} mm); in LPS +z points to the head.")
    if name not in headers:
        return wrong(f"{name!r} is not a file of the {TOP_SERIES} series.")
    numbers = {n: int(ds.InstanceNumber) for n, ds in headers.items()}
    if name == min(numbers, key=numbers.get):
        return wrong("that is Instance Number 1: scanners number in acquisition order, "
                     "which need not be head to feet. Compare Image Position (Patient) z.")
    if name == max(numbers, key=numbers.get):
        return wrong("the highest Instance Number is not the highest position. "
                     "Use Image Position (Patient).")
    if name == files[0].name:
        return wrong("that is simply the first file name; names say nothing about position.")
    if z[name] == min(z.values()):
        return wrong("that is the lowest slice: in LPS, z grows towards the head, so take "
                     "the largest z.")
    return wrong(f"{name} is at z = {z[name]:g} mm; look for the largest z.")
