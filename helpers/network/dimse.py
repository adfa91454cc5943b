"""DIMSE clients over pynetdicom: associate, C-ECHO, C-STORE, C-FIND, C-GET, C-MOVE.

Every function opens one association (PS3.8 section 7.1: A-ASSOCIATE, with the
presentation contexts it needs, PS3.8 Annex B), sends its requests (PS3.7 section 9)
and releases it, and turns what can go wrong into a documented
:class:`~helpers.network.errors.NetworkError` naming the server:

======================================  ===========================================
what happened                           error
======================================  ===========================================
TCP connection refused                  :class:`ServerNotRunningError`
no answer within ``timeout`` seconds    :class:`NetworkTimeoutError`
A-ASSOCIATE-RJ, reason 7 / reason 3     :class:`UnknownCalledAEError` /
                                        :class:`UnknownCallingAEError`
no presentation context accepted        :class:`NoPresentationContextError`
C-STORE Failure status                  :class:`StoreRefusedError`
C-FIND/GET/MOVE ``0xA900``, ``0xCxxx``  :class:`UnsupportedQueryError`
C-MOVE ``0xA801``                       :class:`MoveDestinationUnknownError`
retrieve ended early / interrupted      :class:`RetrieveIncompleteError`
======================================  ===========================================

Results are pandas tables: a C-FIND's matches come back as the header table the crawl
makes (:func:`helpers.tables.crawl.scan`), one row per match, its values converted by
the one header reader (:func:`helpers.dicom.header.header_values`). Retrieved files are
written as the server sent them (preamble, the file meta group the receiver makes,
then the data set's bytes untouched: PS3.10 section 7.1), first under a temporary
name and then renamed, so an interrupted retrieve leaves no partial file, and a file
already present is not written twice.
"""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from pydicom.dataset import Dataset
from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE, build_context, build_role, evt
from pynetdicom.association import Association
from pynetdicom.presentation import PresentationContext
from pynetdicom.sop_class import (
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)
from pynetdicom.status import (
    QR_FIND_SERVICE_CLASS_STATUS,
    QR_GET_SERVICE_CLASS_STATUS,
    QR_MOVE_SERVICE_CLASS_STATUS,
    STORAGE_SERVICE_CLASS_STATUS,
    code_to_category,
)

from ..dicom.header import header_values, read_header
from ..paths import shown
from .errors import (
    AssociationRejectedError,
    DimseStatusError,
    MoveDestinationUnknownError,
    NetworkTimeoutError,
    NoPresentationContextError,
    RetrieveIncompleteError,
    ServerNotRunningError,
    StoreRefusedError,
    UnknownCalledAEError,
    UnknownCallingAEError,
    UnsupportedQueryError,
)
from .servers import LOCALHOST, WORKBOOK_AE, Server

#: Seconds to wait for a connection, an association answer or a DIMSE response.
TIMEOUT = 10.0
#: The Query/Retrieve levels (PS3.4 C.6.1.1.1 and C.6.2.1.1).
LEVELS: tuple[str, ...] = ("PATIENT", "STUDY", "SERIES", "IMAGE")
#: The unique key of each level (PS3.4 C.6.1.1.2 to C.6.1.1.5).
UNIQUE_KEYS: dict[str, str] = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID",
                               "SERIES": "SeriesInstanceUID", "IMAGE": "SOPInstanceUID"}
