"""No exercise's answer can be copied from an output the learner has already seen.

For every exercise of every lesson (a code cell with a line ``answer = ...`` ending in a
check call), the check itself says what it expects: ``check.expected(...)`` gives an
:class:`~helpers.lessons.feedback.Expected` with the right value, computed from the data
(never written into this test). The test then reads the committed outputs of every cell
above the exercise in its lesson, and of every cell of the earlier lessons, and looks for
that value written the ways Python and pandas print it (``-600``, ``-600.0``, ``0.148``,
``(15, 10, 10)``, ``'CT000023.dcm'``). A common number (0, 1, 40, 193) is looked for in
context: ``Expected.near`` is a pattern that must occur shortly before the value on the
same line ("center", "grey", "patients"), so "193 files" does not count as the grey level
193 but "grey level 193" does.

Exercises whose answer is not one value (a window in a range, a function, a file to
write, a letter among options the cell itself prints) say so in ``Expected.why_none``.
Checks that take the lesson's state (``check_leaked_patients(answer, model[...], ...)``)
are asked in the lesson's one run (``lesson_runs.py`` runs a probe cell after each
exercise); literal arguments (``KEY``) are read from the lesson's code.

``test_scanner_finds_a_printed_answer`` proves the scanner fails when an answer is
printed above its exercise.
"""

from __future__ import annotations

import ast
import html
import importlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from lesson_runs import EXPECTED, errors_of

from helpers.lessons.feedback import Expected

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("0*.ipynb"))
PLACEHOLDER = re.compile(r"^answer = \.\.\.$", re.MULTILINE)
CHECK_MODULE = re.compile(r"from helpers\.lessons\.checks\.(lesson\d+) import")
#: How far before a value its context may be, on the same line.
NEAR_CHARS = 120


@dataclass(frozen=True)
class Exercise:
    lesson: Path
    cell: int            # index of the exercise cell in its lesson
    module: str          # helpers.lessons.checks.lessonN
    check: str           # the check function's name
    args: tuple[str, ...]  # the source of each argument after the answer


def exercises(lesson: Path, nb: nbformat.NotebookNode) -> list[Exercise]:
    modules = sorted({m for c in nb.cells if c.cell_type == "code"
                      for m in CHECK_MODULE.findall(c.source)})
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not PLACEHOLDER.search(cell.source):
            continue
        call = ast.parse(cell.source).body[-1]
        assert isinstance(call, ast.Expr) and isinstance(call.value, ast.Call), (
            f"{lesson.name} cell {i}: an exercise cell ends with its check call")
        name = ast.unparse(call.value.func)
        module = next(m for m in modules
                      if hasattr(importlib.import_module(f"helpers.lessons.checks.{m}"), name))
        found.append(Exercise(lesson, i, f"helpers.lessons.checks.{module}", name,
                              tuple(ast.unparse(a) for a in call.value.args[1:])))
    return found


# ---------------------------------------------------------------------------
# What the learner has seen: the committed outputs, as text


def output_text(cell: nbformat.NotebookNode) -> str:
    """Every output of a code cell as text (text/plain, or HTML without its tags)."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif "data" in out:
            d = out["data"]
            if "text/plain" in d:
                parts.append(d["text/plain"])
            if "text/html" in d:
                text = re.sub(r"<[^>]+>", " ", d["text/html"])
                parts.append(html.unescape(text))
        elif out.get("output_type") == "error":
            parts.append("\n".join(out.get("traceback", [])))
    return "\n".join(parts)


def seen_before(nb: nbformat.NotebookNode, cell: int, earlier: list[str]) -> list[str]:
    """The outputs a learner has seen when reaching ``cell``: earlier lessons', then this
    lesson's cells above it."""
    return earlier + [output_text(c) for c in nb.cells[:cell] if c.cell_type == "code"]


# ---------------------------------------------------------------------------
# How a value is printed


