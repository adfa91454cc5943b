"""Every worked solution of every lesson, run in its lesson, is marked right by its check.

The solutions live only in the collapsed ``<details>`` block under each exercise (the
lesson shows no cell that runs them). This test reads each lesson, finds every exercise
cell (a code cell with a line ``answer = ...``), takes the Python code of the solution
block that follows it, and builds a copy of the lesson in which that placeholder line is
replaced by the solution and the cell's last expression (the check call) is asserted to
be right. The copy is executed top to bottom in a
fresh kernel, exactly as a learner runs the lesson, so each solution sees the lesson's
state at that point. The committed notebooks are not changed.

The typical wrong answers and their hints are tested per check in
``test_checks_lesson*.py``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("0*.ipynb"))
PLACEHOLDER = re.compile(r"^answer = \.\.\.$", re.MULTILINE)
SOLUTION = re.compile(r"<details>.*?```python\n(.*?)```", re.DOTALL)
MIN_EXERCISES = 3


def exercises(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(index of the exercise cell, solution code) for every exercise of ``nb``."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not PLACEHOLDER.search(cell.source):
            continue
        block = next((c for c in nb.cells[i + 1:] if c.cell_type == "markdown"
                      and "<details>" in c.source), None)
        assert block is not None, f"exercise cell {i} has no <details> solution block after it"
        code = SOLUTION.findall(block.source)
        assert code, f"the solution block after exercise cell {i} has no ```python code"
        found.append((i, "\n".join(code)))
    return found


def solved(exercise: str, solution: str) -> str:
    """The exercise cell with the solution in place of its placeholder line, its last
    expression (the check) asserted to say right."""
    tree = ast.parse(PLACEHOLDER.sub(lambda _: solution, exercise))
    last = tree.body[-1]
    assert isinstance(last, ast.Expr), "an exercise cell ends with its check call"
    check = ast.unparse(last.value)
    body = ast.unparse(ast.Module(body=tree.body[:-1], type_ignores=[]))
    return (f"{body}\n__feedback = {check}\n"
            "assert __feedback.ok, f'solution rejected: {__feedback}'\n"
            "print(__feedback)")


def test_lessons_found():
    assert len(LESSONS) == 7


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


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_solutions_are_right_in_lesson_state(lesson: Path):
    nb = nbformat.read(lesson, as_version=4)
    found = exercises(nb)
    for i, code in found:
        nb.cells[i].source = solved(nb.cells[i].source, code)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()  # raises CellExecutionError naming the cell whose assertion failed
    verdicts = ["".join(o.get("text", "") for o in nb.cells[i].outputs).strip().splitlines()[-1]
                for i, _ in found]
    assert all(v.startswith("Right:") for v in verdicts), verdicts