#: The level of the usual keys in the Study Root and Patient Root models (PS3.4 Tables
#: C.6-1 to C.6-8; Patient's Age, Sex and Birth Date are study-level in Study Root).
KEY_LEVELS: dict[str, str] = {
    "PatientID": "PATIENT", "PatientName": "PATIENT", "PatientBirthDate": "PATIENT",
    "PatientSex": "PATIENT", "PatientAge": "STUDY", "StudyInstanceUID": "STUDY",
    "StudyDate": "STUDY", "StudyTime": "STUDY", "AccessionNumber": "STUDY", "StudyID": "STUDY",
    "StudyDescription": "STUDY", "ModalitiesInStudy": "STUDY",
    "ReferringPhysicianName": "STUDY", "NumberOfStudyRelatedSeries": "STUDY",
    "NumberOfStudyRelatedInstances": "STUDY", "SeriesInstanceUID": "SERIES",
    "Modality": "SERIES", "SeriesNumber": "SERIES", "SeriesDescription": "SERIES",
    "BodyPartExamined": "SERIES", "NumberOfSeriesRelatedInstances": "SERIES",
    "SOPInstanceUID": "IMAGE", "SOPClassUID": "IMAGE", "InstanceNumber": "IMAGE",
}
#: The uncompressed transfer syntaxes a retrieve proposes (PS3.5 sections A.1, A.2).
UNCOMPRESSED = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
#: Storage SOP Classes a C-GET offers to receive (PS3.4 Annex B.5), each with the SCP
#: role (PS3.7 D.3.3.4); a retrieve of another class fails with that class named.
RETRIEVE_SOP_CLASSES: tuple[str, ...] = (
    "1.2.840.10008.5.1.4.1.1.2",       # CT Image Storage
    "1.2.840.10008.5.1.4.1.1.2.1",     # Enhanced CT Image Storage
    "1.2.840.10008.5.1.4.1.1.4",       # MR Image Storage
    "1.2.840.10008.5.1.4.1.1.4.1",     # Enhanced MR Image Storage
    "1.2.840.10008.5.1.4.1.1.1",       # Computed Radiography Image Storage
    "1.2.840.10008.5.1.4.1.1.1.1",     # Digital X-Ray Image Storage - For Presentation
    "1.2.840.10008.5.1.4.1.1.1.1.1",   # Digital X-Ray Image Storage - For Processing
    "1.2.840.10008.5.1.4.1.1.1.2",     # Digital Mammography X-Ray - For Presentation
    "1.2.840.10008.5.1.4.1.1.6.1",     # Ultrasound Image Storage
    "1.2.840.10008.5.1.4.1.1.3.1",     # Ultrasound Multi-frame Image Storage
    "1.2.840.10008.5.1.4.1.1.7",       # Secondary Capture Image Storage
    "1.2.840.10008.5.1.4.1.1.66.4",    # Segmentation Storage
    "1.2.840.10008.5.1.4.1.1.481.3",   # RT Structure Set Storage
    "1.2.840.10008.5.1.4.1.1.88.11",   # Basic Text SR Storage
    "1.2.840.10008.5.1.4.1.1.88.22",   # Enhanced SR Storage
    "1.2.840.10008.5.1.4.1.1.88.33",   # Comprehensive SR Storage
    "1.2.840.10008.5.1.4.1.1.20",      # Nuclear Medicine Image Storage
    "1.2.840.10008.5.1.4.1.1.128",     # PET Image Storage
    "1.2.840.10008.5.1.4.1.1.12.1",    # X-Ray Angiographic Image Storage
)


# --------------------------------------------------------------------------- association

def _probe(server: Server, timeout: float) -> str:
    """Why no association could start: ``"refused"``, ``"timeout"`` or ``"open"``."""
    try:
        with socket.create_connection((server.host, server.port), timeout=timeout):
            return "open"
    except ConnectionRefusedError:
        return "refused"
    except OSError:
        return "timeout"


