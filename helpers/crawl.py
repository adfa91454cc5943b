"""Crawl a folder of DICOM files into a table of header fields, and a table of failures.

:func:`scan` walks a folder recursively and reads every file's header, never its
pixel data, into one row per DICOM instance. Every file that is not a readable
instance lands in a second table with the reason in words, so nothing is lost
silently and nothing stops the crawl: junk files, empty or truncated files,
unreadable files, files that vanish mid-crawl, symbolic links to folders (not
followed, so link loops cannot trap the crawl), FIFOs and devices.

Decisions, with the parts of the standard behind them:

- A Part 10 file (PS3.10 section 7.1: 128-byte preamble, ``DICM``, file meta
  group 0002) is read as is. A data set *without* preamble and file meta (what
  PS3.10 calls a non-conformant file, common in old archives) is still a DICOM
  instance: it is read with ``force=True`` when its first bytes look like a data
  element of group 0008 and it carries a SOP Instance UID; its row says
  ``part10=False`` and its transfer syntax is the one pydicom inferred.
- A DICOMDIR (PS3.10 section 8, Media Storage Directory SOP Class
  1.2.840.10008.1.3.10) is a readable DICOM file but not an instance of any IOD:
  it goes to the errors table as ``"DICOMDIR (media directory), not an instance"``.
- A file whose Pixel Data (7FE0,0010) declares more bytes than the file holds
  (PS3.5 section 7.1: the value length) is truncated: errors table. The check
  reads only the element's header (pydicom's ``defer_size``), not the pixels.
- Text values are kept as the file holds them (``"045Y"``, ``"0.143\\\\0.143"``,
  ``"Smith^Maria"``); :mod:`helpers.vr` parses them in the cleaning step.

Nothing is ever written: files are opened read-only.
"""

from __future__ import annotations

import errno
import os
import stat
import struct
import sys
import warnings
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydicom.datadict import dictionary_VR, tag_for_keyword

if TYPE_CHECKING:  # pandas is imported lazily: worker processes do not need it
    import pandas as pd

#: Header fields read into the table, by keyword, in column order. Text VRs are
#: kept as text; US values (Rows, Columns, Bits ...) as integers.
FIELDS: tuple[str, ...] = (
    "PatientID", "PatientName", "PatientBirthDate", "PatientSex", "PatientAge",
    "StudyInstanceUID", "StudyDate", "AccessionNumber", "InstitutionName",
    "SeriesInstanceUID", "SeriesNumber", "Modality", "BodyPartExamined", "ViewPosition",
    "SOPClassUID", "SOPInstanceUID", "InstanceNumber", "Manufacturer",
    "Rows", "Columns", "NumberOfFrames", "SamplesPerPixel", "BitsAllocated", "BitsStored",
    "PhotometricInterpretation", "PixelSpacing", "ImagerPixelSpacing",
)
_INT_FIELDS = ("Rows", "Columns", "SamplesPerPixel", "BitsAllocated", "BitsStored")
_TAGS = {k: tag_for_keyword(k) for k in FIELDS}

#: Columns added to the header fields (see :func:`scan`).
EXTRA_COLUMNS: tuple[str, ...] = (
    "TransferSyntaxUID", "transfer_syntax", "sop_class", "has_pixels", "part10", "file_size",
)

#: Media Storage Directory Storage: the SOP class of a DICOMDIR (PS3.4 Annex B.5).
DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"

#: Below this many files one process is faster than starting a pool.
POOL_THRESHOLD = 400
_CHUNK = 64
_UNDEFINED_LENGTH = 0xFFFFFFFF
_PIXEL_DATA_TAG = 0x7FE00010

#: First tag groups a data set without preamble may start with (little or big endian).
_PLAUSIBLE_FIRST_GROUPS = {0x0000, 0x0002, 0x0004, 0x0008}


