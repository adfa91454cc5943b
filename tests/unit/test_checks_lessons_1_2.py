"""Every exercise check of lessons 1 and 2: right on the right answer, and a useful
"why" on the typical wrong ones. Right answers are worked out here with pydicom,
dicognito or the raw bytes, not copied from the checks."""

from __future__ import annotations

import copy
import shutil
import struct
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import pixel_array

from helpers import data
from helpers.lessons.checks import lesson1, lesson2
from helpers.lessons.feedback import Feedback


def _right(fb: Feedback) -> None:
    assert isinstance(fb, Feedback) and fb.ok, fb


def _wrong(fb: Feedback, *words: str) -> None:
    assert isinstance(fb, Feedback) and not fb.ok, fb
    for word in words:
        assert word.lower() in fb.message.lower(), (word, fb.message)


ALL_CHECKS = [lesson1.check_lookup, lesson1.check_decoded_element, lesson1.check_phi,
              lesson1.check_series_convention, lesson1.check_dataset_offset,
              lesson2.check_frames_shape, lesson2.check_stored_ybr,
              lesson2.check_folder_counts, lesson2.check_modified_copy]


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_placeholder_is_not_yet_answered(check) -> None:
    for placeholder in (..., None):
        fb = check(placeholder)
        assert not fb.ok and "no answer yet" in fb.message
        assert str(fb).startswith("Not yet: no answer yet")
        assert "<b" in fb._repr_html_() and "Not yet:" in fb._repr_html_()


# ---- lesson 1 ------------------------------------------------------------------------------

def test_lookup() -> None:
    ds = pydicom.dcmread(data.ct_series("axial") / "CT000001.dcm", stop_before_pixels=True)
    element = ds[lesson1.LOOKUP_KEYWORD]  # a real file says what the element looks like
    assert element.keyword == "ImagePositionPatient"
    right = (int(element.tag), element.VR, str(len(element.value)))
    _right(lesson1.check_lookup(right))
    _right(lesson1.check_lookup(("(0020,0032)", "DS", 3)))
    _wrong(lesson1.check_lookup((0x00320020, "DS", "3")), "swapped")
    _wrong(lesson1.check_lookup((0x00200037, "DS", "3")), "direction vectors")
    _wrong(lesson1.check_lookup((0x00280010, "DS", "3")), "Rows")
    _wrong(lesson1.check_lookup((0x00200032, "FL", "3")), "decimal strings")
    _wrong(lesson1.check_lookup((0x00200032, "DS", "6")), "Image Orientation")
    _wrong(lesson1.check_lookup((0x00200032, "DS", "1")), "x, y and z")
    _wrong(lesson1.check_lookup(("ImagePositionPatient", "DS", "3")), "integer")
    _wrong(lesson1.check_lookup(0x00200032), "tuple")
    _wrong(lesson1.check_lookup((200032, "DS", "3")), "read as a decimal")
    _right(lesson1.check_lookup((0x00200032, " ds", 3.0)))


def _element_bytes() -> bytes:
    """The Columns element's 10 bytes, found in the file by searching for its tag."""
    raw = data.real(lesson1.DECODE_FILE).read_bytes()
    at = raw.index(b"\x28\x00\x11\x00US")
    return raw[at:at + 10]


def test_decoded_element() -> None:
    chunk = _element_bytes()
    group, elem = struct.unpack("<HH", chunk[:4])
    length = struct.unpack("<H", chunk[6:8])[0]
    value = struct.unpack("<H", chunk[8:10])[0]
    assert value == pydicom.dcmread(data.real(lesson1.DECODE_FILE)).Columns
    _right(lesson1.check_decoded_element((group << 16 | elem, chunk[4:6].decode(), length,
                                          value)))
    _wrong(lesson1.check_decoded_element((0x28001100, "US", 2, value)), "big endian")
    _wrong(lesson1.check_decoded_element((0x00110028, "US", 2, value)), "one number")
    _wrong(lesson1.check_decoded_element((0x00280011, "OB", 2, value)), "ASCII")
    _wrong(lesson1.check_decoded_element((0x00280011, "US", 10, value)), "whole element")
    big = int.from_bytes(chunk[8:10], "big")
    _wrong(lesson1.check_decoded_element((0x00280011, "US", 2, big)), "big endian")
    _wrong(lesson1.check_decoded_element((0x00280011, "US", 2)), "four things")
    _wrong(lesson1.check_decoded_element((0x00280011, "SU", 2, value)), "backwards")
    _wrong(lesson1.check_decoded_element((0x00280011, "US", 512, value)), "length big endian")
    _wrong(lesson1.check_decoded_element((0x00280011, "US", 2, 40)), "hex byte")
    _wrong(lesson1.check_decoded_element((280011, "US", 2, value)), "read as a decimal")