def _rejection(server: Server, called: str, calling: str, rj) -> AssociationRejectedError:
    """The error for an A-ASSOCIATE-RJ primitive ``rj`` (PS3.8 Table 9-21)."""
    result, source, reason = int(rj.result), int(rj.result_source), int(rj.diagnostic)
    words = (f"association rejected ({rj.result_str}, source {rj.source_str}, reason "
             f"{reason}: {rj.reason_str}; PS3.8 9.3.4)")
    where = f"{server.ae_title} at {server.host}:{server.port}"
    if source == 1 and reason == 7:
        return UnknownCalledAEError(
            where, f"{words}: the server's AE title is not {called!r}; call it by its own "
                   "AE title", result=result, source=source, reason=reason)
    if source == 1 and reason == 3:
        return UnknownCallingAEError(
            where, f"{words}: the server does not know the calling AE title {calling!r} "
                   "(from this host); it must be configured on the server",
            result=result, source=source, reason=reason)
    return AssociationRejectedError(where, words, result=result, source=source, reason=reason)


@dataclass
class _Answers:
    """What the association's event handlers saw."""

    connected: bool = False
    rejection: object | None = None
    aborted_by_peer: bool = False
    handlers: list = field(default_factory=list)

    def __post_init__(self) -> None:
        def on_open(event) -> None:
            self.connected = True

        def on_acse(event) -> None:
            primitive = event.primitive
            if getattr(primitive, "result", None) in (1, 2):  # A-ASSOCIATE-RJ
                self.rejection = primitive

        def on_abort(event) -> None:
            self.aborted_by_peer = True

        self.handlers = [(evt.EVT_CONN_OPEN, on_open), (evt.EVT_ACSE_RECV, on_acse),
                         (evt.EVT_ABORTED, on_abort)]


@contextmanager
def associate(server: Server, contexts: Sequence[PresentationContext], *,
              calling_ae: str = WORKBOOK_AE, called_ae: str | None = None,
              timeout: float = TIMEOUT, roles: Sequence = (),
              handlers: Sequence = (), tls: ssl.SSLContext | None = None
              ) -> Iterator[Association]:
    """An established association with ``server`` for the ``with`` block, released on
    exit (aborted if the block raised).

    ``contexts`` are the presentation contexts to propose (PS3.8 section 9.3.2.2: an
    abstract syntax, the SOP Class, with the transfer syntaxes the caller can use);
    ``called_ae`` defaults to the server's AE title; ``roles`` are SCP/SCU role
    selection items (PS3.7 D.3.3.4, needed by C-GET); ``handlers`` are pynetdicom event
    handlers; ``tls`` a client :class:`ssl.SSLContext` for DICOM over TLS (PS3.15 B.1,
    the server's certificate checked against ``server.host``). Raises
    :class:`ServerNotRunningError`, :class:`NetworkTimeoutError`,
    :class:`UnknownCalledAEError`, :class:`UnknownCallingAEError`,
    :class:`AssociationRejectedError` or :class:`NoPresentationContextError`.
    """
    called = called_ae if called_ae is not None else server.ae_title
    ae = AE(ae_title=calling_ae)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout
    ae.connection_timeout = timeout
    ae.maximum_pdu_size = 0  # no limit: large PDUs, far fewer of them (PS3.8 D.1)
    ae.requested_contexts = list(contexts)
    answers = _Answers()
    where = f"{server.ae_title} at {server.host}:{server.port}"
    assoc = ae.associate(server.host, server.port, ae_title=called, ext_neg=list(roles),
                         evt_handlers=[*answers.handlers, *handlers],
                         tls_args=(tls, server.host) if tls is not None else None)
    if not assoc.is_established:
        ae.shutdown()
        if answers.rejection is not None:
            raise _rejection(server, called, calling_ae, answers.rejection)
        if not answers.connected:
            if _probe(server, min(timeout, 2.0)) == "refused":
                raise ServerNotRunningError(
                    where, "connection refused: no DICOM server listens there (is it "
                           "running, is the port right? PS3.8 9.1)")
            raise NetworkTimeoutError(where, f"no TCP connection within {timeout:g} s "
                                             "(PS3.8 9.1)")
        if assoc.rejected_contexts and not assoc.accepted_contexts:
            offered = sorted({UID(cx.abstract_syntax).name for cx in assoc.rejected_contexts})
            raise NoPresentationContextError(
                where, f"accepted none of the presentation contexts offered ({', '.join(offered)}"
                       "): it does not support them (PS3.8 9.3.3.2)")
        if answers.aborted_by_peer and assoc.acceptor.primitive is not None:
            raise AssociationRejectedError(where, "the server aborted the association "
                                                  "(A-ABORT, PS3.8 9.3.8)")
        raise NetworkTimeoutError(where, f"no answer to the association request within "
                                         f"{timeout:g} s (ACSE timeout, PS3.8 9.1.5)")
    try:
        yield assoc
    except BaseException:
        if assoc.is_established:
            assoc.abort()
        raise
    else:
        if assoc.is_established:
            assoc.release()
    finally:
        ae.shutdown()


