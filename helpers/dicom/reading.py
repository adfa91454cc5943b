"""One reading context: how every reader of the workbook turns a failure into its errors.

Every public reader of a file -- :func:`helpers.dicom.dicomio.read` and
:func:`~helpers.dicom.dicomio.pixels`, :func:`helpers.dicom.header.read_header` (and so
the crawl, :func:`helpers.tables.organize.organize_folder` and ``load_series``), and the
byte-level :func:`helpers.dicom.part10_bytes.read_elements` -- opens the file through
:func:`check_file` and reads it inside :func:`reading`, and words each failure with the
functions below, so that one broken file gets one error class and one sentence,
whichever reader met it. Each sentence names the rule broken:

==========================  ===========================  ====================================
failure                     error                        rule
==========================  ===========================  ====================================
no such file                UnreadableFileError          (operating system)
permission denied, I/O      UnreadableFileError          (operating system)
a folder, FIFO, device      NotAFileError                (never opened: a FIFO would block)
0 bytes                     EmptyFileError               PS3.10 7.1 (preamble, DICM, meta)
no DICM, no data set        NotDicomError                PS3.10 7.1
ends in an element header   TruncatedFileError           PS3.5 7.1 (tag, VR, length)
a length past the end       TruncatedFileError           PS3.5 7.1.1 (the value length)
no delimiter before the end TruncatedFileError           PS3.5 7.5 (undefined lengths)
not a VR                    NotDicomError                PS3.5 6.2 (table 6.2-1)
VRs not as the syntax says  NotDicomError                PS3.5 7.1.2/7.1.3, PS3.10 7.1
wrong meta group length     NotDicomError                PS3.10 7.1 (0002,0000)
bytes after the data set    NotDicomError                PS3.10 7.2 (only (FFFC,FFFC) padding)
anything else pydicom says  NotDicomError                PS3.5 7 (the data set encoding)
==========================  ===========================  ====================================

Zero bytes after the data set (writers pad files to a block size) and a Data Set
Trailing Padding element (FFFC,FFFC) (PS3.10 7.2) are not errors: the readers
report their size (:func:`trailing_bytes`) and go on.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydicom.errors import InvalidDicomError
from pydicom.tag import Tag

from .errors import (
    EmptyFileError,
    NotAFileError,
    NotDicomError,
    TruncatedFileError,
    UnreadableFileError,
    WorkbookError,
)

PathLike = str | os.PathLike[str]

#: All the VRs of PS3.5 table 6.2-1.
VRS = frozenset({
    "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB", "OD", "OF",
    "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN",
    "UR", "US", "UT", "UV",
})

# --------------------------------------------------------------------------- the sentences
EMPTY = "empty file (0 bytes): no preamble, no 'DICM', no data set (PS3.10 7.1)"
NO_SUCH_FILE = "no such file (it does not exist, or was removed after it was listed)"
PERMISSION = "permission denied"
A_FOLDER = "a folder, not a file"
NOT_REGULAR = "not a regular file (a FIFO, socket or device), so it is never opened"
NOT_DICOM = ("not DICOM: no 'DICM' at byte 128 (PS3.10 7.1) and no data element with a SOP "
             "Instance UID at the start")
ENDS_IN_HEADER = ("truncated: the file ends inside a data element header (PS3.5 7.1: tag, VR "
                  "and length)")
NO_DATA_SET = ("truncated: no data set after the file meta information (PS3.10 7.1: a file "
               "holds one SOP instance)")
NO_DELIMITER = ("truncated: a sequence, item or encapsulated Pixel Data of undefined length has "
                "no delimiter before the end of the file (PS3.5 7.5)")
NOT_PARSEABLE = "cannot be parsed as a DICOM data set (PS3.5 7)"


def wrong_vr_encoding(found: str, expected: str) -> str:
    """Data elements encoded with implicit VRs where the transfer syntax says explicit,
    or the reverse (pydicom guesses and reads on; DCMTK refuses)."""
    return (f"the data set's elements are written with {found} VRs but the Transfer Syntax UID "
            f"(0002,0010) says {expected} VR (PS3.5 7.1.2 and 7.1.3, PS3.10 7.1)")


_VR_MISMATCH = re.compile(r"Expected (explicit|implicit) VR, but found (explicit|implicit) VR")


def os_reason(exc: OSError) -> str:
    """An operating-system error in words a learner understands."""
    if exc.errno == errno.ENOENT:
        return NO_SUCH_FILE
    if exc.errno in (errno.EACCES, errno.EPERM):
        return PERMISSION
    if exc.errno == errno.EISDIR:
        return A_FOLDER
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    return f"cannot be read: {exc.strerror or exc}"


def past_the_end(tag: int, declared: int, remain: int) -> str:
    """A value length running past the end of the file (PS3.5 7.1.1)."""
    return (f"truncated: data element {Tag(tag)} declares {declared} bytes but only "
            f"{max(remain, 0)} remain in the file (PS3.5 7.1.1: the value length; a cut file "
            "or a corrupt length)")


def not_a_vr(tag: int, vr: str | bytes) -> str:
    """Two bytes where an explicit VR belongs that are not one (PS3.5 6.2)."""
    text = vr.decode("latin-1") if isinstance(vr, bytes) else vr
    return (f"{text!r} after tag {Tag(tag)} is not a VR (PS3.5 6.2, table 6.2-1): a corrupt "
            "file, or implicit VR data where the transfer syntax says explicit")


def wrong_meta_length(declared: int, actual: int) -> str:
    """File Meta Information Group Length that is not the file meta group's length."""
    return (f"the File Meta Information Group Length (0002,0000) says {declared} bytes but the "
            f"file meta elements after it take {actual} (PS3.10 7.1)")


