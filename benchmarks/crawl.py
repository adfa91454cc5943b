"""Benchmark 1: the header crawl, in files per second.

Candidates, all over the same archive (:func:`.inputs.build_archive`), each walking
the folder itself and producing one row of the same fields
(:data:`helpers.tables.crawl.FIELDS`) per readable file:

- ``helpers.tables.crawl.scan``: the workbook's crawl on Dask's local processes scheduler
  (its default: one process per CPU, started on each call), and on a
  ``dask.distributed`` LocalCluster of 2 workers and, for the per-core figure, of
  1 worker (clusters started before timing);
- the naive loop a learner writes: ``dcmread`` the whole file, ``pixel_array``,
  a dict of the fields, ``try/except`` around each file;
- the same loop with ``stop_before_pixels=True`` and no ``pixel_array``;
- GDCM's ``gdcm.Scanner`` (python-gdcm, benchmark-only) with the same tags, which
  parses each file only up to the largest tag asked for (PS3.5 section 7.1: data
  elements are sorted by tag), then one dict per file from its values.

Warm cache: every file is read once before timing (the page cache is not dropped).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from ._common import Goal, Row, Section, interleaved

GOAL_NAIVE = 3.0
GOAL_HEADER = 1.5


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def naive_loop(root: Path) -> list[dict]:
    """What a learner writes first: read everything, decode the pixels, keep some fields."""
    import pydicom

    from helpers.tables.crawl import FIELDS

    rows = []
    for path in _files(root):
        try:
            ds = pydicom.dcmread(path)
            _ = ds.pixel_array
            rows.append({k: ds.get(k) for k in FIELDS})
        except Exception:
            continue
    return rows


def header_loop(root: Path) -> list[dict]:
    """The same loop reading headers only (``stop_before_pixels=True``)."""
    import pydicom

    from helpers.tables.crawl import FIELDS

    rows = []
    for path in _files(root):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
            rows.append({k: ds.get(k) for k in FIELDS})
        except Exception:
            continue
    return rows


def gdcm_scan(root: Path) -> list[dict]:
    """GDCM's Scanner on the same tags, then one dict per file it could read."""
    import gdcm
    from pydicom.datadict import tag_for_keyword

    from helpers.tables.crawl import FIELDS

    tags = {}
    scanner = gdcm.Scanner()
    for keyword in FIELDS:
        tag = tag_for_keyword(keyword)
        tags[keyword] = gdcm.Tag(tag >> 16, tag & 0xFFFF)
        scanner.AddTag(tags[keyword])
    directory = gdcm.Directory()
    directory.Load(str(root), True)
    filenames = directory.GetFilenames()
    if not scanner.Scan(filenames):
        raise RuntimeError("gdcm.Scanner failed")
    return [{k: scanner.GetValue(f, t) for k, t in tags.items()}
            for f in filenames if scanner.IsKey(f)]


class _Cluster:
    """A ``dask.distributed`` LocalCluster of ``n`` single-threaded worker processes
    (no dashboard) and its client, started before timing and kept for every repeat."""

    def __init__(self, n: int) -> None:
        from distributed import Client, LocalCluster

        self.cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                    dashboard_address=None)
        self.client = Client(self.cluster)

    def close(self) -> None:
        self.client.close()
        self.cluster.close()


def _gdcm_available() -> str | None:
    try:
        import gdcm  # noqa: F401
    except ImportError as exc:
        return (f"python-gdcm is not importable ({exc}): install the peers with "
                "`.venv/bin/pip install --target .venv/bench-site --no-deps "
                "-r benchmarks/requirements.txt` and run with PYTHONPATH=.venv/bench-site")
    return None


#: scan without read_header's raw-text path: the peer that says whether the path is needed
PYDICOM_ONLY = "helpers.tables.crawl.scan, raw_text=False (every field through pydicom)"