def presentation_contexts(server: Server, offers: Mapping[str, Sequence[str]], *,
                          calling_ae: str = WORKBOOK_AE,
                          timeout: float = TIMEOUT) -> pd.DataFrame:
    """Negotiate ``offers`` (SOP Class UID -> transfer syntax UIDs, PS3.8 Annex B) and
    release: one row per presentation context with the SOP Class, the transfer
    syntaxes offered, the server's ``result`` (PS3.8 Table 9-18: acceptance, or why
    not) and the ``accepted`` transfer syntax."""
    contexts = [build_context(sop, list(syntaxes)) for sop, syntaxes in offers.items()]
    rows = []
    with associate(server, contexts, calling_ae=calling_ae, timeout=timeout) as assoc:
        results = {cx.context_id: cx for cx in assoc.accepted_contexts}
        results |= {cx.context_id: cx for cx in assoc.rejected_contexts}
        for cx in assoc.requestor.requested_contexts:
            answer = results.get(cx.context_id)
            rows.append({
                "context_id": cx.context_id,
                "sop_class": UID(cx.abstract_syntax).name,
                "offered": ", ".join(UID(ts).name for ts in cx.transfer_syntax),
                "result": answer.status if answer is not None else "no answer",
                "accepted": (UID(answer.transfer_syntax[0]).name
                             if answer is not None and answer.result == 0 else "-"),
            })
    return pd.DataFrame(rows)


def echo(server: Server, *, calling_ae: str = WORKBOOK_AE, called_ae: str | None = None,
         timeout: float = TIMEOUT, tls: ssl.SSLContext | None = None) -> int:
    """C-ECHO (PS3.7 9.1.5, the Verification SOP Class of PS3.4 Annex A): the status,
    ``0x0000`` when the server answers. Raises the association's errors, or
    :class:`NetworkTimeoutError` when no response comes."""
    with associate(server, [build_context(Verification)], calling_ae=calling_ae,
                   called_ae=called_ae, timeout=timeout, tls=tls) as assoc:
        status = assoc.send_c_echo()
        if "Status" not in status:
            raise NetworkTimeoutError(str(server), f"no C-ECHO response within {timeout:g} s")
        return int(status.Status)


# --------------------------------------------------------------------------- C-STORE

def _refused(server: Server, name: str, row: Mapping) -> StoreRefusedError:
    return StoreRefusedError(
        str(server), f"{name}: the server accepted no presentation context for "
                     f"{UID(row['SOPClassUID']).name} in {UID(row['TransferSyntaxUID']).name} "
                     "(it does not store this SOP Class: PS3.8 9.3.3.2, PS3.4 B.5)")


