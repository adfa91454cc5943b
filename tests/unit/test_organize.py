"""Organising folders and DICOMDIRs, against plain pydicom reads of the same files."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pydicom
import pytest

from helpers import data
from helpers.dicom.errors import NotDicomError
from helpers.paths import path_of, shown
from helpers.tables.organize import organize_dicomdir, organize_folder, tree_text


def _reference_series(files: list[Path]) -> Counter:
    """(patient, study, series) -> instances, with pydicom reading every file itself."""
    counts: Counter = Counter()
    for f in files:
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        counts[(ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID)] += 1
    return counts


def _dicomdir_files() -> list[Path]:
    """The files a DICOMDIR references, from its records (Referenced File ID)."""
    path = data.dicomdir()
    ds = pydicom.dcmread(path)
    return sorted(path.parent.joinpath(*rec.ReferencedFileID)
                  for rec in ds.DirectoryRecordSequence if "ReferencedFileID" in rec)


# The DICOMDIR tree is read once per module: by organize_dicomdir, by organize_folder,
# and by pydicom (the reference); each test checks its own property of those readings.
@pytest.fixture(scope="module")
def by_dicomdir():
    return organize_dicomdir(data.dicomdir())


@pytest.fixture(scope="module")
def by_folder():
    return organize_folder(data.dicomdir().parent)


@pytest.fixture(scope="module")
def referenced() -> tuple[list[Path], Counter]:
    """The files the DICOMDIR references and pydicom's series counts of them."""
    files = _dicomdir_files()
    return files, _reference_series(files)


def test_dicomdir_matches_the_files_it_references(by_dicomdir, referenced) -> None:
    org = by_dicomdir
    files, expected = referenced
    got = Counter({(r.PatientID, r.StudyInstanceUID, r.SeriesInstanceUID): r.instances
                   for r in org.series.itertuples()})
    assert got == expected
    assert org.counts == {
        "patients": len({k[0] for k in expected}), "studies": len({k[1] for k in expected}),
        "series": len(expected), "instances": len(files), "errors": 0,
    }
    # the records' SOP Instance UIDs are those in the files' own headers
    headers = {shown(f): pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID
               for f in files}
    assert dict(zip(org.instances["path"], org.instances["SOPInstanceUID"], strict=True)) \
        == headers


def test_folder_and_dicomdir_agree_on_the_same_tree(by_dicomdir, by_folder) -> None:
    by_dir = by_dicomdir
    listed = set(by_dir.instances["path"])
    folder_rows = by_folder.instances[by_folder.instances["path"].isin(listed)]
    cols = ["path", "PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"]
    left = by_dir.instances[cols].sort_values("path").reset_index(drop=True)
    right = folder_rows[cols].sort_values("path").reset_index(drop=True)
    assert left.equals(right)


def test_folder_counts_match_pydicom(by_folder) -> None:
    tree = data.dicomdir().parent
    org = by_folder
    readable = []
    for f in sorted(p for p in tree.rglob("*") if p.is_file()):
        try:
            ds = pydicom.dcmread(f, stop_before_pixels=True)
        except pydicom.errors.InvalidDicomError:
            continue
        if "DirectoryRecordSequence" not in ds:
            readable.append(f)
    expected = _reference_series(readable)
    got = Counter({(r.PatientID, r.StudyInstanceUID, r.SeriesInstanceUID): r.instances
                   for r in org.series.itertuples()})
    assert got == expected
    assert org.counts["instances"] == len(readable)


