"""Checks for lesson 0's exercises (window/level on a real CT, and a header read).

A window (center C, width W; PS3.3 C.11.2.1.2.1) maps modality values from about
``C - W/2`` (black) to ``C + W/2`` (white); see :mod:`helpers.image.presets`.
"""

from __future__ import annotations

import pydicom
from pydicom.multival import MultiValue

from ..feedback import (
    Expected,
    Feedback,
    as_choice,
    as_count,
    as_number,
    as_numbers,
    as_sequence,
    check,
    exact_grey,
    expects,
    right,
    wrong,
)

#: HU of dense cortical bone (skull): a bone window must not saturate it.
CORTICAL_BONE_HU = 1000
#: HU of brain tissue; a bone window should leave it dark grey, not white.
BRAIN_HU = 40
#: The darkest "dark grey" the brain may get in a bone window (of 255): radiologists'
#: bone windows (C 300-600, W 1500-2500) show 40 HU at about 65-85.
BRAIN_DARK_GREY = 100
#: Exercise 1: the windows the lesson shows above the exercise, named for the hints.
SHOWN_WINDOWS = {(40.0, 100.0): "the scanner's brain window (printed above the viewer)"}
#: Exercise 2: the series whose stored window the learner reads (first file by name),
#: and the window asked for, by its Window Center & Width Explanation.
HEADER_SERIES = "axial"
HEADER_WINDOW_NAME = "LUNG"
#: The head CT's window the lesson prints above the exercise (693_J2KR.dcm).
HEAD_CT_CENTER = 40.0
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


@expects(lambda: Expected(None, why_none="any window that shows bone detail is right"))
@check
def check_bone_window(answer: object) -> Feedback:
    """Exercise 1: a (center, width) that shows the skull's bone detail: the window's top
    above dense bone, and brain (:data:`BRAIN_HU`) dark grey, its 8-bit grey computed
    with the LINEAR function (PS3.3 C.11.2.1.2.1)."""
    pair = as_numbers(answer, 2)
    if pair is None:
        return wrong(f"give two numbers, (center, width), like (40, 100); you gave {answer!r}.")
    center, width = pair
    if width <= 1:
        return wrong("the width must be positive (and above 1): it is the span of HU shown "
                     "from black to white (PS3.3 C.11.2.1.2.1).")
    low, high = center - width / 2, center + width / 2
    shown = SHOWN_WINDOWS.get((center, width))
    if high < CORTICAL_BONE_HU:
        named = f"({center:g}, {width:g}) is {shown}: " if shown else ""
        return wrong(f"{named}everything above {high:.0f} HU is pure white, so dense skull "
                     f"bone (~{CORTICAL_BONE_HU}+ HU) shows no detail: raise the center or "
                     "widen.")
    if low > BRAIN_HU:
        return wrong(f"everything below {low:.0f} HU is black, including the brain "
                     f"(~{BRAIN_HU} HU) and thinner bone edges: lower the center.")
    if width > 4000:
        return wrong(f"a {width:.0f} HU wide window spreads so many HU over 256 greys that "
                     "bone detail looks flat: narrow it (bone presets use about 1500-2500).")
    brain = exact_grey(BRAIN_HU, center, width)
    if brain > BRAIN_DARK_GREY:
        return wrong(f"the skull is not saturated, but the brain ({BRAIN_HU} HU) shows as "
                     f"grey {brain} of 255, a mid grey: the window's bottom, {low:.0f} HU, is "
                     "too far below the brain. Raise the center (bone windows center at "
                     "about 300-600 HU).")
    return right(f"HU {low:.0f} to {high:.0f} go from black to white: the skull's inner "
                 f"structure is grey, not saturated, and the brain ({BRAIN_HU} HU) is dark "
                 f"grey {brain}. Radiologists use about C=400..600, W=1500..2500 for bone.")


def _header_file():
    from ...data import ct_series

    return sorted(ct_series(HEADER_SERIES).glob("*.dcm"))[0]


