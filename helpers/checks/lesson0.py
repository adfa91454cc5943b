"""Checks for lesson 0's exercises (window/level on a real head CT).

A window (center C, width W; PS3.3 C.11.2.1.2) maps Hounsfield units from about
``C - W/2`` (black) to ``C + W/2`` (white); see :mod:`helpers.presets`.
"""

from __future__ import annotations

from numbers import Real

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from ..exercises import Feedback, is_placeholder, not_answered, right, wrong

#: HU of dense cortical bone (skull): a bone window must not saturate it.
CORTICAL_BONE_HU = 1000
#: HU of brain tissue; a bone window should leave it dark grey, not white.
BRAIN_HU = 40


def _window(answer: object) -> tuple[float, float] | Feedback:
    if is_placeholder(answer):
        return not_answered()
    if (not isinstance(answer, tuple | list) or len(answer) != 2
            or not all(isinstance(v, Real) for v in answer)):
        return wrong(f"give two numbers, (center, width), like (40, 100); you gave {answer!r}.")
    center, width = float(answer[0]), float(answer[1])
    if width <= 0:
        return wrong("the width must be positive: it is the span of HU shown from black to white.")
    return center, width


def check_bone_window(answer: object) -> Feedback:
    """Exercise 1: a (center, width) that shows the skull's bone detail."""
    window = _window(answer)
    if isinstance(window, Feedback):
        return window
    center, width = window
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


def check_header_window(answer: object, ds: Dataset) -> Feedback:
    """Exercise 2: the Window Center stored in the header (0028,1050) of ``ds``."""
    if is_placeholder(answer):
        return not_answered()
    stored = ds.get("WindowCenter")
    if stored is None:
        return wrong("this file has no Window Center element; check you read the right file.")
    expected = float(stored[0] if isinstance(stored, MultiValue) else stored)
    if isinstance(answer, str):
        return wrong("you gave a string: convert the value with float(...), as Window Center "
                     "is a DS (decimal string) element.")
    if not isinstance(answer, Real):
        return wrong(f"give a number; you gave {type(answer).__name__}.")
    if float(answer) == ds.get("WindowWidth", float("nan")):
        return wrong("that is the Window Width (0028,1051); the center is (0028,1050).")
    if float(answer) != expected:
        return wrong(f"{answer} is not what the header says; read ds.WindowCenter "
                     "(or ds[0x0028, 0x1050].value).")
    return right(f"the scanner suggests centering the window at {expected:g} HU: "
                 "brain tissue, since this is a head CT.")
