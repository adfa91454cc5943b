"""Lesson 3's exercise checks: right answers pass, typical mistakes are named.

The right answers are computed here another way than the checks do (numpy on the
raw stored values, helpers.pixels.window which is tested against DCMTK,
SimpleITK-free geometry from the headers), so a wrong check cannot pass.
"""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from helpers import data
from helpers.checks import lesson3 as L
from helpers.pixels import window


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
    assert not L.check_grey(grey + 1)
    assert not L.check_grey(300)
    assert "whole number" in L.check_grey(12.5).message


def test_field_of_view():
    ds = pydicom.dcmread(sorted(data.ct_series(L.FOV_SERIES).glob("*.dcm"))[0],
                         stop_before_pixels=True)
    row_mm, col_mm = map(float, ds.PixelSpacing)
    assert row_mm != col_mm, "the exercise needs non-square pixels to catch a swap"
    assert L.check_field_of_view(ds.Columns * col_mm)
    assert "row spacing" in L.check_field_of_view(ds.Columns * row_mm).message
    assert "height" in L.check_field_of_view(ds.Rows * row_mm).message
    assert "pixels" in L.check_field_of_view(ds.Columns).message


def test_top_slice():
    files = sorted(data.ct_series(L.TOP_SERIES).glob("*.dcm"))
    positions = {f.name: float(pydicom.dcmread(f, stop_before_pixels=True)
                               .ImagePositionPatient[2]) for f in files}
    ordered = sorted(positions, key=positions.get)
    assert L.check_top_slice(ordered[-1])
    assert "lowest" in L.check_top_slice(ordered[0]).message or \
        not L.check_top_slice(ordered[0])
    assert not L.check_top_slice(files[0].name) or files[0].name == ordered[-1]
    assert "not a file" in L.check_top_slice("nonsense.dcm").message
    assert "string" in L.check_top_slice(42).message


@pytest.mark.parametrize("check", [L.check_hu, L.check_grey, L.check_field_of_view,
                                   L.check_top_slice])
def test_placeholder(check):
    assert "no answer" in check(None).message
