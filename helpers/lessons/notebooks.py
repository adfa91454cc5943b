"""Re-execute lessons and save them with their outputs, deterministically.

``python -m helpers.lessons.notebooks execute notebooks/*.ipynb`` (``make notebooks``)
runs each notebook top to bottom in a fresh kernel from the ``notebooks/``
folder and writes it back, without execution timestamps, so that the committed
outputs are what nbval compares against. Two kinds of output only make sense while a
kernel runs and are left out of the saved notebook, so that a lesson read unrun shows no
stale state: progress bars (a finished bar's text is a frozen snapshot) and the live view
and plain-text ``repr`` of a widget (``VBox(children=...``). A widget that also offers a
static picture (``image/png``, as :class:`helpers.image.viewer.Viewer` does) is saved as that
picture, so a lesson opened without running it shows the image, not an error about a
missing widget model.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert.preprocessors import CoalesceStreamsPreprocessor

#: A tqdm progress bar on stderr: "name:  42%|####      | 152/361 [...]".
PROGRESS_BAR = re.compile(r"\d+%\|")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def static(output: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """The part of ``output`` that reads well without a kernel, or None (module doc).

    A widget's output keeps only what it offers besides its live view and text repr (a
    static picture, if the widget provides one)."""
    if output.get("output_type") == "stream" and output.get("name") == "stderr":
        return None if PROGRESS_BAR.search(output.get("text", "")) else output
    data = output.get("data", {})
    if WIDGET_VIEW in data:
        for key in (WIDGET_VIEW, "text/plain"):
            data.pop(key, None)
        return output if data else None
    return output


def execute(path: Path, timeout: int = 600) -> float:
    """Execute the notebook at ``path`` in place; return the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    static_widgets(nb)
    # one print can reach the kernel's stdout as one message or two, depending on
    # timing: merged, consecutive stream outputs save the same way every run
    CoalesceStreamsPreprocessor().preprocess(nb, {})
    nb.metadata.pop("widgets", None)  # live widget state differs run to run
    nbformat.write(nb, path)
    return time.perf_counter() - start


def static_widgets(nb: nbformat.NotebookNode) -> int:
    """Apply :func:`static` to every output of ``nb``; return how many outputs changed
    or were dropped. Without its kernel a saved widget view can only show "model not
    found"; the picture reads well unrun, and running the cell brings the live widget
    back."""
    changed = 0
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        kept = []
        for output in cell.outputs:
            before = nbformat.from_dict(dict(output))
            after = static(output)
            if after is not None:
                kept.append(after)
            changed += after is None or after != before
        cell.outputs = kept
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.lessons.notebooks")
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("execute", help="run notebooks and save their outputs")
    ex.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for path in args.paths:
        seconds = execute(path)
        print(f"{path.as_posix()}: executed in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
