"""Lesson 4's exercise checks: right answers pass, typical mistakes are named.

The right answers are computed here another way than the checks do (numpy geometry from
the headers, voxels placed with helpers.image.volume.load_series, which is tested against
SimpleITK), so a wrong check cannot pass.
"""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from helpers import data
from helpers.lessons.checks import lesson4 as L


def _headers(series):
    return {f.name: pydicom.dcmread(f, stop_before_pixels=True)
            for f in sorted(data.ct_series(series).glob("*.dcm"))}


def _along(ds):
    o = np.array(ds.ImageOrientationPatient, dtype=float)
    return float(np.dot(np.array(ds.ImagePositionPatient, dtype=float), np.cross(o[:3], o[3:])))


def test_stack_extent():
    headers = _headers(L.STACK_SERIES)
    d = sorted(_along(h) for h in headers.values())
    gap = d[1] - d[0]
    assert L.check_stack_extent(d[-1] - d[0])
    assert "gaps" in L.check_stack_extent(len(d) * gap).message
    z = sorted(float(h.ImagePositionPatient[2]) for h in headers.values())
    assert z[-1] - z[0] != d[-1] - d[0], "the series must be oblique for this hint"
    assert "difference in z" in L.check_stack_extent(z[-1] - z[0]).message
    by_number = sorted(headers.values(), key=lambda h: int(h.InstanceNumber))
    assert "Instance Numbers" in L.check_stack_extent(
        abs(_along(by_number[-1]) - _along(by_number[0]))).message
    assert not L.check_stack_extent("far")


def test_last_slice():
    headers = _headers(L.STACK_SERIES)
    ordered = sorted(headers, key=lambda n: _along(headers[n]))
    numbers = sorted(headers, key=lambda n: int(headers[n].InstanceNumber))
    assert numbers[-1] != ordered[-1] and numbers[0] != ordered[0], \
        "the series' Instance Numbers must not follow position"
    assert L.check_last_slice(ordered[-1])
    assert "highest Instance Number" in L.check_last_slice(numbers[-1]).message
    assert "Instance Number 1" in L.check_last_slice(numbers[0]).message
    assert "first slice" in L.check_last_slice(ordered[0]).message or ordered[0] in (
        numbers[0], numbers[-1], min(headers), max(headers))
    assert "not a file" in L.check_last_slice("nonsense.dcm").message
    assert "string" in L.check_last_slice(42).message


def test_left_lung():
    """Voxels placed with load_series (helpers.image.volume, tested against SimpleITK) rather
    than the check's own header arithmetic: one in the left lung, its mirror image in the
    right lung, one in the heart, air beside the patient, and one outside the volume."""
    from helpers.image.volume import load_series

    vol = load_series(data.ct_series(L.VIEWER_SERIES))
    assert np.array_equal(vol.direction, np.eye(3))   # crosshair order = array order
    left = [368, 215, 40]                             # clicked in the browser
    mirror = [vol.shape[2] - 1 - left[0], left[1] + 15, left[2]]   # off a vessel
    heart = [vol.shape[2] // 2, vol.shape[1] // 2, vol.shape[0] // 2]
    for voxel, side in [(left, 1), (mirror, -1)]:
        i, j, k = voxel
        assert np.sign(vol.to_patient(i, j, k)[0]) == side
        assert L.LUNG_HU[0] <= vol.array[k, j, i] <= L.LUNG_HU[1]
    assert vol.array[heart[2], heart[1], heart[0]] > 0
    assert L.check_left_lung(left)
    assert L.check_left_lung(tuple(np.int64(v) for v in left))
    assert "patient's right" in L.check_left_lung(mirror).message
    assert "not lung" in L.check_left_lung(heart).message
    air = [vol.shape[2] - 8, vol.shape[1] // 2, left[2]]   # beside the patient, on the left
    assert vol.to_patient(*air)[0] > 0 and vol.array[air[2], air[1], air[0]] < -950
    assert "not lung" in L.check_left_lung(air).message
    assert "outside the volume" in L.check_left_lung([vol.shape[2], 0, 0]).message
    assert "three whole numbers" in L.check_left_lung([368.0, 215, 40]).message
    assert "three whole numbers" in L.check_left_lung("left").message


@pytest.mark.parametrize("check", [L.check_stack_extent, L.check_last_slice,
                                   L.check_left_lung])
def test_placeholder(check):
    assert "no answer" in check(None).message
