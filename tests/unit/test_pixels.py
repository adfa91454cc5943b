"""helpers.image.pixels against tools nobody here wrote.

- window(): pixel for pixel against DCMTK ``dcm2pnm +Ww C W`` on real files, and
  against pydicom.pixels.apply_windowing;
- modality_values(): against pydicom.pixels.apply_modality_lut.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pydicom
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut, apply_windowing

from helpers import data
from helpers.dicom.errors import NoPixelDataError
from helpers.image.pixels import modality_values, window, window_bounds

# Windows that exercise the corners of PS3.3 C.11.2.1.2.1: width 1 (a threshold),
# width 2, odd and even widths, fractional values, centers far outside the data.
WINDOWS = [
    (40, 400), (-600, 1500), (50, 350), (400, 1800), (0, 1), (0.5, 1), (10, 2), (100, 3),
    (50, 100), (51, 101), (40.3, 350.7), (1, 255), (127.5, 256), (-5000, 100), (99999, 10),
    (1000, 2000), (15000, 30000),
]
# Files whose modality values are integers (integer slope and intercept, or none).
INTEGER_FILES = ["CT_small.dcm", "693_UNCI.dcm", "RG1_UNCI.dcm", "MR_small.dcm"]


def synthetic_ct_slice() -> Path:
    try:
        folder = data.ct_series("axial")
    except data.DataError as exc:
        pytest.skip(f"{exc}")
    return sorted(folder.glob("*.dcm"))[0]


@pytest.mark.parametrize("name", INTEGER_FILES)
def test_window_equals_dcm2pnm_on_real_files(name, dcmtk_window):
    ds = pydicom.dcmread(data.real(name))
    hu = modality_values(ds)
    photometric = ds.PhotometricInterpretation
    for center, width in WINDOWS:
        (expected,) = dcmtk_window(data.real(name), center, width)
        got = window(hu, center, width, photometric)
        assert got.dtype == np.uint8 and got.shape == expected.shape
        mismatched = int((got != expected).sum())
        assert mismatched == 0, f"{name} C={center} W={width}: {mismatched} pixels differ"
        # the lookup-table path (integer input) gives the same answer
        assert np.array_equal(window(hu.astype(np.int32), center, width, photometric), got)


def test_window_equals_dcm2pnm_on_synthetic_ct(dcmtk_window):
    path = synthetic_ct_slice()
    ds = pydicom.dcmread(path)
    hu = modality_values(ds)
    for center, width in WINDOWS:
        (expected,) = dcmtk_window(path, center, width)
        assert np.array_equal(window(hu, center, width), expected), (center, width)
        assert np.array_equal(window(hu.astype(np.int16), center, width), expected)


def test_window_equals_dcm2pnm_on_every_frame(dcmtk_window):
    path = data.real("emri_small.dcm")
    hu = modality_values(pydicom.dcmread(path))
    for center, width in [(200, 400), (1000, 2000), (31, 2)]:
        expected = dcmtk_window(path, center, width, "+Fa")
        assert len(expected) == hu.shape[0] == 10
        assert np.array_equal(window(hu, center, width), np.stack(expected))


def test_monochrome1_is_the_inverted_ramp_not_255_minus_the_ramp(dcmtk_window):
    """RG1_UNCI is a real CR in MONOCHROME1: DCMTK computes the falling ramp
    directly, which differs from 255 - (rising ramp) where truncation rounds."""
    path = data.real("RG1_UNCI.dcm")
    ds = pydicom.dcmread(path)
    assert ds.PhotometricInterpretation == "MONOCHROME1"
    hu = modality_values(ds)
    (expected,) = dcmtk_window(path, 15000, 30000)
    assert np.array_equal(window(hu, 15000, 30000, "MONOCHROME1"), expected)
    naive = 255 - window(hu, 15000, 30000, "MONOCHROME2")
    assert (naive != expected).sum() > 0  # the distinction is real on this file


def test_non_integer_slope_dcmtk_truncates_modality_values(dcmtk_window):
    """MR2_UNCI has Rescale Slope 3.774114: its modality values are not integers.
    DCMTK keeps its intermediate (post-modality-LUT) image in an integer type, so
    it truncates them first; window(trunc(values)) then matches exactly, and the
    exact values differ by at most one grey level."""
    path = data.real("MR2_UNCI.dcm")
    ds = pydicom.dcmread(path)
    hu = modality_values(ds)
    assert not np.all(hu == np.trunc(hu))
    for center, width in [(40, 400), (1000, 2000), (127.5, 256), (10, 2)]:
        (expected,) = dcmtk_window(path, center, width)
        assert np.array_equal(window(np.trunc(hu), center, width), expected)
        diff = np.abs(window(hu, center, width).astype(int) - expected)
        assert diff.max() <= 1


def pydicom_window(values: np.ndarray, center: float, width: float) -> np.ndarray:
    """pydicom's windowing, with a dataset whose output range is 0..255 (8-bit
    unsigned, no rescale): apply_windowing returns floats in the stored range."""
    ds = Dataset()
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsStored = 8
    ds.PixelRepresentation = 0
    ds.WindowCenter = center
    ds.WindowWidth = width
    return apply_windowing(values, ds)


@pytest.mark.parametrize("name", INTEGER_FILES + ["MR2_UNCI.dcm"])
def test_window_agrees_with_pydicom_apply_windowing(name):
    """pydicom returns unrounded floats; truncated they equal window() except where
    the exact value is an integer and the two evaluation orders round to either
    side of it (none on these files). pydicom does not invert MONOCHROME1 (it is
    left to the caller), so the comparison is on the rising ramp."""
    hu = modality_values(pydicom.dcmread(data.real(name)))
    for center, width in WINDOWS:
        y = pydicom_window(hu, center, width)
        got = window(hu, center, width)
        differ = got != np.trunc(y).astype(np.uint8)
        on_integer = np.abs(y - np.round(y)) < 1e-9
        assert not np.any(differ & ~on_integer), (name, center, width)


def _disagreements_with_exact(values, center, width, got) -> list:
    """``(x, got, exact)`` wherever ``got`` is not PS3.3 C.11.2.1.2.1 in exact arithmetic.

    The output is the floor of the exact value; double precision may land one below
    only where the exact value is an integer or within 1e-9 above one, and one above
    only where it is within 1e-9 below an integer.
    """
    c, w = Fraction(center), Fraction(width)
    wrong = []
    for xi, gi in zip(values, got, strict=True):
        if xi <= c - Fraction(1, 2) - (w - 1) / 2:
            ok, exact = gi == 0, 0
        elif xi > c - Fraction(1, 2) + (w - 1) / 2:
            ok, exact = gi == 255, 255
        else:
            exact = ((xi - (c - Fraction(1, 2))) / (w - 1) + Fraction(1, 2)) * 255
            floor = exact.numerator // exact.denominator
            near = Fraction(1, 10**9)
            ok = (gi == floor or (gi == floor - 1 and exact - floor < near)
                  or (gi == floor + 1 and floor + 1 - exact < near))
        if not ok:
            wrong.append((xi, int(gi), exact))
    return wrong


def test_the_exact_check_rejects_wrong_output():
    """The check above can fail: center 0.5, width 511 puts x = 1 exactly on 128
    (PS3.3 C.11.2.1.2.1: ((1 - 0) / 510 + 1/2) * 255); 128 and, for rounding, 127 pass,
    anything else does not (the old clause ``abs(exact - floor) < 1e-9`` passed 0)."""
    assert _disagreements_with_exact([1], 0.5, 511, [128]) == []
    assert _disagreements_with_exact([1], 0.5, 511, [127]) == []
    assert _disagreements_with_exact([1], 0.5, 511, [0]) == [(1, 0, 128)]
    assert _disagreements_with_exact([1], 0.5, 511, [129]) == [(1, 129, 128)]
    # width 1021 puts x = 1 on 127.75: 128 (one above, far from an integer) is wrong
    assert _disagreements_with_exact([1], 0.5, 1021, [127]) == []
    assert _disagreements_with_exact([1], 0.5, 1021, [128]) != []
    assert _disagreements_with_exact([-3000, 3000], 0.5, 511, [0, 254])  # clipped ends


@settings(max_examples=200, deadline=None)
@example(values=[1, 2, 3], center=0.5, width=511.0)  # 1 and 3 land exactly on 128 and 129
# found by hypothesis: exactly 170 minus 1e-254, which double precision rounds up to 170
@example(values=[74], center=7.480485287277126e-252, width=448.0)
@given(
    values=st.lists(st.integers(-3000, 3000), min_size=1, max_size=50),
    center=st.integers(-2000, 2000).map(float) | st.floats(-2000, 2000),
    width=st.integers(1, 4000).map(float) | st.floats(1, 4000),
)
def test_window_matches_the_standard_formula_in_exact_arithmetic(values, center, width):
    """PS3.3 C.11.2.1.2.1 evaluated with fractions; double precision may land on
    the other side of an integer only where the exact result is one."""
    x = np.array(values)
    got = window(x, center, width)
    wrong = _disagreements_with_exact(values, center, width, got)
    assert not wrong, wrong
    # all input types agree
    for dtype in (np.int16, np.int32, np.int64, np.float64, np.float32):
        assert np.array_equal(window(x.astype(dtype), center, width), got)


def test_window_bounds_follow_the_standard():
    assert window_bounds(40, 400) == (-160.0, 239.0)
    assert window_bounds(0, 1) == (-0.5, -0.5)


def test_window_rejects_bad_input():
    with pytest.raises(ValueError, match="width must be >= 1"):
        window(np.zeros(3), 0, 0.5)
    with pytest.raises(ValueError, match="MONOCHROME"):
        window(np.zeros(3), 0, 10, "RGB")
    with pytest.raises(ValueError, match="finite"):
        window(np.zeros(3), float("nan"), 10)


def test_window_keeps_shape_and_returns_uint8():
    arr = np.arange(-1000, 1000, dtype=np.int16).reshape(2, 10, 100)
    out = window(arr, 0, 500)
    assert out.shape == arr.shape and out.dtype == np.uint8
    assert out.min() == 0 and out.max() == 255


# ------------------------------------------------------------------------------- modality_values
@pytest.mark.parametrize("name", ["CT_small.dcm", "693_UNCI.dcm", "MR2_UNCI.dcm",
                                  "mlut_18.dcm", "emri_small.dcm", "RG1_UNCI.dcm"])
def test_modality_values_equals_pydicom_apply_modality_lut(name):
    ds = pydicom.dcmread(data.real(name))
    expected = apply_modality_lut(ds.pixel_array, ds)
    got = modality_values(ds)
    assert got.dtype == np.float64 and got.shape == expected.shape
    assert np.array_equal(got, expected.astype(np.float64))


def test_modality_values_uses_the_modality_lut_sequence():
    ds = pydicom.dcmread(data.real("mlut_18.dcm"))
    assert "ModalityLUTSequence" in ds and "RescaleSlope" not in ds
    assert not np.array_equal(modality_values(ds), ds.pixel_array)  # the table changes values


def test_modality_values_applies_rescale_to_every_frame():
    ds = pydicom.dcmread(data.real("emri_small.dcm"))
    ds.RescaleSlope, ds.RescaleIntercept = 2.5, -100
    expected = apply_modality_lut(ds.pixel_array, ds)
    got = modality_values(ds)
    assert got.shape == (10, 64, 64)
    assert np.array_equal(got, expected)


def test_modality_values_per_frame_functional_groups():
    """Enhanced multi-frame: slope/intercept per frame (PS3.3 C.7.6.16.2.9)."""
    ds = pydicom.dcmread(data.real("emri_small.dcm"))
    stored = ds.pixel_array
    per_frame = []
    for i in range(stored.shape[0]):
        item, pvt = Dataset(), Dataset()
        pvt.RescaleSlope, pvt.RescaleIntercept, pvt.RescaleType = 1 + i / 4, -10 * i, "US"
        item.PixelValueTransformationSequence = [pvt]
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = per_frame
    got = modality_values(ds, stored)
    for i, item in enumerate(per_frame):
        ref = apply_modality_lut(stored[i], item.PixelValueTransformationSequence[0])
        assert np.array_equal(got[i], ref)


def test_modality_values_without_pixels_is_a_clear_error():
    ds = pydicom.dcmread(data.real("rtplan.dcm"))
    with pytest.raises(NoPixelDataError, match="rtplan.dcm: holds no pixel data"):
        modality_values(ds)
