"""Lesson 3's exercise checks: right answers pass, typical mistakes are named.

The right answers are computed here another way than the checks do (numpy on the
raw stored values, helpers.image.pixels.window which is tested against DCMTK), so a
wrong check cannot pass.
"""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from helpers import data
from helpers.image.pixels import window
from helpers.lessons.checks import lesson3 as L


def test_hu():
    ds = pydicom.dcmread(data.real(L.HU_FILE))
    stored = int(ds.pixel_array[L.HU_PIXEL])
    hu = stored * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    assert L.check_hu(hu)
    assert "stored value" in L.check_hu(stored).message
    assert "sign" in L.check_hu(stored * float(ds.RescaleSlope)
                                - float(ds.RescaleIntercept)).message
    assert not L.check_hu("a lot")
    assert "no answer" in L.check_hu(...).message


def test_grey_level_matches_window():
    c, w = L.GREY_WINDOW
    grey = int(window(np.array([L.GREY_HU]), c, w)[0])
    assert L.check_grey(grey)
    exact = ((L.GREY_HU - (c - 0.5)) / (w - 1) + 0.5) * 255
    textbook = (L.GREY_HU - (c - w / 2)) / w * 255
    # the exercise's numbers must tell the three readings apart
    assert len({grey, round(exact), int(textbook)}) == 3
    assert "DCMTK truncates" in L.check_grey(round(exact)).message
    assert "textbook" in L.check_grey(int(textbook)).message
    assert "textbook" in L.check_grey(round(textbook)).message
    assert not L.check_grey(300)
    assert "whole number" in L.check_grey(12.5).message


def _windowed(ds, c, w):
    return window(ds.pixel_array * float(ds.get("RescaleSlope", 1))
                  + float(ds.get("RescaleIntercept", 0)), c, w)


def test_loader():
    def fixed(ds, c, w):
        grey = _windowed(ds, c, w)
        return 255 - grey if ds.PhotometricInterpretation == "MONOCHROME1" else grey

    def buggy(ds, c, w):
        return _windowed(ds, c, w)

    def inverts_all(ds, c, w):
        return 255 - _windowed(ds, c, w)

    def inverts_values_first(ds, c, w):
        x = ds.pixel_array.astype(float)
        if ds.PhotometricInterpretation == "MONOCHROME1":
            x = x.max() - x
        return window(x, c, w)

    def with_helper(ds, c, w):
        x = ds.pixel_array * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))
        return window(x, c, w, ds.PhotometricInterpretation)

    assert L.check_loader(fixed)
    assert L.check_loader(with_helper)     # DCMTK's order of inversion and truncation
    assert "negative" in L.check_loader(buggy).message
    assert "inverted it too" in L.check_loader(inverts_all).message
    assert "before the window" in L.check_loader(inverts_values_first).message
    assert "function itself" in L.check_loader(buggy(pydicom.dcmread(
        data.real("CT_small.dcm")), 40, 400)).message
    assert "raised" in L.check_loader(lambda ds, c, w: 1 / 0).message


@pytest.mark.parametrize("check", [L.check_hu, L.check_grey, L.check_loader])
def test_placeholder(check):
    assert "no answer" in check(None).message
