"""Benchmark 4: the whole workbook headless, as ``make nbval`` runs it.

Each lesson in ``notebooks/`` runs on its own under
``pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg``
(wall time of the whole pytest process: interpreter start, kernel start, every cell
executed and compared), then all lessons in one pytest run (one process, one kernel
per notebook) for the total. The outcome (passed or failed) is reported too: a
failing notebook's time is not a valid measurement of the lesson.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from helpers.paths import REPO_ROOT

from ._common import Goal, Row, Section

GOAL_NOTEBOOK = 20.0
GOAL_TOTAL = 180.0
NBVAL = ["--nbval", "--nbval-current-env", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg",
         "-q", "-p", "no:cacheprovider"]


def notebooks() -> list[Path]:
    """The lessons that exist now, sorted."""
    return sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _pytest(targets: list[str]) -> tuple[float, float, str]:
    """One pytest run over ``targets``: wall seconds, pytest's own seconds, summary line."""
    cmd = [sys.executable, "-m", "pytest", *NBVAL, *targets]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    lines = [ln for ln in proc.stdout.splitlines() if re.search(r"\d+ (passed|failed|error)", ln)]
    summary = lines[-1].strip("= ") if lines else f"exit code {proc.returncode}"
    found = re.search(r" in ([\d.]+)s", summary)
    return wall, float(found.group(1)) if found else wall, summary


def run(repeat: int = 1) -> Section:
    """Time each notebook ``repeat`` times, then the whole folder ``repeat`` times."""
    section = Section("4. The workbook headless (nbval)")
    found = notebooks()
    if not found:
        section.notes.append("No notebooks found in notebooks/.")
        return section
    per: dict[str, list[float]] = {}
    own: dict[str, list[float]] = {}
    outcome: dict[str, str] = {}
    for _ in range(repeat):
        for nb in found:
            wall, inside, summary = _pytest([f"notebooks/{nb.name}"])
            per.setdefault(nb.name, []).append(wall)
            own.setdefault(nb.name, []).append(inside)
            outcome[nb.name] = summary
    totals, total_own = [], []
    for _ in range(repeat):
        wall, inside, total_summary = _pytest(["notebooks"])
        totals.append(wall)
        total_own.append(inside)
    section.notes += [
        f"Notebooks present: {len(found)} ({', '.join(nb.name for nb in found)}).",
        "median: wall time of the whole pytest process (interpreter start and plugin "
        "imports included, about 4 s here); pytest s: the time pytest reports (collection, "
        "kernel start, every cell run and compared), used for the per-notebook goal; "
        f"{repeat} repeat(s).",
    ]
    for name, walls in per.items():
        section.rows.append(Row(f"notebooks/{name}", walls, extra={
            "pytest s": f"{statistics.median(own[name]):.1f}", "outcome": outcome[name]}))
    section.rows.append(Row("all of notebooks/ in one run", totals, extra={
        "pytest s": f"{statistics.median(total_own):.1f}", "outcome": total_summary}))
    slowest = max(own, key=lambda n: statistics.median(own[n]))
    worst = statistics.median(own[slowest])
    total = section.row("all of notebooks/ in one run").median
    summaries = [*outcome.values(), total_summary]
    all_passed = all("failed" not in s and "error" not in s for s in summaries)
    section.goals += [
        Goal("nbval: slowest notebook (pytest s)", f"{worst:.1f} s ({slowest})",
             f"< {GOAL_NOTEBOOK:g} s", worst < GOAL_NOTEBOOK),
        Goal(f"nbval: whole workbook, {len(found)} notebooks (wall)", f"{total:.1f} s",
             f"< {GOAL_TOTAL:g} s", total < GOAL_TOTAL),
        Goal("nbval: every notebook passes", "yes" if all_passed else "NO", "yes", all_passed),
    ]
    return section
