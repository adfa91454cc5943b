"""Preparing volumes for a model: resampling, intensity, NIfTI export, the dataset manifest.

References: SimpleITK's ResampleImageFilter on the same grid and interpolator (ITK);
Debian's dcm2niix on the same series (its NIfTI file's affine and voxels); numpy's
percentiles and pydicom's headers; pandas for the split's patients.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from functools import cache

import nibabel as nib
import numpy as np
import pandas as pd
import pydicom
import pytest
import SimpleITK as sitk

from helpers import data
from helpers.image import intensity
from helpers.image.nifti import save_nifti
from helpers.image.resample import resample
from helpers.image.volume import load_series
from helpers.tables.dataset import SplitLeakError, build_manifest, check_patient_level


@cache
def ct():
    return load_series(data.ct_series("axial"))


def _sitk(volume) -> sitk.Image:
    image = sitk.GetImageFromArray(volume.array.astype(float))
    image.SetSpacing(volume.spacing)
    image.SetOrigin(tuple(volume.origin))
    image.SetDirection(tuple(volume.direction.ravel()))
    return image


def _sitk_resampled(volume, like, interpolator) -> np.ndarray:
    f = sitk.ResampleImageFilter()
    f.SetOutputSpacing(like.spacing)
    f.SetSize(like.shape[::-1])
    f.SetOutputOrigin(tuple(like.origin))
    f.SetOutputDirection(tuple(like.direction.ravel()))
    f.SetInterpolator(interpolator)
    f.SetDefaultPixelValue(0)
    return sitk.GetArrayFromImage(f.Execute(_sitk(volume)))


@pytest.mark.parametrize("spacing", [2.0, (1.3, 0.9, 2.2)])
def test_linear_resampling_equals_simpleitk(spacing):
    small = replace(ct(), array=ct().array[20:50, 100:300, 120:380])   # same affine: a crop
    out = resample(small, spacing)
    assert np.allclose(out.spacing, np.broadcast_to(spacing, 3))
    assert np.allclose(out.origin, small.origin)
    assert np.max(np.abs(out.array - _sitk_resampled(small, out, sitk.sitkLinear))) < 1e-6


def test_nearest_resampling_equals_simpleitk_and_keeps_labels():
    labels = replace(ct(), array=(ct().array[20:50, 100:300, 120:380] > 0).astype(np.uint8) * 3)
    out = resample(labels, 2.0, interpolation="nearest")
    assert out.array.dtype == np.uint8 and set(np.unique(out.array)) <= {0, 3}
    assert np.array_equal(out.array, _sitk_resampled(labels, out, sitk.sitkNearestNeighbor))


def test_resampled_affine_maps_the_same_points():
    out = resample(ct(), 2.0)
    # output voxel (10, 20, 5) lies at 2 mm steps from the common origin
    assert np.allclose(out.to_patient(10, 20, 5), ct().origin + [20.0, 40.0, 10.0])
    with pytest.raises(ValueError, match="interpolation"):
        resample(ct(), 2.0, interpolation="cubic")


def test_ct_clip_scale():
    hu = np.array([-1000.0, -160.0, 40.0, 240.0, 3000.0])
    assert np.allclose(intensity.ct_clip_scale(hu, 40, 400), [0, 0, 0.5, 1, 1])
    with pytest.raises(ValueError):
        intensity.ct_clip_scale(hu, 40, 0)


def test_mr_percentile_scale_maps_percentiles_to_0_and_1():
    mr = pydicom.dcmread(data.real("MR_small.dcm")).pixel_array.astype(float)
    out = intensity.mr_percentile_scale(mr)
    p1, p99 = np.percentile(mr, [1, 99])
    assert out.min() == 0 and out.max() == 1
    middle = (mr > p1) & (mr < p99)
    assert np.allclose(out[middle], (mr[middle] - p1) / (p99 - p1))


def test_xray_unit_scale_inverts_monochrome1_first():
    ds = pydicom.dcmread(data.real("RG1_UNCI.dcm"))
    assert ds.PhotometricInterpretation == "MONOCHROME1"
    out = intensity.xray_unit_scale(ds.pixel_array, "MONOCHROME1", ds.BitsStored)
    plain = intensity.xray_unit_scale(ds.pixel_array, "MONOCHROME2", ds.BitsStored)
    assert np.allclose(out, 1 - plain)
    assert out.min() >= 0 and out.max() <= 1


def test_nifti_export_equals_dcm2niix(dcm2niix, tmp_path):
    """dcm2niix on the same series: the same affine within 1e-3 mm and the same voxels
    once both are brought to the closest canonical (RAS) orientation."""
    subprocess.run([dcm2niix, "-o", str(tmp_path), "-f", "reference", "-z", "n", "-b", "n",
                    str(data.ct_series("axial"))], check=True, capture_output=True)
    ours = nib.as_closest_canonical(nib.load(save_nifti(ct(), tmp_path / "ours.nii")))
    theirs = nib.as_closest_canonical(nib.load(tmp_path / "reference.nii"))
    assert np.max(np.abs(ours.affine - theirs.affine)) < 1e-3
    assert np.array_equal(np.asarray(ours.dataobj), theirs.get_fdata())


def test_nifti_export_reads_back_in_simpleitk(tmp_path):
    path = save_nifti(ct(), tmp_path / "ct.nii.gz")
    image = sitk.ReadImage(str(path))
    assert np.allclose(image.GetOrigin(), ct().origin, atol=1e-3)      # SimpleITK is LPS
    assert np.allclose(image.GetSpacing(), ct().spacing)
    assert np.array_equal(sitk.GetArrayFromImage(image), ct().array)
    with pytest.raises(FileExistsError):
        save_nifti(ct(), path)


def _cases(patients: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"case": [f"c{i}" for i in range(len(patients))],
                         "path": [f"img{i}.nii" for i in range(len(patients))],
                         "label_path": "", "spacing": "1 x 1", "shape": "2 x 2",
                         "patient": patients})


def test_manifest_split_keeps_each_patient_on_one_side():
    patients = [f"p{i // 3}" for i in range(90)] + [f"q{i}" for i in range(30)]
    manifest = build_manifest(_cases(patients), validation=0.25, seed=1)
    sides = {p: set(manifest.loc[manifest.patient == p, "split"]) for p in set(patients)}
    assert all(len(s) == 1 for s in sides.values())
    assert 0.15 < (manifest.split == "validation").mean() < 0.35


def test_a_leak_is_refused():
    manifest = build_manifest(_cases(["a", "a", "b", "c", "d", "e"]))
    leaked = manifest.copy()
    leaked.loc[0, "split"] = "train"
    leaked.loc[1, "split"] = "validation"
    with pytest.raises(SplitLeakError, match="1 patient.*: a"):
        check_patient_level(leaked)
