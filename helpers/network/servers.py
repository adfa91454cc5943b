"""Start and stop the archives a lesson talks to, as child processes on 127.0.0.1.

Two servers, each behind a context manager that yields a :class:`Server` handle
once the server answers, and stops it and deletes everything it stored on exit:

- :func:`qrscp`: pynetdicom's own Query/Retrieve SCP (``python -m pynetdicom qrscp -c
  CONFIG``; Verification, Storage and Query/Retrieve, PS3.4 Annexes A, B and C), with a
  generated configuration file: its AE title, a free port, the listening address
  127.0.0.1, its storage folder and SQLite database under ``output/``, and the *move
  destinations*, the only AE titles it will send a C-MOVE to (PS3.4 C.4.2.1.5).
- :func:`orthanc`: Orthanc with its DICOMweb plugin (PS3.18), started from a generated
  JSON configuration: free HTTP and DICOM ports, storage under ``output/``, HTTP
  authentication on (one generated user), only localhost may use HTTP, and only the
  workbook's AE title, from this host, may associate.

Clean-up: each server runs in its own process group (``start_new_session``), asks the
Linux kernel to stop it if the Python process that started it dies
(``PR_SET_PDEATHSIG``), and is stopped with its group by a :class:`weakref.finalize`
that runs on leaving the ``with`` block (also on ``KeyboardInterrupt``, the kernel's
"interrupt"), when the handle is garbage collected, and at interpreter exit. Nothing
listens and nothing of the server's state is left afterwards.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..paths import OUTPUT_DIR
from . import isolation
from .errors import NetworkError, OrthancNotInstalledError, ServerStartError

#: Where the servers keep their state (configuration, storage, database, log).
SERVERS_DIR: Path = OUTPUT_DIR / "servers"
#: Every server listens on the loopback interface only.
LOCALHOST = "127.0.0.1"
#: The AE title the workbook's clients call themselves by default.
WORKBOOK_AE = "WORKBOOK"
#: Orthanc and its DICOMweb plugin, where Debian installs them; ``DICOM_WORKBOOK_ORTHANC``
#: and ``DICOM_WORKBOOK_ORTHANC_DICOMWEB`` name other paths.
ORTHANC = Path(os.environ.get("DICOM_WORKBOOK_ORTHANC", "/usr/sbin/Orthanc"))
ORTHANC_DICOMWEB = Path(os.environ.get("DICOM_WORKBOOK_ORTHANC_DICOMWEB",
                                       "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"))
ORTHANC_INSTALL = "apt-get install orthanc orthanc-dicomweb"
#: Seconds a server may take to answer its first C-ECHO / HTTP request.
START_TIMEOUT = 30.0
#: Orthanc's usual ports, used inside its own network namespace (see :func:`orthanc`).
ORTHANC_DICOM_PORT, ORTHANC_HTTP_PORT = 4242, 8042
NOT_ISOLATED = ("this machine does not allow a network namespace (user namespaces are "
                "off), so Orthanc listens on every interface; it answers HTTP from "
                "localhost only and DICOM from the allowed AE titles at 127.0.0.1 only")


@dataclass(frozen=True)
class Server:
    """A running server: where to call it. ``str(server)`` names it as the errors do,
    ``AE title at host:port``; its ``repr`` leaves the ports out (they change from run
    to run, and lesson outputs must not)."""

    kind: str
    host: str
    port: int
    ae_title: str
    storage: Path
    pid: int
    http_port: int | None = None
    credentials: tuple[str, str] | None = field(default=None, repr=False)
    move_destinations: Mapping[str, int] = field(default_factory=dict)

    @property
    def dicomweb_url(self) -> str | None:
        """The DICOMweb base URL (PS3.18 section 8.2: the service's root), or None."""
        if self.http_port is None:
            return None
        return f"http://{self.host}:{self.http_port}/dicom-web"

    def __str__(self) -> str:
        return f"{self.ae_title} at {self.host}:{self.port}"

    def __repr__(self) -> str:
        web = ", DICOMweb over HTTP with a password" if self.http_port else ""
        return (f"Server({self.kind}: AE title {self.ae_title!r} listening on {self.host}"
                f"{web})")


def free_port() -> int:
    """A TCP port nothing listens on at 127.0.0.1 now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOCALHOST, 0))
        return int(s.getsockname()[1])


def is_stopped(server: Server) -> bool:
    """True when the server's process is gone and none of its ports accepts a connection."""
    try:
        os.kill(server.pid, 0)
        return False
    except ProcessLookupError:
        pass
    except PermissionError:
        return False
    for port in (server.port, server.http_port):
        if port is None:
            continue
        try:
            with socket.create_connection((server.host, port), timeout=1):
                return False
        except OSError:
            pass
    return True


def _stop(process: subprocess.Popen, state: Path) -> None:
    """Stop the process group of ``process`` (TERM, then KILL) and delete ``state``."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    else:  # the leader exited; anything it started in its group goes too
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    _remove_state(state)


def _remove_state(state: Path) -> None:
    """Delete a server's state folder, and the socket folder it links to, if any."""
    sockets = state / "sockets"
    if sockets.is_symlink():
        shutil.rmtree(sockets.resolve(), ignore_errors=True)
    shutil.rmtree(state, ignore_errors=True)


class _Running:
    """Owns one child process and its state folder; ``stop()`` is idempotent and also
    runs when this object is collected or Python exits (:class:`weakref.finalize`)."""

    def __init__(self, command: list[str], state: Path, log: Path) -> None:
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=state, start_new_session=True, preexec_fn=isolation.die_with_parent)
        self.stop = weakref.finalize(self, _stop, self.process, state)

    def log_tail(self, lines: int = 8) -> str:
        try:
            text = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])


