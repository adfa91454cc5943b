"""What `python -m helpers.lessons.notebooks execute` keeps of a cell's outputs: a lesson read
unrun shows no frozen progress bar and no widget repr, and nothing else is dropped."""

from __future__ import annotations

from pathlib import Path

import nbformat

from helpers.lessons.notebooks import execute, static


def stream(name: str, text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("stream", name=name, text=text)


def test_progress_bar_is_dropped_other_stderr_kept() -> None:
    bar = stream("stderr", "headers:   0%|          | 0/361 [00:00<?, ?file/s]")
    assert static(bar) is None
    warning = stream("stderr", "UserWarning: 12% of the values are missing")
    assert static(warning) is warning
    assert static(stream("stdout", "100%|##########| 361/361")) is not None


def test_widget_keeps_only_its_static_picture() -> None:
    view = {"application/vnd.jupyter.widget-view+json": {"model_id": "abc"},
            "text/plain": "VBox(children=(HBox(children=(Dropdown(...",}
    assert static(nbformat.v4.new_output("display_data", data=dict(view))) is None
    with_picture = nbformat.v4.new_output("display_data",
                                          data={**view, "image/png": "iVBORw0KGgo="})
    kept = static(with_picture)
    assert kept is not None and set(kept["data"]) == {"image/png"}
    figure = nbformat.v4.new_output("display_data", data={"image/png": "x", "text/plain": "F"})
    assert static(figure)["data"] == {"image/png": "x", "text/plain": "F"}


def test_a_print_split_across_messages_is_saved_as_one_output(tmp_path: Path) -> None:
    """The kernel may send one cell's stdout as several messages (here forced by a flush
    and a pause longer than ipykernel's 0.2 s flush interval); saved, it is one output,
    so re-executing a lesson cannot change its file by timing alone."""
    path = tmp_path / "split.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(
        "import time\nprint('a', flush=True)\ntime.sleep(0.5)\nprint('b')"))
    nbformat.write(nb, path)
    execute(path)
    outputs = nbformat.read(path, as_version=4).cells[0].outputs
    assert [(o.output_type, o.name, o.text) for o in outputs] == [("stream", "stdout", "a\nb\n")]
