"""Nothing is lost: the lessons never modify a source file; writers refuse to overwrite.

``test_every_notebook_leaves_the_data_untouched`` takes each lesson's one run of the
session (``lesson_runs.py``: a copy of the lesson in a temporary folder, with
``DICOM_WORKBOOK_OUTPUT`` pointing to a temporary output folder, data/ made
read-only) and the SHA-256 of every file under ``data/`` before and after it: same
files, same hashes.

Read-only, even for root (CI runs as root, and root ignores permission bits), by
the strongest means available:

1. ``unshare --mount`` + a read-only bind mount of ``data/`` onto itself: a private
   mount namespace in which every write under ``data/`` fails with EROFS, for
   every user (nothing outside the subprocess sees the mount);
2. otherwise, ``chmod -R a-w data/`` for the run (restored afterwards), run under
   ``setpriv`` without the capabilities that bypass permissions when root;
3. otherwise only the hashes are compared (reported in the test output).

In every case the subprocess first proves the protection works by failing to
create a file in ``data/``.

The writer tests check :func:`helpers.dicom.dicomio.save_copy` and
:func:`helpers.tables.write.write_csv` and :func:`helpers.tables.write.write_parquet`
refuse to overwrite unless asked explicitly.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from lesson_runs import LESSONS, errors_of

from helpers.dicom import dicomio
from helpers.dicom.errors import OverwriteError
from helpers.paths import DATA_DIR
from helpers.tables.write import write_csv, write_parquet


def test_there_are_lessons_and_data() -> None:
    """Guard for the test below, which is parametrised over the lessons: fail, not skip."""
    assert LESSONS, "no lessons in notebooks/"
    assert DATA_DIR.is_dir(), "data/ is missing: run `make data`"


@pytest.mark.slow
@pytest.mark.lessons
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_every_notebook_leaves_the_data_untouched(lesson: Path, lesson_runs) -> None:
    run = lesson_runs.get(lesson)
    print(f"{lesson.name} run with data/ protected by {run.how}")
    assert run.before, "data/ holds no files"
    assert run.returncode != 97, "data/ could still be written: the protection did not work"
    assert run.returncode == 0 and run.executed is not None, (
        f"{lesson.name} did not run with data/ read-only:\n{run.stderr[-4000:]}")
    raised = [f"cell {i}: {e}" for i, c in enumerate(run.executed.cells) if (e := errors_of(c))]
    assert not raised, f"{lesson.name} failed with data/ read-only:\n" + "\n".join(raised)[-4000:]
    before, after = run.before, run.after
    assert sorted(after) == sorted(before), (
        f"files appeared: {sorted(set(after) - set(before))}, "
        f"vanished: {sorted(set(before) - set(after))}")
    changed = sorted(k for k in before if before[k] != after[k])
    assert not changed, f"source files modified by the lessons: {changed}"


# --------------------------------------------------------------------------- writers
@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "source.dcm"
    shutil.copyfile(DATA_DIR / "real" / "CT_small.dcm", src)
    return src


def test_save_copy_refuses_an_existing_file(source: Path, tmp_path: Path) -> None:
    ds = dicomio.read(source)
    target = tmp_path / "copy.dcm"
    target.write_bytes(b"precious")
    with pytest.raises(OverwriteError, match="copy.dcm: already exists"):
        dicomio.save_copy(ds, target)
    assert target.read_bytes() == b"precious"
    dicomio.save_copy(ds, target, overwrite=True)  # asked explicitly
    assert dicomio.read(target).SOPInstanceUID == ds.SOPInstanceUID


@pytest.mark.parametrize("how", ["same path", "symbolic link", "hard link"])
def test_save_copy_never_replaces_its_source(source: Path, tmp_path: Path, how: str) -> None:
    original = source.read_bytes()
    ds = dicomio.read(source)
    ds.PatientName = "Changed^Name"
    target = {"same path": source, "symbolic link": tmp_path / "link.dcm",
              "hard link": tmp_path / "hard.dcm"}[how]
    if how == "symbolic link":
        target.symlink_to(source)
    elif how == "hard link":
        os.link(source, target)
    for overwrite in (False, True):
        with pytest.raises(OverwriteError):
            dicomio.save_copy(ds, target, overwrite=overwrite)
    assert source.read_bytes() == original


def test_write_csv_refuses_other_content(tmp_path: Path) -> None:
    import pandas as pd

    path = tmp_path / "clean.csv"
    table = pd.DataFrame({"a": [1, 2]})
    write_csv(table, path)
    first = path.read_bytes()
    for again in (table, pd.DataFrame({"a": [3]})):  # the one writer rule: any existing file
        with pytest.raises(OverwriteError, match="clean.csv"):
            write_csv(again, path)
    assert path.read_bytes() == first
    write_csv(pd.DataFrame({"a": [3]}), path, overwrite=True)  # asked explicitly
    assert path.read_text() == "a\n3\n"


def test_write_parquet_follows_the_same_rule(tmp_path: Path) -> None:
    """An existing dataset, even the same table again: refused, unless overwrite=True,
    which still never deletes a folder holding anything but Parquet files."""
    import pandas as pd

    table = pd.DataFrame({"Modality": ["CT", "CT", "MR"], "n": [1, 2, 3]})
    out = write_parquet(table, tmp_path / "t")
    files = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    other = table.assign(n=[7, 8, 9])
    for again in (table.copy(), other):
        with pytest.raises(OverwriteError, match="already exists"):
            write_parquet(again, out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == files
    write_parquet(other, out, overwrite=True)
    assert pd.read_parquet(out)["n"].tolist() == [7, 8, 9]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious")
    with pytest.raises(OverwriteError, match="not Parquet"):
        write_parquet(table, mine, overwrite=True)
    assert (mine / "notes.txt").read_text() == "precious"
    assert not list(tmp_path.glob(".*.writing"))  # no staging left behind
