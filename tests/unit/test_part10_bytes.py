"""The byte-level walker against pydicom's own parser, element by element.

The reference is pydicom's reader (``data_element_generator`` for the file meta
group and the top-level dataset, ``read_sequence`` for sequences of defined
length, parsed in place in the file so every value offset is absolute), never a
value copied from the walker.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pydicom
import pytest
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.filereader import data_element_generator, read_sequence
from pydicom.multival import MultiValue
from pydicom.uid import UID

from helpers import data
from helpers.dicom.errors import NotDicomError, TruncatedFileError, WorkbookError
from helpers.dicom.part10_bytes import (
    PIXEL_DATA_TAGS,
    UNDEFINED_LENGTH,
    read_elements,
    read_preamble,
    transfer_syntax,
)

pytestmark = pytest.mark.filterwarnings("ignore:Invalid value for VR")

#: Files with different transfer syntaxes, flat and nested sequences.
FILES = [
    "CT_small.dcm",                   # explicit VR little endian, a private sequence
    "MR_small_implicit.dcm",          # implicit VR little endian
    "MR_small_bigendian.dcm",         # explicit VR big endian
    "MR_small_RLE.dcm",               # RLE lossless, encapsulated pixel data
    "JPEG2000.dcm",                   # JPEG 2000, sequences of undefined length
    "693_J2KR.dcm",                   # JPEG 2000 lossless
    "rtplan.dcm",                     # implicit VR, sequences 3 deep, no pixel data
    "rtdose.dcm",                     # implicit VR, multi-frame
    "test-SR.dcm",                    # structured report, sequences 5 deep
    "waveform_ecg.dcm",               # waveform, private elements after the data
    "emri_small.dcm",                 # multi-frame
    "SC_rgb_jpeg_gdcm.dcm",           # JPEG lossless colour
]


def _reference(path: Path) -> tuple[list[tuple], int | None]:
    """pydicom's elements in file order: (value offset, tag, VR, length, bytes, depth).

    Also returns the offset of the top-level Pixel Data element (or None).
    """
    out: list[tuple] = []
    with open(path, "rb") as fp:
        fp.seek(132)
        meta = list(data_element_generator(fp, False, True,
                                           stop_when=lambda tag, vr, length: tag.group != 2))
        out += [(el.value_tell, int(el.tag), el.VR, el.length, el.value, 0, True, True)
                for el in meta]
        ts = UID(next(el for el in meta if el.tag == 0x00020010).value.rstrip(b"\0 ").decode())
        implicit, little = ts.is_implicit_VR, ts.is_little_endian
        top = list(data_element_generator(
            fp, implicit, little, stop_when=lambda tag, vr, length: tag in PIXEL_DATA_TAGS))
        pixel_offset: int | None = fp.tell()
        if not fp.read(1):
            pixel_offset = None
        _flatten(fp, top, implicit, little, 0, out)
    return out, pixel_offset


def _flatten(fp, elements, implicit: bool, little: bool, depth: int, out: list) -> None:
    for el in elements:
        if isinstance(el, RawDataElement):
            vr = el.VR if el.VR is not None else convert_raw_data_element(el).VR
            out.append((el.value_tell, int(el.tag), vr, el.length, el.value, depth,
                        implicit, little))
            if vr == "SQ" and el.length:
                fp.seek(el.value_tell)
                seq = read_sequence(fp, implicit, little, el.length, "iso8859")
                _items(fp, seq, implicit, little, depth, out)
        else:  # a sequence of undefined length, already parsed by pydicom
            assert isinstance(el, DataElement) and el.VR == "SQ"
            out.append((el.file_tell, int(el.tag), "SQ", UNDEFINED_LENGTH, None, depth,
                        implicit, little))
            _items(fp, el.value, implicit, little, depth, out)


def _items(fp, seq, implicit, little, depth, out) -> None:
    for item in seq:
        _flatten(fp, [item.get_item(tag, keep_deferred=True) for tag in item.keys()],
                 implicit, little, depth + 1, out)


def _pydicom_value(ref: tuple) -> object:
    value_tell, tag, vr, length, raw, _depth, implicit, little = ref
    el = convert_raw_data_element(
        RawDataElement(tag, None if implicit else vr, length, raw, value_tell, implicit, little))
    value = el.value
    if value is None:  # pydicom's empty value; the walker gives an empty string
        return ""
    if isinstance(value, MultiValue | list):
        return [v if isinstance(v, int | float) and not isinstance(v, str) else str(v)
                for v in value]
    return value if isinstance(value, int | float) and not isinstance(value, str) else str(value)


@pytest.mark.parametrize("name", FILES)
def test_walker_agrees_with_pydicom_on_every_element(name: str) -> None:
    path = data.real(name)
    records = read_elements(path, max_value_bytes=1 << 20)
    elements = [r for r in records if r.vr and r.tag not in PIXEL_DATA_TAGS]
    reference, pixel_offset = _reference(path)
    assert len(elements) == len(reference), name
    compared_values = 0
    for rec, ref in zip(elements, reference, strict=True):
        value_tell, tag, vr, length, raw, depth, _implicit, _little = ref
        where = f"{name} {rec.tag_text} at byte {rec.offset}"
        assert (rec.tag, rec.vr, rec.length, rec.depth) == (tag, vr, length, depth), where
        if rec.vr == "SQ":
            continue
        assert rec.value_offset == value_tell, where
        assert rec.raw == (raw or b""), where
        if rec.value is not None:
            expected = _pydicom_value(ref)
            got = rec.value
            if isinstance(expected, str):
                # pydicom also strips the leading spaces of numbers written as text (DS, IS)
                assert got == expected or got.strip() == expected.strip(), where
            elif isinstance(expected, list) and expected and isinstance(expected[0], str):
                assert [g.strip() for g in got] == [e.strip() for e in expected], where
            else:
                assert got == expected, where
            compared_values += 1
    assert compared_values > 10
    if pixel_offset is not None:
        assert records[-1].tag in PIXEL_DATA_TAGS and records[-1].offset == pixel_offset


def test_three_transfer_syntaxes_are_covered() -> None:
    syntaxes = {transfer_syntax(read_elements(data.real(name), max_elements=10)) for name in FILES}
    assert {pydicom.uid.ExplicitVRLittleEndian, pydicom.uid.ImplicitVRLittleEndian,
            pydicom.uid.RLELossless} <= syntaxes


def test_pixel_data_header_matches_pydicom() -> None:
    path = data.real("CT_small.dcm")
    last = read_elements(path)[-1]
    ds = pydicom.dcmread(path)
    assert last.keyword == "PixelData"
    assert last.length == len(ds.PixelData)
    with open(path, "rb") as fp:  # pydicom reads the next element where the walker says
        fp.seek(last.end)
        following = next(data_element_generator(fp, False, True))
    assert following.value_tell - 12 == last.end or following.value_tell - 8 == last.end
    assert following.tag > last.tag


def test_encapsulated_fragments_match_pydicom() -> None:
    from pydicom.encaps import generate_fragments

    path = data.real("MR_small_RLE.dcm")
    records = read_elements(path, stop_at_pixel_data=False, max_value_bytes=1 << 20)
    fragments = [r.raw for r in records if r.tag == 0xFFFEE000 and r.depth == 0]
    ds = pydicom.dcmread(path)
    expected = list(generate_fragments(ds.PixelData))
    assert fragments == expected  # the first item is the Basic Offset Table (here empty)
    delimiter = next(r for r in records if r.tag == 0xFFFEE0DD)
    after = records[records.index(delimiter) + 1:]
    # what follows the pixel data is what pydicom reads after it
    assert [(r.tag, r.length) for r in after] == [
        (int(el.tag), len(el.value)) for el in ds if el.tag > 0x7FE00010]


def test_max_elements_stops_early() -> None:
    records = read_elements(data.real("CT_small.dcm"), max_elements=3)
    assert [r.keyword for r in records][:1] == ["FileMetaInformationGroupLength"]
    assert len(records) == 3


def test_preamble_and_prefix() -> None:
    path = data.real("CT_small.dcm")
    pre = read_preamble(path)
    assert pre.prefix == b"DICM"
    raw = path.read_bytes()
    assert pre.preamble == raw[:128]


def test_meta_group_length_matches_the_meta_elements() -> None:
    for name in FILES[:4]:
        records = read_elements(data.real(name), max_elements=20)
        meta = [r for r in records if r.part == "meta"]
        assert meta[0].keyword == "FileMetaInformationGroupLength"
        assert meta[-1].end - meta[0].end == meta[0].value
        group_length = pydicom.dcmread(data.real(name)).file_meta.FileMetaInformationGroupLength
        assert meta[0].value == group_length


# ---- bad input: clear errors naming the file, bounded reads -------------------------------

def test_no_dicm_prefix(tmp_path: Path) -> None:
    with pytest.raises(NotDicomError, match="no 'DICM' at byte 128"):
        read_elements(data.real("no_meta.dcm"))
    short = tmp_path / "short.dcm"
    short.write_bytes(b"\0" * 100)
    with pytest.raises(NotDicomError, match=r"short\.dcm: only 100 bytes"):
        read_elements(short)


def test_truncated_pixel_data() -> None:
    with pytest.raises(TruncatedFileError, match=r"MR_truncated\.dcm: .*declares 8192 bytes"):
        read_elements(data.real("MR_truncated.dcm"))


def _file(tmp_path: Path, dataset: bytes, uid: bytes = b"1.2.840.10008.1.2.1\0") -> Path:
    meta = b"\x02\x00\x10\x00UI" + struct.pack("<H", len(uid)) + uid
    p = tmp_path / "made.dcm"
    p.write_bytes(b"\0" * 128 + b"DICM" + meta + dataset)
    return p


def test_huge_declared_length_is_refused_without_reading(tmp_path: Path) -> None:
    # (0010,0010) claims a 4 GB - 2 value in an explicit VR UT element of a tiny file
    huge = b"\x10\x00\x10\x00UT\0\0" + struct.pack("<I", 0xFFFFFFFE) + b"abc"
    with pytest.raises(TruncatedFileError, match=r"made\.dcm: .*4294967294 bytes.*only 3 remain"):
        read_elements(_file(tmp_path, huge))


def test_header_running_past_the_end(tmp_path: Path) -> None:
    with pytest.raises(TruncatedFileError,
                       match=r"made\.dcm: truncated: the file ends inside a data element header"):
        read_elements(_file(tmp_path, b"\x10\x00\x10\x00PN"))


def test_not_a_vr(tmp_path: Path) -> None:
    with pytest.raises(NotDicomError, match=r"written with implicit VRs but the Transfer Syntax"):
        read_elements(_file(tmp_path, b"\x10\x00\x10\x00\x04\x00\x00\x00abcd"))


def test_item_length_past_its_sequence(tmp_path: Path) -> None:
    item = b"\xfe\xff\x00\xe0" + struct.pack("<I", 100) + b"\0" * 8
    seq = b"\x08\x00\x15\x11SQ\0\0" + struct.pack("<I", len(item)) + item
    with pytest.raises(TruncatedFileError, match="declares 100 bytes"):
        read_elements(_file(tmp_path, seq))


def test_deflate_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WorkbookError, match="deflated"):
        read_elements(_file(tmp_path, b"", uid=b"1.2.840.10008.1.2.1.99\0\0"))


def test_implicit_vr_uses_the_dictionary(tmp_path: Path) -> None:
    # implicit VR LE: (0028,0010) Rows = 64; (0029,0010) private creator; (0029,1001) private
    body = (b"\x28\x00\x10\x00" + struct.pack("<I", 2) + struct.pack("<H", 64)
            + b"\x29\x00\x10\x00" + struct.pack("<I", 4) + b"ACME"
            + b"\x29\x00\x01\x10" + struct.pack("<I", 2) + b"\x01\x02")
    records = read_elements(_file(tmp_path, body, uid=b"1.2.840.10008.1.2\0"))
    ds = pydicom.dcmread(tmp_path / "made.dcm")
    got = [(r.tag, r.vr, r.value) for r in records if r.part == "dataset"]
    assert got == [(0x00280010, ds["Rows"].VR, ds.Rows),
                   (0x00290010, ds[0x00290010].VR, ds[0x00290010].value),
                   (0x00291001, "UN", None)]


def test_undefined_length_text_is_refused(tmp_path: Path) -> None:
    body = b"\x10\x00\x10\x00UT\0\0" + struct.pack("<I", UNDEFINED_LENGTH) + b"abcd"
    with pytest.raises(NotDicomError, match=r"\(0010,0010\) at byte \d+ has undefined length"):
        read_elements(_file(tmp_path, body))


def test_hexdump_matches_the_bytes() -> None:
    from helpers.dicom.part10_bytes import hexdump

    path = data.real("CT_small.dcm")
    raw = path.read_bytes()
    lines = hexdump(path, 120, 20).splitlines()
    assert [ln.split()[0] for ln in lines] == ["120", "136"]
    assert bytes.fromhex("".join(ln[8:8 + 47] for ln in lines)) == raw[120:140]
    assert lines[0].endswith("........DICM....")


@pytest.mark.parametrize("syntax", [pydicom.uid.ExplicitVRLittleEndian,
                                    pydicom.uid.ImplicitVRLittleEndian,
                                    pydicom.uid.ExplicitVRBigEndian])
def test_walker_agrees_on_every_vr_pydicom_writes(tmp_path: Path, syntax) -> None:
    """A file written by pydicom with one element of (almost) every VR, and nesting."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence

    ds = Dataset()
    ds.SOPClassUID = pydicom.uid.SecondaryCaptureImageStorage
    ds.SOPInstanceUID = "1.2.3.4"
    ds.PatientName = "Doe^Jane"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.PixelSpacing = ["0.5", "0.25"]
    ds.Rows, ds.Columns = 2, 3
    ds.FrameIncrementPointer = [0x00181063, 0x00181065]                     # AT, VM 2
    ds.add_new(0x00091010, "LO", "ACME 1.0")                                # private creator
    ds.add_new(0x00091001, "UN", b"\x01\x02\x03\x04")                       # explicit UN
    ds.add_new(0x00091002, "FD", [1.5, -2.25])
    ds.add_new(0x00091003, "SL", -7)
    ds.add_new(0x00091004, "OB", b"\x00\xff")
    ds.add_new(0x00091005, "UT", ("long text " * 20).strip())
    ds.add_new(0x00091006, "SV", -(2**40))
    ds.add_new(0x00091007, "UV", 2**50)
    ds.add_new(0x00091008, "OF", b"\0\0\x80\x3f")
    ds.add_new(0x00091009, "UR", "http://example.com")
    inner = Dataset()
    inner.CodeValue, inner.CodingSchemeDesignator = "T-D0050", "SRT"
    item = Dataset()
    item.ConceptNameCodeSequence = Sequence([inner])
    item.TextValue = "nested"
    ds.ContentSequence = Sequence([item, Dataset()])  # an empty item too
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    path = tmp_path / "written.dcm"
    ds.save_as(path, enforce_file_format=True)

    records = read_elements(path, max_value_bytes=1 << 20)
    elements = [r for r in records if r.vr]
    reference, _ = _reference(path)
    assert [(r.tag, r.depth) for r in elements] == [(ref[1], ref[5]) for ref in reference]
    for rec, ref in zip(elements, reference, strict=True):
        if rec.vr != "SQ":
            assert (rec.value_offset, rec.length, rec.raw) == (ref[0], ref[3], ref[4] or b"")
        if rec.explicit_vr or not rec.is_private:
            assert rec.vr == ref[2], rec.tag_text
    assert max(r.depth for r in records) == 2
    # and the decoded values are the values pydicom was given
    for rec in elements:
        if rec.depth == 0 and rec.part == "dataset" and rec.value is not None:
            given = ds[rec.tag].value
            given = list(given) if isinstance(given, list | MultiValue) else given
            if isinstance(given, list):
                assert [str(v) if isinstance(v, str) else v for v in given] == rec.value
            else:
                assert (str(given) if isinstance(given, str) else given) == rec.value, \
                    rec.tag_text
