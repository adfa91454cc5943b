"""Re-execute lessons and save them with their outputs, deterministically.

``python -m helpers.notebooks execute notebooks/*.ipynb`` (``make notebooks``)
runs each notebook top to bottom in a fresh kernel from the ``notebooks/``
folder and writes it back, without execution timestamps, so that the committed
outputs are what nbval compares against. A widget that also offers a static picture
(``image/png``, as :class:`helpers.viewer.Viewer` does) is saved as that picture
only, so a lesson opened without running it shows the image, not an error about a
missing widget model.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


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
    nb.metadata.pop("widgets", None)  # live widget state differs run to run
    static_widgets(nb)
    nbformat.write(nb, path)
    return time.perf_counter() - start


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def static_widgets(nb: nbformat.NotebookNode) -> int:
    """Drop the live-widget view from outputs that also carry an ``image/png`` (the
    widget's own static picture); return how many outputs changed. Without its
    kernel a saved widget view can only show "model not found"; the picture reads
    well unrun, and running the cell brings the live widget back."""
    changed = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            bundle = output.get("data", {})
            if WIDGET_VIEW in bundle and "image/png" in bundle:
                del bundle[WIDGET_VIEW]
                changed += 1
    return changed


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
