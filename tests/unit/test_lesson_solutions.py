"""The exercises of every lesson, read statically: at least three per lesson, each with
its worked solution in the collapsed ``<details>`` block, and no visible cell that runs
a solution.

The solutions live only in the collapsed block under each exercise. Each exercise cell
(a code cell with a line ``answer = ...``) is followed by a markdown cell with a
``<details>`` block holding ```` ```python ```` code that sets ``answer``
(``lesson_runs.exercises`` reads them). That every solution satisfies its check, run in
the lesson's state, is tested in the one run of each lesson
(``lessons/test_lesson_runs.py::test_solutions_are_right_in_lesson_state``).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from lesson_runs import LESSONS, exercises, solved

MIN_EXERCISES = 3


def test_lessons_found():
    """The lessons are numbered 00, 01, ... without a gap or a duplicate number."""
    numbers = [int(p.name[:2]) for p in LESSONS]
    assert len(numbers) >= 6 and numbers == list(range(len(numbers))), [p.name for p in LESSONS]


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_exercise_cells_show_no_solution(lesson: Path):
    """At least three exercises, and no visible code cell runs a solution or asserts a
    check (the solution is only in the collapsed block)."""
    nb = nbformat.read(lesson, as_version=4)
    assert len(exercises(nb)) >= MIN_EXERCISES
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert not re.search(r"\bassert check_|\bsolution\b", cell.source), (
                f"code cell {i} of {lesson.name} runs a solution")


def test_solved_puts_the_solution_in_place_and_asserts_the_check():
    """The substitution the lesson runs use: the placeholder replaced, the check asserted."""
    code = solved("x = 2\nanswer = ...\ncheck(answer)", "answer = x + 1")
    namespace: dict = {"check": lambda a: type("F", (), {"ok": a == 3})()}
    exec(code, namespace)
    assert namespace["answer"] == 3
    with pytest.raises(AssertionError, match="solution rejected"):
        exec(solved("answer = ...\ncheck(answer)", "answer = 4"), namespace)
