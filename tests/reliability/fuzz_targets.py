"""The public helpers the fuzz tests feed with mutated files: one line per target.

Each target takes the path of one (possibly corrupt) file, alone in its own
folder, and calls a public helper on it. It must return, or raise a
:class:`helpers.dicom.errors.WorkbookError` whose message names the file (or its
folder) and the problem; anything else is a bug (see ``fuzz_worker.py``).
Folder-level helpers also check their own promise: the file is accounted for
exactly once.

Add a target by adding one line to :data:`TARGETS`. Helpers that are not
written yet are skipped (``_optional``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from helpers.dicom import dicomio, header, part10_bytes
from helpers.dicom.errors import WorkbookError
from helpers.image import pixels
from helpers.tables import crawl, organize


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


volume = _optional("helpers.image.volume")
deid = _optional("helpers.tables.deid")


def _scan(path: Path) -> None:
    """crawl.scan: no exception, and the file lands in exactly one of its two tables."""
    table, errors = crawl.scan(path.parent, progress=False)
    seen = list(table["path"]) + list(errors["path"])
    assert seen == [path.name], f"crawl.scan accounted for {seen}, expected [{path.name!r}]"
    if len(errors):
        assert str(errors["error"].iloc[0]).strip(), "crawl.scan error row without a reason"


def _outcome(call: Callable[[], object]) -> object:
    try:
        return call()
    except WorkbookError as exc:
        return f"{exc.kind}: {exc.problem}"


def raw_text_equals_pydicom(path: Path) -> object:
    """read_header decodes plain text values from the raw bytes: the row (or the
    error) must be what pydicom's own conversion of every field gives. Returns the
    outcome: the row (a dict) or ``"kind: problem"``."""
    outcome = fast = _outcome(lambda: header.read_header(path))
    slow = _outcome(lambda: header.read_header(path, raw_text=False))
    if fast != slow and isinstance(fast, dict) and isinstance(slow, dict):
        fast = {k: v for k, v in fast.items() if slow[k] != v}
        slow = {k: slow[k] for k in fast}
    assert fast == slow, f"raw text decoding {fast!r} != pydicom {slow!r}"
    return outcome


def _organize(path: Path) -> None:
    """organize_folder: no exception, and the file is either placed or an error, once."""
    org = organize.organize_folder(path.parent)
    n = len(org.instances) + len(org.errors)
    assert n == 1, f"organize_folder accounted for {n} files, expected 1"


def _window(path: Path) -> None:
    ds = dicomio.read(path)
    hu = pixels.modality_values(ds)
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
    pixels.window(hu, 40, 400, photometric if photometric in pixels.MONOCHROME else "MONOCHROME2")


#: name -> function(path). Order is the order the worker runs them in.
TARGETS: dict[str, Callable[[Path], object]] = {
    "dicomio.read": lambda p: dicomio.read(p),
    "dicomio.read(stop_before_pixels)": lambda p: dicomio.read(p, stop_before_pixels=True),
    "dicomio.read(force)": lambda p: dicomio.read(p, force=True),
    "dicomio.pixels": lambda p: dicomio.pixels(dicomio.read(p)),
    "pixels.modality_values": lambda p: pixels.modality_values(dicomio.read(p)),
    "pixels.window": _window,
    "part10_bytes.read_elements": lambda p: part10_bytes.read_elements(p),
    "part10_bytes.read_elements(all)":
        lambda p: part10_bytes.read_elements(p, stop_at_pixel_data=False),
    "crawl.read_header": lambda p: crawl.read_header(p),
    "read_header raw text == pydicom": raw_text_equals_pydicom,
    "crawl.scan": _scan,
    "organize.organize_folder": _organize,
}
if volume is not None:
    TARGETS["volume.load_series"] = lambda p: volume.load_series([p])
if deid is not None:
    TARGETS["deid.deidentify+audit"] = lambda p: deid.audit(
        deid.deidentify(dicomio.read(p), key="fuzz"), deid.phi_values(dicomio.read(p)))
