"""Checks for Lesson 3, pixels and windowing.

Each check works the true answer out from the DICOM files with pydicom alone
(or with exact fractions for the window formula), not with the helpers the lesson
uses, and explains the usual mistakes: forgetting the intercept, rounding instead
of truncating, ignoring the half-unit shift of the window, and inverting a MONOCHROME1
image at the wrong step.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut

from ... import data
from ..feedback import Feedback, as_number, check, exact_grey, right, wrong

#: Exercise 1: the CT file and the pixel (row, column) whose HU the learner computes.
HU_FILE = "693_J2KR.dcm"
HU_PIXEL = (300, 200)
#: Exercise 2: the HU value and the window (brain preset) of the grey-level question,
#: chosen so that the exact, rounded and textbook results are three different greys.
GREY_HU = 60
GREY_WINDOW = (40, 80)
#: Exercise 3: the MONOCHROME1 file and the MONOCHROME2 file a fixed loader must show
#: correctly, each with a window (center, width) in its modality values.
LOADER_CASES = (("RG1_UNCI.dcm", (12712.0, 21755.0)), ("CT_small.dcm", (40.0, 400.0)))


@check
def check_hu(answer: object) -> Feedback:
    """Exercise 1: the HU of pixel ``HU_PIXEL`` of ``HU_FILE`` (Rescale Slope/Intercept)."""
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


@check
def check_grey(answer: object) -> Feedback:
    """Exercise 2: the 8-bit grey level of ``GREY_HU`` in window ``GREY_WINDOW``."""
    value = as_number(answer)
    if value is None or value != int(value):
        return wrong("give a whole number between 0 and 255 (a grey level).")
    c, w = GREY_WINDOW
    truth = exact_grey(GREY_HU, c, w)
    exact = ((GREY_HU - (c - 0.5)) / (w - 1) + 0.5) * 255
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
    if not 0 <= value <= 255:
        return wrong("a grey level is between 0 (black) and 255 (white).")
    return wrong(f"not {value:g}: apply ((x - (c - 0.5)) / (w - 1) + 0.5) x 255 with "
                 f"x = {GREY_HU}, c = {c}, w = {w}, and truncate.")


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


@check
def check_loader(answer: object) -> Feedback:
    """Exercise 3: a fixed ``load_for_display(ds, center, width)`` that shows both a
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
