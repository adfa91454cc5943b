"""One safe walk over a folder: every entry once, nothing followed that could loop.

DICOM says nothing of folders (PS3.10 section 8 names files only through a
DICOMDIR), so a crawl of an archive needs a file-system policy of its own:

- folders are listed with :func:`os.scandir`; a folder that cannot be listed is
  one entry, ``name/``;
- a symbolic link to a file is read through (it is one more entry);
- a symbolic link to a folder is *not* followed, so a link loop cannot make the
  walk endless; broken links and link loops are entries too;
- FIFOs, sockets and devices are entries but are never opened (a FIFO would
  block the reader).

Each entry comes with ``None`` (a regular file to read) or the
:class:`~helpers.dicom.errors.WorkbookError` that says why it is not read:
:class:`~helpers.dicom.errors.LinkNotFollowedError`,
:class:`~helpers.dicom.errors.NotAFileError` or
:class:`~helpers.dicom.errors.UnreadableFileError`. Paths are relative to the folder
given, with ``/``. Nothing is opened for writing.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from .errors import (
    LinkNotFollowedError,
    NotAFileError,
    UnreadableFileError,
    WorkbookError,
)
from .reading import NOT_REGULAR, os_reason


def walk(root: str | os.PathLike[str]) -> Iterator[tuple[str, WorkbookError | None]]:
    """Yield ``(relative path, None)`` for each regular file under ``root``, and
    ``(relative path, error)`` for each entry that is not read (see the module).

    The order is the file system's; sort the result if it matters. Raises
    ``OSError`` only when ``root`` itself cannot be listed.
    """
    base = os.fspath(root)
    start = len(os.path.join(base, ""))  # a relative path is what follows "root/"
    stack = [base]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            if folder == base:
                raise
            rel = _posix(folder[start:]) + "/"
            yield rel, UnreadableFileError(Path(folder),
                                           f"folder cannot be listed: {os_reason(exc)}")
            continue
        for entry in entries:
            rel = _posix(entry.path[start:])
            try:
                # is_file/is_dir without following links use the type the folder
                # listing gave (no system call); a link or an unknown type is stat'ed
                if entry.is_file(follow_symlinks=False):
                    yield rel, None
                    continue
                if entry.is_symlink():
                    try:
                        mode = os.stat(entry.path).st_mode  # follows the link
                    except OSError as exc:
                        reason = ("broken symbolic link (its target does not exist)"
                                  if exc.errno == errno.ENOENT
                                  else f"link cannot be followed: {os_reason(exc)}")
                        yield rel, LinkNotFollowedError(Path(entry.path), reason)
                        continue
                    if stat.S_ISDIR(mode):
                        yield rel, LinkNotFollowedError(
                            Path(entry.path),
                            "symbolic link to a folder, not followed (avoids loops)")
                        continue
                elif entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                    continue
                else:
                    mode = entry.stat(follow_symlinks=False).st_mode
            except OSError as exc:
                yield rel, UnreadableFileError(Path(entry.path), os_reason(exc))
                continue
            if not stat.S_ISREG(mode):
                yield rel, NotAFileError(Path(entry.path),
                                         NOT_REGULAR)
                continue
            yield rel, None


def _posix(rel: str) -> str:
    """A relative path with ``/`` whatever the operating system's separator."""
    return rel if os.sep == "/" else rel.replace(os.sep, "/")


def files(root: str | os.PathLike[str]) -> list[Path]:
    """The regular files :func:`walk` finds under ``root``, sorted (entries that are
    not read are left out: use :func:`walk` to report them)."""
    base = Path(root)
    return [base / rel for rel, error in sorted(walk(base)) if error is None]
