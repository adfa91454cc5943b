"""Each lesson runs once per test session; that one run serves every check of a run.

One execution of a lesson answers five questions that used to cost four runs (nbval,
a run with the solutions substituted, a run with data/ read-only, and lesson 5 up to
each exercise whose check takes the lesson's state):

- do the outputs equal the committed ones, cell by cell? (what nbval compared, with
  nbval's own stream handling and the sanitizing patterns of ``nbval_sanitize.cfg``:
  :func:`mismatch`);
- does every exercise's worked solution, run in the lesson's state, satisfy its check?
  (``lessons/test_lesson_runs.py``; the solutions are read as
  ``unit/test_lesson_solutions.py`` describes);
- is data/ untouched, and could it not be written? (``reliability/test_nothing_lost.py``);
- do the files the lesson writes hold no PHI? (``reliability/test_phi.py``);
- what does each exercise's check expect, asked in the lesson's state? (a probe cell,
  :func:`expected_probe`, read by ``unit/test_copyable_answers.py``).

How: the lesson is copied with two cells inserted after each exercise cell. The first
prints what the check expects (:func:`expected_probe`); the second
runs the exercise cell's code with the solution in place of ``answer = ...``, in a
*copy* of the kernel's namespace (so the lesson's next cells see what a learner who left
the exercise sees, and the committed outputs still apply), asserts the check says right
and prints its verdict. Cells tagged ``needs-orthanc`` (lesson 8's DICOMweb cells) are
left out of the copy where Orthanc is not installed, and their tests skip with the
install message, as the root ``conftest.py`` does for nbval's items. The copy is
executed top to bottom in a fresh kernel (``execute_lesson.py``: errors recorded, not
raised) under the read-only harness of ``readonly.py``, with ``DICOM_WORKBOOK_OUTPUT``
in a folder of its own; data/ is hashed before and after. Runs are made on first use, so
``pytest -k 03_`` runs one lesson.
"""

from __future__ import annotations

import ast
import copy
import os
import re
import shutil
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbval.plugin import coalesce_streams, get_sanitize_patterns, transform_streams_for_comparison
from readonly import hashes, run_read_only

from helpers.network import servers
from helpers.paths import DATA_DIR, REPO_ROOT

