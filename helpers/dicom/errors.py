"""The workbook's documented exceptions.

Every error a helper raises on bad input is a :class:`WorkbookError` whose
message starts with the file it concerns and says what is wrong in words a
learner understands, e.g. ``data/real/MR_truncated.dcm: pixel data is shorter
than Rows x Columns x Bits Allocated say (truncated file?)``. Each subclass is
also a built-in exception type (``ValueError``, ``FileNotFoundError``, ...), so
code that catches the usual types still works.

:mod:`helpers.dicom.reading` words every failure of reading a file once, for
every reader (one sentence per broken rule).

The class name is the vocabulary of every error table: a crawl
(:func:`helpers.tables.crawl.scan`) reports each file it could not use as a row whose
``kind`` is the name of the subclass that file raised (:attr:`WorkbookError.kind`),
e.g. ``TruncatedFileError``.
"""

from __future__ import annotations

import os

from ..paths import shown

#: The columns of every error table (a crawl's, a hierarchy's rejected rows, an
#: organised folder's): the file, the :attr:`WorkbookError.kind` it raised, and the
#: problem in words (:attr:`WorkbookError.problem`).
ERROR_COLUMNS: tuple[str, ...] = ("path", "kind", "error")


class WorkbookError(Exception):
    """Base class: a problem with one input, named in the message."""

    def __init__(self, path: str | os.PathLike[str] | None, problem: str, *,
                 root: str | os.PathLike[str] | None = None) -> None:
        self.path = path
        self.problem = problem
        #: the file as the message names it (see :func:`helpers.paths.shown`: relative
        #: to ``root``, the folder the helper was given, when it lies outside the workbook)
        self.where = shown(path, root) if path is not None else "input"
        super().__init__(f"{self.where}: {problem}")

    @property
    def kind(self) -> str:
        """The class name: the ``kind`` column of an error table."""
        return type(self).__name__


class NotDicomError(WorkbookError, ValueError):
    """The file is not a readable DICOM file (no preamble/DICM, not parseable, empty)."""


class EmptyFileError(NotDicomError):
    """The file holds no bytes at all (0 bytes: no preamble, no data set)."""


class NotAnInstanceError(WorkbookError, ValueError):
    """A readable DICOM file that is not an instance of an IOD: a DICOMDIR (PS3.10
    section 8, Media Storage Directory SOP Class), which indexes other files."""


class DuplicateInstanceError(WorkbookError, ValueError):
    """A second file with a SOP Instance UID (0008,0018) already seen: a copy of
    the same instance (PS3.3 C.12.1.1.1 makes the UID unique to one instance)."""


class UnreadableFileError(WorkbookError, OSError):
    """The file (or folder) cannot be read: permission denied, it vanished
    between listing and reading, or an I/O error."""


class LinkNotFollowedError(WorkbookError, OSError):
    """A symbolic link a folder walk does not follow: one to a folder (following
    it could loop forever), a broken link, or a loop of links."""


class NotAFileError(WorkbookError, OSError):
    """A folder entry that is not a regular file: a FIFO, a socket or a device,
    which a crawl never opens (reading a FIFO would block)."""


class TruncatedFileError(WorkbookError, ValueError):
    """The file ends before the data it declares."""


class MissingTagError(WorkbookError, KeyError):
    """A data element the operation needs is absent."""

    def __str__(self) -> str:  # KeyError would quote the message
        return Exception.__str__(self)


class InvalidValueError(WorkbookError, ValueError):
    """A data element is present but its value cannot mean what the operation needs
    (e.g. a Rescale Slope that is not a number)."""


class NoPixelDataError(WorkbookError, ValueError):
    """The instance holds no image (SR, RT plan, DICOMDIR, waveform ...)."""


class PixelDecodeError(WorkbookError, ValueError):
    """Pixel data is present but cannot be decoded (corrupt stream, unsupported variant)."""


class UnsupportedTransferSyntaxError(WorkbookError, NotImplementedError):
    """A valid file in a transfer syntax a helper does not read: the byte-level
    element reader (:func:`helpers.dicom.part10_bytes.read_elements`) and deflate
    (PS3.5 A.5), whose offsets count the inflated stream."""


class MissingDecoderError(WorkbookError, RuntimeError):
    """Compressed pixel data whose decoder plugin is not installed."""


class SeriesError(WorkbookError, ValueError):
    """Files that do not form one consistent series (mixed series, gaps, orientation)."""


class OverwriteError(WorkbookError, FileExistsError):
    """A write would replace an existing file."""


class DeidentificationError(WorkbookError, ValueError):
    """A dataset cannot be de-identified or written de-identified (PS3.15 Annex E)."""


class GeometryWarning(UserWarning):
    """Slice geometry that is irregular but usable: :func:`helpers.image.volume.load_series`
    loads the volume and says by how much positions depart from a regular grid
    (rounded Image Position (Patient) values, slightly uneven gaps). Turn it into an
    error with ``warnings.simplefilter("error", GeometryWarning)``."""
