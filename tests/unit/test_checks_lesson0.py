"""Lesson 0's exercise checks: right answers pass, typical wrong ones say why."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from helpers import data
from helpers.image.pixels import window
from helpers.lessons.checks.lesson0 import (
    check_bone_window,
    check_header_window,
    check_predict_grey,
)


@pytest.fixture(scope="module")
def first_axial():
    """The file exercise 2 reads, found here by listing the folder, read by pydicom."""
    folder = data.ct_series("axial")
    return pydicom.dcmread(folder / min(p.name for p in folder.iterdir()),
                           stop_before_pixels=True)


@pytest.mark.parametrize("answer", [(500, 2000), (400, 1800), [600, 2500], (300, 1500)])
def test_bone_windows_pass(answer):
    assert check_bone_window(answer)


def _brain_grey(center, width):
    """The grey of 40 HU, by the helper tested against DCMTK (not the check's fractions)."""
    return int(window(np.array([40.0]), center, width)[0])


@pytest.mark.parametrize("answer, why", [
    (..., "no answer yet"),
    ((40, 100), "brain window"),        # printed above the viewer: saturates bone
    ((40, 400), "pure white"),          # soft tissue
    ((1500, 800), "is black"),          # too high: brain black
    ((500, 9000), "flat"),              # far too wide
    ((500, -10), "positive"),
    ("500, 2000", "two numbers"),
    ((0, 2100), "grey 132"),            # skull fine, but the brain is mid grey
])
def test_wrong_bone_windows_say_why(answer, why):
    feedback = check_bone_window(answer)
    assert not feedback and why in feedback.message


def test_bone_window_computes_the_brains_grey():
    """(0, 2100) shows the skull, but 40 HU is grey 132 there: not "the brain is dark"."""
    assert _brain_grey(0, 2100) == 132
    assert not check_bone_window((0, 2100))
    for c, w in [(500, 2000), (400, 1800), (600, 2500)]:
        grey = _brain_grey(c, w)
        assert grey <= 100 and f"dark grey {grey}" in check_bone_window((c, w)).message


def test_header_window(first_axial):
    centers = [float(v) for v in first_axial.WindowCenter]
    widths = [float(v) for v in first_axial.WindowWidth]
    names = [str(v).upper() for v in first_axial.WindowCenterWidthExplanation]
    assert len(centers) == 2 and "LUNG" in names   # a multi-valued element, named windows
    lung = names.index("LUNG")
    other = 1 - lung
    assert check_header_window(centers[lung])
    assert check_header_window(str(centers[lung]))
    # the head CT printed above the exercise has center 40: neither it nor the chest
    # CT's first (mediastinum) window may pass
    head = pydicom.dcmread(data.real("693_J2KR.dcm"), stop_before_pixels=True)
    assert float(head.WindowCenter) == 40 == centers[other]
    for value in (head.WindowCenter, centers[other]):
        feedback = check_header_window(value)
        assert not feedback and "MEDIASTINUM window" in feedback.message
        assert "head CT" in feedback.message
    assert "whole element" in check_header_window(list(centers)).message
    assert "whole element" in check_header_window(first_axial.WindowCenter).message
    assert "lung window's Window Width" in check_header_window(widths[lung]).message
    assert "a Window Width" in check_header_window(widths[other]).message
    assert "wrong sign" in check_header_window(-centers[lung]).message
    assert not check_header_window(centers[lung] + 1)
    assert "no answer" in check_header_window(...).message


def test_predict_grey_option_a_is_what_window_gives():
    # the right option is (a) 255, because the helper (tested against DCMTK) gives 255
    assert window(np.array([100.0]), 40, 100)[0] == 255
    assert check_predict_grey("a") and check_predict_grey("(A)")


@pytest.mark.parametrize("answer, why", [
    ("b", "wrapped around in 8 bits"),
    (27, "wrapped around in 8 bits"),
    (100, "not greys"),
    ("c", "not greys"),
    ("d", "not hidden"),
    ("e", "one letter"),
    (..., "no answer yet"),
])
def test_predict_grey_wrong_options_name_their_misconception(answer, why):
    feedback = check_predict_grey(answer)
    assert not feedback and why in feedback.message