def _state_folder(kind: str) -> Path:
    folder = SERVERS_DIR / f"{kind}-{os.getpid()}-{secrets.token_hex(4)}"
    folder.mkdir(parents=True)
    return folder


def _socket_folder(state: Path) -> Path:
    """A private folder (mode 0700) for the relay's Unix sockets: in ``state`` unless
    that path is too long for a socket's address (108 bytes on Linux, unix(7)), then a
    temporary one inside ``state``'s stead, removed with it."""
    folder = state / "sockets"
    if len(str(folder)) > 80:
        folder = Path(tempfile.mkdtemp(prefix="wb-"))
        (state / "sockets").symlink_to(folder)
    else:
        folder.mkdir(mode=0o700)
    return folder


def _wait_until(ready, running: _Running, name: str, timeout: float) -> None:
    """Poll ``ready()`` until it is true; raise :class:`ServerStartError` when the process
    exits or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if running.process.poll() is not None:
            raise ServerStartError(name, f"exited with code {running.process.returncode} "
                                         f"before answering: {running.log_tail()}")
        if ready():
            return
        if time.monotonic() > deadline:
            raise ServerStartError(name, f"did not answer within {timeout:.0f} s: "
                                         f"{running.log_tail()}")
        time.sleep(0.1)


def _echo_answers(server: Server) -> bool:
    from .dimse import echo

    try:
        echo(server, timeout=2)
    except NetworkError:
        return False
    return True


def qrscp_config(*, ae_title: str, port: int, storage: Path,
                 move_destinations: Mapping[str, int], timeout: float = 30) -> str:
    """The INI configuration ``python -m pynetdicom qrscp -c`` reads (the format of
    pynetdicom's ``apps/qrscp/default.ini``): ``[DEFAULT]`` for the server, then one
    section per move destination AE title with its address and port."""
    lines = [
        "[DEFAULT]",
        f"ae_title: {ae_title}",
        f"port: {port}",
        "max_pdu: 0",
        f"acse_timeout: {timeout}",
        f"dimse_timeout: {timeout}",
        f"network_timeout: {timeout}",
        f"bind_address: {LOCALHOST}",
        f"instance_location: {storage / 'instances'}",
        f"database_location: {storage / 'instances.sqlite'}",
        "log_identifier: False",
    ]
    for title, dest_port in move_destinations.items():
        lines += ["", f"[{title}]", f"address: {LOCALHOST}", f"port: {dest_port}"]
    return "\n".join(lines) + "\n"


@contextmanager
def qrscp(*, ae_title: str = "QRSCP",
          move_destinations: Mapping[str, int] | None = None) -> Iterator[Server]:
    """Run pynetdicom's Query/Retrieve SCP on 127.0.0.1 for the ``with`` block.

    ``move_destinations`` maps the AE titles the archive may send C-MOVE results to
    onto their ports on 127.0.0.1 (its allow-list; any other destination gets
    ``0xA801``). Yields a :class:`Server` once a C-ECHO answers; on exit stops the
    server and deletes its storage. Raises :class:`ServerStartError` if it does not
    start. qrscp answers whatever Called AE title it is given and accepts any Calling
    AE title (its conformance: no AE title checks); :func:`orthanc` checks both.
    """
    destinations = dict(move_destinations or {})
    state = _state_folder("qrscp")
    port = free_port()
    config = state / "qrscp.ini"
    config.write_text(qrscp_config(ae_title=ae_title, port=port, storage=state,
                                   move_destinations=destinations))
    running = None
    try:
        running = _Running([sys.executable, "-m", "pynetdicom", "qrscp", "-c", str(config)],
                           state, state / "qrscp.log")
        server = Server("qrscp", LOCALHOST, port, ae_title, state / "instances",
                        running.process.pid, move_destinations=destinations)
        _wait_until(lambda: _echo_answers(server), running, str(server), START_TIMEOUT)
        yield server
    finally:
        if running is not None:
            running.stop()
        else:
            _remove_state(state)


def orthanc_installed() -> bool:
    """True when Orthanc and its DICOMweb plugin are installed here."""
    return ORTHANC.is_file() and ORTHANC_DICOMWEB.is_file()


def orthanc_config(*, ae_title: str, dicom_port: int, http_port: int, storage: Path,
                   credentials: tuple[str, str], clients: Mapping[str, int]) -> dict:
    """Orthanc's JSON configuration (its ``orthanc.json`` keys): ports, storage, HTTP
    authentication with one registered user, HTTP from localhost only, the DICOMweb
    plugin, and DICOM only for the ``clients`` AE titles from 127.0.0.1 (each with the
    port of its Storage SCP, the C-MOVE destination)."""
    user, password = credentials
    return {
        "Name": "workbook-orthanc",
        "StorageDirectory": str(storage / "storage"),
        "IndexDirectory": str(storage / "index"),
        "StorageCompression": False,
        "HttpPort": http_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True,
        "RegisteredUsers": {user: password},
        "HttpDescribeErrors": True,
        "DicomServerEnabled": True,
        "DicomAet": ae_title,
        "DicomPort": dicom_port,
        "DicomCheckCalledAet": True,
        "DicomCheckModalityHost": True,
        "DicomAlwaysAllowEcho": False,
        "DicomAlwaysAllowStore": False,
        "DicomAlwaysAllowFind": False,
        "DicomAlwaysAllowGet": False,
        "DicomAlwaysAllowMove": False,
        "DicomModalities": {
            title.lower(): {"AET": title, "Host": LOCALHOST, "Port": port,
                            "AllowEcho": True, "AllowFind": True, "AllowGet": True,
                            "AllowMove": True, "AllowStore": True}
            for title, port in clients.items()
        },
        "DicomScuTimeout": 10,
        "DicomScpTimeout": 30,
        "OverwriteInstances": False,
        "SaveJobs": False,
        "Plugins": [str(ORTHANC_DICOMWEB)],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
    }


@contextmanager
def orthanc(*, ae_title: str = "ORTHANC",
            clients: Mapping[str, int] | None = None) -> Iterator[Server]:
    """Run Orthanc with its DICOMweb plugin on free ports of 127.0.0.1 for the ``with``
    block.

    Orthanc 1.10 binds every interface and has no setting to change it, so it runs in a
    network namespace of its own behind a relay that listens on 127.0.0.1 only
    (:mod:`.isolation`). Where Linux does not allow that, it runs as it is, with a
    warning: HTTP then answers only localhost and DICOM only the ``clients`` from
    127.0.0.1, but both ports are open on every interface.

    ``clients`` maps each AE title allowed to associate (from 127.0.0.1) onto the
    port of its Storage SCP (where C-MOVE sends); by default :data:`WORKBOOK_AE` on a
    free port. HTTP needs the generated user and password (``server.credentials``).
    Yields a :class:`Server` once a C-ECHO and an authenticated HTTP request answer;
    on exit stops Orthanc and deletes its storage. Raises
    :class:`OrthancNotInstalledError` (saying how to install it) where it is missing.
    """
    if not orthanc_installed():
        raise OrthancNotInstalledError(
            "Orthanc", f"not installed ({ORTHANC} or {ORTHANC_DICOMWEB} missing): "
                       f"install it with `{ORTHANC_INSTALL}`")
    import requests

    allowed = dict(clients or {WORKBOOK_AE: free_port()})
    state = _state_folder("orthanc")
    dicom_port, http_port = free_port(), free_port()
    credentials = ("workbook", secrets.token_urlsafe(12))
    config = state / "orthanc.json"
    command = [str(ORTHANC), str(config)]
    if isolation.available():
        # Orthanc in a network namespace of its own on its usual ports, 4242 and 8042;
        # the relay makes them 127.0.0.1:dicom_port and 127.0.0.1:http_port here
        inner_dicom, inner_http = ORTHANC_DICOM_PORT, ORTHANC_HTTP_PORT
        sockets = _socket_folder(state)
        command = [sys.executable, "-m", "helpers.network.isolation",
                   "--sockets", str(sockets),
                   "--expose", f"{inner_dicom}:{dicom_port}",
                   "--expose", f"{inner_http}:{http_port}",
                   *(f"--reach={port}" for port in sorted(set(allowed.values()))),
                   "--", *command]
    else:
        inner_dicom, inner_http = dicom_port, http_port
        warnings.warn(NOT_ISOLATED, stacklevel=3)
    config.write_text(json.dumps(orthanc_config(
        ae_title=ae_title, dicom_port=inner_dicom, http_port=inner_http, storage=state,
        credentials=credentials, clients=allowed), indent=2))
    running = None
    try:
        running = _Running(command, state, state / "orthanc.log")
        server = Server("Orthanc", LOCALHOST, dicom_port, ae_title, state / "storage",
                        running.process.pid, http_port=http_port, credentials=credentials,
                        move_destinations=allowed)

        def ready() -> bool:
            try:
                answer = requests.get(f"http://{LOCALHOST}:{http_port}/system",
                                      auth=credentials, timeout=2)
            except requests.RequestException:
                return False
            return answer.ok and _echo_answers(server)

        _wait_until(ready, running, str(server), START_TIMEOUT)
        yield server
    finally:
        if running is not None:
            running.stop()
        else:
            _remove_state(state)
