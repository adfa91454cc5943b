"""helpers.image.intensity: photometric inversion (against the generator's own
MONOCHROME2 rendering), the collimated field, z-scores (against SimpleITK)."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from helpers import data
from helpers.data.cxr_plan import plan
from helpers.data.synth_cxr import pixels as plan_pixels
from helpers.image import intensity


def test_monochrome1_inverts_to_the_monochrome2_rendering() -> None:
    """The generator draws a MONOCHROME1 image as the inverse of the MONOCHROME2 one."""
    row = plan().query("defect == 'monochrome1'").iloc[0]
    stored = pydicom.dcmread(data.cohort_images() / row.image_index).pixel_array
    as_m2 = plan_pixels(row.copy().replace({"MONOCHROME1": "MONOCHROME2"}))
    assert np.array_equal(intensity.as_monochrome2(stored, "MONOCHROME1", 12), as_m2)
    assert np.array_equal(intensity.as_monochrome2(as_m2, "MONOCHROME2", 12), as_m2)
    with pytest.raises(ValueError, match="greyscale"):
        intensity.as_monochrome2(stored, "RGB", 8)


def test_field_mask_finds_a_known_rectangle() -> None:
    rng = np.random.default_rng(3)
    img = 3500 + rng.normal(0, 20, (200, 160))                      # unexposed border
    img[30:170, 20:150] = rng.uniform(100, 3000, (140, 130))        # the field
    mask = intensity.field_mask(img, margin=0)
    assert mask[30:170, 20:150].all() and mask.sum() == 140 * 130
    inner = intensity.field_mask(img, margin=3)
    assert inner[33:167, 23:147].all() and inner.sum() == 134 * 124
    flat = rng.uniform(100, 3000, (50, 40))                          # no border at all
    assert intensity.field_mask(flat).all()


def test_zscore_matches_simpleitk() -> None:
    rng = np.random.default_rng(0)
    img = rng.normal(1500, 300, (64, 48))
    # SimpleITK's NormalizeImageFilter divides by the unbiased (n-1) standard deviation
    ref = sitk.GetArrayFromImage(sitk.Normalize(sitk.GetImageFromArray(img)))
    ours = intensity.zscore(img) * img.std() / img.std(ddof=1)
    assert np.allclose(ours, ref)
    mask = np.zeros(img.shape, bool)
    mask[10:50, 5:40] = True
    z = intensity.zscore(img, mask)
    assert (z[~mask] == 0).all()
    assert abs(z[mask].mean()) < 1e-12 and abs(z[mask].std() - 1) < 1e-12
