"""Re-execute lessons and save them with their outputs, deterministically.

``python -m helpers.notebooks execute notebooks/*.ipynb`` (``make notebooks``)
runs each notebook top to bottom in a fresh kernel from the ``notebooks/``
folder and writes it back, without execution timestamps, so that the committed
outputs are what nbval compares against. Two kinds of output only make sense while a
kernel runs and are left out of the saved notebook, so that a lesson read unrun shows no
stale state: progress bars (a finished bar's text is a frozen snapshot) and the plain-text
``repr`` of a live widget (``VBox(children=...``).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

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
        if cell.cell_type == "code":
            cell.outputs = [o for o in map(static, cell.outputs) if o is not None]
    nb.metadata.pop("widgets", None)  # live widget state differs run to run
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.notebooks")
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
