"""pixels.value_dtype decides the dtype of modality values in one place, and a Volume
knows its modality, units and the header's windows."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from helpers import data
from helpers.image.pixels import compact, units, value_dtype


@pytest.mark.parametrize("values, dtype", [
    (np.array([-1024.0, 3071.0]), np.int16),
    (np.array([-32768.0, 32767.0]), np.int16),
    (np.array([0.0, 32768.0]), np.int32),
    (np.array([0.0, 2.0**31]), np.float64),
    (np.array([0.5, 1.0]), np.float64),
    (np.array([np.nan, 1.0]), np.float64),
    (np.array([], dtype=float), np.float64),
    (np.array([1, 2], dtype=np.uint16), np.int16),
])
def test_value_dtype(values, dtype):
    assert value_dtype(values) == np.dtype(dtype)
    if values.size and dtype is not np.float64:
        assert np.array_equal(compact(values), values)


def test_units_are_hu_for_ct_only():
    assert units(pydicom.dcmread(data.real("693_UNCI.dcm"), stop_before_pixels=True)) == "HU"
    assert units(pydicom.dcmread(data.real("MR2_UNCI.dcm"), stop_before_pixels=True)) == ""
    ds = pydicom.Dataset()
    ds.Modality, ds.RescaleType = "PT", "BQML"
    assert units(ds) == "BQML"
    ds.RescaleType = "US"
    assert units(ds) == ""


def test_volume_carries_modality_units_and_windows():
    from helpers.image.volume import load_series

    vol = load_series(data.ct_series("axial"))
    first = pydicom.dcmread(vol.paths[0], stop_before_pixels=True)
    assert (vol.modality, vol.units, vol.array.dtype) == ("CT", "HU", np.int16)
    assert [(w.center, w.width) for w in vol.windows] == [
        (float(c), float(w)) for c, w in zip(first.WindowCenter, first.WindowWidth, strict=True)]
