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
from helpers.checks import lesson1, lesson2
from helpers.exercises import Feedback


def _right(fb: Feedback) -> None:
    assert isinstance(fb, Feedback) and fb.ok, fb


def _wrong(fb: Feedback, *words: str) -> None:
    assert isinstance(fb, Feedback) and not fb.ok, fb
    for word in words:
        assert word.lower() in fb.message.lower(), (word, fb.message)


ALL_CHECKS = [lesson1.check_lookup, lesson1.check_decoded_element, lesson1.check_phi,
              lesson1.check_series_count, lesson1.check_dataset_offset,
              lesson2.check_frames_shape, lesson2.check_stored_ybr,
              lesson2.check_dicomdir_counts, lesson2.check_modified_copy]


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_placeholder_is_not_yet_answered(check) -> None:
    for placeholder in (..., None):
        fb = check(placeholder)
        assert not fb.ok and "no answer yet" in fb.message
        assert str(fb).startswith("❌ Not yet: no answer yet")


# ---- lesson 1 ------------------------------------------------------------------------------

def test_lookup() -> None:
    ds = pydicom.dcmread(data.real("CT_small.dcm"), stop_before_pixels=True)
    element = ds["PixelSpacing"]  # the real file says what Pixel Spacing looks like
    right = (int(element.tag), element.VR, str(len(element.value)))
    _right(lesson1.check_lookup(right))
    _right(lesson1.check_lookup(("(0028,0030)", "DS", 2)))
    _wrong(lesson1.check_lookup((0x00300028, "DS", "2")), "swapped")
    _wrong(lesson1.check_lookup((0x00280010, "DS", "2")), "Rows")
    _wrong(lesson1.check_lookup((0x00280030, "FL", "2")), "decimal strings")
    _wrong(lesson1.check_lookup((0x00280030, "DS", "1")), "two numbers")
    _wrong(lesson1.check_lookup(("PixelSpacing", "DS", "2")), "integer")
    _wrong(lesson1.check_lookup(0x00280030), "tuple")


def _rows_bytes() -> bytes:
    """The Rows element's 10 bytes, found in the file by searching for its tag."""
    raw = data.real(lesson1.DECODE_FILE).read_bytes()
    at = raw.index(b"\x28\x00\x10\x00US")
    return raw[at:at + 10]


def test_decoded_element() -> None:
    chunk = _rows_bytes()
    group, elem = struct.unpack("<HH", chunk[:4])
    length = struct.unpack("<H", chunk[6:8])[0]
    value = struct.unpack("<H", chunk[8:10])[0]
    assert value == pydicom.dcmread(data.real(lesson1.DECODE_FILE)).Rows
    _right(lesson1.check_decoded_element((group << 16 | elem, chunk[4:6].decode(), length,
                                          value)))
    _wrong(lesson1.check_decoded_element((0x28001000, "US", 2, value)), "big endian")
    _wrong(lesson1.check_decoded_element((0x00100028, "US", 2, value)), "one number")
    _wrong(lesson1.check_decoded_element((0x00280010, "SU", 2, value)), "ASCII")
    _wrong(lesson1.check_decoded_element((0x00280010, "US", 10, value)), "whole element")
    big = int.from_bytes(chunk[8:10], "big")
    _wrong(lesson1.check_decoded_element((0x00280010, "US", 2, big)), "big endian")
    _wrong(lesson1.check_decoded_element((0x00280010, "US", 2)), "four things")


def test_phi_matches_what_dicognito_replaces() -> None:
    from dicognito.anonymizer import Anonymizer

    ds = pydicom.dcmread(data.real("CT_small.dcm"), stop_before_pixels=True)
    for keyword in lesson1.PHI_CANDIDATES:  # give every candidate a value to replace
        if not ds.get(keyword):
            ds.update({keyword: {"PatientBirthDate": "19700101", "AccessionNumber": "A1",
                                 "ReferringPhysicianName": "Doe^Jane"}[keyword]})
    before = copy.deepcopy(ds)
    Anonymizer(seed="lesson1").anonymize(ds)
    replaced = {k for k in lesson1.PHI_CANDIDATES if before.get(k) != ds.get(k)}
    _right(lesson1.check_phi(replaced))
    _right(lesson1.check_phi(sorted(replaced)))
    _wrong(lesson1.check_phi(replaced - {"StudyDate"}), "missing: StudyDate", "dates")
    _wrong(lesson1.check_phi(replaced | {"Manufacturer"}), "not PHI: Manufacturer")
    _wrong(lesson1.check_phi({"PatientName", "Rows"}), "missing", "not PHI: Rows")
    _wrong(lesson1.check_phi({"PatientSex"}), "not one of the candidates")
    _wrong(lesson1.check_phi("PatientName"), "set of keywords")


def test_series_count() -> None:
    from pydicom.fileset import FileSet

    fs = FileSet(pydicom.dcmread(data.dicomdir()))
    series = {inst.SeriesInstanceUID for inst in fs
              if inst.StudyDescription == lesson1.SERIES_STUDY}
    _right(lesson1.check_series_count(len(series)))
    _wrong(lesson1.check_series_count(1), "number of studies")
    _wrong(lesson1.check_series_count(2), "studies this patient has")
    _wrong(lesson1.check_series_count(31), "count the lines")
    _wrong(lesson1.check_series_count("3"), "whole number")


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
    _wrong(lesson1.check_dataset_offset(start + 1), "not it")
    _wrong(lesson1.check_dataset_offset(str(start)), "whole number")


# ---- lesson 2 ------------------------------------------------------------------------------

def test_frames_shape() -> None:
    shape = pydicom.dcmread(data.real(lesson2.MULTIFRAME_FILE)).pixel_array.shape
    _right(lesson2.check_frames_shape(shape))
    _right(lesson2.check_frames_shape(list(np.array(shape))))
    _wrong(lesson2.check_frames_shape(shape[1:]), "one frame")
    _wrong(lesson2.check_frames_shape((shape[1], shape[2], shape[0])), "order")
    _wrong(lesson2.check_frames_shape((1, 2, 3)), "NumberOfFrames")
    _wrong(lesson2.check_frames_shape("10x64x64"), "tuple")


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


def test_dicomdir_counts() -> None:
    from pydicom.fileset import FileSet

    fs = FileSet(pydicom.dcmread(data.dicomdir()))
    instances = list(fs)
    right = {"patients": len({i.PatientID for i in instances}),
             "studies": len({i.StudyInstanceUID for i in instances}),
             "series": len({i.SeriesInstanceUID for i in instances}),
             "instances": len(instances)}
    _right(lesson2.check_dicomdir_counts(right))
    folder = sum(1 for p in data.dicomdir().parent.rglob("*") if p.is_file())
    _wrong(lesson2.check_dicomdir_counts({**right, "instances": folder}), "folder crawl")
    _wrong(lesson2.check_dicomdir_counts({**right, "studies": right["patients"]}),
           "studies is not right")
    _wrong(lesson2.check_dicomdir_counts((2, 6, 13, 31)), "dict")


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