def store(server: Server, files: Iterable[str | os.PathLike[str]], *,
          root: str | os.PathLike[str] | None = None, calling_ae: str = WORKBOOK_AE,
          timeout: float = TIMEOUT) -> pd.DataFrame:
    """C-STORE every file (PS3.4 Annex B): one table row per file with its ``path``
    (as :func:`helpers.paths.shown` names it, relative to ``root`` outside the
    workbook), ``SOPInstanceUID`` and the response ``status``.

    One presentation context per SOP Class and transfer syntax among the files
    (read with the header reader); contexts beyond PS3.8's limit of 128 per association
    go on further associations. Raises :class:`StoreRefusedError` naming the file for
    a Failure status or a SOP Class the server did not accept."""
    headers = []
    for path in files:
        row = read_header(path, fields=("SOPClassUID", "SOPInstanceUID"))
        headers.append((Path(path), row))
    pairs = sorted({(row["SOPClassUID"], row["TransferSyntaxUID"]) for _, row in headers})
    rows = []
    for start in range(0, len(pairs), 128):
        chunk = set(pairs[start:start + 128])
        contexts = [build_context(sop, ts) for sop, ts in sorted(chunk)]
        mine = [(path, row) for path, row in headers
                if (row["SOPClassUID"], row["TransferSyntaxUID"]) in chunk]
        with ExitStack() as stack:
            try:
                assoc = stack.enter_context(associate(server, contexts, calling_ae=calling_ae,
                                                      timeout=timeout))
            except NoPresentationContextError:
                raise _refused(server, shown(mine[0][0], root), mine[0][1]) from None
            accepted = {(cx.abstract_syntax, cx.transfer_syntax[0])
                        for cx in assoc.accepted_contexts}
            for path, row in mine:
                pair = (row["SOPClassUID"], row["TransferSyntaxUID"])
                name = shown(path, root)
                if pair not in accepted:
                    raise _refused(server, name, row)
                status = assoc.send_c_store(path)
                if "Status" not in status:
                    raise NetworkTimeoutError(str(server), f"{name}: no C-STORE response "
                                                           f"within {timeout:g} s")
                code = int(status.Status)
                if code_to_category(code) == "Failure":
                    meaning = STORAGE_SERVICE_CLASS_STATUS.get(code, ("", "unknown"))[1]
                    raise StoreRefusedError(
                        str(server), f"{name}: C-STORE refused with status 0x{code:04X} "
                                     f"({meaning}; PS3.4 B.2.3, PS3.7 C)", status=code)
                rows.append({"path": name, "SOPInstanceUID": row["SOPInstanceUID"],
                             "status": f"0x{code:04X}"})
    return pd.DataFrame(rows, columns=["path", "SOPInstanceUID", "status"])


# --------------------------------------------------------------------------- C-FIND

def identifier(level: str, keys: Mapping[str, object]) -> Dataset:
    """The Identifier a C-FIND, C-GET or C-MOVE request carries (PS3.4 C.4.1.1.3): the
    Query/Retrieve Level (0008,0052) and one element per key, empty for ``None``."""
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for keyword, value in keys.items():
        setattr(ds, keyword, "" if value is None else value)
    return ds


def _models(level: str) -> tuple[str, str, str]:
    """(find, get, move) information models: Patient Root for the PATIENT level, Study
    Root otherwise (PS3.4 C.6.1 and C.6.2)."""
    if level == "PATIENT":
        return (PatientRootQueryRetrieveInformationModelFind,
                PatientRootQueryRetrieveInformationModelGet,
                PatientRootQueryRetrieveInformationModelMove)
    return (StudyRootQueryRetrieveInformationModelFind,
            StudyRootQueryRetrieveInformationModelGet,
            StudyRootQueryRetrieveInformationModelMove)


def _failure(server: Server, operation: str, code: int, table: Mapping) -> DimseStatusError:
    meaning = table.get(code, ("", "unknown status"))[1]
    text = f"{operation} failed with status 0x{code:04X} ({meaning}; PS3.4 C.4, PS3.7 C)"
    if operation == "C-MOVE" and 0xC000 <= code <= 0xCFFF:
        return DimseStatusError(
            str(server), f"{text}: the archive could not process the move; a destination "
                         "AE title it does not know is the usual cause (Orthanc answers "
                         "0xC000 where PS3.4 C.4.2.1.5 says 0xA801)", status=code)
    if code == 0xA801:
        return MoveDestinationUnknownError(
            str(server), f"{text}: the archive has no address for that destination AE "
                         "title; add it to the archive's configuration", status=code)
    if code == 0xA900 or 0xC000 <= code <= 0xCFFF:
        return UnsupportedQueryError(
            str(server), f"{text}: check the Query/Retrieve Level and that every key "
                         "belongs to that level or above (PS3.4 C.6)", status=code)
    return DimseStatusError(str(server), text, status=code)


