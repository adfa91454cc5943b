"""The comparison and the solution cells of the one lesson run (tests/lesson_runs.py),
on small made-up notebooks: it must flag what nbval flags and pass what nbval passes."""

from __future__ import annotations

import nbformat
from lesson_runs import ORIGIN, mismatch, with_solutions
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output


def cell(*outputs, tags=()):
    c = new_code_cell("x", metadata={"tags": list(tags)} if tags else {})
    c.outputs = list(outputs)
    return c


def stream(text, name="stdout"):
    return new_output("stream", name=name, text=text)


def result(**data):
    return new_output("execute_result", data=data, execution_count=1)


def test_equal_outputs_pass_and_a_changed_value_fails():
    assert mismatch(cell(stream("a = 1\n")), cell(stream("a = 1\n"))) == ""
    assert "stdout differs" in mismatch(cell(stream("a = 1\n")), cell(stream("a = 2\n")))
    assert "differs" in mismatch(cell(result(**{"text/plain": "1"})),
                                 cell(result(**{"text/plain": "2"})))
    assert "output kinds differ" in mismatch(cell(stream("a\n")), cell(stream("a\n", "stderr")))


def test_streams_are_merged_as_nbval_merges_them():
    """One print may arrive as two messages: the same output."""
    assert mismatch(cell(stream("a\nb\n")), cell(stream("a\n"), stream("b\n"))) == ""


def test_sanitized_values_and_pictures_are_not_compared():
    """nbval_sanitize.cfg's patterns (addresses, figure sizes, timings); images as nbval
    without --nbdime."""
    assert mismatch(cell(stream("at 0x7f3a2b1c0d00, 1.5 s\n")),
                    cell(stream("at 0x7f00deadbeef, 2.25 s\n"))) == ""
    assert mismatch(cell(result(**{"image/png": "AAA", "text/plain": "<Figure>"})),
                    cell(result(**{"image/png": "BBB", "text/plain": "<Figure>"}))) == ""


def test_tags():
    assert mismatch(cell(stream("a\n"), tags=["nbval-ignore-output"]), cell(stream("b\n"))) == ""
    assert "does not implement" in mismatch(cell(tags=["nbval-skip"]), cell())


def test_a_probe_and_a_solution_cell_follow_each_exercise_and_cells_keep_their_index():
    nb = new_notebook(cells=[
        new_code_cell("x = 2"),
        new_code_cell("answer = ...\ncheck(answer, x, 'CT')"),
        new_markdown_cell("<details>\n\n```python\nanswer = x + 1\n```\n</details>"),
    ])
    run = with_solutions(nb)
    assert [c.metadata[ORIGIN] for c in run.cells] == [
        {"cell": 0}, {"cell": 1}, {"expected": 1}, {"solution": 1}, {"cell": 2}]
    assert "check.expected(x, 'CT')" in run.cells[2].source
    assert "answer = x + 1" in run.cells[3].source and nb.cells[1].source.startswith("answer")
    nbformat.validate(run)