#: PS3.15 (2024b) Table E.1-1, Basic Profile column, for the exercise's candidates,
#: transcribed from the standard: X remove, Z empty, X/Z, X/D by type in the IOD.
#: Candidates the table does not list are kept by the profile.
TABLE_E_1_1 = {
    "InstitutionAddress": "X", "AcquisitionDate": "X/Z", "SeriesDate": "X/D",
    "StudyID": "Z", "ProtocolName": "X/D",
    # not candidates, but what the lesson says about them (section 3, lesson 4)
    "PatientName": "Z", "PatientID": "Z/D",
}


def test_phi_is_graded_from_table_e_1_1() -> None:
    listed = {k for k in lesson1.PHI_CANDIDATES if k in TABLE_E_1_1}
    assert {k: a for k, (a, _) in lesson1.PHI_ACTIONS.items()} == {
        k: TABLE_E_1_1[k] for k in listed}
    _right(lesson1.check_phi(listed))
    _right(lesson1.check_phi(sorted(listed)))
    _wrong(lesson1.check_phi(listed - {"ProtocolName"}), "missing: ProtocolName",
           "Table E.1-1: X/D")
    _wrong(lesson1.check_phi(listed - {"SeriesDate"}), "missing: SeriesDate", "date")
    _wrong(lesson1.check_phi(listed | {"Manufacturer"}), "not PHI: Manufacturer",
           "does not list")
    _wrong(lesson1.check_phi(listed | {"PatientPosition"}), "not PHI: PatientPosition")
    _wrong(lesson1.check_phi({"StudyID", "KVP"}), "missing", "not PHI: KVP")
    _wrong(lesson1.check_phi({"PatientName"}), "not one of the candidates")
    _wrong(lesson1.check_phi("StudyID"), "set of keywords")


def test_phi_grading_agrees_with_the_workbooks_profile() -> None:
    """The workbook's own de-identifier (helpers.tables.deid, its profile table and what
    it does to the header) removes or changes every candidate the check calls PHI and
    keeps every other one; dicognito, independent of both, changes none of the kept."""
    from dicognito.anonymizer import Anonymizer

    from helpers.tables import deid

    folder = data.ct_series(lesson1.PHI_SERIES)
    ds = pydicom.dcmread(folder / min(p.name for p in folder.iterdir()),
                         stop_before_pixels=True)
    assert all(ds.get(k) not in (None, "") for k in lesson1.PHI_CANDIDATES)
    profile = dict(zip(deid.profile_table()["keyword"],
                       deid.profile_table()["action"].str[0], strict=True))
    out = deid.deidentify(ds, key="lesson1")
    for keyword in lesson1.PHI_CANDIDATES:
        changed = out.get(keyword) != ds.get(keyword)
        if keyword in lesson1.PHI_ACTIONS:
            assert changed, f"deid keeps {keyword}, which the check calls PHI"
            assert profile.get(keyword, "X") != "K"
        else:
            assert not changed, f"deid changes {keyword}, which the check calls not PHI"
            assert profile.get(keyword, "K") == "K"
    theirs = copy.deepcopy(ds)
    Anonymizer(seed="lesson1").anonymize(theirs)
    assert all(theirs.get(k) == ds.get(k) for k in lesson1.NOT_PHI_REASONS)


def test_phi_names_forms() -> None:
    listed = set(lesson1.PHI_ACTIONS)
    _right(lesson1.check_phi({k.lower() for k in listed}))
    _right(lesson1.check_phi({f" {k} " for k in listed}))
    tags = {str(pydicom.tag.Tag(pydicom.datadict.tag_for_keyword(k))) for k in listed}
    _right(lesson1.check_phi(tags))


