"""The network helpers against real servers: pynetdicom's qrscp (always) and Orthanc
(where installed; CI installs it).

References nobody here wrote: the servers themselves, pydicom reading the files that
were sent and the ones that came back, psutil for processes and sockets.
"""

from __future__ import annotations

import os
import socket

import psutil
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from helpers.network import dicomweb, dimse, servers
from helpers.network.errors import (
    DimseStatusError,
    MoveDestinationUnknownError,
    NetworkTimeoutError,
    RetrieveIncompleteError,
    ServerNotRunningError,
    StoreRefusedError,
    UnknownCalledAEError,
    UnknownCallingAEError,
    UnsupportedQueryError,
)
from helpers.paths import DATA_DIR

CT_FILES = sorted((DATA_DIR / "ct_chest" / "axial").glob("*.dcm"))[:8]
CXR_FILES = sorted((DATA_DIR / "cxr_cohort" / "images").glob("*.dcm"))[:6]
SENT = CT_FILES + CXR_FILES
SKIP_ORTHANC = ("Orthanc is not installed: apt-get install orthanc orthanc-dicomweb "
                "(CI installs it)")


def _dest_port() -> int:
    return servers.free_port()


@pytest.fixture(scope="module")
def qr():
    with servers.qrscp(move_destinations={servers.WORKBOOK_AE: _dest_port()}) as server:
        dimse.store(server, SENT)
        yield server


@pytest.fixture(scope="module")
def orth():
    if not servers.orthanc_installed():
        pytest.skip(SKIP_ORTHANC)
    with servers.orthanc(clients={servers.WORKBOOK_AE: _dest_port()}) as server:
        dimse.store(server, SENT)
        yield server


@pytest.fixture(params=["qrscp", "orthanc"])
def archive(request):
    return request.getfixturevalue("qr" if request.param == "qrscp" else "orth")


def _reference_series() -> set[tuple[str, str, str]]:
    """(study, series, modality) of the files sent, read with pydicom."""
    out = set()
    for path in SENT:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        out.add((ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.Modality))
    return out


def _same_instance(a, b) -> None:
    """Data sets equal element by element outside the file meta group (which the
    receiver writes, PS3.10 7.1), pixel bytes equal."""
    da, db = pydicom.dcmread(a), pydicom.dcmread(b)
    assert da.PixelData == db.PixelData
    assert da == db  # Dataset equality ignores file_meta


# ------------------------------------------------------------------ interoperability

def test_find_series_matches_the_files_sent(archive):
    table = dimse.find(archive, "SERIES", {"StudyInstanceUID": None,
                                           "SeriesInstanceUID": None, "Modality": None})
    got = set(map(tuple, table[["StudyInstanceUID", "SeriesInstanceUID", "Modality"]]
                  .to_numpy()))
    assert got == _reference_series()


