"""Every lesson, run once (``lesson_runs.py``): each code cell runs without error and
shows its committed output (nbval's comparison), and each worked solution satisfies
its check in the lesson's state.

The solutions live only in the collapsed ``<details>`` block under each exercise (the
lesson shows no cell that runs them); the run inserts, after each exercise cell, a cell
that runs the exercise with the solution in place of ``answer = ...`` and asserts the
check says right. The typical wrong answers and their hints are tested per check in
``unit/test_checks_lesson*.py``; the static rules of exercises in
``unit/test_lesson_solutions.py``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from lesson_runs import LESSONS, VERDICT, errors_of, exercises, mismatch, unavailable

pytestmark = pytest.mark.lessons


def code_cells() -> list[tuple[Path, int]]:
    return [(lesson, i) for lesson in LESSONS
            for i, cell in enumerate(nbformat.read(lesson, as_version=4).cells)
            if cell.cell_type == "code"]


@pytest.mark.parametrize(("lesson", "index"), code_cells(),
                         ids=lambda v: v.stem if isinstance(v, Path) else f"cell{v}")
def test_cell_runs_and_shows_its_committed_output(lesson: Path, index: int, lesson_runs):
    tags = nbformat.read(lesson, as_version=4).cells[index].metadata.get("tags", [])
    for tag, why in unavailable().items():
        if tag in tags:
            pytest.skip(why)
    run = lesson_runs.get(lesson)
    executed = run.cell(index)
    error = errors_of(executed)
    assert not error, f"{lesson.name} cell {index} raised:\n{error}"
    diff = mismatch(run.committed.cells[index], executed)
    assert not diff, f"{lesson.name} cell {index}: {diff}"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_solutions_are_right_in_lesson_state(lesson: Path, lesson_runs):
    run = lesson_runs.get(lesson)
    found = exercises(run.committed)
    assert found, f"{lesson.name} has no exercise"
    verdicts = {}
    for i, _ in found:
        cell = run.solution(i)
        error = errors_of(cell)
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
        verdicts[i] = error or text.rsplit(VERDICT, 1)[-1].strip()
    assert all(v.startswith("Right:") for v in verdicts.values()), verdicts
