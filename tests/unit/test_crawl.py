"""helpers.tables.crawl.scan on real files mixed with junk: every file accounted for once,
on Dask's local processes scheduler and on a two-worker ``LocalCluster``.

References nobody here wrote: pydicom's own dcmread for the header values, DCMTK's
dcmdump for which files are readable DICOM at all, DuckDB for the Parquet table.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pydicom
import pytest
from PIL import Image

from helpers import data
from helpers.data.real_files import DICOMDIR_TREE
from helpers.dicom import errors as workbook_errors
from helpers.dicom.errors import OverwriteError, UnreadableFileError, WorkbookError
from helpers.tables.crawl import BATCH, read_header, scan, scan_files
from helpers.tables.write import write_parquet

#: Real files covering several transfer syntaxes, multi-frame, SR, RT, waveform.
REAL = [
    "CT_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm", "MR_small_RLE.dcm",
    "MR_small_jpeg_ls_lossless.dcm", "MR_small_jp2klossless.dcm", "JPEG-lossy.dcm",
    "emri_small.dcm", "rtdose.dcm", "rtplan.dcm", "rtstruct.dcm", "test-SR.dcm",
    "waveform_ecg.dcm", "SC_rgb_rle.dcm",
]


def _entries(root: Path) -> set[str]:
    """Every file, symbolic link and special file under root (what scan must account for)."""
    out = set()
    for folder, dirs, files in os.walk(root):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            out.add(Path(folder, name).relative_to(root).as_posix())
    return out


def _digest(root: Path) -> dict[str, tuple[str, float]]:
    return {
        p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                         p.stat().st_mtime)
        for p in root.rglob("*") if p.is_file() and not p.is_symlink()
    }


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mixed")
    real_dir = root / "real" / "nested"
    real_dir.mkdir(parents=True)
    for name in REAL:
        shutil.copyfile(data.real(name), real_dir / name)
    shutil.copytree(data.dicomdir().parent, root / DICOMDIR_TREE)
    junk = root / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("not an image\n")
    buf = io.BytesIO()
    Image.new("L", (8, 8), 128).save(buf, format="PNG")
    (junk / "picture.png").write_bytes(buf.getvalue())
    (junk / "empty.dcm").write_bytes(b"")
    (junk / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + bytes(100))
    ct = data.real("CT_small.dcm").read_bytes()
    (junk / "ct_cut_in_header.dcm").write_bytes(ct[:900])
    (junk / "ct_cut_in_meta.dcm").write_bytes(ct[:200])
    (junk / "j2k_cut_in_pixels.dcm").write_bytes(data.real("JPEG2000.dcm").read_bytes()[:3100])
    shutil.copyfile(data.real("MR_truncated.dcm"), junk / "MR_truncated.dcm")
    # a data set without preamble and file meta: still a DICOM instance
    ds = pydicom.dcmread(data.real("CT_small.dcm"))
    del ds.file_meta
    ds.preamble = None
    ds.save_as(root / "real" / "no_preamble.dcm", implicit_vr=True, little_endian=True,
               enforce_file_format=False)
    links = root / "links"
    links.mkdir()
    os.symlink("..", links / "loop")                       # a folder link making a loop
    os.symlink("does-not-exist.dcm", links / "broken.dcm")
    os.symlink("../real/nested/CT_small.dcm", links / "ct_link.dcm")
    os.mkfifo(links / "a_fifo")
    return root


@pytest.fixture(scope="module")
def scanned(mixed: Path):
    before = _digest(mixed)
    table, errors = scan(mixed, progress=False)
    assert _digest(mixed) == before, "scan changed a file"
    return table, errors


def test_every_file_lands_in_exactly_one_table(mixed: Path, scanned) -> None:
    table, errors = scanned
    in_table, in_errors = set(table["path"]), set(errors["path"])
    assert len(in_table) == len(table) and len(in_errors) == len(errors), "duplicate rows"
    assert not in_table & in_errors
    assert in_table | in_errors == _entries(mixed)
    assert list(table["path"]) == sorted(table["path"])
    assert list(errors["path"]) == sorted(errors["path"])
    assert errors["error"].str.len().gt(0).all()


def test_real_instances_match_pydicom(mixed: Path, scanned) -> None:
    table = scanned[0].set_index("path")
    for name in REAL:
        row = table.loc[f"real/nested/{name}"]
        ds = pydicom.dcmread(mixed / "real" / "nested" / name, force=True)
        assert row["SOPInstanceUID"] == ds.SOPInstanceUID
        assert row["SOPClassUID"] == ds.SOPClassUID
        if "TransferSyntaxUID" in ds.file_meta:
            assert row["TransferSyntaxUID"] == ds.file_meta.TransferSyntaxUID
        else:  # rtstruct.dcm: a data set without preamble and file meta
            assert not row["part10"] and row["TransferSyntaxUID"] == "1.2.840.10008.1.2"
        assert row["Modality"] == ds.get("Modality")
        assert row["has_pixels"] == ("PixelData" in ds)
        if "Rows" in ds:
            assert row["Rows"] == ds.Rows and row["Columns"] == ds.Columns
        if "PixelSpacing" in ds:
            assert [float(v) for v in row["PixelSpacing"].split("\\")] == \
                [float(v) for v in ds.PixelSpacing]
        if "NumberOfFrames" in ds:
            assert int(row["NumberOfFrames"]) == int(ds.NumberOfFrames)
    assert table.loc["real/nested/emri_small.dcm", "NumberOfFrames"] == "10"
    assert table.loc["links/ct_link.dcm", "SOPInstanceUID"] == \
        table.loc["real/nested/CT_small.dcm", "SOPInstanceUID"]


def test_dicomdir_tree(scanned) -> None:
    table, errors = scanned
    dirs = errors[errors["path"].str.endswith("DICOMDIR")]
    assert len(dirs) == 2 and (dirs["kind"] == "NotAnInstanceError").all()
    ref = pydicom.dcmread(data.dicomdir())
    listed = {rec.ReferencedFileID[-1] for rec in ref.DirectoryRecordSequence
              if rec.DirectoryRecordType == "IMAGE"}
    found = {p.rsplit("/", 1)[-1] for p in table["path"]
             if p.startswith(DICOMDIR_TREE + "/") and "TINY" not in p}
    assert listed <= found  # every image the DICOMDIR lists is a row


def test_junk_reasons(scanned) -> None:
    table, errors = scanned
    kind = errors.set_index("path")["kind"]
    assert kind["junk/notes.txt"] == "NotDicomError"
    assert kind["junk/picture.png"] == "NotDicomError"
    assert kind["junk/empty.dcm"] == "EmptyFileError"
    for name in ("ct_cut_in_header.dcm", "ct_cut_in_meta.dcm", "j2k_cut_in_pixels.dcm",
                 "MR_truncated.dcm"):
        assert kind[f"junk/{name}"] == "TruncatedFileError", name
    assert kind["links/loop"] == "LinkNotFollowedError"
    assert kind["links/broken.dcm"] == "LinkNotFollowedError"
    assert kind["links/a_fifo"] == "NotAFileError"
    row = table.set_index("path").loc["real/no_preamble.dcm"]
    assert not row["part10"] and row["transfer_syntax"] == "Implicit VR Little Endian"


def test_readable_files_agree_with_dcmdump(mixed: Path, scanned, dcmdump: str) -> None:
    """A file is a table row exactly when DCMTK reads it cleanly (DICOMDIRs aside)."""
    table, errors = scanned
    rows = set(table["path"])
    dicomdirs = set(errors.loc[errors["kind"] == "NotAnInstanceError", "path"])
    candidates = [p for p in sorted(_entries(mixed))
                  if (mixed / p).is_file() and not (mixed / p).is_symlink()
                  and not p.startswith(f"{DICOMDIR_TREE}/TINY_ALPHA/PT")]
    for rel in candidates:
        ok = subprocess.run([dcmdump, "-q", "+E", "-M", str(mixed / rel)],
                            capture_output=True).returncode == 0
        if rel in dicomdirs:
            assert ok, rel
        else:
            assert (rel in rows) == ok, f"{rel}: dcmdump says readable={ok}"


def test_every_kind_is_a_documented_workbook_error(scanned) -> None:
    """The errors table speaks one vocabulary: WorkbookError subclasses, each documented."""
    for kind in set(scanned[1]["kind"]):
        cls = getattr(workbook_errors, kind, None)
        assert isinstance(cls, type) and issubclass(cls, WorkbookError), kind
        assert cls.__doc__ and cls.__doc__.strip(), kind


def test_mixed_folder_needs_several_batches(mixed: Path) -> None:
    """So the default scan above ran on Dask's processes scheduler, not in this process."""
    files = [p for p in _entries(mixed) if (mixed / p).is_file()]
    assert len(files) > BATCH