def test_series_convention() -> None:
    # the DICOMDIR's C-spine study really has one image per series, and the General
    # Series module (PS3.3 C.7.3.1) sets no count, so "it depends" (d) is the right one
    from pydicom.fileset import FileSet

    fs = FileSet(pydicom.dcmread(data.dicomdir()))
    cr = [i for i in fs if i.Modality == "CR"]
    assert len(cr) == len({i.SeriesInstanceUID for i in cr})
    _right(lesson1.check_series_convention("d"))
    _right(lesson1.check_series_convention(" (D) "))
    _wrong(lesson1.check_series_convention("a"), "convention", "not a rule")
    _wrong(lesson1.check_series_convention("b"), "three CT series")
    _wrong(lesson1.check_series_convention("c"), "laterality")
    _wrong(lesson1.check_series_convention(3), "one letter")


def test_dataset_offset() -> None:
    path = data.real(lesson1.OFFSET_FILE)
    raw = path.read_bytes()
    ds = pydicom.dcmread(path)
    # the dataset starts with the first non-0002 element: find it by its tag bytes
    first = next(iter(ds)).tag
    start = raw.index(struct.pack("<HH", first.group, first.element), 132)
    _right(lesson1.check_dataset_offset(start))
    _wrong(lesson1.check_dataset_offset(128), "DICM")
    _wrong(lesson1.check_dataset_offset(132), "meta group starts")
    _wrong(lesson1.check_dataset_offset(start - 12), "12 bytes")
    _wrong(lesson1.check_dataset_offset(start + 1), "off by one")
    _wrong(lesson1.check_dataset_offset(start + 7), "not it")
    _wrong(lesson1.check_dataset_offset("start"), "whole number")
    group_length = pydicom.filereader.read_file_meta_info(path).FileMetaInformationGroupLength
    _wrong(lesson1.check_dataset_offset(group_length), "group length alone")
    _wrong(lesson1.check_dataset_offset(144), "second meta element")
    # CT_small.dcm's dataset start, which lesson 1 prints in section 6
    ct_raw = data.real("CT_small.dcm").read_bytes()
    ct_first = next(iter(pydicom.dcmread(data.real("CT_small.dcm")))).tag
    ct_start = ct_raw.index(struct.pack("<HH", ct_first.group, ct_first.element), 132)
    assert ct_start != start
    _wrong(lesson1.check_dataset_offset(ct_start), "CT_small.dcm")


# ---- lesson 2 ------------------------------------------------------------------------------

def test_frames_shape() -> None:
    shape = pydicom.dcmread(data.real(lesson2.MULTIFRAME_FILE)).pixel_array.shape
    _right(lesson2.check_frames_shape(shape))
    _right(lesson2.check_frames_shape(list(np.array(shape))))
    _wrong(lesson2.check_frames_shape(shape[1:]), "one frame")
    _wrong(lesson2.check_frames_shape((shape[1], shape[2], shape[0])), "order")
    _wrong(lesson2.check_frames_shape((1, 2, 3)), "NumberOfFrames")
    _wrong(lesson2.check_frames_shape(shape[:1]), "number of frames")
    _wrong(lesson2.check_frames_shape("15x10x10"), "tuple")
    emri = pydicom.dcmread(data.real("emri_small.dcm")).pixel_array.shape
    _wrong(lesson2.check_frames_shape(emri), "emri_small.dcm", "printed")
    _wrong(lesson2.check_frames_shape((*shape, 1)), "one dimension too many")
    _wrong(lesson2.check_frames_shape(shape[0]), "three numbers")


def test_stored_ybr() -> None:
    ds = pydicom.dcmread(data.real(lesson2.YBR_FILE))
    assert ds.PhotometricInterpretation == "YBR_FULL"
    row, col = lesson2.YBR_PIXEL
    # the stored bytes, read straight from Pixel Data (interleaved, PlanarConfiguration 0)
    assert ds.PlanarConfiguration == 0
    stored = np.frombuffer(ds.PixelData, np.uint8).reshape(ds.Rows, ds.Columns, 3)[row, col]
    _right(lesson2.check_stored_ybr(tuple(int(v) for v in stored)))
    _right(lesson2.check_stored_ybr(stored))
    rgb = pixel_array(data.real(lesson2.YBR_FILE))[row, col]
    assert tuple(rgb) != tuple(stored)
    _wrong(lesson2.check_stored_ybr(tuple(int(v) for v in rgb)), "as_rgb=False")
    _wrong(lesson2.check_stored_ybr((0, 0, 0)), f"row {row}")
    _wrong(lesson2.check_stored_ybr((1, 2)), "three")
    _wrong(lesson2.check_stored_ybr(int(stored[0])), "Y alone")
    swapped = np.frombuffer(ds.PixelData, np.uint8).reshape(ds.Rows, ds.Columns, 3)
    neighbour = tuple(int(v) for v in swapped[row + 1, col])
    if neighbour != tuple(int(v) for v in stored):
        _wrong(lesson2.check_stored_ybr(neighbour), "off by one")


