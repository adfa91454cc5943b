"""helpers.image.volume against SimpleITK's ImageSeriesReader (GDCM's sorting) on the
synthetic CT study, and the errors it must give on broken series (copies in
tmp_path; data/ is never modified)."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from helpers import data
from helpers.dicom.dicomio import save_copy
from helpers.dicom.errors import GeometryWarning, MissingTagError, SeriesError
from helpers.image.stack import Slice, slice_order
from helpers.image.volume import PLANES, load_series
from helpers.tables.crawl import GEOMETRY_FIELDS, scan


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


@pytest.fixture(scope="module")
def study_table():
    """The synthetic CT study crawled once, as a learner does: ``(table, errors)``."""
    return scan(data.ct_series("axial").parent, fields=GEOMETRY_FIELDS, progress=False)


def series_rows(table, name):
    """The rows of series folder ``name``, picked by the Series Instance UID pydicom
    reads from one of its files (not by the path)."""
    first = sorted(data.ct_series(name).glob("*.dcm"))[0]
    uid = pydicom.dcmread(first, stop_before_pixels=True).SeriesInstanceUID
    return table[table.SeriesInstanceUID == uid]


@needs_ct
def test_there_is_an_axial_and_a_non_axial_series():
    assert "axial" in SERIES and len(SERIES) >= 2


@needs_ct
@pytest.mark.parametrize("source", ["folder", "rows"])
@pytest.mark.parametrize("name", SERIES)
def test_geometry_equals_simpleitk(name, source, study_table):
    """The folder, and the rows a crawl of the whole study gives, load what ITK loads."""
    folder = data.ct_series(name)
    table, errors = study_table
    assert errors.empty
    vol = load_series(folder if source == "folder" else series_rows(table, name))
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
    with pytest.raises(SeriesError, match="holds 2 series, not one") as from_folder:
        load_series(folder)
    table, errors = scan(folder, fields=GEOMETRY_FIELDS, progress=False)
    assert errors.empty and len(table) == len(list(folder.iterdir()))
    with pytest.raises(SeriesError) as from_rows:
        load_series(table)
    assert str(from_rows.value) == str(from_folder.value)


def _turn(ds):
    ds.ImageOrientationPatient = [1, 0, 0, 0, 0.8, -0.6]


def _shrink(ds):
    ds.PixelData = ds.pixel_array[:256, :256].tobytes()
    ds.Rows = ds.Columns = 256


def _copy_of(ds):
    ds.SOPInstanceUID = ds.SOPInstanceUID + ".1"


#: A copy of the axial series with one slice changed: (which slice, change, whether the
#: changed file replaces it, its new name, the error and its message).
BROKEN = {
    "another orientation": (5, _turn, True, "tilted.dcm", SeriesError,
                            "inconsistent orientation"),
    "a duplicate slice": (0, _copy_of, False, "ZZ_duplicate.dcm", SeriesError, "same position"),
    "no position": (0, lambda ds: ds.__delattr__("ImagePositionPatient"), True,
                    "no_position.dcm", MissingTagError, "no_position.dcm: ImagePositionPatient"),
    "mixed sizes": (3, _shrink, True, "small.dcm", SeriesError,
                    r"small.dcm: is 256x256 pixels .* mixed image sizes"),
}


@needs_ct
@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_slice_is_refused(tmp_path, case):
    index, change, replaces, name, error, message = BROKEN[case]
    folder = copy_series("axial", tmp_path / "series")
    victim = sorted(folder.glob("*.dcm"))[index]
    ds = pydicom.dcmread(victim)
    change(ds)
    if replaces:
        victim.unlink()
    save_copy(ds, folder / name)
    with pytest.raises(error, match=message):
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


# ------------------------------------------- real-world geometry (issue 14, class 1)
GAP = 3.0  # mm between the synthetic axial slices (checked below)


def moved_copy(tmp_path, name, move):
    """A copy of the axial series with ``move(k, position) -> position`` applied to the
    k-th slice along the normal (files in SimpleITK's order)."""
    _, files = sitk_read(data.ct_series("axial"))
    folder = tmp_path / name
    folder.mkdir()
    for k, f in enumerate(files):
        ds = pydicom.dcmread(f)
        ds.ImagePositionPatient = [f"{v:.6g}" for v in move(k, np.array(
            [float(v) for v in ds.ImagePositionPatient]))]
        save_copy(ds, folder / f"{k:03d}.dcm")
    return folder


def assert_equals_simpleitk(vol, folder):
    image, files = sitk_read(folder)
    assert [str(p) for p in vol.paths] == files
    assert np.array_equal(vol.array, sitk.GetArrayFromImage(image))
    np.testing.assert_allclose(vol.origin, image.GetOrigin(), atol=1e-6)
    np.testing.assert_allclose(vol.direction, np.reshape(image.GetDirection(), (3, 3)),
                               atol=1e-6)


@needs_ct
def test_in_plane_rounding_loads_without_a_word(tmp_path, recwarn):
    """Positions off by up to 0.04 mm in the slice plane (under 0.1 of a 0.7 mm pixel, the
    size of rounding to 0.1 mm): silent. (The old fixed 0.01 mm rule refused this.)"""
    jitter = np.random.default_rng(2).uniform(-0.028, 0.028, (200, 2))
    folder = moved_copy(tmp_path, "rounded", lambda k, p: p + [*jitter[k], 0])
    vol = load_series(folder)
    assert not [w for w in recwarn if issubclass(w.category, GeometryWarning)]
    assert_equals_simpleitk(vol, folder)
    assert vol.spacing[2] == pytest.approx(GAP)


@needs_ct
def test_uneven_but_usable_gaps_load_with_a_warning(tmp_path):
    """Every slice within 5 % of a gap of its grid place: irregular, usable, said so."""
    jitter = np.random.default_rng(1).uniform(-0.05, 0.05, 200)
    folder = moved_copy(tmp_path, "jitter", lambda k, p: p + [0, 0, jitter[k] * GAP])
    with pytest.warns(GeometryWarning, match=r"depart up to .* from a regular grid"):
        vol = load_series(folder)
    image, _ = sitk_read(folder)
    assert np.array_equal(vol.array, sitk.GetArrayFromImage(image))
    # the spacing is the mean gap: first to last position over n - 1
    ipp = [float(pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2])
           for p in vol.paths]
    assert vol.spacing[2] == pytest.approx((ipp[-1] - ipp[0]) / (len(ipp) - 1))


