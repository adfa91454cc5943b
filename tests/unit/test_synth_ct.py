"""The synthetic chest CT study, each property checked against something independent:

- dicom3tools' dciodvfy validates every file against the CT Image IOD (no "Error"):
  in test_generated_data_valid, once over data/;
- SimpleITK (GDCM's series sorting and ITK's geometry) reads each series with the
  spacing, origin and direction of the design, restated here from first principles;
- pydicom's own Modality LUT gives Hounsfield units in the physiological range of each
  tissue at points chosen from anatomy, not from the generator's tissue table;
- the three series show the same patient where they cross (SimpleITK resampling);
- two generations write identical bytes: test_data_portable (two interpreters, two
  hash seeds, both equal to the manifest).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_modality_lut

from helpers import data
from helpers.data import synth_ct

SimpleITK = pytest.importorskip("SimpleITK")

SERIES = ("axial", "coronal", "oblique")


@pytest.fixture(scope="module")
def study() -> Path:
    """data/ct_chest: what synth_ct.generate writes, byte for byte (the build checks data/
    against the manifest, and test_data_portable that generate writes the manifest's
    bytes, in two interpreters: so generating it again here would test nothing more)."""
    return data.ct_series("axial").parent


def test_layout_one_folder_per_series(study):
    assert sorted(p.name for p in study.iterdir()) == sorted(SERIES)
    counts = {s: len(list((study / s).glob("CT*.dcm"))) for s in SERIES}
    assert counts["axial"] >= 60 and counts["coronal"] >= 40 and counts["oblique"] >= 20


def test_one_study_one_frame_of_reference(study):
    heads = [pydicom.dcmread(p, stop_before_pixels=True) for p in sorted(study.rglob("*.dcm"))]
    assert len({ds.StudyInstanceUID for ds in heads}) == 1
    assert len({ds.FrameOfReferenceUID for ds in heads}) == 1
    assert len({ds.SeriesInstanceUID for ds in heads}) == len(SERIES)
    assert len({ds.SOPInstanceUID for ds in heads}) == len(heads)


def _design(series: str) -> dict:
    """The intended geometry of each series, restated from the design (not the headers):
    size (columns, rows, slices), spacing (x in-plane, y in-plane, between slices),
    direction (row, column, normal as the columns of a 3x3 matrix) and the origin,
    which for ITK is the first voxel of the slice lowest along the normal."""
    if series == "axial":
        # 512 x 512 at 0.7 mm centred on the scanner axis; 80 slices 3 mm apart from
        # z = -20 (the top slice) down to z = -257
        return dict(size=(512, 512, 80), spacing=(0.7, 0.7, 3.0),
                    direction=np.eye(3), origin=(-255.5 * 0.7, -255.5 * 0.7, -20.0 - 79 * 3.0))
    if series == "coronal":
        # rows along -z (head up), columns along +x; 480 columns 0.75 mm apart centred on
        # x = 0, 160 rows 1.5 mm apart from z = -15; slices every 4.5 mm from y = -108
        row, col = np.array([1.0, 0, 0]), np.array([0, 0, -1.0])
        return dict(size=(480, 160, 50), spacing=(0.75, 1.5, 4.5),
                    direction=np.column_stack([row, col, np.cross(row, col)]),
                    origin=(-239.5 * 0.75, -108.0, -15.0))
    # oblique: a coronal plane tipped about x so that the column direction is
    # (0, 0.6, -0.8); a stack of 40 slices 5 mm apart centred at (0, -5, -140)
    row, col = np.array([1.0, 0, 0]), np.array([0, 0.6, -0.8])
    normal = np.cross(row, col)
    origin = np.array([0, -5.0, -140.0]) - 19.5 * 5.0 * normal - 191.5 * 0.8 * (row + col)
    return dict(size=(384, 384, 40), spacing=(0.8, 0.8, 5.0),
                direction=np.column_stack([row, col, normal]), origin=tuple(origin))


def _read_series(folder: Path):
    reader = SimpleITK.ImageSeriesReader()
    names = reader.GetGDCMSeriesFileNames(str(folder))
    reader.SetFileNames(names)
    return reader.Execute(), [Path(n).name for n in names]


@pytest.mark.parametrize("series", SERIES)
def test_geometry_as_designed_per_simpleitk(study, series):
    image, order = _read_series(study / series)
    want = _design(series)
    assert image.GetSize() == want["size"]
    np.testing.assert_allclose(image.GetSpacing(), want["spacing"], atol=1e-4)
    np.testing.assert_allclose(np.reshape(image.GetDirection(), (3, 3)), want["direction"],
                               atol=1e-6)
    np.testing.assert_allclose(image.GetOrigin(), want["origin"], atol=1e-3)
    # sorting by file name does not give the slice order
    assert order != sorted(order)


def test_instance_numbers_run_head_to_feet(study):
    """InstanceNumber 1 is the most superior axial slice: it decreases as z increases."""
    _, order = _read_series(study / "axial")       # GDCM: ascending along the normal (+z)
    numbers = [int(pydicom.dcmread(study / "axial" / n, stop_before_pixels=True).InstanceNumber)
               for n in order]
    assert numbers == list(range(len(numbers), 0, -1))


def _hu_at(study: Path, x: float, y: float, z: float, half: int = 3) -> np.ndarray:
    """HU (pydicom's Modality LUT) in a (2 half + 1)^2 pixel square of the axial slice at z."""
    i, j = round((y + 178.85) / 0.7), round((x + 178.85) / 0.7)   # design geometry
    for p in (study / "axial").glob("*.dcm"):
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        if abs(float(ds.ImagePositionPatient[2]) - z) < 0.01:
            ds = pydicom.dcmread(p)
            hu = apply_modality_lut(ds.pixel_array, ds)
            return hu[i - half:i + half + 1, j - half:j + half + 1]
    raise AssertionError(f"no axial slice at z = {z}")


@pytest.mark.parametrize(("what", "point", "low", "high"), [
    # (x, y, z) in patient mm: left +x, posterior +y, head +z
    ("air in front of the patient", (0.0, -165.0, -140.0), -1010, -990),
    ("right lung, mid-zone", (-95.0, -20.0, -140.0), -900, -750),
    ("left lung, lower zone", (100.0, 10.0, -185.0), -900, -750),
    ("subcutaneous fat, right flank", (-160.0, -5.0, -161.0), -130, -70),
    ("paraspinal muscle", (48.0, 98.0, -152.0), 30, 70),
    ("heart (unenhanced blood)", (16.0, -35.0, -161.0), 25, 60),
    ("vertebral body (cancellous bone)", (0.0, 52.0, -161.0), 150, 350),
])
def test_tissue_hounsfield_units(study, what, point, low, high):
    roi = _hu_at(study, *point)
    assert low <= float(np.median(roi)) <= high, f"{what}: median {np.median(roi):.0f} HU"


def test_bone_and_table_are_dense(study):
    # cortical bone: the rim of the vertebral body reaches several hundred HU
    spine = _hu_at(study, 0.0, 52.0, -161.0, half=26)
    assert np.percentile(spine, 99) > 600
    # the scanner table: below the back (y > 115 mm) on the midline, dense lines in air
    below = _hu_at(study, 0.0, 150.0, -161.0, half=40)[:, 40]
    assert below.max() > 200 and below.min() < -800


def test_series_agree_where_they_cross(study):
    """The reformats show the patient where the axial series does: resample the axial
    volume (SimpleITK, linear) onto each reformat's grid and count the pixels that
    disagree by more than 200 HU (edges out of place; noise alone stays well below)."""
    axial, _ = _read_series(study / "axial")
    for series in ("coronal", "oblique"):
        other, _ = _read_series(study / series)
        wrong = []
        for shift in (0.0, 4.0):             # a reformat misplaced by 4 mm must disagree
            moved = SimpleITK.Image(other)
            moved.SetOrigin(tuple(np.add(other.GetOrigin(), (shift, 0.0, 0.0))))
            resampled = SimpleITK.Resample(axial, moved, SimpleITK.Transform(),
                                           SimpleITK.sitkLinear, -5000.0)
            a = SimpleITK.GetArrayFromImage(resampled).astype(float)
            b = SimpleITK.GetArrayFromImage(other).astype(float)
            inside = a > -4000                # within the axial volume
            wrong.append(float(np.mean(np.abs(a - b)[inside] > 200)))
        assert wrong[0] < 0.04, f"{series}: {wrong[0]:.1%} of pixels disagree"
        assert wrong[1] > 0.08, f"{series}: the comparison cannot tell 4 mm apart"


def test_generate_refuses_to_overwrite(tmp_path):
    """A file already at a path generate() would write stays as it was."""
    out = tmp_path / "ct_chest"
    for series in SERIES:
        (out / series).mkdir(parents=True)
        for n in range(1, 201):  # every name a series could take: CT000001.dcm ...
            (out / series / f"CT{n:06d}.dcm").write_bytes(b"precious")
    with pytest.raises(FileExistsError):
        synth_ct.generate(out)
    assert {p.read_bytes() for p in out.rglob("*.dcm")} == {b"precious"}
