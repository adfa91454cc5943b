"""Timing, results and the printed tables shared by the benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def interleaved(candidates: dict[str, Callable[[], Any]], repeat: int,
                warmup: int = 1) -> dict[str, tuple[list[float], list[float]]]:
    """Wall and CPU seconds of each candidate, ``repeat`` times, candidates interleaved.

    CPU seconds are this process's (``time.process_time``): on a machine shared
    with other work they show what a single-threaded candidate costs on an idle
    core; they miss work done in other processes (a process pool) or threads
    that outlive the call.

    Every candidate runs ``warmup`` untimed times first (imports, caches, the page
    cache). Then each repeat runs every candidate once, the order rotated each
    repeat, so that a burst of load from other processes on the shared machine
    falls on all candidates alike rather than on one.
    """
    names = list(candidates)
    for _ in range(warmup):
        for name in names:
            candidates[name]()
    times: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in names}
    for r in range(repeat):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            cpu, start = time.process_time(), time.perf_counter()
            candidates[name]()
            wall = time.perf_counter() - start
            times[name][0].append(wall)
            times[name][1].append(time.process_time() - cpu)
    return times


@dataclass
class Row:
    """One candidate: wall seconds of each repeat, CPU seconds (None when they would
    miss the work of other processes), and extra figures by column."""

    candidate: str
    times: list[float]
    cpu: list[float] | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def cpu_median(self) -> float | None:
        return statistics.median(self.cpu) if self.cpu else None


@dataclass
class Goal:
    """A goal from the issue and whether this run met it (None: not measurable here)."""

    what: str
    measured: str
    target: str
    met: bool | None


@dataclass
class Section:
    """The result of one benchmark: rows of candidates, ratios, goals, notes."""

    title: str
    rows: list[Row] = field(default_factory=list)
    ratios: list[tuple[str, float]] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unit: str = "s"

    def row(self, name: str) -> Row:
        return next(r for r in self.rows if r.candidate == name)


def seconds(value: float, unit: str = "s") -> str:
    """A duration in the section's unit, three significant figures."""
    if unit == "ms":
        return f"{value * 1e3:.3g}"
    return f"{value:.3g}"


def _numeric(cell: str) -> bool:
    """True for a figure such as ``1.2``, ``0.9-1.1``, ``2.53x`` or an empty cell."""
    return all(part.replace(".", "", 1).isdigit() for part in
               cell.rstrip("x").split("-") if part) if cell else True


def verdict(met: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "n/a"}[met]


def render(section: Section) -> str:
    """A section as Markdown: notes, a table of candidates, ratios and goals."""
    out = [f"### {section.title}", ""]
    out += [f"- {note}" for note in section.notes]
    if section.notes:
        out.append("")
    if section.rows:
        extra_cols: list[str] = []
        for r in section.rows:
            extra_cols += [c for c in r.extra if c not in extra_cols]
        unit = section.unit
        with_cpu = any(r.cpu_median is not None for r in section.rows)
        head = ["candidate", f"median ({unit})", f"min-max ({unit})", "n",
                *([f"CPU median ({unit})"] if with_cpu else []), *extra_cols]
        rows = []
        for r in section.rows:
            cpu = ["" if r.cpu_median is None else seconds(r.cpu_median, unit)] if with_cpu else []
            rows.append([r.candidate, seconds(r.median, unit),
                         f"{seconds(min(r.times), unit)}-{seconds(max(r.times), unit)}",
                         str(len(r.times)), *cpu, *(r.extra.get(c, "") for c in extra_cols)])
        align = ["---" if i == 0 or not all(_numeric(row[i]) for row in rows) else "---:"
                 for i in range(len(head))]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "|".join(align) + "|")
        out += ["| " + " | ".join(row) + " |" for row in rows]
        out.append("")
    if section.ratios:
        out += ["| ratio | value |", "|---|---:|"]
        out += [f"| {name} | {value:.2f}x |" for name, value in section.ratios]
        out.append("")
    return "\n".join(out)


def render_goals(sections: list[Section]) -> str:
    """Every goal of every section in one Markdown table."""
    out = ["### Goals", "", "| goal | measured | target | result |", "|---|---:|---|---|"]
    for s in sections:
        out += [f"| {g.what} | {g.measured} | {g.target} | {verdict(g.met)} |" for g in s.goals]
    return "\n".join(out) + "\n"
