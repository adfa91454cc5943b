"""The network layer's documented exceptions: one per fault a learner meets.

Each is a :class:`~helpers.dicom.errors.WorkbookError` whose message starts with the
server it concerns, as ``AE title at host:port`` (``QRSCP at 127.0.0.1:11112``) or
the DICOMweb base URL, then says what went wrong and which part of the standard
sets the rule: PS3.8 for associations (section 9.3.4, the A-ASSOCIATE-RJ reasons),
PS3.7 Annex C for DIMSE status codes, PS3.4 Annex C for the Query/Retrieve statuses
(C.4.2.1.5 ``0xA801`` Move Destination Unknown) and PS3.18 for DICOMweb. The
``problem`` attribute holds the message without the server, which names a port that
changes from run to run.

Each class is also the built-in exception a caller would expect
(``ConnectionRefusedError``, ``TimeoutError``, ``PermissionError``, ``ValueError``).
"""

from __future__ import annotations

from ..dicom.errors import WorkbookError


class NetworkError(WorkbookError):
    """Base class: a problem talking to one server, named in the message."""

    def __init__(self, server: str, problem: str) -> None:
        super().__init__(None, problem)
        #: the server as the message names it: ``AE title at host:port`` or a URL
        self.server = self.where = server
        self.args = (f"{server}: {problem}",)

    def __str__(self) -> str:
        return str(self.args[0])


class ServerStartError(NetworkError, RuntimeError):
    """A server the workbook starts did not start: the program is missing, or it
    exited or never answered a C-ECHO / an HTTP request in time."""


class OrthancNotInstalledError(ServerStartError, FileNotFoundError):
    """Orthanc or its DICOMweb plugin is not installed on this machine. Install both
    with ``apt-get install orthanc orthanc-dicomweb`` (Debian, Ubuntu)."""


class ServerNotRunningError(NetworkError, ConnectionRefusedError):
    """Nothing listens at the address: the TCP connection that carries an association
    (PS3.8 section 9.1) was refused. The server is not running, or the port is wrong."""


class NetworkTimeoutError(NetworkError, TimeoutError):
    """The server did not answer in time: no A-ASSOCIATE response within the ACSE
    timeout (the ARTIM timer of PS3.8 section 9.1.5), or no DIMSE response within the
    DIMSE timeout."""


class AssociationRejectedError(NetworkError, ConnectionError):
    """The server answered the A-ASSOCIATE-RQ with an A-ASSOCIATE-RJ (PS3.8 section
    9.3.4): ``result``, ``source`` and ``reason`` are the three fields of that PDU."""

    def __init__(self, server: str, problem: str, *, result: int = 0, source: int = 0,
                 reason: int = 0) -> None:
        super().__init__(server, problem)
        self.result, self.source, self.reason = result, source, reason


class UnknownCalledAEError(AssociationRejectedError):
    """Rejected because the Called AE Title is not the server's (PS3.8 Table 9-21:
    source 1, reason 7 "called-AE-title-not-recognized")."""


class UnknownCallingAEError(AssociationRejectedError):
    """Rejected because the server does not know the Calling AE Title, or not from this
    host (PS3.8 Table 9-21: source 1, reason 3 "calling-AE-title-not-recognized")."""


class NoPresentationContextError(NetworkError, ValueError):
    """The server accepted no presentation context for what was asked: it does not
    support that SOP Class (abstract syntax) with any transfer syntax offered
    (PS3.8 section 9.3.3.2 and Annex B; PS3.7 Annex D.3.3.4: result 3
    "abstract-syntax-not-supported", 4 "transfer-syntaxes-not-supported")."""


class DimseStatusError(NetworkError, RuntimeError):
    """A DIMSE response with a Failure status (PS3.7 Annex C): ``status`` is the code."""

    def __init__(self, server: str, problem: str, *, status: int | None = None) -> None:
        super().__init__(server, problem)
        self.status = status


class StoreRefusedError(DimseStatusError):
    """A C-STORE the server refused: a Failure status (PS3.4 B.2.3: ``0xA7xx`` out of
    resources, ``0xA9xx`` data set does not match SOP Class, ``0xCxxx`` cannot
    understand) or no presentation context for the object's SOP Class."""


class MoveDestinationUnknownError(DimseStatusError):
    """C-MOVE status ``0xA801`` Move Destination Unknown (PS3.4 C.4.2.1.5): the archive
    has no address for the Move Destination AE title; it must be configured on the
    archive (AE title, host, port) before it can send there."""


class UnsupportedQueryError(DimseStatusError, ValueError):
    """A query the archive cannot answer as asked (PS3.4 C.6): a Query/Retrieve Level it
    does not have, keys below the level (``0xA900`` Identifier Does Not Match SOP
    Class, ``0xC000`` Unable to Process), or a matching key it ignores (an optional key,
    PS3.4 C.6.1.1.2.2 / C.2.2.1.3: the answer would hold non-matching records)."""


class RetrieveIncompleteError(DimseStatusError):
    """A C-GET or C-MOVE that ended before every sub-operation completed (PS3.4
    C.4.2.3 / C.4.3.3: a Failure, Cancel ``0xFE00`` or Warning ``0xB000`` status, or an
    aborted association). ``completed`` files are in place; a second run fetches
    the rest."""

    def __init__(self, server: str, problem: str, *, status: int | None = None,
                 completed: int = 0, remaining: int | None = None) -> None:
        super().__init__(server, problem, status=status)
        self.completed, self.remaining = completed, remaining


class DicomWebError(NetworkError, RuntimeError):
    """A DICOMweb request that failed: ``status`` is the HTTP status code (PS3.18
    section 8.7.3 for the codes a DICOMweb service answers)."""

    def __init__(self, server: str, problem: str, *, status: int | None = None) -> None:
        super().__init__(server, problem)
        self.status = status


class DicomWebAuthError(DicomWebError, PermissionError):
    """HTTP 401 Unauthorized or 403 Forbidden: the DICOMweb server wants credentials
    (PS3.18 section 8.7.3; the workbook's Orthanc has authentication on)."""