@needs_ct
def test_an_in_plane_offset_under_half_a_pixel_warns(tmp_path):
    folder = moved_copy(tmp_path, "shifted", lambda k, p: p + ([0.2, 0, 0] if k == 7 else 0))
    with pytest.warns(GeometryWarning, match=r"007.dcm: is shifted 0.200 mm \(0.29 pixel\)"):
        vol = load_series(folder)
    assert_equals_simpleitk(vol, folder)


@needs_ct
def test_gantry_tilted_ct_is_refused_naming_the_tilt(tmp_path):
    """Decision: a tilted stack is sheared, not rectilinear; refuse (dcm2niix resamples)."""
    shear = np.tan(np.radians(15))
    folder = moved_copy(tmp_path, "tilt", lambda k, p: p + [0, k * GAP * shear, 0])
    with pytest.raises(SeriesError, match=r"sheared \(gantry tilt of about 15.0 degrees"):
        load_series(folder)


@needs_ct
@pytest.mark.parametrize("source", ["folder", "rows"])
def test_a_missing_slice_is_refused_naming_its_neighbours(tmp_path, source, study_table):
    """Decision: refuse (every slice after the hole would be misplaced), naming the gap
    and the files around it, whether the series comes as a folder or as rows. The
    order and the gap are SimpleITK's (GDCM sorts by position along the normal)."""
    image, files = sitk_read(data.ct_series("axial"))
    gap = image.GetSpacing()[2]
    hole = Path(files[40]).name
    if source == "folder":
        series = copy_series("axial", tmp_path / "hole", skip={hole})
    else:
        rows = series_rows(study_table[0], "axial")
        series = rows[~rows.path.str.endswith("/" + hole)]
        assert len(series) == len(rows) - 1
    with pytest.raises(SeriesError, match=(
            rf"uneven gaps between slices: {2 * gap:.3f} mm between .*{Path(files[39]).name} "
            rf"and .*{Path(files[41]).name}, {gap:.3f} mm elsewhere "
            r"\(about 2 gaps wide: 1 slice\(s\) missing\?\)")):
        load_series(series)