def test_bad_files_are_reported_and_the_crawl_goes_on(tmp_path: Path) -> None:
    good = ["CT_small.dcm", "MR_small.dcm", "MR_small_implicit.dcm"]
    for name in good:
        shutil.copyfile(data.real(name), tmp_path / name)
    (tmp_path / "notes.txt").write_text("not DICOM")
    (tmp_path / "empty.dcm").write_bytes(b"")
    raw = data.real("CT_small.dcm").read_bytes()
    (tmp_path / "cut.dcm").write_bytes(raw[:700])  # cut inside the header
    shutil.copyfile(data.real("CT_small.dcm"), tmp_path / "sub_copy.dcm")  # a duplicate
    ds = pydicom.dcmread(data.real("MR_small.dcm"))
    del ds.SeriesInstanceUID
    ds.SOPInstanceUID = pydicom.uid.generate_uid(entropy_srcs=["test"])
    ds.save_as(tmp_path / "no_series.dcm")
    shutil.copyfile(data.dicomdir(), tmp_path / "DICOMDIR")

    org = organize_folder(tmp_path)
    names = org.errors["path"].str.rsplit("/", n=1).str[-1]
    problems = dict(zip(names, org.errors["error"], strict=True))
    kinds = dict(zip(names, org.errors["kind"], strict=True))
    # one error vocabulary: the crawl's columns, kind the WorkbookError subclass
    assert list(org.errors.columns) == ["path", "kind", "error"]
    assert kinds == {"notes.txt": "NotDicomError", "empty.dcm": "EmptyFileError",
                     "cut.dcm": "TruncatedFileError", "sub_copy.dcm": "DuplicateInstanceError",
                     "no_series.dcm": "MissingTagError", "DICOMDIR": "NotAnInstanceError",
                     "MR_small_implicit.dcm": "DuplicateInstanceError"}
    # MR_small_implicit.dcm is MR_small.dcm in another encoding: the same instance
    assert set(problems) == {"notes.txt", "empty.dcm", "cut.dcm", "sub_copy.dcm",
                             "no_series.dcm", "DICOMDIR", "MR_small_implicit.dcm"}
    assert "empty" in problems["empty.dcm"]
    assert "DICM" in problems["notes.txt"]
    assert "SeriesInstanceUID" in problems["no_series.dcm"]
    assert "same SOP Instance UID as" in problems["sub_copy.dcm"]
    assert "DICOMDIR" in problems["DICOMDIR"]
    assert "same SOP Instance UID as" in problems["MR_small_implicit.dcm"]
    assert sorted(f.rsplit("/", 1)[-1] for f in org.instances["path"]) == ["CT_small.dcm",
                                                                           "MR_small.dcm"]


def test_missing_file_in_dicomdir_is_reported(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(data.dicomdir().parent, tree)
    victim = tree / "77654033" / "CR1" / "6154"
    victim.unlink()
    org = organize_dicomdir(tree / "DICOMDIR")
    assert len(org.errors) == 1
    assert org.errors["error"].iloc[0] == "listed in the DICOMDIR but missing on disk"
    assert org.errors["kind"].iloc[0] == "UnreadableFileError"
    assert org.errors["path"].iloc[0].endswith("77654033/CR1/6154")
    assert org.counts["instances"] == len(_dicomdir_files()) - 1


def test_not_a_dicomdir_or_not_a_folder() -> None:
    with pytest.raises(NotDicomError, match="DICOMDIR"):
        organize_dicomdir(data.real("CT_small.dcm"))
    with pytest.raises(NotDicomError, match="not a folder"):
        organize_folder(data.real("CT_small.dcm"))


def test_tree_text_lists_every_series_with_its_count(by_dicomdir, referenced) -> None:
    text = tree_text(by_dicomdir, instances_shown=1)
    _, expected = referenced
    for (_patient, study, series), n in expected.items():
        line = next(ln for ln in text.splitlines() if f"Series {series} " in ln)
        assert line.endswith(f"[{n} instance{'' if n == 1 else 's'}]")
        assert f"Study {study} " in text
    assert text.count("Instance ") == len(expected)
    assert text.count("Patient ") == len({k[0] for k in expected})


def test_tree_text_uid_tails(by_dicomdir, referenced) -> None:
    text = tree_text(by_dicomdir, instances_shown=1, uid_tail=12)
    for (_patient, study, series), _n in referenced[1].items():
        assert f"Series …{series[-12:]} " in text and series not in text
        assert f"Study …{study[-12:]} " in text
    assert all(len(word) <= 13 for line in text.splitlines() if "Instance …" in line
               for word in [line.split("Instance ")[1]])


def test_path_of_finds_the_files_again(by_dicomdir) -> None:
    org = by_dicomdir
    for path, uid in zip(org.instances["path"], org.instances["SOPInstanceUID"], strict=True):
        assert pydicom.dcmread(path_of(path), stop_before_pixels=True).SOPInstanceUID == uid


def test_files_outside_the_repository_are_named_relative_to_the_folder(tmp_path: Path) -> None:
    """Issue 14: two files called 0.dcm in two sub-folders must not read alike."""
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        shutil.copyfile(data.real("CT_small.dcm"), tmp_path / sub / "0.dcm")
    (tmp_path / "b" / "junk").mkdir()
    (tmp_path / "b" / "junk" / "0.dcm").write_bytes(b"not DICOM")
    org = organize_folder(tmp_path)
    assert list(org.instances["path"]) == ["a/0.dcm"]
    problems = dict(zip(org.errors["path"], org.errors["error"], strict=True))
    assert problems["b/0.dcm"] == "same SOP Instance UID as a/0.dcm (a duplicate copy)"
    assert "DICM" in problems["b/junk/0.dcm"]
