"""helpers.tables.explore: photometric inversion, field mask, z-score, co-occurrence,
IDC cleaning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pydicom
import pytest
import SimpleITK as sitk

from helpers import data
from helpers.data.cxr_plan import plan
from helpers.data.synth_cxr import pixels as plan_pixels
from helpers.tables import explore


def test_monochrome1_inverts_to_the_monochrome2_rendering() -> None:
    """The generator draws a MONOCHROME1 image as the inverse of the MONOCHROME2 one."""
    row = plan().query("defect == 'monochrome1'").iloc[0]
    stored = pydicom.dcmread(data.cohort_images() / row.image_index).pixel_array
    as_m2 = plan_pixels(row.copy().replace({"MONOCHROME1": "MONOCHROME2"}))
    assert np.array_equal(explore.as_monochrome2(stored, "MONOCHROME1", 12), as_m2)
    assert np.array_equal(explore.as_monochrome2(as_m2, "MONOCHROME2", 12), as_m2)
    with pytest.raises(ValueError, match="greyscale"):
        explore.as_monochrome2(stored, "RGB", 8)


def test_field_mask_finds_a_known_rectangle() -> None:
    rng = np.random.default_rng(3)
    img = 3500 + rng.normal(0, 20, (200, 160))                      # unexposed border
    img[30:170, 20:150] = rng.uniform(100, 3000, (140, 130))        # the field
    mask = explore.field_mask(img, margin=0)
    assert mask[30:170, 20:150].all() and mask.sum() == 140 * 130
    inner = explore.field_mask(img, margin=3)
    assert inner[33:167, 23:147].all() and inner.sum() == 134 * 124
    flat = rng.uniform(100, 3000, (50, 40))                          # no border at all
    assert explore.field_mask(flat).all()


def test_zscore_matches_simpleitk() -> None:
    rng = np.random.default_rng(0)
    img = rng.normal(1500, 300, (64, 48))
    # SimpleITK's NormalizeImageFilter divides by the unbiased (n-1) standard deviation
    ref = sitk.GetArrayFromImage(sitk.Normalize(sitk.GetImageFromArray(img)))
    ours = explore.zscore(img) * img.std() / img.std(ddof=1)
    assert np.allclose(ours, ref)
    mask = np.zeros(img.shape, bool)
    mask[10:50, 5:40] = True
    z = explore.zscore(img, mask)
    assert (z[~mask] == 0).all()
    assert abs(z[mask].mean()) < 1e-12 and abs(z[mask].std() - 1) < 1e-12


def test_cooccurrence_matches_pandas() -> None:
    rng = np.random.default_rng(1)
    onehot = pd.DataFrame(rng.integers(0, 2, (40, 4)), columns=list("ABCD"))
    co = explore.cooccurrence(onehot)
    for a in onehot:
        for b in onehot:
            both = pd.crosstab(onehot[a], onehot[b]).reindex(index=[0, 1], columns=[0, 1],
                                                             fill_value=0)
            assert co.loc[a, b] == both.loc[1, 1]


@pytest.mark.parametrize(("text", "family"), [
    ("SIEMENS", "Siemens"), ("Siemens Healthineers", "Siemens"), ("GE MEDICAL SYSTEMS", "GE"),
    ('"GE Healthcare"', "GE"), ("GE", "GE"), ("Philips Medical Systems", "Philips"),
    ("TOSHIBA", "Canon/Toshiba"), ("CARESTREAM HEALTH", "Carestream/Kodak"),
    ("QIICR", "other"), ("GEMINI Labs", "other"), (None, "missing"), (np.nan, "missing"),
    ("  ", "missing"),
])
def test_vendor(text: object, family: str) -> None:
    assert explore.vendor(text) == family


def test_clean_sex() -> None:
    raw = pd.Series(["M", "F", " f", "O", "U", "0000", None, "6657"], name="PatientSex")
    out = explore.clean_sex(raw)
    assert out.tolist()[:4] == ["M", "F", "F", "O"] and out.iloc[4:].isna().all()
    assert out.name == "PatientSex"


def test_load_idc_index_reads_only_the_columns_asked() -> None:
    idc = explore.load_idc_index(["Modality", "PatientAge"])
    assert list(idc.columns) == ["Modality", "PatientAge"]
    assert len(idc) > 100_000