def trailing_garbage(count: int, after: int) -> str:
    """Bytes after the data set that are neither zeros nor (FFFC,FFFC) padding."""
    return (f"{count} bytes after data element {Tag(after)} are not data elements, zero "
            "padding or Data Set Trailing Padding (FFFC,FFFC) (PS3.10 7.2)")


# --------------------------------------------------------------------------- opening
def check_file(path: PathLike) -> int:
    """The size of ``path`` in bytes, after checking it is a non-empty regular file
    (following symbolic links); raises :class:`UnreadableFileError`,
    :class:`NotAFileError` or :class:`EmptyFileError` otherwise. Call it before
    opening: a FIFO is never opened (opening one blocks)."""
    p = Path(path)
    try:
        info = os.stat(p)
    except OSError as exc:
        raise UnreadableFileError(p, os_reason(exc)) from None
    if stat.S_ISDIR(info.st_mode):
        raise NotAFileError(p, A_FOLDER)
    if not stat.S_ISREG(info.st_mode):
        raise NotAFileError(p, NOT_REGULAR)
    if info.st_size == 0:
        raise EmptyFileError(p, EMPTY)
    if not os.access(p, os.R_OK):
        raise UnreadableFileError(p, PERMISSION)
    return info.st_size


_UNKNOWN_VR = re.compile(r"Unknown Value Representation '(.*?)' in tag \((\w{4}),(\w{4})\)")


def _pydicom_problem(path: Path, exc: BaseException) -> WorkbookError:
    """A pydicom (or struct/zlib) exception as the workbook's error."""
    text = str(exc)
    found = _UNKNOWN_VR.search(text)
    if found:
        tag = int(found.group(2), 16) << 16 | int(found.group(3), 16)
        return NotDicomError(path, not_a_vr(tag, found.group(1)))
    lowered = text.lower()
    if "delimiter" in lowered or "no tag to read" in lowered:
        return TruncatedFileError(path, NO_DELIMITER)
    if isinstance(exc, EOFError | struct.error) or "end of file" in lowered or "truncat" in lowered:
        return TruncatedFileError(path, ENDS_IN_HEADER)
    if isinstance(exc, MemoryError | OverflowError):
        return NotDicomError(path, f"{NOT_PARSEABLE}: a data element declares an impossible "
                                   "length (PS3.5 7.1.1)")
    if isinstance(exc, InvalidDicomError):
        return NotDicomError(path, NOT_DICOM)
    summary = text.splitlines()[0][:120] if text else type(exc).__name__
    return NotDicomError(path, f"{NOT_PARSEABLE}: {summary}")


@contextmanager
def reading(path: PathLike) -> Iterator[None]:
    """Read ``path`` inside this block: a :class:`WorkbookError` passes as it is, an
    operating-system error (one with an ``errno``) becomes :class:`UnreadableFileError`,
    and whatever else pydicom, ``struct`` or ``zlib`` raise on a corrupt file becomes
    the matching error of the table in the module docstring. pydicom's warnings that
    it guessed past a broken rule (VRs not as the transfer syntax says, a missing
    delimiter) are refusals too; its other warnings pass on to the caller."""
    p = Path(path)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        for w in caught:  # what pydicom only warns about, and reads on
            text = str(w.message)
            mismatch = _VR_MISMATCH.search(text)
            if mismatch:
                raise NotDicomError(p, wrong_vr_encoding(mismatch.group(2), mismatch.group(1)))
            if "End of file" in text or "delimiter" in text.lower():
                raise TruncatedFileError(p, NO_DELIMITER)
        for w in caught:  # the others, to the caller's own filters
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    except WorkbookError:
        raise
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except OSError as exc:
        if exc.errno is not None:  # the system's: missing, permission, I/O
            raise UnreadableFileError(p, os_reason(exc)) from None
        raise _pydicom_problem(p, exc) from None  # pydicom's "No tag to read at ..."
    except BaseException as exc:  # pydicom raises many types on corrupt input
        raise _pydicom_problem(p, exc) from None


def trailing_bytes(path: PathLike, start: int, size: int, after: int) -> int:
    """How many bytes from ``start`` to the end of the file are zero padding; raises
    :class:`NotDicomError` (:func:`trailing_garbage`) when any of them is not zero,
    and :class:`TruncatedFileError` (:data:`ENDS_IN_HEADER`) when the non-zero tail is
    shorter than an element header. ``after`` is the tag of the last element read."""
    count = size - start
    if count <= 0:
        return 0
    with open(path, "rb") as fh:
        fh.seek(start)
        while chunk := fh.read(1 << 16):
            if chunk.strip(b"\0"):
                if count < 8:
                    raise TruncatedFileError(Path(path), ENDS_IN_HEADER)
                raise NotDicomError(Path(path), trailing_garbage(count, after))
    return count