class _Failure(Exception):
    """A file that is not a readable instance: ``kind`` and a reason in words."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


# ---------------------------------------------------------------------------
# Walking the folder


def _walk(root: Path) -> Iterator[tuple[str, str | None, str | None]]:
    """Yield ``(relative path, kind, reason)``: kind None for a file to read.

    Uses ``os.scandir`` and never follows a symbolic link to a folder, so a link
    loop cannot make the walk endless; links to files are read through.
    """
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            rel = folder.relative_to(root).as_posix()
            if folder != root:
                yield rel + "/", "unreadable", f"folder cannot be listed: {_os_reason(exc)}"
                continue
            raise
        for entry in entries:
            rel = Path(entry.path).relative_to(root).as_posix()
            try:
                if entry.is_symlink():
                    try:
                        target = os.stat(entry.path)  # follows the link
                    except OSError as exc:
                        if exc.errno == errno.ENOENT:
                            yield rel, "link", "broken symbolic link (its target does not exist)"
                        else:
                            yield rel, "link", f"link cannot be followed: {_os_reason(exc)}"
                        continue
                    if stat.S_ISDIR(target.st_mode):
                        yield rel, "link", "symbolic link to a folder, not followed (avoids loops)"
                        continue
                    mode = target.st_mode
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                    continue
                else:
                    mode = entry.stat(follow_symlinks=False).st_mode
            except OSError as exc:
                yield rel, "unreadable", _os_reason(exc)
                continue
            if not stat.S_ISREG(mode):
                yield rel, "not a file", "not a regular file (a FIFO, socket or device)"
                continue
            yield rel, None, None


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        return "the file vanished during the crawl"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    return f"cannot be read: {exc.strerror or exc}"


# ---------------------------------------------------------------------------
# Reading one file (runs in worker processes: pydicom only, no pandas)


#: Text VRs whose bytes are the value (PS3.5 6.2); those that may use another
#: character set than the default repertoire are decoded by pydicom instead.
_PLAIN_TEXT_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI"})
_CHARSET_TEXT_VRS = frozenset({"LO", "LT", "PN", "SH", "ST", "UC", "UT"})
#: Text VRs whose value is one text in which a backslash is an ordinary character (PS3.5 6.2).
_SINGLE_VALUED_TEXT_VRS = frozenset({"LT", "ST", "UT"})
#: Character sets whose bytes Latin-1 decodes correctly (PS3.3 C.12.1.1.2).
_LATIN1_COMPATIBLE = frozenset({"", "ISO_IR 6", "ISO 2022 IR 6", "ISO_IR 100"})


def _fast_text(ds: Any, keyword: str, latin1: bool) -> tuple[bool, str | int | None]:
    """``(True, value)`` read straight from the raw bytes, or ``(False, None)``.

    Converting each element with pydicom costs more than parsing the file; for
    the raw (not yet converted) elements of plain text VRs, and of the other text
    VRs when the character set is Latin-1 compatible, the value is just the
    bytes, decoded, without the padding. US values are unpacked with the
    dataset's byte order.
    """
    tag = _TAGS[keyword]
    raw = getattr(ds, "_dict", {}).get(tag)
    if raw is None:
        return True, None
    value = getattr(raw, "value", None)
    if not hasattr(raw, "value_tell") or not isinstance(value, bytes):
        return False, None
    vr = raw.VR or dictionary_VR(tag)
    if keyword in _INT_FIELDS:
        if vr != "US" or len(value) != 2:
            return False, None
        return True, int.from_bytes(value, "little" if raw.is_little_endian else "big")
    if vr in _PLAIN_TEXT_VRS or (latin1 and vr in _CHARSET_TEXT_VRS):
        text = value.decode("latin-1")
        if vr not in _SINGLE_VALUED_TEXT_VRS:  # padding around each of several values
            text = "\\".join(part.strip(" \x00") for part in text.split("\\"))
        return True, text.strip(" \x00") or None
    return False, None


def _element_text(ds: Any, keyword: str, latin1: bool = False) -> str | int | None:
    """The value of one element as the file holds it (text), or None if absent/empty."""
    done, fast = _fast_text(ds, keyword, latin1)
    if done:
        return fast
    try:
        elem = ds[keyword]
    except KeyError:
        return None
    except Exception:  # a value pydicom cannot convert: fall back to the raw bytes
        if keyword in _INT_FIELDS:  # not a number: the Int64 column would reject the text
            return None
        raw = ds.get_item(keyword)
        value = getattr(raw, "value", None)
        if isinstance(value, bytes):
            text = value.decode("latin-1").strip(" \x00")
            return text or None
        return None
    value = elem.value
    if value is None or value == "" or value == b"":
        return None
    if keyword in _INT_FIELDS:
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    if elem.VM > 1 and not isinstance(value, str | bytes):
        text = "\\".join(str(v) for v in value)
    else:
        text = str(value)
    text = text.strip(" \x00")
    return text or None


def _looks_like_dataset(path: Path) -> bool:
    """True when the first bytes could be a data element (a data set without preamble)."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if len(head) < 8:
        return False
    return (int.from_bytes(head[:2], "little") in _PLAUSIBLE_FIRST_GROUPS
            or int.from_bytes(head[:2], "big") in _PLAUSIBLE_FIRST_GROUPS)


