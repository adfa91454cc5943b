"""Benchmark 2: load a 200-slice 512x512 CT series into a 3D array in HU.

Candidates, on the same series (:func:`.inputs.write_series`: uncompressed slices,
file names shuffled, so order comes from Image Position (Patient) along the slice
normal, PS3.3 C.7.6.2.1.1):

- :func:`helpers.image.volume.load_series` given the folder (it reads every header with
  ``read_header``, then every file's pixels: two reads per file; returns a Volume whose
  ``array`` is HU);
- ``load_series`` given the header rows of a crawl (``scan(folder,
  fields=GEOMETRY_FIELDS)``, made before the clock starts, as a lesson crawls a study
  once): one read per file, for the pixels;
- the crawl and ``load_series(rows)`` together, to show what the crawl costs;
- SimpleITK's ``ImageSeriesReader`` with ``GetGDCMSeriesFileNames`` (sorts by
  position; GDCM applies Rescale Slope/Intercept, PS3.3 C.11.1.1.2), then
  ``sitk.GetArrayFromImage`` (the usual way to get a numpy array).

Time: median wall seconds over interleaved repeats in this process (warm cache); a
candidate's input (the folder, or the rows) is made before the clock starts.
Peak memory: each candidate runs once in a fresh Python process, which first loads a
3-slice series (imports and lazy initialisation done), resets the kernel's resident
high-water mark (``/proc/self/clear_refs``), reads VmRSS, loads the full series and
reads VmHWM (``/proc/self/status``). VmHWM - VmRSS is the candidate's peak extra
resident memory, C++ and numpy allocations included (``tracemalloc`` misses the
former), compared with the final array's ``nbytes``. (``ru_maxrss`` is no good here:
after fork and exec a child starts with its parent's high-water mark.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from helpers.paths import REPO_ROOT

from ._common import Goal, Row, Section, interleaved

if TYPE_CHECKING:
    import pandas as pd

GOAL_VS_SITK = 1.5
GOAL_MEMORY = 2.0
HELPERS = "helpers.image.volume.load_series"
ROWS = "load_series(rows of a crawl)"
CRAWL_ROWS = "scan + load_series(rows)"
SITK = "SimpleITK ImageSeriesReader"


def as_is(folder: Path) -> Path:
    return folder


def rows_of(folder: Path) -> pd.DataFrame:
    """The header rows of ``folder`` as a lesson gets them: one crawl."""
    from helpers.tables.crawl import GEOMETRY_FIELDS, scan

    table, errors = scan(folder, fields=GEOMETRY_FIELDS, progress=False)
    if len(errors):
        raise RuntimeError(f"the benchmark series has unreadable files: {errors}")
    return table


def load_helpers(source: Path | pd.DataFrame) -> np.ndarray:
    from helpers.image.volume import load_series

    return load_series(source).array


def crawl_and_load(folder: Path) -> np.ndarray:
    return load_helpers(rows_of(folder))


def load_sitk(folder: Path) -> np.ndarray:
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    return sitk.GetArrayFromImage(reader.Execute())


#: name -> (make the input from the series folder, untimed; load it, timed)
LOADERS: dict[str, tuple[Callable[[Path], Any], Callable[[Any], np.ndarray]]] = {
    HELPERS: (as_is, load_helpers),
    ROWS: (rows_of, load_helpers),
    CRAWL_ROWS: (as_is, crawl_and_load),
    SITK: (as_is, load_sitk),
}


def _status(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024  # reported in kB
    raise RuntimeError(f"{field} is not in /proc/self/status (Linux only)")


def _child(name: str, folder: str, warm: str) -> None:
    """Run in a fresh process: print JSON with the peak extra RSS of one load."""
    import gc

    prepare, load = LOADERS[name]
    load(prepare(Path(warm)))
    source = prepare(Path(folder))
    gc.collect()
    # reset the resident high-water mark (VmHWM) to the current RSS (Linux >= 4.0,
    # proc(5) clear_refs); otherwise the warm-up's peak would be the baseline
    Path("/proc/self/clear_refs").write_text("5")
    before = _status("VmRSS")
    array = load(source)
    peak = _status("VmHWM")
    print(json.dumps({"peak_extra": peak - before, "nbytes": int(array.nbytes),
                      "dtype": str(array.dtype), "shape": list(array.shape)}))


def peak_memory(name: str, folder: Path, warm: Path) -> dict:
    """Peak extra resident memory of one load by ``name``, measured in a fresh process."""
    code = ("import sys; from benchmarks.volume import _child; "
            "_child(sys.argv[1], sys.argv[2], sys.argv[3])")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    out = subprocess.run([sys.executable, "-c", code, name, str(folder), str(warm)],
                         capture_output=True, text=True, env=env, cwd=REPO_ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(repeat: int = 5, n_slices: int = 200) -> Section:
    """Write the series, time both loaders ``repeat`` times, measure peak memory."""
    import SimpleITK as sitk

    from .inputs import write_series

    section = Section(f"2. Volume load ({n_slices} slices of 512x512 to HU)")
    with tempfile.TemporaryDirectory(prefix="bench-volume-") as tmp:
        folder = write_series(Path(tmp) / "series", n_slices)
        warm = write_series(Path(tmp) / "warm", 3)
        inputs = {name: prepare(folder) for name, (prepare, _) in LOADERS.items()}
        ours, theirs = load_helpers(folder), load_sitk(folder)
        same = ours.shape == theirs.shape and np.array_equal(ours, theirs)
        same_rows = np.array_equal(load_helpers(inputs[ROWS]), ours)
        times = interleaved({name: (lambda load=load, source=inputs[name]: load(source))
                             for name, (_, load) in LOADERS.items()}, repeat, warmup=1)
        memory = {name: peak_memory(name, folder, warm) for name in LOADERS}
        size = sum(p.stat().st_size for p in folder.iterdir())

    nbytes = memory[HELPERS]["nbytes"]
    section.notes += [
        f"Series: {n_slices} uncompressed int16 slices, {size / 1e6:.0f} MB, shuffled names; "
        f"final array {tuple(ours.shape)} {ours.dtype} = {nbytes / 1e6:.0f} MB.",
        f"Arrays equal voxel for voxel (helpers vs SimpleITK {theirs.dtype}): {same}; "
        f"rows vs folder: {same_rows}.",
        f"{ROWS}: the rows of `scan(folder, fields=GEOMETRY_FIELDS)`, crawled before the "
        f"clock starts (a lesson crawls the study once); {CRAWL_ROWS} counts the crawl "
        "(Dask's local processes, 2 cores).",
        f"Warm cache; {repeat} interleaved repeats; SimpleITK's default thread count is "
        f"{sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()}, load_series uses one "
        "(CPU time counts all threads).",
        "Peak memory: VmHWM - VmRSS around one load in a fresh process, after a 3-slice "
        "warm-up and a high-water reset.",
    ]
    for name, (walls, cpus) in times.items():
        mem = memory[name]
        section.rows.append(Row(name, walls, cpus, {
            "peak extra MB": f"{mem['peak_extra'] / 1e6:.0f}",
            "peak / array": f"{mem['peak_extra'] / mem['nbytes']:.2f}x"}))
    slower = section.row(HELPERS).median / section.row(SITK).median
    rows_vs_folder = section.row(ROWS).median / section.row(HELPERS).median
    mem_ratio = memory[HELPERS]["peak_extra"] / nbytes
    section.ratios += [("load_series time / SimpleITK time", slower),
                       ("load_series(rows) time / load_series(folder) time", rows_vs_folder),
                       ("load_series peak memory / final array", mem_ratio),
                       ("SimpleITK peak memory / final array",
                        memory[SITK]["peak_extra"] / memory[SITK]["nbytes"])]
    section.goals += [
        Goal("volume: load_series time vs SimpleITK", f"{slower:.2f}x",
             f"<= {GOAL_VS_SITK:g}x", slower <= GOAL_VS_SITK),
        Goal("volume: load_series peak memory vs array", f"{mem_ratio:.2f}x",
             f"< {GOAL_MEMORY:g}x", mem_ratio < GOAL_MEMORY),
        Goal("volume: load_series(rows) time vs load_series(folder)", f"{rows_vs_folder:.2f}x",
             "< 1x", rows_vs_folder < 1),
    ]
    return section