def find(server: Server, level: str, keys: Mapping[str, object], *,
         calling_ae: str = WORKBOOK_AE, timeout: float = TIMEOUT) -> pd.DataFrame:
    """C-FIND at ``level`` (PATIENT, STUDY, SERIES or IMAGE; PS3.4 C.6): ``keys`` maps
    keywords to a matching value (single value, ``*``/``?`` wildcards, ``A-B`` ranges
    for dates and times, ``\\``-separated UID lists; PS3.4 C.2.2.2) or to ``None`` /
    ``""`` for a return key only.

    Returns one row per match with one column per key (values as the header table
    holds them), sorted; identical rows are merged (qrscp answers once per stored
    instance at every level, where PS3.4 C.4.1.3.1 wants one answer per entity).
    A Study Root query below the STUDY level must carry ``StudyInstanceUID`` (and
    ``SeriesInstanceUID`` at IMAGE level), ``None`` for "any": the hierarchical search
    every archive supports (PS3.4 C.4.1.3.1.1).

    Raises :class:`UnsupportedQueryError` for a level that does not exist, a matching
    key below the level (``Modality`` at the STUDY level), a Failure status
    (``0xA900``, ``0xCxxx``), and when the server ignored a matching key: it sent the
    key back in no match, so the matches were not filtered on it. Return keys the
    server never filled are listed in ``table.attrs["not_returned"]``.
    """
    if level not in LEVELS:
        raise UnsupportedQueryError(
            str(server), f"no Query/Retrieve Level {level!r}: the levels are "
                         f"{', '.join(LEVELS)} (PS3.4 C.6.1.1.1)")
    for keyword, value in keys.items():
        key_level = KEY_LEVELS.get(keyword)
        if (value not in (None, "", "*") and key_level is not None
                and LEVELS.index(key_level) > LEVELS.index(level)):
            hint = (" (at the STUDY level, ModalitiesInStudy lists a study's modalities)"
                    if keyword == "Modality" else "")
            raise UnsupportedQueryError(
                str(server), f"{keyword} is a {key_level}-level key: a C-FIND at the {level} "
                             f"level cannot match on it (PS3.4 C.6.2.1.2); query at the "
                             f"{key_level} level{hint}")
    model = _models(level)[0]
    query = identifier(level, keys)
    rows = []
    with associate(server, [build_context(model)], calling_ae=calling_ae,
                   timeout=timeout) as assoc:
        for status, match in assoc.send_c_find(query, model):
            if "Status" not in status:
                raise NetworkTimeoutError(str(server), f"no C-FIND response within "
                                                       f"{timeout:g} s")
            code = int(status.Status)
            category = code_to_category(code)
            if category == "Pending" and match is not None:
                rows.append(header_values(match, tuple(keys)))
            elif category in ("Failure", "Cancel"):
                raise _failure(server, "C-FIND", code, QR_FIND_SERVICE_CLASS_STATUS)
    table = pd.DataFrame(rows, columns=list(keys)).drop_duplicates(ignore_index=True)
    matching = [k for k, v in keys.items() if v not in (None, "", "*")]
    ignored = [k for k in matching if len(table) and table[k].isna().all()]
    if ignored:
        raise UnsupportedQueryError(
            str(server), f"C-FIND at {level} level: the archive does not match on "
                         f"{', '.join(ignored)} (it returned that key in no match, so the "
                         f"{len(table)} matches are not filtered on it: an optional key it "
                         "does not support, PS3.4 C.2.2.1.3; see its conformance statement "
                         "or filter the results yourself)")
    table.attrs["not_returned"] = [k for k in keys if k not in matching
                                   and (table.empty or table[k].isna().all())]
    return table.sort_values(list(keys), ignore_index=True, na_position="last")


