"""Checks for lesson 0's exercises (window/level on a real CT, and a header read).

A window (center C, width W; PS3.3 C.11.2.1.2.1) maps modality values from about
``C - W/2`` (black) to ``C + W/2`` (white); see :mod:`helpers.image.presets`.
"""

from __future__ import annotations

from numbers import Real

import pydicom
from pydicom.multival import MultiValue

from ..feedback import Feedback, check, exact_grey, right, wrong

#: HU of dense cortical bone (skull): a bone window must not saturate it.
CORTICAL_BONE_HU = 1000
#: HU of brain tissue; a bone window should leave it dark grey, not white.
BRAIN_HU = 40
#: Exercise 2: the series whose stored window the learner reads (first file by name).
HEADER_SERIES = "axial"
#: Exercise 3: the HU value and the window (the brain window) of the prediction.
PREDICT_HU = 100
PREDICT_WINDOW = (40, 100)
#: Exercise 3: the options; the check names the misconception behind each wrong one.
PREDICT_OPTIONS: dict[str, str] = {
    "a": "255 (white)",
    "b": "27",
    "c": "100",
    "d": "0 (black)",
}


@check
def check_bone_window(answer: object) -> Feedback:
    """Exercise 1: a (center, width) that shows the skull's bone detail."""
    if (not isinstance(answer, tuple | list) or len(answer) != 2
            or not all(isinstance(v, Real) and not isinstance(v, bool) for v in answer)):
        return wrong(f"give two numbers, (center, width), like (40, 100); you gave {answer!r}.")
    center, width = float(answer[0]), float(answer[1])
    if width <= 0:
        return wrong("the width must be positive: it is the span of HU shown from black to white.")
    low, high = center - width / 2, center + width / 2
    if high < CORTICAL_BONE_HU:
        return wrong(f"everything above {high:.0f} HU is pure white, so dense skull bone "
                     f"(~{CORTICAL_BONE_HU}+ HU) shows no detail: raise the center or widen.")
    if low > BRAIN_HU:
        return wrong(f"everything below {low:.0f} HU is black, including the brain "
                     f"(~{BRAIN_HU} HU) and thinner bone edges: lower the center.")
    if width > 4000:
        return wrong(f"a {width:.0f} HU wide window spreads so many HU over 256 greys that "
                     "bone detail looks flat: narrow it (bone presets use about 1500-2500).")
    return right(f"HU {low:.0f} to {high:.0f} go from black to white: the skull's inner "
                 "structure is grey, not saturated, and the brain is dark. Radiologists use "
                 "about C=400..600, W=1500..2500 for bone.")


def _header_file():
    from ...data import ct_series

    return sorted(ct_series(HEADER_SERIES).glob("*.dcm"))[0]


@check
def check_header_window(answer: object) -> Feedback:
    """Exercise 2: the first Window Center (0028,1050) stored in the first file (by name)
    of the synthetic chest CT's :data:`HEADER_SERIES` series; the element holds two."""
    ds = pydicom.dcmread(_header_file(), stop_before_pixels=True)
    centers = ds.WindowCenter
    centers = list(centers) if isinstance(centers, MultiValue) else [centers]
    widths = ds.WindowWidth
    widths = list(widths) if isinstance(widths, MultiValue) else [widths]
    explanations = list(ds.get("WindowCenterWidthExplanation", []))
    if isinstance(answer, str):
        return wrong("you gave a string: convert the value with float(...), as Window Center "
                     "is a DS (decimal string) element.")
    if isinstance(answer, list | tuple | MultiValue):
        return wrong(f"{list(answer)!r} is the whole element: its VM is {len(centers)}, one "
                     "center per stored window. Take the first value, ds.WindowCenter[0].")
    if not isinstance(answer, Real) or isinstance(answer, bool):
        return wrong(f"give a number; you gave {type(answer).__name__}.")
    value = float(answer)
    if value == float(centers[0]):
        name = f" ({explanations[0]})" if explanations else ""
        return right(f"the first stored window is centered at {float(centers[0]):g} HU{name}; "
                     f"the element holds {len(centers)} centers (VM {len(centers)}), each "
                     "paired with the Window Width at the same position.")
    if value in (float(c) for c in centers[1:]):
        return wrong(f"{value:g} is a later value of the element: Window Center holds "
                     f"{len(centers)} values, and the first is at index 0.")
    if value in (float(w) for w in widths):
        return wrong("that is a Window Width (0028,1051); the center is (0028,1050).")
    if value == 40 and float(centers[0]) != 40:
        return wrong("40 is the head CT's window from the lesson; read this file's header.")
    return wrong(f"{value:g} is not in this file's Window Center; read it with "
                 "pydicom.dcmread(path).WindowCenter.")


@check
def check_predict_grey(answer: object) -> Feedback:
    """Exercise 3 (predict, then run): the grey level of :data:`PREDICT_HU` in the brain
    window, as one of the letters of :data:`PREDICT_OPTIONS`."""
    choice = str(answer).strip().lower().strip("()")
    if choice not in PREDICT_OPTIONS:
        return wrong(f"give one letter: {', '.join(PREDICT_OPTIONS)}.")
    c, w = PREDICT_WINDOW
    truth = exact_grey(PREDICT_HU, c, w)
    top = c + w / 2
    if choice == "a" and truth == 255:
        return right(f"{PREDICT_HU} HU is above the window's top ({top:g} HU), so it is "
                     "white, like everything brighter than the window. Check it: "
                     f"window(np.array([{PREDICT_HU}]), {c}, {w}).")
    if choice == "b":
        line = ((PREDICT_HU - (c - 0.5)) / (w - 1) + 0.5) * 255
        return wrong(f"27 is the window's straight line carried on past its top ({line:.0f}) "
                     "and wrapped around in 8 bits (283 - 256), the classic bug of casting to "
                     "uint8 without clipping. The window's line stops at its ends: above "
                     "C + W/2 is white (clipped, not extrapolated).")
    if choice == "c":
        return wrong("HU values are not greys: the window maps its HU range onto 0..255, "
                     "so the same HU gets different greys in different windows.")
    return wrong("values outside the window are not hidden: below it they are black, above "
                 f"it white. {PREDICT_HU} HU is above C + W/2 = {top:g}.")