@needs_ct
def test_files_are_named_relative_to_the_folder_given(tmp_path):
    """Two files may share a name in two sub-folders: messages must tell them apart."""
    first = sorted(data.ct_series("axial").glob("*.dcm"))[0]
    for sub in ("a", "b"):
        ds = pydicom.dcmread(first)
        ds.SOPInstanceUID += "." + str(ord(sub))
        save_copy(ds, tmp_path / "outside" / sub / "0.dcm")
    with pytest.raises(SeriesError, match=r"^b/0.dcm: is at the same position as a/0.dcm "):
        load_series(tmp_path / "outside")
    with pytest.raises(SeriesError, match=r"^b/0.dcm: is at the same position as a/0.dcm "):
        load_series([tmp_path / "outside" / "b" / "0.dcm", tmp_path / "outside" / "a" / "0.dcm"])


def test_folder_walk_is_the_crawls_and_names_what_is_missing(tmp_path: Path):
    """load_series walks a folder with helpers.dicom.walk: a symbolic link to a folder
    (here a loop back to the folder itself) is not followed, and a missing folder is a
    SeriesError naming it, not a bare FileNotFoundError."""
    series = tmp_path / "series"
    shutil.copytree(data.ct_series("axial"), series)
    (series / "loop").symlink_to(series, target_is_directory=True)
    vol = load_series(series)
    reference = load_series(data.ct_series("axial"))
    assert np.array_equal(vol.array, reference.array)
    assert len(vol.paths) == len(reference.paths)
    with pytest.raises(SeriesError, match=r"nowhere: no such file or folder"):
        load_series(tmp_path / "nowhere")


# ------------------------------------------------- header rows (issue 12: one crawl)
def count_opens(monkeypatch) -> Counter:
    """Count every file pydicom opens from now on (the header reader and the pixel
    reader both go through pydicom.dcmread)."""
    opened: Counter = Counter()
    real_dcmread = pydicom.dcmread

    def counting(fp, *args, **kwargs):
        opened[Path(fp).resolve()] += 1
        return real_dcmread(fp, *args, **kwargs)

    monkeypatch.setattr(pydicom, "dcmread", counting)
    return opened


@needs_ct
def test_rows_given_each_file_is_opened_once_for_its_pixels(monkeypatch, study_table):
    rows = series_rows(study_table[0], "axial")
    files = {p.resolve() for p in data.ct_series("axial").glob("*.dcm")}
    opened = count_opens(monkeypatch)
    load_series(rows)
    assert set(opened) == files and set(opened.values()) == {1}
    opened.clear()
    load_series(data.ct_series("axial"))  # a folder: its headers are read first
    assert set(opened) == files and set(opened.values()) == {2}


@needs_ct
def test_the_geometry_comes_from_the_rows(study_table):
    """Rows that say otherwise than the files: the volume follows the rows."""
    rows = series_rows(study_table[0], "axial").copy()
    rows["PixelSpacing"] = "0.5\\0.25"  # row spacing, then column spacing (PS3.3 C.7.6.2)
    rows["ImagePositionPatient"] = [f"10\\20\\{5 * k}" for k in range(len(rows))]
    vol = load_series(rows)
    assert vol.spacing == pytest.approx((0.25, 0.5, 5.0))
    assert vol.origin == pytest.approx([10, 20, 0])
    assert [p.name for p in vol.paths] == [Path(p).name for p in rows.path]


