"""Broken inputs built from one good file, for the reader matrix (test_reading.py).

Each builder writes one file (or folder, FIFO) at ``path`` from the bytes of a small
explicit VR little endian CT slice built here, and names the rule it breaks.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid


def good_dataset() -> Dataset:
    """A 16 x 16 CT slice with a sequence (for the delimiter case)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = uid = "1.2.826.0.1.3680043.8.498.24"
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, uid
    ds.StudyInstanceUID = ds.SeriesInstanceUID = generate_uid(entropy_srcs=["broken"])
    ds.PatientID, ds.PatientName, ds.Modality = "BROKEN1", "Broken^File", "CT"
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "T-D3000", "SRT", "Chest"
    ds.AnatomicRegionSequence = Sequence([code])
    ds.Rows = ds.Columns = 16
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, 0], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.SliceThickness = [1, 1], 1
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.PixelData = np.arange(256, dtype="<u2").tobytes()
    return ds


def good_bytes(tmp: Path) -> bytes:
    path = tmp / "good.dcm"
    if not path.exists():
        good_dataset().save_as(path, enforce_file_format=True)
    return path.read_bytes()


def _find(raw: bytes, tag: int) -> int:
    """Offset of an explicit VR LE element's tag (the first after the file meta)."""
    needle = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    at = raw.find(needle, 132 + 12)
    assert at > 0, hex(tag)
    return at


def empty(path: Path, raw: bytes) -> None:
    path.write_bytes(b"")


def missing(path: Path, raw: bytes) -> None:
    pass  # nothing written


def folder(path: Path, raw: bytes) -> None:
    path.mkdir()


def fifo(path: Path, raw: bytes) -> None:
    os.mkfifo(path)


def cut_in_header(path: Path, raw: bytes) -> None:
    """Cut inside the element header of Patient's Name (PS3.5 7.1)."""
    path.write_bytes(raw[:_find(raw, 0x00100010) + 5])


def cut_in_pixels(path: Path, raw: bytes) -> None:
    """Half the Pixel Data value is gone (PS3.5 7.1.1: the value length)."""
    path.write_bytes(raw[:len(raw) - 256])


def length_past_end(path: Path, raw: bytes) -> None:
    """Patient ID (LO, 2-byte length) declares 60000 bytes (PS3.5 7.1.1)."""
    at = _find(raw, 0x00100020)
    path.write_bytes(raw[:at + 6] + struct.pack("<H", 60000) + raw[at + 8:])


def missing_item_delimiter(path: Path, raw: bytes) -> None:
    """The sequence, rewritten with undefined lengths, loses its delimiters and the rest
    of the file (PS3.5 7.5)."""
    at = _find(raw, 0x00082218)  # Anatomic Region Sequence, SQ, defined length
    length = struct.unpack("<I", raw[at + 8:at + 12])[0]
    item = raw[at + 12:at + 12 + length]
    item = item[:4] + struct.pack("<I", 0xFFFFFFFF) + item[8:]
    path.write_bytes(raw[:at + 8] + struct.pack("<I", 0xFFFFFFFF) + item)


def nonsense_group_length(path: Path, raw: bytes) -> None:
    """File Meta Information Group Length (0002,0000) says 0xFFFFFFF0 bytes (PS3.10 7.1)."""
    at = raw.find(struct.pack("<HH", 0x0002, 0x0000), 128)
    path.write_bytes(raw[:at + 8] + struct.pack("<I", 0xFFFFFFF0) + raw[at + 12:])


def unknown_vr(path: Path, raw: bytes) -> None:
    """Patient's Name's VR bytes are 'NO' (PS3.5 6.2: not a VR)."""
    at = _find(raw, 0x00100010)
    path.write_bytes(raw[:at + 4] + b"NO" + raw[at + 6:])


def no_data_set(path: Path, raw: bytes) -> None:
    """The file meta information and nothing after it (PS3.10 7.1)."""
    path.write_bytes(raw[:_find(raw, 0x00080016)])


def implicit_in_explicit(path: Path, raw: bytes) -> None:
    """The file meta says Explicit VR Little Endian; the data set is written implicit
    VR (PS3.5 7.1.2 and 7.1.3)."""
    ds = good_dataset()
    meta = DicomBytesIO()
    meta.write(bytes(128) + b"DICM")
    write_file_meta_info(meta, ds.file_meta)
    body = DicomBytesIO()
    body.is_little_endian, body.is_implicit_VR = True, True
    write_dataset(body, ds)
    path.write_bytes(meta.getvalue() + body.getvalue())


BUILDERS: dict[str, Callable[[Path, bytes], None]] = {
    "empty": empty, "missing": missing, "folder": folder, "fifo": fifo,
    "cut_in_header": cut_in_header, "cut_in_pixels": cut_in_pixels,
    "length_past_end": length_past_end, "missing_item_delimiter": missing_item_delimiter,
    "nonsense_group_length": nonsense_group_length, "unknown_vr": unknown_vr,
    "no_data_set": no_data_set, "implicit_in_explicit": implicit_in_explicit,
}
