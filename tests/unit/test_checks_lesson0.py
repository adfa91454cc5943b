"""Lesson 0's exercise checks: right answers pass, typical wrong ones say why."""

from __future__ import annotations

import pydicom
import pytest

from helpers import data
from helpers.checks.lesson0 import check_bone_window, check_header_window


@pytest.fixture(scope="module")
def head_ct():
    return pydicom.dcmread(data.real("693_UNCI.dcm"))


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


def test_header_window(head_ct):
    center = float(head_ct.WindowCenter)
    assert check_header_window(center, head_ct)
    assert "string" in check_header_window(str(head_ct.WindowCenter), head_ct).message
    assert "Window Width" in check_header_window(float(head_ct.WindowWidth), head_ct).message
    assert not check_header_window(center + 1, head_ct)
    assert "no answer" in check_header_window(..., head_ct).message