@needs_ct
def test_rows_lacking_geometry_are_refused_saying_how_to_get_it(study_table):
    folder = data.ct_series("axial")
    default, _ = scan(folder, progress=False)  # the crawl's default fields: no geometry
    with pytest.raises(MissingTagError, match=(
            r"lack the columns ImagePositionPatient, ImageOrientationPatient; .*"
            r"scan\(folder, fields=GEOMETRY_FIELDS\)")):
        load_series(default)
    rows = series_rows(study_table[0], "axial").copy()
    with pytest.raises(MissingTagError, match=r"lack the column PixelSpacing;"):
        load_series(rows.drop(columns="PixelSpacing"))
    victim = rows.index[3]
    rows.loc[victim, "ImagePositionPatient"] = None
    with pytest.raises(MissingTagError, match=(
            rf"{rows.loc[victim, 'path']}: ImagePositionPatient is missing")):
        load_series(rows)


@needs_ct
def test_rows_paths_are_relative_to_the_crawled_folder(study_table):
    """scan records its folder in table.attrs; without it, folder= says where the files are."""
    rows = series_rows(study_table[0], "axial")
    reference = load_series(data.ct_series("axial"))
    bare = rows.copy()
    bare.attrs.clear()
    with pytest.raises(SeriesError, match="paths are relative .* pass folder="):
        load_series(bare)
    vol = load_series(bare, folder=data.ct_series("axial").parent)
    assert np.array_equal(vol.array, reference.array)
    absolute = bare.assign(path=[str(data.ct_series("axial").parent / p) for p in bare.path])
    assert np.array_equal(load_series(absolute).affine, reference.affine)
    with pytest.raises(TypeError, match="folder= names the folder a table's paths"):
        load_series(data.ct_series("axial"), folder=data.ct_series("axial").parent)


# ------------------------------------------------ the stack checks' public API (issue 23)
@needs_ct
def test_slice_order_takes_public_slices_built_from_pydicom():
    """helpers.image.stack.slice_order on Slices made here from pydicom's reading of the
    headers (not from a crawl) gives SimpleITK's order and spacing."""
    image, files = sitk_read(data.ct_series("axial"))
    shuffled = [files[i] for i in np.random.default_rng(5).permutation(len(files))]
    heads = [pydicom.dcmread(f, stop_before_pixels=True) for f in shuffled]
    found = [Slice(Path(f), str(h.SeriesInstanceUID),
                   np.array([float(v) for v in h.ImageOrientationPatient]),
                   np.array([float(v) for v in h.ImagePositionPatient]),
                   np.array([float(v) for v in h.PixelSpacing]), (h.Rows, h.Columns))
             for f, h in zip(shuffled, heads, strict=True)]
    order, spacing = slice_order(found)
    assert [shuffled[i] for i in order] == files
    assert spacing == pytest.approx(image.GetSpacing()[2])


@needs_ct
def test_a_geometry_warning_points_at_the_callers_line(tmp_path):
    """The warning names the learner's line (this file), not a line inside helpers."""
    folder = moved_copy(tmp_path, "shifted", lambda k, p: p + ([0.2, 0, 0] if k == 7 else 0))
    with pytest.warns(GeometryWarning) as caught:
        load_series(folder)
    assert {Path(w.filename).name for w in caught} == {Path(__file__).name}


@needs_ct
def test_a_folder_is_crawled_by_scan_in_this_process(monkeypatch):
    """load_series(folder) reads its headers through helpers.tables.crawl.scan (the one
    crawl), not a reader of its own: a scan that fails is the failure seen."""
    from helpers.tables import crawl

    def refuse(*args, **kwargs):
        raise RuntimeError("scan was called")

    monkeypatch.setattr(crawl, "_crawl", refuse)
    with pytest.raises(RuntimeError, match="scan was called"):
        load_series(data.ct_series("axial"))
    with pytest.raises(RuntimeError, match="scan was called"):
        load_series(sorted(data.ct_series("axial").glob("*.dcm"))[:3])
