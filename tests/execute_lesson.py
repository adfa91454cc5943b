"""Execute one notebook top to bottom in a fresh kernel and save every output as produced.

``python tests/execute_lesson.py IN.ipynb OUT.ipynb``: run by :mod:`lesson_runs` inside
the read-only harness (:mod:`readonly`), so the kernel it starts inherits the protection.
A cell that raises is recorded (its error output), and the run goes on, so every cell
gets its own verdict, as nbval gives; nothing is filtered (raw outputs, as nbval compares).

After each cell it also notes which processes name the run's output folder
(``DICOM_WORKBOOK_OUTPUT``) on their command line: the servers lesson 8 starts, whose
clean-up ``reliability/test_network_cleanup.py`` checks. They are saved in the notebook's
metadata under ``workbook_test.processes_seen`` as ``[cell index, command line]`` pairs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient


def processes_naming(folder: str) -> list[psutil.Process]:
    """The processes whose command line names ``folder`` (psutil lists them; each has
    its command line in ``.info["cmdline"]``)."""
    return [proc for proc in psutil.process_iter(["cmdline"])
            if any(folder in part for part in proc.info["cmdline"] or [])]


def main(source: str, target: str) -> int:
    nb = nbformat.read(source, as_version=4)
    output = os.environ.get("DICOM_WORKBOOK_OUTPUT")
    seen: list = []

    def note_processes(cell, cell_index, **_) -> None:
        if output:
            seen.extend([cell_index, proc.info["cmdline"]] for proc in processes_naming(output))

    client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                            record_timing=False, on_cell_executed=note_processes,
                            resources={"metadata": {"path": str(Path(source).parent)}})
    client.execute()
    nb.metadata["workbook_test"] = {"processes_seen": seen}
    nbformat.write(nb, target)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
