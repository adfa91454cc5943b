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
    swapped = int(ds.pixel_array[L.HU_PIXEL[::-1]]) + float(ds.RescaleIntercept)
    assert swapped != hu and "swapped" in L.check_hu(swapped).message
    lossy = pydicom.dcmread(data.real(L.LOSSY_COPY_FILE))
    assert lossy.LossyImageCompression == "01"        # the same slice, a lossy copy
    lossy_hu = int(lossy.pixel_array[L.HU_PIXEL]) * float(lossy.RescaleSlope) + float(
        lossy.RescaleIntercept)
    if lossy_hu != hu:
        assert "lossy copy" in L.check_hu(lossy_hu).message


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
    assert "truncate" in L.check_grey(exact).message        # the real-valued y
    assert "truncate" in L.check_grey(round(exact, 2)).message
    assert "HU value itself" in L.check_grey(L.GREY_HU).message
    lesson0 = int(window(np.array([L.GREY_HU]), 40, 100)[0])
    assert lesson0 != grey and "lesson 0" in L.check_grey(lesson0).message


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


def test_mammogram_grey_matches_dcmtk_sigmoid():
    """The right answer from helpers.image.pixels.window with the header's VOI LUT
    Function (equal to dcm2pnm +Wi 1 in test_synth_mg); each wrong reading is named."""
    ds = pydicom.dcmread(data.mammogram(L.MG_VIEW))
    stored = ds.pixel_array[L.MG_PIXEL]
    c, w = float(ds.WindowCenter[0]), float(ds.WindowWidth[0])
    grey = int(window(np.array([stored]), c, w, function="SIGMOID")[0])
    assert L.check_mammogram_grey(grey)
    y = 255 / (1 + np.exp(-4 * (float(stored) - c) / w))
    linear = int(window(np.array([stored]), c, w)[0])
    # the exercise's pixel must tell the readings apart
    assert len({grey, round(y), linear, 255 - grey}) == 4
    assert "LINEAR" in L.check_mammogram_grey(linear).message
    assert "rounded" in L.check_mammogram_grey(round(y)).message
    assert "truncate" in L.check_mammogram_grey(y).message          # the real-valued y
    assert "MONOCHROME2" in L.check_mammogram_grey(255 - grey).message
    harder = int(window(np.array([stored]), ds.WindowCenter[1], ds.WindowWidth[1],
                        function="SIGMOID")[0])
    assert harder != grey and "HARDER" in L.check_mammogram_grey(harder).message
    assert "0 .. 255" in L.check_mammogram_grey(int(stored)).message
    assert not L.check_mammogram_grey(300)
    assert "no answer" in L.check_mammogram_grey(...).message