def _number(value: float) -> str:
    """A pattern for a number as Python, numpy or pandas print it."""
    lead, tail = r"(?<![\w.])", r"(?![\w]|\.\d)"
    if float(value).is_integer():
        n = int(value)
        forms = {str(n), f"{n:,}"}
        return lead + "(?:" + "|".join(re.escape(f) for f in forms) + r")(?:\.0+)?" + tail
    forms = {repr(float(value))} | {f"{value:.{p}f}" for p in range(2, 7)}
    forms |= {f"{100 * value:.1f}%", f"{100 * value:.2f}%"}
    return lead + "(?:" + "|".join(re.escape(f) for f in sorted(forms)) + ")" + tail


def _item(value: object) -> str:
    if isinstance(value, bool) or value is None:
        raise TypeError(value)
    if isinstance(value, int) and value > 0xFFFF:          # a tag: also in hex
        return ("(?:" + _number(value) + f"|0x{value:08X}|\\({value >> 16:04X},"
                f"{value & 0xFFFF:04X}\\))")
    if isinstance(value, int | float):
        return _number(value)
    text = re.escape(str(value))
    return rf"(?<![\w.]){text}(?![\w])"


def patterns(value: object) -> list[str]:
    """Regular expressions that find ``value`` printed."""
    if isinstance(value, list | tuple):
        sep = r"['\"]?[\s,x×]+['\"]?" if any(isinstance(v, str) for v in value) else r"[\s,x×]+"
        return [r"[\(\[{]?['\"]?" + sep.join(_item(v) for v in value) + r"['\"]?[\)\]}]?"]
    return [_item(value)]


def shown(expected: Expected, texts: list[str]) -> list[str]:
    """The lines of ``texts`` where the expected value is printed (in its context)."""
    hits = []
    for text in texts:
        for line in text.splitlines():
            for pattern in patterns(expected.value):
                for m in re.finditer(pattern, line):
                    before = line[max(0, m.start() - NEAR_CHARS):m.start()]
                    if expected.near is None or re.search(expected.near, before):
                        hits.append(line.strip())
    return hits


# ---------------------------------------------------------------------------
# The expected value of each exercise, from its check


def _literal_args(nb: nbformat.NotebookNode, upto: int, args: tuple[str, ...]) -> list | None:
    """The arguments as values when each is a literal or a name the lesson binds to a
    literal above the exercise (``KEY = "..."``); None when one needs the lesson's state."""
    values = []
    for source in args:
        try:
            values.append(ast.literal_eval(source))
            continue
        except ValueError:
            pass
        bound = None
        for cell in nb.cells[:upto]:
            if cell.cell_type != "code":
                continue
            for node in ast.parse(cell.source).body:
                if (isinstance(node, ast.Assign) and len(node.targets) == 1
                        and ast.unparse(node.targets[0]) == source):
                    try:
                        bound = (ast.literal_eval(node.value),)
                    except ValueError:
                        return None
        if bound is None:
            return None
        values.append(bound[0])
    return values


def _expected_in_lesson_state(run, ex: Exercise) -> Expected:
    """What the check says at the exercise, in the lesson's state: the probe cell the one
    run of the lesson made after the exercise (``lesson_runs.expected_probe``)."""
    cell = run.expected(ex.cell)
    assert not errors_of(cell), f"{ex.check}.expected failed in the lesson's state:\n" \
        + errors_of(cell)
    text = output_text(cell)
    value, near, why = json.loads(text.split(EXPECTED, 1)[1].splitlines()[0])
    return Expected(value, near, why)


def expected_of(nb: nbformat.NotebookNode, ex: Exercise, runs=None) -> Expected:
    """The exercise's expected value: asked of its check with the literal arguments, or
    (when an argument is the lesson's state) read from ``runs``' run of the lesson."""
    check = getattr(importlib.import_module(ex.module), ex.check)
    assert hasattr(check, "expected"), f"{ex.check} does not say what it expects (@expects)"
    args = _literal_args(nb, ex.cell, ex.args)
    expected = (check.expected(*args) if args is not None
                else _expected_in_lesson_state(runs.get(ex.lesson), ex))
    assert isinstance(expected, Expected)
    if expected.value is None:
        assert expected.why_none, f"{ex.check}: no value and no reason"
    return expected