def test_folder_counts() -> None:
    # counted here with DCMTK-independent means: pydicom's FileSet over the folder's files
    from pydicom.fileset import FileSet

    fs = FileSet()
    for path in sorted(data.cohort_images().glob("*.dcm")):
        fs.add(pydicom.dcmread(path, stop_before_pixels=True))
    instances = list(fs)
    right = {"patients": len({i.PatientID for i in instances}),
             "studies": len({i.StudyInstanceUID for i in instances}),
             "series": len({i.SeriesInstanceUID for i in instances}),
             "instances": len(instances)}
    assert right["patients"] < right["studies"]
    _right(lesson2.check_folder_counts(right))
    _wrong(lesson2.check_folder_counts({**right, "instances": right["instances"] + 1}),
           "labels CSV")
    _wrong(lesson2.check_folder_counts({**right, "patients": right["studies"]}),
           "patient count is the study count")
    _wrong(lesson2.check_folder_counts({**right, "series": 1}), "series is not right")
    _wrong(lesson2.check_folder_counts((2, 6, 13, 31)), "dict")
    _right(lesson2.check_folder_counts({**right, "errors": 1}))
    # the counts lesson 2 prints for pydicom's test tree, counted here with FileSet too
    tree = FileSet()
    for path in sorted(data.dicomdir().parent.rglob("*")):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:
            continue
        if "SOPInstanceUID" in ds and ds.get("DirectoryRecordSequence") is None:
            tree.add(ds)
    shown = {"patients": len({i.PatientID for i in tree}),
             "studies": len({i.StudyInstanceUID for i in tree}),
             "series": len({i.SeriesInstanceUID for i in tree}), "instances": len(list(tree))}
    _wrong(lesson2.check_folder_counts(shown), "dicomdirtests", "printed")


@pytest.fixture()
def output(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setattr(lesson2, "OUTPUT_DIR", tmp_path)
    return tmp_path


def test_modified_copy(output: Path) -> None:
    source = data.real(lesson2.COPY_SOURCE)
    ds = pydicom.dcmread(source)
    ds.ImageComments = lesson2.COPY_VALUE
    good = output / "copy.dcm"
    ds.save_as(good, enforce_file_format=True)
    _right(lesson2.check_modified_copy(good))
    _right(lesson2.check_modified_copy(str(good)))

    _wrong(lesson2.check_modified_copy(source), "original")
    _wrong(lesson2.check_modified_copy(output / "nothing.dcm"), "no file")
    ds.PatientName = "Someone^Else"
    changed = output / "changed.dcm"
    ds.save_as(changed, enforce_file_format=True)
    _wrong(lesson2.check_modified_copy(changed), "PatientName")
    same = output / "same.dcm"
    shutil.copyfile(source, same)
    _wrong(lesson2.check_modified_copy(same), "not 'Reviewed in lesson 2'")
    ds.PatientName = pydicom.dcmread(source).PatientName
    ds.ImageComments = "reviewed in lesson 2 "
    sloppy = output / "sloppy.dcm"
    ds.save_as(sloppy, enforce_file_format=True)
    _wrong(lesson2.check_modified_copy(sloppy), "almost", "exactly")
    ds.ImageComments = lesson2.COPY_VALUE
    ds.SOPInstanceUID = pydicom.uid.generate_uid()   # file meta left with the old one
    half = output / "half_new_uid.dcm"
    ds.save_as(half, enforce_file_format=False)
    _wrong(lesson2.check_modified_copy(half), "Media Storage SOP Instance UID")
    junk = output / "junk.dcm"
    junk.write_bytes(b"not dicom")
    _wrong(lesson2.check_modified_copy(junk), "cannot be read")
    _wrong(lesson2.check_modified_copy(42), "path")


def test_modified_copy_outside_output(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(lesson2, "OUTPUT_DIR", tmp_path / "output")
    ds = pydicom.dcmread(data.real(lesson2.COPY_SOURCE))
    ds.ImageComments = lesson2.COPY_VALUE
    elsewhere = tmp_path / "elsewhere.dcm"
    ds.save_as(elsewhere, enforce_file_format=True)
    _wrong(lesson2.check_modified_copy(elsewhere), "outside output/")
