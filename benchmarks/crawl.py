"""Benchmark 1: the header crawl, in files per second.

Candidates, all over the same archive (:func:`.inputs.build_archive`), each walking
the folder itself and producing one row of the same fields
(:data:`helpers.crawl.FIELDS`) per readable file:

- ``helpers.crawl.scan``: the workbook's crawl with its default workers (one process
  per CPU), started as in a script (fork) and as in a notebook kernel (forkserver),
  and, for the per-core figure, ``workers=1``;
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

    from helpers.crawl import FIELDS

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

    from helpers.crawl import FIELDS

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

    from helpers.crawl import FIELDS

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


def _scan_as_in_notebook(root: Path) -> object:
    """``scan`` as a notebook kernel runs it: ``__main__`` has no file, so the crawl
    starts its workers from a fork server rather than by forking this script."""
    import sys
    import types

    from helpers import crawl

    script_main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")  # like ipykernel's: no __file__
    try:
        return crawl.scan(root, progress=False)
    finally:
        sys.modules["__main__"] = script_main


def _gdcm_available() -> str | None:
    try:
        import gdcm  # noqa: F401
    except ImportError as exc:
        return (f"python-gdcm is not importable ({exc}): install the peers with "
                "`.venv/bin/pip install --target .venv/bench-site --no-deps "
                "-r benchmarks/requirements.txt` and run with PYTHONPATH=.venv/bench-site")
    return None


def run(repeat: int = 3, n_files: int = 3000) -> Section:
    """Build the archive, time every candidate ``repeat`` times, return the section."""
    from helpers.crawl import _default_workers, scan

    from .inputs import build_archive

    section = Section("1. Header crawl (files per second)")
    with tempfile.TemporaryDirectory(prefix="bench-crawl-") as tmp:
        archive = build_archive(Path(tmp) / "archive", n_files)
        root = archive.root
        for p in _files(root):  # warm the page cache
            with open(p, "rb") as fh:
                while fh.read(1 << 20):
                    pass
        workers = _default_workers()
        candidates = {
            f"helpers.crawl.scan ({workers} workers)": lambda: scan(root, progress=False),
            "helpers.crawl.scan (workers=1)": lambda: scan(root, workers=1, progress=False),
            f"helpers.crawl.scan ({workers} workers, forkserver as in a notebook)":
                lambda: _scan_as_in_notebook(root),
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
        _scan_as_in_notebook(root)  # starts the fork server, once, as a kernel would
        found = {"scan": len(table), "header loop": len(header_loop(root))}
        if missing_gdcm is None:
            found["gdcm"] = len(gdcm_scan(root))
        times = interleaved(candidates, repeat, warmup=0)

    groups = ", ".join(f"{n} {name}" for name, n in archive.groups.items())
    section.notes += [
        f"Archive: {archive.files} files ({groups}), {archive.bytes / 1e6:.0f} MB, hard links "
        "to data/real (incl. RG1_UNCI.dcm 7.2 MB, 693_UNCI.dcm, JPEG, JPEG 2000, RLE, JPEG-LS, "
        "big endian, no preamble, truncated, DICOMDIR tree) and the synthetic data that exists.",
        f"Rows found: scan {found['scan']} (+{len(errors)} in its errors table), "
        + ", ".join(f"{k} {v}" for k, v in found.items() if k != "scan") + ".",
        f"Warm page cache; {repeat} interleaved repeats; {os.cpu_count()} CPUs. The first scan "
        f"of the run took {first:.2f} s. The forkserver variant starts its server once per "
        "run (before timing) and reuses it, as a notebook kernel does.",
    ]
    for name, (walls, cpus) in times.items():
        pooled = "workers" in name and "=1" not in name  # the work is in other processes
        section.rows.append(Row(name, walls, None if pooled else cpus,
                                {"files/s": f"{archive.files / _median(walls):.0f}"}))
    scan_name = f"helpers.crawl.scan ({workers} workers)"
    scan_t = section.row(scan_name).median
    naive = section.row("naive: dcmread + pixel_array").median / scan_t
    header = section.row("dcmread(stop_before_pixels=True)").median / scan_t
    one = section.row("helpers.crawl.scan (workers=1)").median
    section.ratios += [("scan vs naive loop (speed-up)", naive),
                       ("scan vs header-only loop (speed-up)", header),
                       ("scan workers=1 vs header-only loop (speed-up, one core each)",
                        section.row("dcmread(stop_before_pixels=True)").median / one)]
    if missing_gdcm is None:
        gd = section.row("gdcm.Scanner").median
        section.ratios.append(("scan vs gdcm.Scanner (speed-up; <1 = GDCM faster)", gd / scan_t))
    nb_t = section.row(f"helpers.crawl.scan ({workers} workers, forkserver as in a notebook)"
                       ).median
    nb_naive = section.row("naive: dcmread + pixel_array").median / nb_t
    nb_header = section.row("dcmread(stop_before_pixels=True)").median / nb_t
    section.ratios += [("scan in a notebook (forkserver) vs naive loop", nb_naive),
                       ("scan in a notebook (forkserver) vs header-only loop", nb_header)]
    section.goals += [
        Goal("crawl: scan vs naive loop", f"{naive:.2f}x", f">= {GOAL_NAIVE:g}x",
             naive >= GOAL_NAIVE),
        Goal("crawl: scan vs header-only loop", f"{header:.2f}x", f">= {GOAL_HEADER:g}x",
             header >= GOAL_HEADER),
        Goal("crawl: scan as in a notebook vs naive loop", f"{nb_naive:.2f}x",
             f">= {GOAL_NAIVE:g}x", nb_naive >= GOAL_NAIVE),
        Goal("crawl: scan as in a notebook vs header-only loop", f"{nb_header:.2f}x",
             f">= {GOAL_HEADER:g}x", nb_header >= GOAL_HEADER),
    ]
    if missing_gdcm is None:
        section.goals.append(Goal("crawl: scan vs gdcm.Scanner (report only)",
                                  f"{gd / scan_t:.2f}x", "report", None))
    return section


def _median(ts: list[float]) -> float:
    import statistics

    return statistics.median(ts)