def _lessons() -> list[tuple[Path, nbformat.NotebookNode]]:
    return [(p, nbformat.read(p, as_version=4)) for p in LESSONS]


def _needs_state(lesson: Path) -> bool:
    nb = nbformat.read(lesson, as_version=4)
    return any(_literal_args(nb, ex.cell, ex.args) is None for ex in exercises(lesson, nb))


@pytest.mark.parametrize("lesson", [
    pytest.param(p, marks=pytest.mark.slow) if _needs_state(p) else p for p in LESSONS],
    ids=lambda p: p.stem)
def test_no_answer_is_shown_before_its_exercise(lesson: Path, lesson_runs):
    lessons = _lessons()
    at = [p for p, _ in lessons].index(lesson)
    earlier = [output_text(c) for _, nb in lessons[:at] for c in nb.cells
               if c.cell_type == "code"]
    nb = lessons[at][1]
    found = exercises(lesson, nb)
    assert len(found) >= 3
    problems = []
    for ex in found:
        expected = expected_of(nb, ex, lesson_runs)
        if expected.value is None:
            continue
        for line in shown(expected, seen_before(nb, ex.cell, earlier)):
            problems.append(f"{lesson.name} cell {ex.cell} ({ex.check}): the answer "
                            f"{expected.value!r} is shown above it: {line[:120]!r}")
    assert not problems, "\n".join(problems)


def test_scanner_finds_a_printed_answer():
    """Print lesson 0's exercise-2 answer in a cell above the exercise: the scan must
    find it; printing the value for something else (out of context) must not count."""
    lesson = NOTEBOOKS / "00_welcome.ipynb"
    nb = nbformat.read(lesson, as_version=4)
    ex = next(e for e in exercises(lesson, nb) if e.check == "check_header_window")
    expected = expected_of(nb, ex)
    assert expected.value is not None
    assert not shown(expected, seen_before(nb, ex.cell, []))
    leak = nbformat.v4.new_code_cell("print(first.WindowCenter)")
    leak.outputs = [nbformat.v4.new_output(
        "stream", name="stdout", text=f"window centers: [40, {expected.value:g}]\n")]
    nb.cells.insert(ex.cell - 1, leak)
    assert shown(expected, seen_before(nb, ex.cell + 1, []))
    other = nbformat.v4.new_code_cell("print(x)")
    other.outputs = [nbformat.v4.new_output(
        "stream", name="stdout", text=f"{expected.value:g} files in the folder\n")]
    nb.cells[ex.cell - 1] = other
    assert not shown(expected, seen_before(nb, ex.cell + 1, []))


@pytest.mark.parametrize("value, text, found", [
    (193, "grey level 193 of 255", True),
    (193, "193 files", False),
    (0.14814814814814814, "prevalence AP 0.148", True),
    (0.14814814814814814, "prevalence AP 0.1481", True),
    (0.14814814814814814, "prevalence AP 0.2148", False),
    ((15, 10, 10), "shape (15, 10, 10)", True),
    ((15, 10, 10), "shape (150, 10, 10)", False),
    (["AcquisitionDate", "StudyID"], "{'AcquisitionDate', 'StudyID'}", True),
    ([0x00280011, "US", 2, 64], "(0x00280011, 'US', 2, 64)", True),
    (-600.0, "center [40, -600]", True),
    (-600.0, "center -6000", False),
])
def test_value_patterns(value, text, found):
    near = r"(?i)grey|prevalence|shape|center" if not isinstance(value, list) else None
    assert bool(shown(Expected(value, near), [text])) is found
