"""Deliberately broken targets: the fuzz harness must call each of them a bug.

Used by ``test_fuzz.py::test_harness_catches`` (through ``FUZZ_TARGETS``), so
that the fuzz tests cannot pass just because the harness misses failures.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from helpers.dicom.errors import NotDicomError


def _chained_traceback(p: Path) -> None:
    try:
        int("not a number")
    except ValueError:
        raise NotDicomError(p, "cannot be parsed")  # noqa: B904 (the bug under test)


def _raise(exc: BaseException) -> Callable[[Path], None]:
    def target(p: Path) -> None:
        raise exc
    return target


class _Panic(BaseException):
    """Like pyo3's PanicException: not an Exception."""


TARGETS: dict[str, Callable[[Path], object]] = {
    "ok": lambda p: None,
    "documented": lambda p: (_ for _ in ()).throw(NotDicomError(p, "not a DICOM file")),
    "undocumented": _raise(KeyError("PixelData")),
    "unnamed": lambda p: (_ for _ in ()).throw(NotDicomError(None, "not a DICOM file")),
    "no problem": lambda p: (_ for _ in ()).throw(NotDicomError(p, " ")),
    "chained": _chained_traceback,
    "panic": _raise(_Panic("index out of bounds")),
    "hang": lambda p: time.sleep(3600),
    "crash": lambda p: os.abort(),
    "huge allocation": lambda p: bytearray(8 * 2**30),
}