def test_a_two_worker_local_cluster_gives_the_same_tables(mixed: Path, scanned) -> None:
    """The same crawl on a dask.distributed LocalCluster (2 worker processes)."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        table, errors = scan(mixed, client=client, progress=False)
        workers = len(client.scheduler_info()["workers"])
    assert workers == 2
    assert set(table["path"]) | set(errors["path"]) == _entries(mixed)
    assert len(table) + len(errors) == len(_entries(mixed))  # each entry once
    assert table.equals(scanned[0])
    assert errors.equals(scanned[1])


def test_parquet_dataset_queried_with_duckdb(scanned, tmp_path: Path) -> None:
    """The table written as hive-partitioned Parquet; DuckDB counts what pandas counts."""
    import duckdb

    table = scanned[0]
    out = write_parquet(table, tmp_path / "headers")
    assert {p.name for p in out.iterdir()} >= {f"Modality={m}" for m in
                                                table["Modality"].dropna().unique()}
    query = (f"SELECT Modality, count(*) AS n FROM read_parquet('{out}/**/*.parquet', "
             "hive_partitioning = true) WHERE Modality IS NOT NULL "
             "AND Modality <> '__HIVE_DEFAULT_PARTITION__' GROUP BY Modality ORDER BY Modality")
    got = dict(duckdb.sql(query).fetchall())
    assert got == table["Modality"].value_counts().sort_index().to_dict()
    assert sum(got.values()) > 50
    paths = duckdb.sql(f"SELECT path FROM read_parquet('{out}/**/*.parquet') ORDER BY path")
    assert [r[0] for r in paths.fetchall()] == sorted(table["path"])
    for again in (table, table.iloc[1:]):  # the one writer rule: any existing dataset
        with pytest.raises(OverwriteError, match="already exists"):
            write_parquet(again, out)
    # no absolute path of this machine in the files (pandas would store table.attrs)
    assert table.attrs.get("root")
    for part in out.rglob("*.parquet"):
        assert table.attrs["root"].encode() not in part.read_bytes()


def test_unreadable_and_vanishing(tmp_path: Path) -> None:
    shutil.copyfile(data.real("CT_small.dcm"), tmp_path / "ok.dcm")
    locked = tmp_path / "locked"
    locked.mkdir()
    shutil.copyfile(data.real("MR_small.dcm"), locked / "mr.dcm")
    locked.chmod(0)
    try:
        table, errors = scan(tmp_path, progress=False)
    finally:
        locked.chmod(0o755)
    if os.geteuid() != 0:  # root reads everything
        assert errors.set_index("path").loc["locked/", "kind"] == "UnreadableFileError"
    assert "ok.dcm" in set(table["path"])
    with pytest.raises(UnreadableFileError, match="removed after it was listed"):
        read_header(tmp_path / "gone.dcm")


def test_scan_rejects_a_file(tmp_path: Path) -> None:
    f = tmp_path / "x.dcm"
    f.write_bytes(b"")
    with pytest.raises(ValueError, match="not a folder"):
        scan(f, progress=False)


def test_padding_inside_multiple_values_matches_pydicom(tmp_path: Path) -> None:
    """`A \\B ` (a space before the backslash) is the two values A and B, as pydicom says."""
    ds = pydicom.dcmread(data.real("CT_small.dcm"))
    ds.InstitutionName = "A \\B "
    ds.save_as(tmp_path / "padded.dcm")
    table, _ = scan(tmp_path, progress=False)
    reread = pydicom.dcmread(tmp_path / "padded.dcm")
    assert table.loc[0, "InstitutionName"] == "\\".join(reread.InstitutionName) == "A\\B"


def test_raw_text_decoding_equals_pydicom_on_every_data_file(mixed: Path) -> None:
    """read_header takes plain text values from the raw bytes; pydicom's own conversion
    of every field (raw_text=False) must give the same row, or the same error, for every
    file of data/ and of the mixed folder (the fuzz corpus checks mutated files)."""
    def outcome(path: Path, raw_text: bool) -> object:
        try:
            return read_header(path, raw_text=raw_text)
        except WorkbookError as exc:
            return exc.kind, exc.problem

    paths = [p for p in sorted(data.real("CT_small.dcm").parents[1].rglob("*"))
             if p.is_file() and p.suffix != ".sha256"]
    paths += [mixed / p for p in sorted(_entries(mixed)) if (mixed / p).is_file()
              and not (mixed / p).is_symlink()]
    assert len(paths) > 600
    rows = 0
    for path in paths:
        fast = outcome(path, True)
        assert fast == outcome(path, False), path
        rows += isinstance(fast, dict)
    assert rows > 500


def test_scan_without_the_raw_text_path_gives_the_same_tables(mixed: Path, scanned) -> None:
    """scan(raw_text=False) reaches read_header in the worker processes (the benchmark's
    peer for the raw-text path) and crawls to the same two tables."""
    table, errors = scan(mixed, progress=False, raw_text=False)
    pd.testing.assert_frame_equal(table, scanned[0])
    pd.testing.assert_frame_equal(errors, scanned[1])


def test_a_script_without_main_guard_can_scan(mixed: Path, scanned, tmp_path: Path) -> None:
    """A learner's script calls scan() at top level, with no ``if __name__ ==
    "__main__":``; with Dask's default spawn start method every worker would run the
    script again and fail. The crawl starts its workers so that it works."""
    import sys

    script = tmp_path / "crawl_script.py"
    script.write_text("import sys\nfrom helpers.tables.crawl import scan\n"
                      "table, errors = scan(sys.argv[1], progress=False)\n"
                      "print(len(table), len(errors))\n")
    proc = subprocess.run([sys.executable, str(script), str(mixed)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == [str(len(scanned[0])), str(len(scanned[1]))]


def test_scan_files_gives_the_rows_scan_gives(tmp_path: Path) -> None:
    """A list of files crawls into the rows a crawl of their folder gives, paths relative
    to their common folder; a missing file is a row of the errors table."""
    folder = data.ct_series("axial")
    files = sorted(folder.glob("*.dcm"))[:5]
    whole, _ = scan(folder, progress=False)
    table, errors = scan_files([*files, folder / "nowhere.dcm"], progress=False)
    assert table.attrs["root"] == str(folder)
    expected = whole[whole.path.isin([f.name for f in files])].reset_index(drop=True)
    pd.testing.assert_frame_equal(table, expected)
    assert errors.path.tolist() == ["nowhere.dcm"]