# --------------------------------------------------------------------------- C-GET, C-MOVE

class _Receiver:
    """The Storage SCP side of a retrieve: writes each received instance into
    ``folder`` as ``<SOP Instance UID>.dcm``, through a temporary name, once."""

    def __init__(self, folder: Path, on_file: Callable[[Path], object] | None) -> None:
        self.folder = folder
        self.on_file = on_file
        self.received: list[dict[str, object]] = []

    def handle_store(self, event) -> int:
        uid = str(event.request.AffectedSOPInstanceUID)
        target = self.folder / f"{uid}.dcm"
        if target.exists():
            self.received.append({"file": target.name, "SOPInstanceUID": uid,
                                  "outcome": "already there", "bytes": 0})
        else:
            data = event.encoded_dataset(include_meta=True)
            partial = self.folder / f".{uid}.partial"
            try:
                partial.write_bytes(data)
                os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
            self.received.append({"file": target.name, "SOPInstanceUID": uid,
                                  "outcome": "received", "bytes": len(data)})
        if self.on_file is not None:
            self.on_file(target)
        return 0x0000

    def table(self) -> pd.DataFrame:
        columns = ["file", "SOPInstanceUID", "outcome", "bytes"]
        return pd.DataFrame(self.received, columns=columns).sort_values(
            "file", ignore_index=True)

    def clean(self) -> None:
        for leftover in self.folder.glob(".*.partial"):
            leftover.unlink(missing_ok=True)


def _retrieve_keys(level: str, keys: Mapping[str, object]) -> dict[str, object]:
    """The Identifier of a C-GET / C-MOVE: the unique keys only (PS3.4 C.4.2.1.4)."""
    unique = set(UNIQUE_KEYS.values())
    extra = [k for k in keys if k not in unique]
    if extra:
        raise ValueError(f"a retrieve names what to fetch by unique keys only "
                         f"({', '.join(UNIQUE_KEYS.values())}), not {', '.join(extra)} "
                         "(PS3.4 C.4.2.1.4): find the UIDs with a C-FIND first")
    return dict(keys)


def _run_retrieve(server: Server, operation: str, responses: Iterator, receiver: _Receiver,
                  table: Mapping, timeout: float) -> pd.DataFrame:
    final = None
    try:
        for status, _ in responses:
            if "Status" not in status:
                done = len(receiver.received)
                raise RetrieveIncompleteError(
                    str(server), f"{operation} stopped after {done} files: no response "
                                 f"within {timeout:g} s or the association was aborted; "
                                 "run it again to fetch the rest", completed=done)
            if code_to_category(int(status.Status)) != "Pending":
                final = status
                break
    except KeyboardInterrupt:
        done = len(receiver.received)
        raise RetrieveIncompleteError(
            str(server), f"{operation} interrupted after {done} files; they are complete "
                         "and a second run fetches only what is missing",
            completed=done) from None
    finally:
        receiver.clean()
    code = int(final.Status)
    category = code_to_category(code)
    failed = int(final.get("NumberOfFailedSuboperations", 0) or 0)
    if category == "Failure" and not receiver.received:
        raise _failure(server, operation, code, table)
    if category != "Success" or failed:
        meaning = table.get(code, ("", "unknown status"))[1]
        raise RetrieveIncompleteError(
            str(server), f"{operation} ended with status 0x{code:04X} ({meaning}): "
                         f"{failed} sub-operations failed, {len(receiver.received)} files "
                         "arrived (PS3.4 C.4.3.3)", status=code,
            completed=len(receiver.received))
    return receiver.table()


