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


@pytest.mark.parametrize("answer", [(500, 2000), (400, 1800), [600, 2500]])
def test_bone_windows_pass(answer):
    assert check_bone_window(answer)


@pytest.mark.parametrize("answer, why", [
    (..., "no answer yet"),
    ((40, 100), "pure white"),          # the brain window saturates bone
    ((1500, 800), "is black"),          # too high: brain black
    ((500, 9000), "flat"),              # far too wide
    ((500, -10), "positive"),
    ("500, 2000", "two numbers"),
])
def test_wrong_bone_windows_say_why(answer, why):
    feedback = check_bone_window(answer)
    assert not feedback and why in feedback.message


def test_header_window(first_axial):
    centers = [float(v) for v in first_axial.WindowCenter]
    assert len(centers) == 2          # the exercise is about a multi-valued element
    assert check_header_window(centers[0])
    assert "string" in check_header_window(str(centers[0])).message
    assert "whole element" in check_header_window(list(centers)).message
    assert "whole element" in check_header_window(first_axial.WindowCenter).message
    assert "later value" in check_header_window(centers[1]).message
    assert "Window Width" in check_header_window(float(first_axial.WindowWidth[0])).message
    assert not check_header_window(centers[0] + 1)
    assert "no answer" in check_header_window(...).message


def test_predict_grey_option_a_is_what_window_gives():
    # the right option is (a) 255, because the helper (tested against DCMTK) gives 255
    assert window(np.array([100.0]), 40, 100)[0] == 255
    assert check_predict_grey("a") and check_predict_grey("(A)")


@pytest.mark.parametrize("answer, why", [
    ("b", "wrapped around in 8 bits"),
    ("c", "not greys"),
    ("d", "not hidden"),
    ("e", "one letter"),
    (..., "no answer yet"),
])
def test_predict_grey_wrong_options_name_their_misconception(answer, why):
    feedback = check_predict_grey(answer)
    assert not feedback and why in feedback.message