def _header_windows() -> tuple[list[float], list[float], list[str]]:
    """Centers, widths and explanations of the windows :func:`_header_file` stores."""
    ds = pydicom.dcmread(_header_file(), stop_before_pixels=True)

    def values(keyword: str) -> list:
        value = ds.get(keyword, [])
        return list(value) if isinstance(value, MultiValue) else [value]

    return ([float(v) for v in values("WindowCenter")],
            [float(v) for v in values("WindowWidth")],
            [str(v).strip().upper() for v in values("WindowCenterWidthExplanation")])


def header_window_truth() -> float:
    """The Window Center (0028,1050) of the window named :data:`HEADER_WINDOW_NAME`."""
    centers, _, names = _header_windows()
    return centers[names.index(HEADER_WINDOW_NAME)]


@expects(lambda: Expected(header_window_truth(), near=r"(?i)cent|window|lung"))
@check
def check_header_window(answer: object) -> Feedback:
    """Exercise 2: the Window Center (0028,1050) of the lung window stored in the first
    file (by name) of the synthetic chest CT's :data:`HEADER_SERIES` series; the element
    holds one center per window, and Window Center & Width Explanation (0028,1055) names
    them in the same order."""
    centers, widths, names = _header_windows()
    at = names.index(HEADER_WINDOW_NAME)
    truth = centers[at]
    if as_sequence(answer) is not None:
        return wrong(f"{list(answer)!r} is the whole element: its VM is {len(centers)}, one "  # type: ignore[call-overload]
                     "center per stored window. Take the one at the position of "
                     f"{HEADER_WINDOW_NAME!r} in WindowCenterWidthExplanation.")
    value = as_number(answer)
    if value is None:
        return wrong(f"give a number; you gave {type(answer).__name__}.")
    if value == truth:
        return right(f"the {HEADER_WINDOW_NAME.lower()} window is centered at {truth:g} HU: "
                     f"Window Center holds {len(centers)} centers (VM {len(centers)}), "
                     f"named {', '.join(names)} by Window Center & Width Explanation, each "
                     "paired with the Window Width at the same position.")
    others = [(n, c) for n, c in zip(names, centers, strict=True) if n != HEADER_WINDOW_NAME]
    for name, center in others:
        if value == center:
            head = (f" (and {HEAD_CT_CENTER:g} is also the head CT's center printed above: "
                    "read this file, not `ds`)" if value == HEAD_CT_CENTER else "")
            return wrong(f"{value:g} is the center of the {name} window{head}; the "
                         f"explanation names the windows in order, and {HEADER_WINDOW_NAME} "
                         f"is at index {at}.")
    if value == HEAD_CT_CENTER:
        return wrong(f"{value:g} is the head CT's window center printed above (`ds`); read "
                     "the header of the chest CT file the exercise names.")
    if value == widths[at]:
        return wrong("that is the lung window's Window Width (0028,1051); the center is "
                     "(0028,1050).")
    if value in widths:
        return wrong("that is a Window Width (0028,1051); the center is (0028,1050).")
    if value == -truth:
        return wrong("right size, wrong sign: the lung window is centered below 0 HU "
                     "(lung is mostly air).")
    return wrong(f"{value:g} is not in this file's Window Center; read it with "
                 "pydicom.dcmread(path).WindowCenter.")


@expects(lambda: Expected(None, why_none="a letter among the options the cell prints"))
@check
def check_predict_grey(answer: object) -> Feedback:
    """Exercise 3 (predict, then run): the grey level of :data:`PREDICT_HU` in the brain
    window, as one of the letters of :data:`PREDICT_OPTIONS` (or the grey level itself)."""
    c, w = PREDICT_WINDOW
    truth = exact_grey(PREDICT_HU, c, w)
    number = as_count(answer)
    by_value = {255: "a", 27: "b", 100: "c", 0: "d"}
    choice = by_value.get(number) if number is not None else as_choice(answer, PREDICT_OPTIONS)
    if choice is None:
        return wrong(f"give one letter: {', '.join(PREDICT_OPTIONS)}.")
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