TESTS = Path(__file__).resolve().parent
LESSONS = sorted((REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PLACEHOLDER = re.compile(r"^answer = \.\.\.$", re.MULTILINE)
SOLUTION = re.compile(r"<details>.*?```python\n(.*?)```", re.DOTALL)
#: The nbval cell tag the lessons use: the cell must run, its output is not compared.
IGNORE_OUTPUT = "nbval-ignore-output"
#: Output keys nbval does not compare (its defaults without --nbdime): images are
#: checked by eye and by the tests of the helpers that draw them.
SKIP_COMPARE = frozenset({"metadata", "traceback", "prompt_number", "output_type", "name",
                          "execution_count", "application/vnd.jupyter.widget-view+json",
                          "image/png", "image/jpeg"})
SANITIZE = get_sanitize_patterns((TESTS / "nbval_sanitize.cfg").read_text())
#: Cell metadata key marking what a cell of the run is: the committed cell's index, or
#: the exercise cell whose solution it runs.
ORIGIN = "workbook_test"
VERDICT = "solution verdict: "
#: What an expected-value probe cell prints before its JSON.
EXPECTED = "EXPECTED="
#: The tag of cells that need Orthanc (the root conftest.py skips them for nbval too).
ORTHANC_TAG = "needs-orthanc"


def skip_reason(cell: nbformat.NotebookNode) -> str | None:
    """Why a committed cell is not run here (Orthanc absent for a ``needs-orthanc`` cell,
    with how to install it), or None when it runs."""
    if ORTHANC_TAG in cell.get("metadata", {}).get("tags", []) and not servers.orthanc_installed():
        return f"Orthanc is not installed: {servers.ORTHANC_INSTALL}"
    return None


# ------------------------------------------------------------------------ exercises
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


def _check_call(tree: ast.Module) -> ast.Call:
    """The check call an exercise cell ends with."""
    last = tree.body[-1]
    assert isinstance(last, ast.Expr) and isinstance(last.value, ast.Call), (
        "an exercise cell ends with its check call")
    return last.value


def solved(exercise: str, solution: str) -> str:
    """The exercise cell with the solution in place of its placeholder line, its last
    expression (the check) asserted to say right, the verdict printed."""
    tree = ast.parse(PLACEHOLDER.sub(lambda _: solution, exercise))
    check = ast.unparse(_check_call(tree))
    body = ast.unparse(ast.Module(body=tree.body[:-1], type_ignores=[]))
    return (f"{body}\n__feedback = {check}\n"
            "assert __feedback.ok, f'solution rejected: {__feedback}'\n"
            f"print({VERDICT!r} + str(__feedback))")


def expected_probe(exercise: str) -> str:
    """Code that prints what the exercise's check expects, asked in the lesson's state:
    ``check.expected(<the check call's arguments after the answer>)`` as JSON
    ``[value, near, why_none]`` after :data:`EXPECTED` (read by
    ``unit/test_copyable_answers.py``)."""
    call = _check_call(ast.parse(exercise))  # ``answer = ...`` parses as it stands
    check = ast.unparse(call.func)
    args = ", ".join(ast.unparse(a) for a in call.args[1:])
    return (f"import json as __json\n__e = {check}.expected({args})\n"
            f"print({EXPECTED!r} + __json.dumps([__e.value, __e.near, __e.why_none]))")


def _in_a_copy_of_the_namespace(code: str, name: str) -> str:
    return f"exec(compile({code!r}, {name!r}, 'exec'), dict(globals()))"


def with_solutions(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose cells carry their committed index, with two cells after
    every exercise cell, each run in a copy of the namespace (see the module): what its
    check expects (:func:`expected_probe`), then its solution; without the cells
    :func:`skip_reason` skips."""
    solutions = dict(exercises(nb))
    out = copy.deepcopy(nb)
    cells = []
    for i, cell in enumerate(out.cells):
        if skip_reason(cell):
            continue
        cell.metadata[ORIGIN] = {"cell": i}
        cells.append(cell)
        if i in solutions:
            probe = _in_a_copy_of_the_namespace(expected_probe(nb.cells[i].source),
                                                f"expected of cell {i}")
            cells.append(nbformat.v4.new_code_cell(probe, metadata={ORIGIN: {"expected": i}}))
            code = _in_a_copy_of_the_namespace(solved(nb.cells[i].source, solutions[i]),
                                               f"solution of cell {i}")
            cells.append(nbformat.v4.new_code_cell(code, metadata={ORIGIN: {"solution": i}}))
    out.cells = cells
    return out


# ----------------------------------------------------------------------------- runs
@dataclass
class LessonRun:
    lesson: Path
    committed: nbformat.NotebookNode
    executed: nbformat.NotebookNode | None  #: None when the run did not finish
    how: str                                 #: how data/ was made read-only
    returncode: int
    stderr: str
    before: dict[str, str]                   #: SHA-256 of every data/ file before the run
    after: dict[str, str]                    #: ... and after
    output: Path                             #: its DICOM_WORKBOOK_OUTPUT

    def cell(self, index: int) -> nbformat.NotebookNode:
        """The executed committed cell ``index``."""
        return self._by_origin("cell", index)

    def solution(self, exercise: int) -> nbformat.NotebookNode:
        """The executed solution cell of exercise cell ``exercise``."""
        return self._by_origin("solution", exercise)

    def expected(self, exercise: int) -> nbformat.NotebookNode:
        """The executed probe cell saying what exercise cell ``exercise``'s check expects."""
        return self._by_origin("expected", exercise)

    def _by_origin(self, kind: str, index: int) -> nbformat.NotebookNode:
        assert self.executed is not None, (
            f"{self.lesson.name} did not run to the end (exit {self.returncode}):\n"
            + self.stderr[-3000:])
        return next(c for c in self.executed.cells if c.metadata.get(ORIGIN) == {kind: index})


@dataclass
class LessonRuns:
    """Runs each lesson on first request, once per session (the ``lesson_runs`` fixture)."""

    work: Path
    runs: dict[str, LessonRun] = field(default_factory=dict)
    _hashes: dict[str, str] | None = None

    def get(self, lesson: Path) -> LessonRun:
        if lesson.name not in self.runs:
            self.runs[lesson.name] = self._run(lesson)
        return self.runs[lesson.name]

    def _run(self, lesson: Path) -> LessonRun:
        before = self._hashes if self._hashes is not None else hashes(DATA_DIR)
        folder = self.work / lesson.stem
        (folder / "notebooks").mkdir(parents=True)
        committed = nbformat.read(lesson, as_version=4)
        source = folder / "notebooks" / lesson.name
        nbformat.write(with_solutions(committed), source)
        target = folder / "executed.ipynb"
        env = dict(os.environ, DICOM_WORKBOOK_OUTPUT=str(folder / "output"))
        how, proc = run_read_only(
            [sys.executable, str(TESTS / "execute_lesson.py"), str(source), str(target)], env)
        executed = nbformat.read(target, as_version=4) if target.is_file() else None
        self._hashes = hashes(DATA_DIR)
        return LessonRun(lesson, committed, executed, how, proc.returncode, proc.stderr,
                         before, self._hashes, folder / "output")

    def cleanup(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


# ----------------------------------------------------------------------- comparison
def _sanitize(value: object) -> object:
    if not isinstance(value, str):
        return value
    for regex, replace in SANITIZE:
        value = re.sub(regex, replace, value)
    return value


def _flat(outputs: list) -> dict[str, list]:
    """nbval's view of a cell's outputs: streams merged per name, then every compared
    key (a stream name, or a MIME type of ``data``) with its sanitized values in order."""
    flat: dict[str, list] = defaultdict(list)
    for output in transform_streams_for_comparison(coalesce_streams(copy.deepcopy(outputs))):
        for key, value in output.items():
            if key in SKIP_COMPARE:
                continue
            if key == "data":
                for mime, data in value.items():
                    if mime not in SKIP_COMPARE:
                        flat[mime].append(_sanitize(data))
            else:
                flat[key].append(_sanitize(value))
    return dict(flat)


def errors_of(cell: nbformat.NotebookNode) -> str:
    """The error a cell raised, as text (ANSI colours removed), or ``""``."""
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            trace = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(o.get("traceback", [])))
            out.append(f"{o.get('ename')}: {o.get('evalue')}\n{trace}")
    return "\n".join(out)


def mismatch(committed: nbformat.NotebookNode, executed: nbformat.NotebookNode) -> str:
    """Why ``executed`` differs from the committed cell as nbval would say it, or ``""``."""
    tags = set(committed.metadata.get("tags", []))
    unknown = {t for t in tags if t.startswith("nbval-")} - {IGNORE_OUTPUT}
    if unknown:
        return f"nbval tags this runner does not implement: {sorted(unknown)}"
    if IGNORE_OUTPUT in tags:
        return ""
    ref, got = _flat(committed.outputs), _flat(executed.outputs)
    if set(ref) != set(got):
        return (f"output kinds differ: committed {sorted(ref)}, now {sorted(got)}\n"
                f"committed: {ref}\nnow:       {got}")
    for key in ref:
        if ref[key] != got[key]:
            return f"{key} differs:\n--- committed\n{ref[key]}\n--- now\n{got[key]}"
    return ""
