"""The broken-input matrix: every public reader, the same broken inputs, one answer.

Each input of :mod:`broken_inputs` (built here from one good file) is fed to every
public reader; each must refuse it with the same :class:`WorkbookError` subclass and
the same sentence (``problem``), and that sentence must name the rule broken (a PS3
section) or the operating system's reason. DCMTK's ``dcm2pnm`` is the outside
witness that each input is broken: it refuses every one of them.

Before helpers.dicom.reading, this matrix failed for 9 of its 10 inputs (e.g. an empty
file was EmptyFileError, NotDicomError "the file is empty" and "only 0 bytes"; a
missing file a raw FileNotFoundError; an unknown VR was read silently by two
readers and leaked pydicom's "Unknown Value Representation 'NO'" from the third).
The FIFO, which hung the byte reader then, was left out of that run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from broken_inputs import BUILDERS, good_bytes  # noqa: E402

from helpers.dicom import dicomio, part10_bytes  # noqa: E402
from helpers.dicom.errors import WorkbookError  # noqa: E402
from helpers.dicom.header import read_header  # noqa: E402
from helpers.image.volume import load_series  # noqa: E402
from helpers.tables.crawl import scan  # noqa: E402

#: What each input is, independent of the code under test: the class, and the rule
#: its sentence must cite.
EXPECTED = {
    "empty": ("EmptyFileError", "PS3.10 7.1"),
    "missing": ("UnreadableFileError", "no such file"),
    "folder": ("NotAFileError", "a folder"),
    "fifo": ("NotAFileError", "FIFO"),
    "cut_in_header": ("TruncatedFileError", "PS3.5 7.1"),
    "cut_in_pixels": ("TruncatedFileError", "PS3.5 7.1.1"),
    "length_past_end": ("TruncatedFileError", "PS3.5 7.1.1"),
    "missing_item_delimiter": ("TruncatedFileError", "PS3.5 7.5"),
    "nonsense_group_length": ("NotDicomError", "PS3.10 7.1"),
    "unknown_vr": ("NotDicomError", "PS3.5 6.2"),
    "no_data_set": ("TruncatedFileError", "PS3.10 7.1"),
    "implicit_in_explicit": ("NotDicomError", "PS3.5 7.1.2"),
    "unreadable": ("UnreadableFileError", "permission denied"),
}
#: Words that would mean a library's message reached the user.
RAW = ("Unknown Value Representation", "No tag to read", "Errno", "pydicom", "struct.error",
       "vanished")


def _refusal(call) -> tuple[str, str]:  # noqa: ANN001
    try:
        call()
    except WorkbookError as exc:
        return exc.kind, exc.problem
    except BaseException as exc:  # noqa: BLE001 - what leaks is the finding
        return f"raw {type(exc).__name__}", str(exc)
    return "read without error", ""


def _scan_refusal(path: Path) -> tuple[str, str]:
    """The crawl's errors-table row for the one file in its folder."""
    table, errors = scan(path.parent, progress=False)
    rows = errors[errors["path"] == path.name].to_dict("records")
    if len(rows) != 1:
        return "not in the errors table", str(table["path"].tolist())
    return rows[0]["kind"], rows[0]["error"]


READERS = {
    "dicomio.read": lambda p: _refusal(lambda: dicomio.read(p)),
    "dicomio.pixels": lambda p: _refusal(lambda: dicomio.pixels(dicomio.read(p))),
    "read_header": lambda p: _refusal(lambda: read_header(p)),
    "read_elements": lambda p: _refusal(
        lambda: part10_bytes.read_elements(p, stop_at_pixel_data=False)),
    "load_series": lambda p: _refusal(lambda: load_series([p])),
    "scan": _scan_refusal,
}
#: A crawl lists a folder: a missing file is not in it, a folder is walked into.
NOT_IN_A_CRAWL = {("scan", "missing"), ("scan", "folder")}


def _unreadable(path: Path, raw: bytes) -> None:
    path.write_bytes(raw)
    path.chmod(0)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("broken")
    raw = good_bytes(tmp)
    made = {}
    for name, build in {**BUILDERS, "unreadable": _unreadable}.items():
        folder = tmp / name  # one folder each, so a crawl sees one file
        folder.mkdir()
        made[name] = folder / f"{name}.dcm"
        build(made[name], raw)
    return made


def _cases() -> list:
    cases = []
    for name in EXPECTED:
        marks = []
        if name == "unreadable" and os.geteuid() == 0:
            marks.append(pytest.mark.skip(reason="as root, chmod 000 does not stop reads: "
                                                 "the permission case needs a normal user"))
        if name == "fifo" and not hasattr(os, "mkfifo"):
            marks.append(pytest.mark.skip(reason="no FIFOs on this system"))
        cases.append(pytest.param(name, marks=marks))
    return cases


@pytest.mark.parametrize("name", _cases())
def test_every_reader_refuses_with_one_class_and_one_sentence(inputs, name):
    path = inputs[name]
    answers = {reader: read(path) for reader, read in READERS.items()
               if (reader, name) not in NOT_IN_A_CRAWL}
    kind, rule = EXPECTED[name]
    wrong = {r: a for r, a in answers.items() if a[0] != kind}
    assert not wrong, f"{name}: expected {kind} from every reader, got {wrong}"
    sentences = {a[1] for a in answers.values()}
    assert len(sentences) == 1, f"{name}: {len(sentences)} wordings: {answers}"
    (sentence,) = sentences
    assert rule in sentence, f"{name}: {sentence!r} does not name {rule!r}"
    assert not [w for w in RAW if w in sentence], f"{name}: a raw message: {sentence!r}"


@pytest.mark.parametrize("name", [n for n in EXPECTED if n not in ("fifo", "unreadable")])
def test_dcmtk_refuses_every_broken_input(inputs, name, tmp_path):
    """The outside witness: DCMTK's dcm2pnm refuses each input too."""
    exe = shutil.which("dcm2pnm") or pytest.skip("dcm2pnm is not installed (Debian: dcmtk)")
    run = subprocess.run([exe, str(inputs[name]), str(tmp_path / "out.pgm")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0, f"dcm2pnm read {name}"


def test_the_good_file_is_read_by_every_reader(tmp_path):
    """The inputs are broken by their one change, not by the file they start from."""
    raw = good_bytes(tmp_path)
    path = tmp_path / "one" / "good.dcm"
    path.parent.mkdir()
    path.write_bytes(raw)
    for reader, read in READERS.items():
        kind, _ = read(path)
        assert kind in ("read without error", "not in the errors table"), (reader, kind)