def _dcmread(path: Path, size: int) -> tuple[Any, bool]:
    """Read the header (pixel data deferred); return ``(dataset, part10)``."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        return pydicom.dcmread(path, defer_size=256), True
    except InvalidDicomError:
        pass
    if not _looks_like_dataset(path):
        raise _Failure("not dicom", "not DICOM: no 'DICM' at byte 128, no data element at "
                                    "the start")
    ds = pydicom.dcmread(path, defer_size=256, force=True)
    if "SOPInstanceUID" not in ds:
        raise _Failure("not dicom", "not DICOM: no 'DICM' at byte 128, no SOP Instance UID "
                                    "as a bare data set")
    return ds, False


_DEFLATED = "1.2.840.10008.1.2.1.99"  # Deflated Explicit VR Little Endian


def _check_complete(ds: Any, size: int, caught: list[warnings.WarningMessage]) -> None:
    """Raise a truncated/invalid failure unless the header was read to the end of the file.

    pydicom stops quietly (or with a warning) when a file ends early. Each raw
    element pydicom keeps records where its value starts (``value_tell``) and its
    length (PS3.5 section 7.1), so the last element must end exactly at the end of
    the file; only the element's header is looked at, not the pixel data.
    """
    for w in caught:
        text = str(w.message)
        if "End of file" in text or "delimiter" in text:
            raise _Failure("truncated", "truncated: the file ends inside a value of undefined "
                                        "length (encapsulated pixel data or a sequence)")
    # Dataset.get_item() would read a deferred value: look at the raw elements in
    # the dataset's dict instead (their headers only).
    raws = [r for r in getattr(ds, "_dict", {}).values() if hasattr(r, "value_tell")]
    if not raws:
        if len(ds) == 0:
            meta = getattr(ds, "file_meta", None)
            if meta is None or "TransferSyntaxUID" not in meta:
                raise _Failure("truncated", "truncated: the file ends inside the file meta "
                                            "information (group 0002)")
            raise _Failure("truncated", "truncated: no data set after the file meta information")
        return
    meta = getattr(ds, "file_meta", None)
    if meta is not None and meta.get("TransferSyntaxUID") == _DEFLATED:
        return  # offsets count the inflated stream (PS3.5 A.5), not the file's bytes
    last = max(raws, key=lambda r: r.value_tell)
    if last.length == _UNDEFINED_LENGTH or last.tag != max(ds.keys()):
        return
    end = last.value_tell + last.length
    # Pixel Data longer than the whole file is a cut file (the pixels are most of it)
    if last.length > size and last.tag != _PIXEL_DATA_TAG:
        raise _Failure("invalid", f"cannot be parsed as DICOM: element {_tag(last.tag)} declares "
                                  f"{last.length} bytes, more than the whole file")
    if end > size:
        what = "Pixel Data" if last.tag == _PIXEL_DATA_TAG else f"element {_tag(last.tag)}"
        raise _Failure("truncated", f"truncated: {what} declares {last.length} bytes but only "
                                    f"{max(size - last.value_tell, 0)} are in the file")
    if end < size:
        extra = size - end
        if extra < 12:  # shorter than one element header
            raise _Failure("truncated", "truncated: the file ends inside a data element header")
        raise _Failure("invalid", f"cannot be parsed as DICOM: {extra} bytes after element "
                                  f"{_tag(last.tag)} are not data elements")


def _tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read one file's header fields into a row (a dict), as :func:`scan` does.

    Raises :class:`helpers.errors.TruncatedFileError` for a truncated file and
    :class:`helpers.errors.NotDicomError` for any other file that is not a
    readable DICOM instance (both are ``ValueError``); the message is the file
    and the reason the errors table shows.
    """
    from .errors import NotDicomError, TruncatedFileError

    try:
        return _read(Path(path))
    except _Failure as exc:
        error = TruncatedFileError if exc.kind == "truncated" else NotDicomError
        raise error(Path(path), exc.reason) from None