def test_find_wildcard_and_date_range(archive):
    ref = {pydicom.dcmread(p, stop_before_pixels=True).PatientID for p in SENT}
    ids = sorted(ref)
    prefix = ids[0][:4]
    table = dimse.find(archive, "PATIENT", {"PatientID": f"{prefix}*"})
    assert set(table.PatientID) == {i for i in ref if i.startswith(prefix)}
    dates = {pydicom.dcmread(p, stop_before_pixels=True).StudyDate for p in SENT}
    low = sorted(dates)[len(dates) // 2]
    table = dimse.find(archive, "STUDY", {"StudyInstanceUID": None, "StudyDate": f"{low}-"})
    assert set(table.StudyDate) == {d for d in dates if d >= low}


def test_get_returns_every_file_equal(archive, tmp_path):
    study = pydicom.dcmread(CT_FILES[0], stop_before_pixels=True).StudyInstanceUID
    got = dimse.get(archive, "STUDY", {"StudyInstanceUID": study}, tmp_path)
    assert (got.outcome == "received").all() and len(got) == len(CT_FILES)
    for path in CT_FILES:
        uid = pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID
        _same_instance(path, tmp_path / f"{uid}.dcm")


def test_move_returns_every_file_equal(archive, tmp_path):
    patient = pydicom.dcmread(CXR_FILES[0], stop_before_pixels=True)
    got = dimse.move(archive, "SERIES", {"StudyInstanceUID": patient.StudyInstanceUID,
                                         "SeriesInstanceUID": patient.SeriesInstanceUID},
                     tmp_path)
    assert list(got.SOPInstanceUID) == [patient.SOPInstanceUID]
    _same_instance(CXR_FILES[0], tmp_path / f"{patient.SOPInstanceUID}.dcm")


def test_qido_equals_cfind(orth):
    keys = ["StudyInstanceUID", "SeriesInstanceUID", "Modality", "SeriesNumber"]
    by_find = dimse.find(orth, "SERIES", {k: None for k in keys})
    by_qido = dicomweb.search(orth, "series", {}, keys)
    assert by_qido[keys].equals(by_find[keys])
    cr = dicomweb.search(orth, "series", {"Modality": "CR"}, keys)
    assert cr[keys].equals(by_find[by_find.Modality == "CR"].reset_index(drop=True)[keys])


def test_wado_series_equals_sent(orth, tmp_path):
    ds = pydicom.dcmread(CT_FILES[0], stop_before_pixels=True)
    got = dicomweb.retrieve_series(orth, ds.StudyInstanceUID, ds.SeriesInstanceUID, tmp_path)
    assert len(got) == len(CT_FILES)
    for path in CT_FILES:
        uid = pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID
        _same_instance(path, tmp_path / f"{uid}.dcm")


def test_dicom_json_rows_equal_the_crawl(orth):
    """WADO-RS metadata (DICOM JSON, PS3.18 F.2) read into rows equals the header reader's
    rows of the files sent, on every default field."""
    from helpers.dicom.header import FIELDS, read_header

    for path in [CT_FILES[0], CXR_FILES[0], CXR_FILES[1]]:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        meta = dicomweb.series_metadata(orth, ds.StudyInstanceUID, ds.SeriesInstanceUID, FIELDS)
        row = meta[meta.SOPInstanceUID == ds.SOPInstanceUID].iloc[0].to_dict()
        expected = read_header(path)
        assert {k: row[k] for k in FIELDS} == {k: expected[k] for k in FIELDS}


def test_stow_then_qido_finds_it(orth):
    ds = pydicom.dcmread(CXR_FILES[1])
    ds.SOPInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    answer = dicomweb.stow(orth, [ds])
    assert list(answer.outcome) == ["stored"]
    found = dicomweb.search(orth, "instances", {"SOPInstanceUID": ds.SOPInstanceUID},
                            ["SOPInstanceUID"])
    assert list(found.SOPInstanceUID) == [ds.SOPInstanceUID]


# ------------------------------------------------------------------ faults

def test_server_not_running():
    gone = servers.Server("qrscp", servers.LOCALHOST, servers.free_port(), "QRSCP",
                          DATA_DIR, 0)
    with pytest.raises(ServerNotRunningError, match="connection refused"):
        dimse.echo(gone, timeout=2)


def test_timeout_on_a_silent_server():
    with socket.socket() as silent:
        silent.bind((servers.LOCALHOST, 0))
        silent.listen(1)  # the kernel accepts the connection; nobody ever answers
        server = servers.Server("silent", servers.LOCALHOST, silent.getsockname()[1], "X",
                                DATA_DIR, 0)
        with pytest.raises(NetworkTimeoutError, match="ACSE timeout"):
            dimse.echo(server, timeout=1)


def test_wrong_called_ae_rejected_by_orthanc(orth):
    with pytest.raises(UnknownCalledAEError, match="reason 7") as info:
        dimse.echo(orth, called_ae="NOT_ORTHANC")
    assert (info.value.result, info.value.source, info.value.reason) == (1, 1, 7)


def test_qrscp_answers_any_called_ae(qr):
    """qrscp's conformance: it checks no AE title (AE titles are not authentication)."""
    assert dimse.echo(qr, called_ae="ANYTHING") == 0x0000


def test_unknown_calling_ae_rejected_by_orthanc(orth):
    with pytest.raises(UnknownCallingAEError, match="STRANGER"):
        dimse.echo(orth, calling_ae="STRANGER")


def test_move_to_unknown_destination(qr, tmp_path):
    study = pydicom.dcmread(CT_FILES[0], stop_before_pixels=True).StudyInstanceUID
    with pytest.raises(MoveDestinationUnknownError) as info:
        dimse.move(qr, "STUDY", {"StudyInstanceUID": study}, tmp_path, destination="NOBODY")
    assert info.value.status == 0xA801


def test_move_to_unknown_destination_orthanc(orth, tmp_path):
    study = pydicom.dcmread(CT_FILES[0], stop_before_pixels=True).StudyInstanceUID
    with pytest.raises(DimseStatusError, match="destination"):
        dimse.move(orth, "STUDY", {"StudyInstanceUID": study}, tmp_path, destination="NOBODY")


def test_unsupported_optional_key_on_qrscp(qr):
    with pytest.raises(UnsupportedQueryError, match="does not match on SeriesDescription"):
        dimse.find(qr, "SERIES", {"StudyInstanceUID": None, "SeriesInstanceUID": None,
                                  "SeriesDescription": "*Body*"})


def test_optional_key_supported_by_orthanc(orth):
    table = dimse.find(orth, "SERIES", {"StudyInstanceUID": None, "SeriesInstanceUID": None,
                                        "SeriesDescription": "*Body*"})
    ref = {pydicom.dcmread(p, stop_before_pixels=True).SeriesDescription for p in SENT}
    assert set(table.SeriesDescription) == {d for d in ref if "Body" in d}


@pytest.mark.parametrize("level, keys, message", [
    ("STUDY", {"StudyInstanceUID": None, "Modality": "CT"}, "SERIES-level key"),
    ("SERIESES", {"SeriesInstanceUID": None}, "no Query/Retrieve Level"),
])
def test_query_on_wrong_level(qr, level, keys, message):
    with pytest.raises(UnsupportedQueryError, match=message):
        dimse.find(qr, level, keys)


def test_query_the_server_rejects(qr):
    """qrscp wants the unique key of each level above (PS3.4 C.4.1.3.1.1): 0xA900."""
    with pytest.raises(UnsupportedQueryError, match="0xA900") as info:
        dimse.find(qr, "SERIES", {"SeriesInstanceUID": None, "Modality": "CT"})
    assert info.value.status == 0xA900


def _private_object() -> Dataset:
    ds = Dataset()
    ds.SOPClassUID = "1.2.826.0.1.3680043.8.498.999"  # a SOP class no archive stores
    ds.SOPInstanceUID = generate_uid()
    ds.PatientID = "P"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "OT"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def test_store_refused(archive, tmp_path):
    path = tmp_path / "private.dcm"
    _private_object().save_as(path, enforce_file_format=True)
    with pytest.raises(StoreRefusedError, match="private.dcm"):
        dimse.store(archive, [path], root=tmp_path)


def test_interrupted_retrieve_completes_on_second_run(archive, tmp_path):
    study = pydicom.dcmread(CT_FILES[0], stop_before_pixels=True).StudyInstanceUID
    seen = []

    def stop_after_three(path):
        seen.append(path)
        if len(seen) == 3:
            raise KeyboardInterrupt  # the kernel's stop button

    with pytest.raises(RetrieveIncompleteError) as info:
        dimse.get(archive, "STUDY", {"StudyInstanceUID": study}, tmp_path,
                  on_file=stop_after_three)
    assert info.value.completed == 3
    assert len(list(tmp_path.glob("*.dcm"))) == 3
    assert not [p for p in tmp_path.iterdir() if not p.name.endswith(".dcm")]
    again = dimse.get(archive, "STUDY", {"StudyInstanceUID": study}, tmp_path)
    assert sorted(again.outcome.value_counts().items()) == [
        ("already there", 3), ("received", len(CT_FILES) - 3)]
    files = sorted(tmp_path.iterdir())
    assert len(files) == len(CT_FILES)
    for path in CT_FILES:
        uid = pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID
        _same_instance(path, tmp_path / f"{uid}.dcm")


def test_wrong_credentials(orth):
    import dataclasses

    from helpers.network.errors import DicomWebAuthError

    stranger = dataclasses.replace(orth, credentials=("workbook", "wrong"))
    with pytest.raises(DicomWebAuthError, match="401"):
        dicomweb.search(stranger, "studies", {}, ["StudyInstanceUID"])


# ------------------------------------------------------------------ 127.0.0.1 only

def _outside_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback (psutil reads the interfaces)."""
    return [a.address for addrs in psutil.net_if_addrs().values() for a in addrs
            if a.family == socket.AF_INET and not a.address.startswith("127.")]


def _answering_outside(ports) -> list[tuple[str, int]]:
    """(address, port) pairs that accept a TCP connection on a non-loopback address."""
    hits = []
    for host in _outside_addresses():
        for port in ports:
            try:
                with socket.create_connection((host, port), timeout=1):
                    hits.append((host, port))
            except OSError:
                pass
    return hits


def _group(server) -> list[psutil.Process]:
    leader = psutil.Process(server.pid)
    return [leader, *leader.children(recursive=True)]


def _probe_ports(server) -> list[int]:
    return [server.port, server.http_port,
            servers.ORTHANC_DICOM_PORT, servers.ORTHANC_HTTP_PORT]


def test_orthanc_listens_on_127_0_0_1_only(orth):
    """Orthanc 1.10 binds every interface; in its own network namespace nothing of it is
    reachable from this machine's other addresses, and every socket its process group
    listens on here is 127.0.0.1. The same probe finds the ports open when Orthanc runs
    without the namespace (test_orthanc_without_a_namespace_warns)."""
    if not servers.isolation.available() and not os.environ.get("CI"):
        pytest.skip("this machine does not allow network namespaces (user namespaces off)")
    group = _group(orth)
    orthanc = [p for p in group if p.name() == "Orthanc"]
    assert orthanc, "Orthanc's process was not found under the server's process"
    assert os.readlink(f"/proc/{orthanc[0].pid}/ns/net") != os.readlink("/proc/self/ns/net")
    pids = {p.pid for p in group}
    here = [c.laddr for c in psutil.net_connections("tcp")
            if c.pid in pids and c.status == psutil.CONN_LISTEN]
    assert {a.port for a in here} >= {orth.port, orth.http_port}
    assert {a.ip for a in here} == {servers.LOCALHOST}
    assert not _answering_outside(_probe_ports(orth))


def test_orthanc_without_a_namespace_warns(monkeypatch):
    """Where Linux refuses a namespace, Orthanc still starts, with a warning that says
    its ports are open on every interface, which the probe above then sees."""
    if not servers.orthanc_installed():
        pytest.skip(SKIP_ORTHANC)
    monkeypatch.setattr(servers.isolation, "available", lambda: False)
    with pytest.warns(UserWarning, match="every interface"):
        with servers.orthanc() as server:
            dimse.echo(server)
            if _outside_addresses():
                assert _answering_outside([server.port, server.http_port])


# ------------------------------------------------------------------ clean-up

def _listening(port: int) -> bool:
    return any(c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN
               for c in psutil.net_connections("tcp"))


@pytest.mark.parametrize("start", ["qrscp", "orthanc"])
def test_nothing_left_after_stop(start):
    if start == "orthanc" and not servers.orthanc_installed():
        pytest.skip(SKIP_ORTHANC)
    launcher = servers.qrscp if start == "qrscp" else servers.orthanc
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with launcher() as server:
        pid, storage = server.pid, server.storage
        ports = [p for p in (server.port, server.http_port) if p]
        assert psutil.pid_exists(pid) and all(_listening(p) for p in ports)
        assert storage.parent.is_dir()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert not any(_listening(p) for p in ports)
    assert not storage.parent.exists()
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= before


def test_stopped_on_keyboard_interrupt():
    with pytest.raises(KeyboardInterrupt):
        with servers.qrscp() as server:
            pid, port = server.pid, server.port
            raise KeyboardInterrupt
    assert not psutil.pid_exists(pid)
    assert not _listening(port)


def test_retrieve_from_a_server_that_dies(tmp_path):
    """The archive's process is killed half-way: the files that arrived are whole, nothing
    partial is left, and the error says how many arrived."""
    import os
    import signal

    study = pydicom.dcmread(CT_FILES[0], stop_before_pixels=True).StudyInstanceUID
    with servers.qrscp() as server:
        dimse.store(server, CT_FILES)

        def kill_after_three(path):
            if len(list(tmp_path.glob("*.dcm"))) == 3:
                os.killpg(server.pid, signal.SIGKILL)

        with pytest.raises(RetrieveIncompleteError) as info:
            dimse.get(server, "STUDY", {"StudyInstanceUID": study}, tmp_path, timeout=3,
                      on_file=kill_after_three)
    arrived = sorted(tmp_path.iterdir())
    assert info.value.completed == len(arrived) >= 3
    assert len(arrived) < len(CT_FILES)
    sent = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: p for p in CT_FILES}
    for path in arrived:
        assert path.suffix == ".dcm"
        _same_instance(sent[path.stem], path)  # whole: equal to the file sent
