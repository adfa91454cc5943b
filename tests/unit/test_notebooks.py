"""What `python -m helpers.lessons.notebooks execute` keeps of a cell's outputs: a lesson read
unrun shows no frozen progress bar and no widget repr, and nothing else is dropped."""

from __future__ import annotations

import nbformat

from helpers.lessons.notebooks import static


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