def _read(path: Path) -> dict[str, Any]:
    try:
        size = path.stat().st_size
        if size == 0:
            raise _Failure("empty", "empty file (0 bytes)")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds, part10 = _dcmread(path, size)
            _check_complete(ds, size, caught)
            meta = getattr(ds, "file_meta", None)
            media_class = str(getattr(meta, "MediaStorageSOPClassUID", "") or "")
            if media_class == DICOMDIR_SOP_CLASS or "DirectoryRecordSequence" in ds:
                raise _Failure("dicomdir", "DICOMDIR (media directory), not an instance")
            charset = ds.get("SpecificCharacterSet", "") or ""
            latin1 = isinstance(charset, str) and charset.strip() in _LATIN1_COMPATIBLE
            row: dict[str, Any] = {k: _element_text(ds, k, latin1) for k in FIELDS}
            if row["SOPInstanceUID"] is None:
                raise _Failure("invalid", "no SOP Instance UID (0008,0018): not an instance")
            tsyntax = getattr(meta, "TransferSyntaxUID", None)
            if tsyntax is None:  # no file meta: what pydicom inferred from the bytes
                from pydicom.uid import (
                    ExplicitVRBigEndian,
                    ExplicitVRLittleEndian,
                    ImplicitVRLittleEndian,
                )
                implicit, little = ds.original_encoding
                tsyntax = (ImplicitVRLittleEndian if implicit else
                           ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
            from pydicom.uid import UID

            row["TransferSyntaxUID"] = str(tsyntax)
            row["transfer_syntax"] = UID(str(tsyntax)).name
            sop = row["SOPClassUID"]
            row["sop_class"] = UID(sop).name if sop else None
            row["has_pixels"] = any(k in ds for k in ("PixelData", "FloatPixelData",
                                                      "DoubleFloatPixelData"))
            row["part10"] = part10
            row["file_size"] = size
            return row
    except _Failure:
        raise
    except OSError as exc:
        raise _Failure("unreadable", _os_reason(exc)) from None
    except EOFError:
        raise _Failure("truncated", "truncated: the file ends inside the header") from None
    except MemoryError:
        raise _Failure("invalid", "a data element declares an impossible length") from None
    except Exception as exc:  # pydicom raises many types on corrupt input
        text = str(exc).splitlines()[0][:120] if str(exc) else ""
        if ("truncat" in text.lower() or "end of file" in text.lower()
                or isinstance(exc, struct.error)):  # unpack past the end: the file is cut
            raise _Failure("truncated", f"truncated: {text}") from None
        raise _Failure("invalid", f"cannot be parsed as DICOM ({type(exc).__name__}: {text})") \
            from None


def _read_chunk(root: str, rels: list[str]) -> list[tuple[str, dict | None, str, str]]:
    """Read several files; return ``(rel, row or None, kind, reason)`` for each."""
    out = []
    for rel in rels:
        try:
            out.append((rel, _read(Path(root) / rel), "", ""))
        except _Failure as exc:
            out.append((rel, None, exc.kind, exc.reason))
        except Exception as exc:  # never let one file stop the crawl
            out.append((rel, None, "invalid", f"{type(exc).__name__}: {exc}"))
    return out


# ---------------------------------------------------------------------------
# The crawl


def _default_workers() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


def _pool_context() -> Any:
    """How to start worker processes.

    A script (``__main__`` is a file) gets ``fork``: ``spawn`` and ``forkserver``
    would import the script again in every worker and re-run whatever it does
    outside an ``if __name__ == "__main__":`` guard. An interactive session or a
    notebook (no main file, but threads of its own, which ``fork`` copies badly)
    gets ``forkserver``. ``spawn`` where neither exists.
    """
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    script = getattr(sys.modules.get("__main__"), "__file__", None) is not None
    if script and "fork" in methods:
        return mp.get_context("fork")
    if "forkserver" in methods:
        context = mp.get_context("forkserver")
        # Workers fork from a server that has imported the crawl and pydicom once,
        # instead of each importing them on every scan (benchmarks: ~0.5 s a scan on
        # 2 CPUs). Takes effect when the server starts, the first scan of a session.
        context.set_forkserver_preload(["__main__", __name__, "pydicom"])
        return context
    return mp.get_context("spawn")


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def scan(
    folder: str | os.PathLike[str],
    *,
    workers: int | None = None,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Crawl ``folder`` recursively: ``(table, errors)``, two DataFrames sorted by path.

    ``table`` has one row per DICOM instance: ``path`` (relative to ``folder``,
    with ``/``), the header fields in :data:`FIELDS` (text as the file holds
    it; Rows, Columns, Bits as integers), and ``TransferSyntaxUID``,
    ``transfer_syntax`` (its name), ``sop_class`` (the SOP Class name),
    ``has_pixels``, ``part10`` (False for a data set without preamble and file
    meta) and ``file_size`` in bytes.

    ``errors`` has one row per file that is not a readable instance: ``path``,
    ``kind`` (``empty``, ``not dicom``, ``truncated``, ``dicomdir``, ``invalid``,
    ``unreadable``, ``link``, ``not a file``) and ``error``, a reason in words.
    Every entry under ``folder`` lands in exactly one of the two tables.

    Headers only are read (pixel data is never loaded). ``workers``: processes to
    use; by default one for fewer than :data:`POOL_THRESHOLD` files, else one per
    CPU (at most 8); if the worker processes fail, the rest is read in this
    process (with a warning). ``progress`` shows a tqdm progress bar.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    root = Path(folder)
    if not root.is_dir():
        from .errors import NotDicomError

        raise NotDicomError(root, "is not a folder; scan() crawls a folder of files")
    to_read: list[str] = []
    failed: list[dict[str, str]] = []
    for rel, kind, reason in _walk(root):
        if kind is None:
            to_read.append(rel)
        else:
            failed.append({"path": rel, "kind": kind, "error": reason})
    to_read.sort()

    n_workers = workers if workers is not None else (
        _default_workers() if len(to_read) >= POOL_THRESHOLD else 1)
    rows: list[dict[str, Any]] = []
    bar = tqdm(total=len(to_read), unit="file", desc="headers", disable=not progress)
    chunks = list(_chunks(to_read, _CHUNK))
    done = 0  # chunks collected so far (results arrive in order)
    try:
        if n_workers > 1 and len(chunks) > 1:
            try:
                with ProcessPoolExecutor(n_workers, mp_context=_pool_context()) as pool:
                    for result in pool.map(_read_chunk, [str(root)] * len(chunks), chunks):
                        _collect([result], rows, failed, bar)
                        done += 1
            except (BrokenProcessPool, OSError, RuntimeError) as exc:
                warnings.warn(f"scan: worker processes failed ({type(exc).__name__}); reading "
                              "the remaining files in this process", RuntimeWarning, stacklevel=2)
        for chunk in chunks[done:]:  # one process, or what a failed pool left
            _collect([_read_chunk(str(root), chunk)], rows, failed, bar)
    finally:
        bar.close()

    columns = ["path", *FIELDS, *EXTRA_COLUMNS]
    table = pd.DataFrame(rows, columns=columns)
    for name in _INT_FIELDS + ("file_size",):
        table[name] = table[name].astype("Int64")
    table["has_pixels"] = table["has_pixels"].astype("bool")
    table["part10"] = table["part10"].astype("bool")
    table = table.sort_values("path", ignore_index=True)
    errors = pd.DataFrame(failed, columns=["path", "kind", "error"])
    errors = errors.sort_values("path", ignore_index=True)
    return table, errors


def _collect(results: Iterable[list], rows: list, failed: list, bar: Any) -> None:
    for chunk in results:
        for rel, row, kind, reason in chunk:
            if row is None:
                failed.append({"path": rel, "kind": kind, "error": reason})
            else:
                rows.append({"path": rel, **row})
        bar.update(len(chunk))
