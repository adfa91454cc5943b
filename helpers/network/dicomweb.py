"""DICOMweb clients over dicomweb-client: QIDO-RS, WADO-RS, STOW-RS (PS3.18).

DICOMweb is DICOM over HTTP: searches are ``GET {base}/studies?PatientID=...``
(QIDO-RS, PS3.18 section 10.6), retrievals ``GET {base}/studies/{uid}/series/{uid}``
(WADO-RS, section 10.4), stores ``POST {base}/studies`` (STOW-RS, section 10.5). A
search answers in the DICOM JSON model (PS3.18 Annex F.2: one object per match, keyed
by tag, each with its ``vr`` and ``Value``); :func:`search` reads it with pydicom
(:meth:`pydicom.dataset.Dataset.from_json`) and converts it with the one header reader
(:func:`helpers.dicom.header.header_values`), so a QIDO-RS answer and a C-FIND answer
and a crawl give the same table.

Every request carries the server's credentials (HTTP Basic authentication: the
workbook's Orthanc refuses requests without them). Failures become documented
errors naming the server: :class:`~helpers.network.errors.DicomWebAuthError` (401,
403), :class:`~helpers.network.errors.DicomWebError` (any other HTTP error),
:class:`~helpers.network.errors.ServerNotRunningError`,
:class:`~helpers.network.errors.NetworkTimeoutError`.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pandas as pd
import requests
from dicomweb_client.api import DICOMwebClient
from pydicom import dcmwrite
from pydicom.dataset import Dataset

from ..dicom.header import header_values
from .errors import (
    DicomWebAuthError,
    DicomWebError,
    NetworkError,
    NetworkTimeoutError,
    ServerNotRunningError,
)
from .servers import Server

#: Seconds to wait for an HTTP answer.
TIMEOUT = 20.0
#: The three QIDO-RS resources (PS3.18 section 10.6.1).
RESOURCES = ("studies", "series", "instances")


class _Client:
    """A :class:`DICOMwebClient` with the server's credentials, which records the URL of
    every request it sends (``urls``)."""

    def __init__(self, server: Server, timeout: float) -> None:
        if server.dicomweb_url is None:
            raise DicomWebError(str(server), "this server has no DICOMweb service (PS3.18)")
        self.server = server
        self.urls: list[str] = []
        session = requests.Session()
        if server.credentials is not None:
            session.auth = server.credentials
        session.hooks["response"].append(lambda response, *a, **k: self.urls.append(
            response.url))
        self.api = DICOMwebClient(server.dicomweb_url, session=session, timeout=timeout)


@contextmanager
def _errors(server: Server, what: str, timeout: float) -> Iterator[None]:
    """Turn what requests raises into the documented errors."""
    where = server.dicomweb_url or str(server)
    try:
        yield
    except NetworkError:
        raise
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (401, 403):
            raise DicomWebAuthError(where, f"{what}: HTTP {status}, the server wants valid "
                                           "credentials (user and password; PS3.18 8.7.3)",
                                    status=status) from None
        reason = exc.response.reason if exc.response is not None else ""
        raise DicomWebError(where, f"{what}: HTTP {status} {reason} (PS3.18 8.7.3)",
                            status=status) from None
    except requests.ConnectionError:
        raise ServerNotRunningError(where, f"{what}: connection refused, no DICOMweb "
                                           "server listens there") from None
    except requests.Timeout:
        raise NetworkTimeoutError(where, f"{what}: no HTTP answer within {timeout:g} s") \
            from None


def _no_bulk_data(tag: str, vr: str, uri: str) -> None:
    """Bulk data (Pixel Data) stays on the server: a header row never needs it."""
    return None


def rows_from_json(objects: Sequence[Mapping], fields: Sequence[str]) -> pd.DataFrame:
    """DICOM JSON objects (PS3.18 F.2) as header-table rows: one per object, one column
    per keyword in ``fields``, values converted as the crawl converts a file's."""
    rows = [header_values(Dataset.from_json(dict(obj), bulk_data_uri_handler=_no_bulk_data),
                          tuple(fields)) for obj in objects]
    return pd.DataFrame(rows, columns=list(fields))


def qido_url(base: str, resource: str, match: Mapping[str, object],
             fields: Sequence[str] = ()) -> str:
    """The QIDO-RS URL of a search (PS3.18 10.6.1): ``{base}/{resource}?key=value&...
    &includefield=...``; the request :func:`search` sends has these parameters."""
    params = [(k, str(v)) for k, v in match.items()]
    params += [("includefield", f) for f in fields]
    return f"{base.rstrip('/')}/{resource}" + (f"?{urlencode(params)}" if params else "")


