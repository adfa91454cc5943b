"""Checks for Lesson 3, pixels and windowing.

Each check works the true answer out from the DICOM files with pydicom alone
(or with exact fractions for the window formula), not with the helpers the lesson
uses, and explains the usual mistakes: forgetting the intercept, reading the lossy
copy of the slice, rounding instead of truncating, ignoring the half-unit shift of
the window, inverting a MONOCHROME1 image at the wrong step, and windowing a
mammogram LINEAR when its header says SIGMOID.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut, apply_voi_lut, apply_windowing

from ... import data
from ..feedback import (
    Expected,
    Feedback,
    as_count,
    as_number,
    check,
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
#: Exercise 3: the MONOCHROME1 file and the MONOCHROME2 file a fixed loader must show
#: correctly, each with a window (center, width) in its modality values.
LOADER_CASES = (("RG1_UNCI.dcm", (12712.0, 21755.0)), ("CT_small.dcm", (40.0, 400.0)))
#: Exercise 4: the mammogram (a view of :func:`helpers.data.mammogram`) and the pixel
#: (row, column) whose grey the learner computes under the header's first window,
#: chosen so that the sigmoid truncated, the sigmoid rounded and the linear grey are
#: three different numbers.
MG_VIEW = "MLO"
MG_PIXEL = (280, 120)


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


def _whole_grey_level(answer: object, y: float,
                      near: list[tuple[float, str]] | tuple = ()) -> int | Feedback:
    """The answer as a whole grey level, or the hint for an answer that is not one: the
    real-valued ``y`` itself (or rounded from it) needs truncating, as DCMTK does; a
    fraction within 0.5 of a ``near`` value gets that value's hint."""
    number = as_number(answer)
    if number is not None and number != int(number):
        if abs(number - y) < 0.01 or rounded_from(number, y):
            return wrong(f"{number:g} is the real-valued y; the grey level is a whole number: "
                         "truncate it as DCMTK does (int(...)).")
        for value, hint in near:
            if abs(number - value) < 0.5:
                return wrong(hint)
        return wrong("give a whole number between 0 and 255 (a grey level).")
    value = as_count(answer)
    if value is None:
        return wrong("give a whole number between 0 and 255 (a grey level).")
    return value


@expects(lambda: Expected(exact_grey(GREY_HU, *GREY_WINDOW), near=r"(?i)grey|gray|level"))
@check
def check_grey(answer: object) -> Feedback:
    """Exercise 2: the 8-bit grey level of ``GREY_HU`` in window ``GREY_WINDOW``."""
    c, w = GREY_WINDOW
    truth = exact_grey(GREY_HU, c, w)
    exact = ((GREY_HU - (c - 0.5)) / (w - 1) + 0.5) * 255
    value = _whole_grey_level(answer, exact)
    if isinstance(value, Feedback):
        return value
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


def _mg_curve(ds: pydicom.Dataset, stored: int, function: str, window: int = 0) -> float:
    """pydicom's ``apply_windowing`` of one stored value with the header's window number
    ``window`` and VOI LUT Function ``function``, for an 8-bit output (0..255), unrounded."""
    one = Dataset()
    one.PhotometricInterpretation = ds.PhotometricInterpretation
    one.BitsStored, one.PixelRepresentation = 8, 0      # the output range: 0 .. 255
    one.WindowCenter = ds.WindowCenter[window]
    one.WindowWidth = ds.WindowWidth[window]
    one.VOILUTFunction = function
    return float(apply_windowing(np.array([float(stored)]), one)[0])


def _mg_greys() -> dict[str, float]:
    """The mammogram's pixel ``MG_PIXEL`` read by pydicom, and what each reading of the
    exercise gives: the right one (the header's SIGMOID, truncated) and the usual others."""
    ds = pydicom.dcmread(data.mammogram(MG_VIEW))
    stored = int(ds.pixel_array[MG_PIXEL])
    sigmoid = _mg_curve(ds, stored, str(ds.VOILUTFunction))
    item = ds.VOILUTSequence[0]
    lut_bits = int(item.LUTDescriptor[2])
    table_value = int(np.asarray(apply_voi_lut(np.array([stored]), ds, prefer_lut=True))[0])
    return {"stored": stored, "y": sigmoid, "truth": math.trunc(sigmoid),
            "linear": math.trunc(_mg_curve(ds, stored, "LINEAR")),
            "lut": table_value * 256 // (1 << lut_bits),
            "second": math.trunc(_mg_curve(ds, stored, str(ds.VOILUTFunction), 1)),
            "twelve_bit": float(apply_windowing(np.array([float(stored)]), ds)[0])}


@expects(lambda: Expected(_mg_greys()["truth"], near=r"(?i)grey|gray|level|sigmoid"))
@check
def check_mammogram_grey(answer: object) -> Feedback:
    """Exercise 4: the grey level of the mammogram's pixel ``MG_PIXEL`` under the
    header's first window and its VOI LUT Function (SIGMOID, PS3.3 C.11.2.1.3.1)."""
    g = _mg_greys()
    truth, y = g["truth"], g["y"]
    value = _whole_grey_level(answer, y, near=[(
        g["twelve_bit"], "that is pydicom's output for the image's own 12-bit range "
                         "(0 .. 4095); a grey level on screen is 0 .. 255.")])
    if isinstance(value, Feedback):
        return value
    if value == truth:
        return right(f"stored value {g['stored']}, 255 / (1 + exp(-4 (x - c) / w)) = {y:.3f}, "
                     f"truncated to {truth} (SIGMOID, PS3.3 C.11.2.1.3.1; MONOCHROME2, so no "
                     "inversion).")
    if value == g["linear"]:
        return wrong(f"{value} is the LINEAR window's grey. The header's VOI LUT Function "
                     "(0028,1056) says SIGMOID: 255 / (1 + exp(-4 (x - c) / w)).")
    if value == 255 - truth:
        return wrong("that is the grey inverted. The mammogram is MONOCHROME2 (low values "
                     "black): invert only for MONOCHROME1.")
    if value == round(y) or value == g["lut"]:
        return wrong(f"{y:.3f} is right before the last step, and you rounded it (the VOI LUT "
                     "Sequence's table, rounded at 12 bits, gives this grey too). This "
                     "exercise asks for the window, truncated as DCMTK does.")
    if value == g["second"]:
        return wrong("that is the second window (HARDER); use the first one, NORMAL: "
                     "WindowCenter[0] and WindowWidth[0].")
    if value == g["stored"] or abs(value - g["twelve_bit"]) < 1:
        return wrong("that is not on the 0 .. 255 grey scale: the stored value, or a "
                     "12-bit output. Map the stored value through the SIGMOID into 0 .. 255.")
    if not 0 <= value <= 255:
        return wrong("a grey level is between 0 (black) and 255 (white).")
    return wrong(f"not {value}: read the stored value at row {MG_PIXEL[0]}, column "
                 f"{MG_PIXEL[1]}, then 255 / (1 + exp(-4 (x - c) / w)) with the first "
                 "window's c and w, and truncate.")
