"""Worker process of the fuzz tests: runs the targets on one file per request.

Started by :class:`fuzzing.Harness` as ``python fuzz_worker.py MEMORY_LIMIT``.
It imports the helpers, caps its address space (``RLIMIT_AS``) so that a helper
allocating memory for a huge declared length fails with ``MemoryError`` instead
of eating the machine, then reads one JSON request per line on stdin
(``{"path": ..., "targets": [...]}``) and answers one JSON line per target
(``{"target", "outcome", "detail"}``) followed by ``{"done": true}``. The parent
times each target: a target that does not answer in time is a hang.

Outcomes: ``ok`` (returned), ``documented`` (a WorkbookError whose message names
the file or its folder, says what is wrong, and does not chain a library
traceback), ``bug`` (anything else, with the traceback in ``detail``).
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import traceback
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def classify(exc: BaseException, path: Path) -> tuple[str, str]:
    """``(outcome, detail)`` for an exception a target raised on ``path``."""
    from helpers.dicom.errors import WorkbookError

    if not isinstance(exc, WorkbookError):
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return "bug", f"undocumented {type(exc).__name__}: {exc}\n{tb}"
    message = str(exc)
    where, _, problem = message.partition(": ")
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if path.name not in where and path.parent.name not in where:
        return "bug", f"message does not start with the file name: {message!r}\n{tb}"
    if not problem.strip():
        return "bug", f"message does not say what is wrong: {message!r}\n{tb}"
    chained = exc.__cause__ is not None or (
        exc.__context__ is not None and not exc.__suppress_context__)
    if chained:
        return "bug", f"{type(exc).__name__} chains a library traceback (raise ... from None " \
                      f"missing): {message!r}\n{tb}"
    return "documented", f"{type(exc).__name__}: {message}"


def main() -> None:
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr  # anything a helper prints must not corrupt the protocol
    warnings.simplefilter("ignore")
    # imports the helpers before the memory cap; FUZZ_TARGETS swaps in other targets
    module = importlib.import_module(os.environ.get("FUZZ_TARGETS", "fuzz_targets"))
    TARGETS = module.TARGETS  # noqa: N806

    if limit:
        used = _vm_size()
        resource.setrlimit(resource.RLIMIT_AS, (used + limit, used + limit))
    out.write(json.dumps({"ready": sorted(TARGETS)}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        path = Path(request["path"])
        for name in request.get("targets") or list(TARGETS):
            out.write(json.dumps({"start": name}) + "\n")
            try:
                TARGETS[name](path)
                outcome, detail = "ok", ""
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # a decoder's Rust panic is a BaseException
                outcome, detail = classify(exc, path)
            out.write(json.dumps({"target": name, "outcome": outcome, "detail": detail}) + "\n")
        out.write(json.dumps({"done": True}) + "\n")


def _vm_size() -> int:
    """Current virtual memory size of this process in bytes (Linux /proc)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


if __name__ == "__main__":
    main()