def get(server: Server, level: str, keys: Mapping[str, object],
        folder: str | os.PathLike[str], *, calling_ae: str = WORKBOOK_AE,
        timeout: float = TIMEOUT, transfer_syntaxes: Sequence[str] = UNCOMPRESSED,
        on_file: Callable[[Path], object] | None = None) -> pd.DataFrame:
    """C-GET (PS3.4 C.4.3): the server sends the matching instances back over the same
    association as C-STORE sub-operations, which this client accepts in the SCP role
    (:data:`RETRIEVE_SOP_CLASSES`, ``transfer_syntaxes``). ``keys``: the unique keys of
    ``level`` and above, e.g. ``{"StudyInstanceUID": uid}``. Each instance lands in
    ``folder`` as ``<SOP Instance UID>.dcm``; ``on_file(path)`` is called after each.

    Returns a table of the files: ``outcome`` is ``received``, or ``already there`` (a
    file of that name exists: not written again). Raises
    :class:`RetrieveIncompleteError` when the retrieve stops early (interrupted with
    the kernel's stop button, the association dropped, some sub-operations failed)."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    model = _models(level)[1]
    receiver = _Receiver(target, on_file)
    contexts = [build_context(model)] + [build_context(sop, list(transfer_syntaxes))
                                         for sop in RETRIEVE_SOP_CLASSES]
    roles = [build_role(sop, scp_role=True) for sop in RETRIEVE_SOP_CLASSES]
    query = identifier(level, _retrieve_keys(level, keys))
    with associate(server, contexts, calling_ae=calling_ae, timeout=timeout, roles=roles,
                   handlers=[(evt.EVT_C_STORE, receiver.handle_store)]) as assoc:
        return _run_retrieve(server, "C-GET", assoc.send_c_get(query, model), receiver,
                             QR_GET_SERVICE_CLASS_STATUS, timeout)


def move(server: Server, level: str, keys: Mapping[str, object],
         folder: str | os.PathLike[str], *, destination: str = WORKBOOK_AE,
         port: int | None = None, calling_ae: str = WORKBOOK_AE, timeout: float = TIMEOUT,
         on_file: Callable[[Path], object] | None = None) -> pd.DataFrame:
    """C-MOVE (PS3.4 C.4.2): ask the server to send the matches to the AE titled
    ``destination``; the server looks that title up in its own configuration and opens
    a *new* association to its host and port, so a Storage SCP must listen there.
    This function runs that Storage SCP on 127.0.0.1:``port`` (default: the port
    the server was configured with for ``destination``) for the duration of the move,
    writing into ``folder`` as :func:`get` does.

    Raises :class:`MoveDestinationUnknownError` (``0xA801``) when the server does not
    know ``destination``, and :class:`RetrieveIncompleteError` as :func:`get` does."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    model = _models(level)[2]
    listen = port if port is not None else server.move_destinations.get(destination)
    receiver = _Receiver(target, on_file)
    scp = AE(ae_title=destination)
    scp.acse_timeout = scp.dimse_timeout = scp.network_timeout = timeout
    scp.maximum_pdu_size = 0
    for sop in RETRIEVE_SOP_CLASSES:
        scp.add_supported_context(sop, [*UNCOMPRESSED, "1.2.840.10008.1.2.1.99",
                                        "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.70",
                                        "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.90",
                                        "1.2.840.10008.1.2.5"])
    listener = None
    if listen is not None:
        listener = scp.start_server((LOCALHOST, listen), block=False,
                                    evt_handlers=[(evt.EVT_C_STORE, receiver.handle_store)])
    try:
        query = identifier(level, _retrieve_keys(level, keys))
        with associate(server, [build_context(model)], calling_ae=calling_ae,
                       timeout=timeout) as assoc:
            return _run_retrieve(server, "C-MOVE",
                                 assoc.send_c_move(query, destination, model),
                                 receiver, QR_MOVE_SERVICE_CLASS_STATUS, timeout)
    finally:
        if listener is not None:
            listener.shutdown()
        receiver.clean()
