"""Re-execute lessons and save them with their outputs, deterministically.

``python -m helpers.notebooks execute notebooks/*.ipynb`` (``make notebooks``)
runs each notebook top to bottom in a fresh kernel from the ``notebooks/``
folder and writes it back, without execution timestamps, so that the committed
outputs are what nbval compares against.
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
