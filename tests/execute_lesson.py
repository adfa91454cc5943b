"""Execute one notebook top to bottom in a fresh kernel and save every output as produced.

``python tests/execute_lesson.py IN.ipynb OUT.ipynb``: run by :mod:`lesson_runs` inside
the read-only harness (:mod:`readonly`), so the kernel it starts inherits the protection.
A cell that raises is recorded (its error output), and the run goes on, so every cell
gets its own verdict, as nbval gives; nothing is filtered (raw outputs, as nbval compares).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def main(source: str, target: str) -> int:
    nb = nbformat.read(source, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                            record_timing=False,
                            resources={"metadata": {"path": str(Path(source).parent)}})
    client.execute()
    nbformat.write(nb, target)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