def run(repeat: int = 3, n_files: int = 3000) -> Section:
    """Build the archive, time every candidate ``repeat`` times, return the section."""
    from helpers.tables.crawl import scan

    from .inputs import build_archive

    section = Section("1. Header crawl (files per second)")
    workers = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
        archive = build_archive(Path(tmp) / "archive", n_files)
        root = archive.root
        for p in _files(root):  # warm the page cache
            with open(p, "rb") as fh:
                while fh.read(1 << 20):
                    pass
        one, two = _Cluster(1), _Cluster(2)
        try:
            default = f"helpers.tables.crawl.scan (Dask processes scheduler, {workers} processes)"
            candidates = {
                default: lambda: scan(root, progress=False),
                PYDICOM_ONLY: lambda: scan(root, progress=False, raw_text=False),
                "helpers.tables.crawl.scan on a LocalCluster (2 workers)":
                    lambda: scan(root, client=two.client, progress=False),
                "helpers.tables.crawl.scan on a LocalCluster (1 worker)":
                    lambda: scan(root, client=one.client, progress=False),
                "naive: dcmread + pixel_array": lambda: naive_loop(root),
                "dcmread(stop_before_pixels=True)": lambda: header_loop(root),
            }
            missing_gdcm = _gdcm_available()
            if missing_gdcm is None:
                candidates["gdcm.Scanner"] = lambda: gdcm_scan(root)
            else:
                section.notes.append(missing_gdcm)

            # what each candidate finds (same archive, so the counts should agree closely)
            start = time.perf_counter()
            table, errors = scan(root, progress=False)
            first = time.perf_counter() - start
            found = {"scan": len(table), "header loop": len(header_loop(root))}
            slow_table, slow_errors = scan(root, progress=False, raw_text=False)
            same = slow_table.equals(table) and slow_errors.equals(errors)
            cluster_table, _ = scan(root, client=two.client, progress=False)
            found["scan on the LocalCluster"] = len(cluster_table)
            if missing_gdcm is None:
                found["gdcm"] = len(gdcm_scan(root))
            times = interleaved(candidates, repeat, warmup=0)
        finally:
            one.close()
            two.close()

    groups = ", ".join(f"{n} {name}" for name, n in archive.groups.items())
    section.notes += [
        f"Archive: {archive.files} files ({groups}), {archive.bytes / 1e6:.0f} MB, hard links "
        "to data/real (incl. RG1_UNCI.dcm 7.2 MB, 693_UNCI.dcm, JPEG, JPEG 2000, RLE, JPEG-LS, "
        "big endian, no preamble, truncated, DICOMDIR tree) and the synthetic data that exists.",
        f"Rows found: scan {found['scan']} (+{len(errors)} in its errors table), "
        + ", ".join(f"{k} {v}" for k, v in found.items() if k != "scan") + ".",
        f"scan with raw_text=False (every field converted by pydicom, no raw-text path in "
        f"read_header) gives the same two tables: {same}.",
        f"Warm page cache; {repeat} interleaved repeats; {workers} CPUs. The first scan of "
        f"the run took {first:.2f} s. The default scan starts its worker processes on every "
        "call (Dask's processes scheduler); the LocalClusters are started once, before timing.",
    ]
    for name, (walls, cpus) in times.items():
        pooled = name.startswith("helpers.tables.crawl.scan")  # the work is in other processes
        section.rows.append(Row(name, walls, None if pooled else cpus,
                                {"files/s": f"{archive.files / _median(walls):.0f}"}))
    scan_t = section.row(default).median
    header_t = section.row("dcmread(stop_before_pixels=True)").median
    naive_t = section.row("naive: dcmread + pixel_array").median
    naive = naive_t / scan_t
    header = header_t / scan_t
    cluster2 = header_t / section.row(
        "helpers.tables.crawl.scan on a LocalCluster (2 workers)").median
    cluster1 = header_t / section.row(
        "helpers.tables.crawl.scan on a LocalCluster (1 worker)").median
    slow_t = section.row(PYDICOM_ONLY).median
    section.ratios += [("scan vs naive loop (speed-up)", naive),
                       ("scan vs header-only loop (speed-up)", header),
                       ("scan, raw_text=False, vs naive loop (speed-up)", naive_t / slow_t),
                       ("scan, raw_text=False, vs header-only loop (speed-up)",
                        header_t / slow_t),
                       ("scan, raw_text=False / scan (time)", slow_t / scan_t),
                       ("scan on a 2-worker LocalCluster vs header-only loop", cluster2),
                       ("scan on a 1-worker LocalCluster vs header-only loop (one core each)",
                        cluster1)]
    if missing_gdcm is None:
        gd = section.row("gdcm.Scanner").median
        section.ratios.append(("scan vs gdcm.Scanner (speed-up; <1 = GDCM faster)", gd / scan_t))
    section.goals += [
        Goal("crawl: scan vs naive loop", f"{naive:.2f}x", f">= {GOAL_NAIVE:g}x",
             naive >= GOAL_NAIVE),
        Goal("crawl: scan vs header-only loop", f"{header:.2f}x", f">= {GOAL_HEADER:g}x",
             header >= GOAL_HEADER),
    ]
    if missing_gdcm is None:
        section.goals.append(Goal("crawl: scan vs gdcm.Scanner (report only)",
                                  f"{gd / scan_t:.2f}x", "report", None))
    return section


def run_archive(n_files: int = 100_000) -> Section:
    """A large archive (``n_files`` hard links): files/s of one scan on a 1-worker and a
    2-worker LocalCluster, and on the default scheduler. One run each (minutes)."""
    from helpers.tables.crawl import scan

    from .inputs import build_archive

    section = Section(f"1b. Header crawl of a {n_files:,}-file archive (files per second)")
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as tmp:
        started = time.perf_counter()
        archive = build_archive(Path(tmp) / "archive", n_files)
        built = time.perf_counter() - started
        for p in _files(archive.root):  # warm the page cache
            with open(p, "rb") as fh:
                while fh.read(1 << 20):
                    pass
        counts = {}
        for name, n in (("LocalCluster, 1 worker", 1), ("LocalCluster, 2 workers", 2),
                        ("Dask processes scheduler (default)", 0)):
            cluster = _Cluster(n) if n else None
            try:
                start = time.perf_counter()
                table, errors = scan(archive.root, progress=False,
                                     client=cluster.client if cluster else None)
                wall = time.perf_counter() - start
            finally:
                if cluster:
                    cluster.close()
            counts[name] = (len(table), len(errors))
            section.rows.append(Row(f"helpers.tables.crawl.scan ({name})", [wall], None,
                                    {"files/s": f"{archive.files / wall:.0f}"}))
    one = section.row("helpers.tables.crawl.scan (LocalCluster, 1 worker)").median
    two = section.row("helpers.tables.crawl.scan (LocalCluster, 2 workers)").median
    section.ratios.append(("2 workers vs 1 worker (speed-up)", one / two))
    accounted = {f"{t} rows + {e} errors" for t, e in counts.values()}
    section.notes += [
        f"Archive: {archive.files:,} files (hard links, built in {built:.0f} s), "
        f"{archive.bytes / 1e9:.1f} GB as listed; warm page cache; one run each.",
        f"Every run accounted for the same entries: {', '.join(sorted(accounted))}"
        + ("" if len(accounted) == 1 else " (DIFFERENT!)") + ".",
    ]
    return section


def _median(ts: list[float]) -> float:
    import statistics

    return statistics.median(ts)