def search(server: Server, resource: str, match: Mapping[str, object],
           fields: Sequence[str], *, timeout: float = TIMEOUT) -> pd.DataFrame:
    """QIDO-RS search of ``resource`` (``studies``, ``series`` or ``instances``):
    ``match`` maps keywords to matching values (the same matching as C-FIND, PS3.18
    8.3.4.1: wildcards, ranges, UID lists), ``fields`` are the keywords to return
    (``includefield``). Returns one row per match, a column per field (and per
    matching key), sorted; ``table.attrs["url"]`` is the URL sent."""
    objects, url = search_json(server, resource, match, fields, timeout=timeout)
    columns = list(dict.fromkeys([*fields, *match]))
    table = rows_from_json(objects, columns)
    table = table.sort_values(columns, ignore_index=True, na_position="last")
    table.attrs["url"] = url
    return table


def search_json(server: Server, resource: str, match: Mapping[str, object],
                fields: Sequence[str], *, timeout: float = TIMEOUT) -> tuple[list[dict], str]:
    """The QIDO-RS answer as the server sent it: a list of DICOM JSON objects (PS3.18
    F.2), and the URL of the request."""
    if resource not in RESOURCES:
        raise ValueError(f"QIDO-RS searches {', '.join(RESOURCES)}, not {resource!r}")
    client = _Client(server, timeout)
    method = {"studies": client.api.search_for_studies, "series": client.api.search_for_series,
              "instances": client.api.search_for_instances}[resource]
    with _errors(server, f"QIDO-RS search of {resource}", timeout):
        objects = method(fields=list(fields), search_filters=dict(match))
    return objects, client.urls[-1] if client.urls else ""


def series_metadata(server: Server, study: str, series: str, fields: Sequence[str], *,
                    timeout: float = TIMEOUT) -> pd.DataFrame:
    """WADO-RS metadata of a series (PS3.18 10.4.1.1.2, ``.../metadata``): the headers of
    its instances without their bulk data, as header-table rows sorted by ``fields``."""
    client = _Client(server, timeout)
    with _errors(server, "WADO-RS series metadata", timeout):
        objects = client.api.retrieve_series_metadata(study, series)
    return rows_from_json(objects, fields).sort_values(list(fields), ignore_index=True)


def retrieve_series(server: Server, study: str, series: str,
                    folder: str | os.PathLike[str], *,
                    timeout: float = TIMEOUT) -> pd.DataFrame:
    """WADO-RS retrieve of a series (PS3.18 10.4.1.1.1, ``application/dicom``): each
    instance written into ``folder`` as ``<SOP Instance UID>.dcm`` (through a temporary
    name; a file already there is not written again). Returns the table of files with
    their ``outcome`` and ``bytes`` written."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    client = _Client(server, timeout)
    with _errors(server, "WADO-RS retrieve of a series", timeout):
        datasets = client.api.retrieve_series(study, series)
    rows = []
    for ds in datasets:
        uid = str(ds.SOPInstanceUID)
        path = target / f"{uid}.dcm"
        if path.exists():
            rows.append({"file": path.name, "SOPInstanceUID": uid, "outcome": "already there",
                         "bytes": 0})
            continue
        partial = target / f".{uid}.partial"
        try:
            dcmwrite(partial, ds, enforce_file_format=True)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        rows.append({"file": path.name, "SOPInstanceUID": uid, "outcome": "received",
                     "bytes": path.stat().st_size})
    return pd.DataFrame(rows, columns=["file", "SOPInstanceUID", "outcome", "bytes"]
                        ).sort_values("file", ignore_index=True)


def rendered_frame(server: Server, study: str, series: str, instance: str, *,
                   frame: int = 1, timeout: float = TIMEOUT) -> np.ndarray:
    """WADO-RS rendered frame (PS3.18 10.4.1.1.3, ``.../frames/{n}/rendered``): the
    server applies the presentation (windowing from the header) and sends a PNG; returns
    it as an 8-bit array."""
    from PIL import Image

    client = _Client(server, timeout)
    with _errors(server, "WADO-RS rendered frame", timeout):
        data = client.api.retrieve_instance_frames_rendered(
            study, series, instance, [frame], media_types=("image/png",))
    return np.asarray(Image.open(io.BytesIO(data)))


def stow(server: Server, datasets: Sequence[Dataset], *,
         timeout: float = TIMEOUT) -> pd.DataFrame:
    """STOW-RS (PS3.18 10.5): POST the data sets in one multipart request. Returns one
    row per instance from the server's answer (PS3.18 10.5.3, the Referenced and Failed
    SOP Sequences): its SOP Instance UID and ``stored`` or the failure reason."""
    client = _Client(server, timeout)
    with _errors(server, "STOW-RS store", timeout):
        answer = client.api.store_instances(list(datasets))
    rows = [{"SOPInstanceUID": str(item.ReferencedSOPInstanceUID), "outcome": "stored"}
            for item in answer.get("ReferencedSOPSequence", [])]
    rows += [{"SOPInstanceUID": str(item.ReferencedSOPInstanceUID),
              "outcome": f"failed (reason 0x{int(item.get('FailureReason', 0)):04X})"}
             for item in answer.get("FailedSOPSequence", [])]
    return pd.DataFrame(rows, columns=["SOPInstanceUID", "outcome"])
