"""helpers.volume against SimpleITK's ImageSeriesReader (GDCM's sorting) on the
synthetic CT study, and the errors it must give on broken series (copies in
tmp_path; data/ is never modified)."""

from __future__ import annotations

import shutil

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from helpers import data
from helpers.dicomio import save_copy
from helpers.errors import MissingTagError, SeriesError
from helpers.volume import PLANES, load_series


def series_names() -> list[str]:
    try:
        return data.ct_series_names()
    except data.DataError:
        return []


SERIES = series_names()
needs_ct = pytest.mark.skipif(not SERIES, reason="the synthetic CT study is missing: make data")


def sitk_read(folder):
    reader = sitk.ImageSeriesReader()
    files = reader.GetGDCMSeriesFileNames(str(folder))
    reader.SetFileNames(files)
    return reader.Execute(), [str(f) for f in files]


@needs_ct
def test_there_is_an_axial_and_a_non_axial_series():
    assert "axial" in SERIES and len(SERIES) >= 2


@needs_ct
@pytest.mark.parametrize("name", SERIES)
def test_geometry_equals_simpleitk(name):
    folder = data.ct_series(name)
    vol = load_series(folder)
    image, files = sitk_read(folder)
    assert [str(p) for p in vol.paths] == files  # the same slice order
    assert vol.shape == tuple(reversed(image.GetSize()))
    np.testing.assert_allclose(vol.spacing, image.GetSpacing(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(vol.origin, image.GetOrigin(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(vol.direction, np.reshape(image.GetDirection(), (3, 3)),
                               rtol=0, atol=1e-6)
    # the affine places voxels where ITK does
    rng = np.random.default_rng(3)
    for _ in range(5):
        ijk = [int(rng.integers(0, n)) for n in image.GetSize()]
        np.testing.assert_allclose(vol.to_patient(*ijk),
                                   image.TransformIndexToPhysicalPoint(ijk), atol=1e-6)
    # and the values are ITK's (which applies the rescale too)
    assert np.array_equal(vol.array, sitk.GetArrayFromImage(image))


@needs_ct
@pytest.mark.parametrize("name", SERIES)
def test_first_voxel_of_each_slice_is_its_image_position(name):
    vol = load_series(data.ct_series(name))
    for k, path in enumerate(vol.paths):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        np.testing.assert_allclose(vol.to_patient(0, 0, k),
                                   [float(v) for v in ds.ImagePositionPatient], atol=1e-4)


@needs_ct
def test_file_names_and_instance_numbers_do_not_give_the_slice_order():
    vol = load_series(data.ct_series("axial"))
    by_name = sorted(vol.paths, key=lambda p: p.name)
    assert by_name != vol.paths
    numbers = [int(pydicom.dcmread(p, stop_before_pixels=True).InstanceNumber)
               for p in vol.paths]
    assert numbers != sorted(numbers)


@needs_ct
@pytest.mark.parametrize("name", SERIES)
def test_display_planes_equal_simpleitk_dicomorient(name):
    """The canonical (z, y, x) view increases towards S, P, L: SimpleITK's
    DICOMOrient(image, 'LPS') makes the same array, also for an oblique series."""
    vol = load_series(data.ct_series(name))
    image, _ = sitk_read(data.ct_series(name))
    oriented = sitk.DICOMOrient(image, "LPS")
    assert np.array_equal(vol.canonical, sitk.GetArrayFromImage(oriented))
    np.testing.assert_allclose(vol.canonical_spacing, oriented.GetSpacing()[::-1], atol=1e-6)
    ref = sitk.GetArrayFromImage(oriented)
    dz, dy, dx = oriented.GetSpacing()[::-1]
    axial, coronal, sagittal = (vol.plane(p) for p in PLANES)
    assert np.array_equal(axial.image, ref[axial.index])
    assert np.array_equal(coronal.image, ref[::-1, coronal.index, :])  # head at the top
    assert np.array_equal(sagittal.image, ref[::-1, :, sagittal.index])
    assert axial.aspect == pytest.approx(dy / dx)
    assert coronal.aspect == pytest.approx(dz / dx)
    assert sagittal.aspect == pytest.approx(dz / dy)
    assert coronal.edges == ("S", "I", "R", "L")


# --------------------------------------------------------------------- broken series
def copy_series(name: str, dest, skip=()):
    dest.mkdir(parents=True, exist_ok=True)
    files = sorted(data.ct_series(name).glob("*.dcm"))
    for f in files:
        if f.name not in skip:
            shutil.copy2(f, dest / f.name)
    return dest


@needs_ct
def test_two_series_in_one_folder(tmp_path):
    folder = copy_series("axial", tmp_path / "mixed")
    other = sorted(data.ct_series(SERIES[1]).glob("*.dcm"))[0]
    shutil.copy2(other, folder / "ZZ_other_series.dcm")
    with pytest.raises(SeriesError, match="holds 2 series, not one"):
        load_series(folder)


@needs_ct
def test_a_missing_slice_is_an_uneven_gap(tmp_path):
    vol = load_series(data.ct_series("axial"))
    middle = vol.paths[len(vol.paths) // 2].name
    folder = copy_series("axial", tmp_path / "gap", skip={middle})
    with pytest.raises(SeriesError, match="uneven gaps between slices"):
        load_series(folder)


@needs_ct
def test_a_slice_with_another_orientation(tmp_path):
    folder = copy_series("axial", tmp_path / "tilted")
    victim = sorted(folder.glob("*.dcm"))[5]
    ds = pydicom.dcmread(victim)
    ds.ImageOrientationPatient = [1, 0, 0, 0, 0.8, -0.6]
    victim.unlink()
    save_copy(ds, folder / "tilted.dcm")
    with pytest.raises(SeriesError, match="inconsistent orientation"):
        load_series(folder)


@needs_ct
def test_a_duplicate_slice(tmp_path):
    folder = copy_series("axial", tmp_path / "dup")
    first = sorted(folder.glob("*.dcm"))[0]
    ds = pydicom.dcmread(first)
    ds.SOPInstanceUID = ds.SOPInstanceUID + ".1"
    save_copy(ds, folder / "ZZ_duplicate.dcm")
    with pytest.raises(SeriesError, match="same position"):
        load_series(folder)


@needs_ct
def test_a_slice_without_position(tmp_path):
    folder = copy_series("axial", tmp_path / "nopos")
    victim = sorted(folder.glob("*.dcm"))[0]
    ds = pydicom.dcmread(victim)
    del ds.ImagePositionPatient
    victim.unlink()
    save_copy(ds, folder / "no_position.dcm")
    with pytest.raises(MissingTagError, match="no_position.dcm: ImagePositionPatient"):
        load_series(folder)


def test_an_empty_folder(tmp_path):
    with pytest.raises(SeriesError, match="holds no files"):
        load_series(tmp_path)


@needs_ct
def test_a_list_of_paths_in_any_order():
    """Ten neighbouring slices (in SimpleITK's order), passed shuffled."""
    _, files = sitk_read(data.ct_series("axial"))
    chosen = files[20:30]
    shuffled = [chosen[i] for i in np.random.default_rng(0).permutation(len(chosen))]
    vol = load_series(shuffled)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(chosen)
    image = reader.Execute()
    assert [str(p) for p in vol.paths] == chosen
    assert np.array_equal(vol.array, sitk.GetArrayFromImage(image))
    np.testing.assert_allclose(vol.spacing, image.GetSpacing(), atol=1e-6)
