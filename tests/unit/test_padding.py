"""A file padded after its data set is read by every reader, and the padding shows.

Writers pad files to a block size with zero bytes after the last element, or with
a Data Set Trailing Padding element (FFFC,FFFC) (PS3.10 7.2). The files are built
here from one good file, so the bytes of padding are known without asking the code
under test; pydicom's pixels and DCMTK's ``dcmdump`` are the outside references.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from broken_inputs import good_dataset  # noqa: E402

from helpers.dicom import dicomio, part10_bytes  # noqa: E402
from helpers.dicom.errors import NotDicomError  # noqa: E402
from helpers.dicom.header import read_header  # noqa: E402
from helpers.image.volume import load_series  # noqa: E402
from helpers.tables.crawl import scan  # noqa: E402
from helpers.tables.organize import organize_folder  # noqa: E402

TRAILING = struct.pack("<HH2sHI", 0xFFFC, 0xFFFC, b"OB", 0, 20) + bytes(20)  # 32 bytes
#: name -> bytes appended to the good file (all of them padding)
PADDINGS = {
    "zeros_to_block": None,  # zeros up to the next 2048-byte block
    "three_zeros": bytes(3),
    "trailing_element": TRAILING,
    "zeros_1000": bytes(1000),
    "element_then_zeros": TRAILING + bytes(104),
}
#: bytes after the data set that are not padding
GARBAGE = {"text": b"JUNKJUNKJUNK", "zeros_then_text": bytes(16) + b"JUNKJUNK"}


def _write(folder: Path, name: str, tail: bytes | None) -> tuple[Path, int]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.dcm"
    good_dataset().save_as(path, enforce_file_format=True)
    raw = path.read_bytes()
    if tail is None:
        tail = bytes(-len(raw) % 2048 or 2048)
    path.write_bytes(raw + tail)
    return path, len(tail)


@pytest.mark.parametrize("name", PADDINGS)
def test_every_reader_reads_a_padded_file(tmp_path, name):
    path, padding = _write(tmp_path / "series", name, PADDINGS[name])
    reference = pydicom.dcmread(path).pixel_array  # pydicom reads it
    row = read_header(path)
    assert row["trailing_padding"] == padding
    assert np.array_equal(dicomio.pixels(dicomio.read(path)), reference)
    records = part10_bytes.read_elements(path, stop_at_pixel_data=False)
    assert records[-1].tag in (0x7FE00010, 0xFFFCFFFC)
    table, errors = scan(path.parent, progress=False)
    assert errors.empty, errors.to_dict("records")
    assert table.set_index("path").loc[path.name, "trailing_padding"] == padding
    organized = organize_folder(path.parent)
    assert organized.errors.empty, organized.errors.to_dict("records")
    volume = load_series([path])
    assert np.array_equal(volume.array[0], reference.astype(np.int64) - 1024)


def test_an_unpadded_file_has_no_padding(tmp_path):
    path, _ = _write(tmp_path, "plain", b"")
    assert read_header(path)["trailing_padding"] == 0


@pytest.mark.parametrize("name", ["zeros_1000", "element_then_zeros"])
def test_dcmtk_reads_the_padded_files(tmp_path, name):
    """DCMTK parses zeros as empty (0000,0000) elements of 8 bytes, so it reads zero
    padding whose length is a multiple of 8 (and refuses three zeros, which pydicom
    and the workbook read)."""
    exe = shutil.which("dcmdump") or pytest.skip("dcmdump is not installed (Debian: dcmtk)")
    path, _ = _write(tmp_path, name, PADDINGS[name])
    assert subprocess.run([exe, "-q", str(path)], capture_output=True).returncode == 0


@pytest.mark.parametrize("name", GARBAGE)
def test_other_bytes_after_the_data_set_are_refused_by_every_reader(tmp_path, name):
    path, _ = _write(tmp_path / name, name, GARBAGE[name])
    for read in (read_header, dicomio.read,
                 lambda p: part10_bytes.read_elements(p, stop_at_pixel_data=False)):
        with pytest.raises(NotDicomError, match=r"PS3\.(5 6\.2|10 7\.2)"):
            read(path)
    _, errors = scan(path.parent, progress=False)
    assert errors["kind"].tolist() == ["NotDicomError"]
