"""Run a server that cannot be told where to listen so that only 127.0.0.1 reaches it.

Orthanc 1.10 (Debian bookworm's) has no setting for the address it listens on: it binds
its HTTP and DICOM ports on every interface of the machine. Its own settings limit who
may *use* them (``RemoteAccessAllowed``, the AE title and host checks of
``DicomModalities``), but a port open on every interface is still a port open to the
network, which the workbook's rule forbids: servers listen on 127.0.0.1 only.

Linux answers this with a *network namespace* (network_namespaces(7)): a process in a
namespace of its own sees one network interface, its own loopback, and nothing it binds
can be reached from the machine's interfaces, whatever address it binds. This module
runs a command in such a namespace and joins it to the machine through two small relays
in one process group:

- the **outer relay** stays in the machine's namespace. It listens on 127.0.0.1 (only)
  at each *exposed* port and passes every connection on through a Unix socket in a
  private folder; it also accepts the namespace's outgoing connections on Unix sockets
  and makes them to 127.0.0.1 on the machine (a C-MOVE sending to the workbook's Storage
  SCP, PS3.4 C.4.2);
- the **inner relay** runs in the new namespace (made with ``unshare(CLONE_NEWNET)``,
  as an unprivileged user inside a new user namespace, ``CLONE_NEWUSER``), brings its
  loopback interface up, accepts on those Unix sockets and connects to the server's
  ports on the namespace's own 127.0.0.1; for each *reached* port it listens on the
  namespace's 127.0.0.1 and relays out. Then it starts the command.

A Unix socket is a file, so both namespaces see it; the folder is the caller's, mode
0700. Each process asks Linux to stop it when its parent dies (``PR_SET_PDEATHSIG``).

``python -m helpers.network.isolation --sockets DIR --expose INNER:OUTER ... --reach
PORT ... -- COMMAND ...`` is the entry point :func:`helpers.network.servers.orthanc`
uses; :func:`available` says whether this machine lets a process make the namespace.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import fcntl
import functools
import os
import signal
import socket
import struct
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

LOCALHOST = "127.0.0.1"
#: ``sched.h``: a new network namespace, a new user namespace (unshare(2)).
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
#: ``linux/sockios.h``, ``net/if.h``: read and set an interface's flags.
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
_PR_SET_PDEATHSIG = 1
#: Exit code of the inner relay when the namespace cannot be made.
NO_NAMESPACE = 3
#: Bytes a relay moves per read.
CHUNK = 1 << 16

_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
#: libc's prctl, looked up here: the child between fork and exec must not call the
#: dynamic loader (another thread of the parent may have held its lock).
_PRCTL = _LIBC.prctl if _LIBC is not None else None


class NamespaceError(OSError):
    """This process may not make a network namespace here (no ``CAP_SYS_ADMIN`` and no
    unprivileged user namespaces, or not Linux)."""


def die_with_parent() -> None:
    """Ask Linux to send SIGTERM to this process when its parent dies (prctl
    PR_SET_PDEATHSIG), so a killed kernel leaves no server behind. Safe between fork and
    exec (``preexec_fn``): prctl was looked up at import, in the parent."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def enter_new_network_namespace() -> None:
    """Move this (single-threaded) process into a new network namespace whose loopback
    interface is up. As root, ``CLONE_NEWNET`` alone; otherwise in a new user namespace
    too, mapping this user and group to root inside it (user_namespaces(7)), which gives
    the capability to configure the new namespace's interfaces and nothing outside it.
    Raises :class:`NamespaceError` if Linux refuses."""
    if _LIBC is None:
        raise NamespaceError("network namespaces are a Linux feature")
    uid, gid = os.geteuid(), os.getegid()
    flags = CLONE_NEWNET if uid == 0 else CLONE_NEWNET | CLONE_NEWUSER
    if _LIBC.unshare(flags) != 0:
        err = ctypes.get_errno()
        raise NamespaceError(err, f"unshare: {os.strerror(err)}")
    try:
        if uid != 0:
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"0 {uid} 1")
            _write("/proc/self/gid_map", f"0 {gid} 1")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            request = struct.pack("16sH22x", b"lo", 0)
            flags_now = struct.unpack("16sH22x", fcntl.ioctl(s, SIOCGIFFLAGS, request))[1]
            fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags_now | IFF_UP))
    except OSError as exc:
        raise NamespaceError(exc.errno, f"configuring the namespace: {exc.strerror}") from exc


@functools.cache
def available() -> bool:
    """True when a child of this process can make a network namespace with its loopback
    up (tried once, in a forked child, and remembered)."""
    if _LIBC is None:
        return False
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            enter_new_network_namespace()
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy one direction until end of stream, then half-close (a TCP FIN, so the other
    direction can still finish)."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


async def _join(reader, writer, connect) -> None:
    """Relay one accepted connection to a new one made by ``connect()``."""
    try:
        far_reader, far_writer = await connect()
    except OSError:
        writer.close()
        return
    try:
        await asyncio.gather(_copy(reader, far_writer), _copy(far_reader, writer))
    finally:
        for w in (writer, far_writer):
            w.close()


def _socket_path(folder: Path, direction: str, port: int) -> str:
    return str(folder / f"{direction}-{port}.sock")


async def _outer(folder: Path, expose: dict[int, int], reach: Sequence[int],
                 inner_pid: int) -> int:
    """The machine's side: 127.0.0.1:OUTER -> Unix socket, Unix socket -> 127.0.0.1:PORT."""
    servers = []
    for inner_port, outer_port in expose.items():
        path = _socket_path(folder, "expose", inner_port)
        servers.append(await asyncio.start_server(
            functools.partial(_join_to_unix, path=path), LOCALHOST, outer_port,
            reuse_address=True))
    for port in reach:
        servers.append(await asyncio.start_unix_server(
            functools.partial(_join_to_tcp, port=port),
            path=_socket_path(folder, "reach", port)))
    code = await asyncio.get_running_loop().run_in_executor(None, _wait_for, inner_pid)
    for server in servers:
        server.close()
    return code


def _wait_for(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


async def _join_to_unix(reader, writer, *, path: str) -> None:
    await _join(reader, writer, lambda: asyncio.open_unix_connection(path))


async def _join_to_tcp(reader, writer, *, port: int) -> None:
    await _join(reader, writer, lambda: asyncio.open_connection(LOCALHOST, port))


async def _inner(folder: Path, expose: dict[int, int], reach: Sequence[int],
                 command: Sequence[str]) -> int:
    """The namespace's side: Unix socket -> 127.0.0.1:INNER, 127.0.0.1:PORT -> Unix
    socket; then run ``command`` and return its exit code."""
    for inner_port in expose:
        await asyncio.start_unix_server(
            functools.partial(_join_to_tcp, port=inner_port),
            path=_socket_path(folder, "expose", inner_port))
    for port in reach:
        await asyncio.start_server(
            functools.partial(_join_to_unix, path=_socket_path(folder, "reach", port)),
            LOCALHOST, port, reuse_address=True)
    process = await asyncio.create_subprocess_exec(
        *command, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
    return await process.wait()


def run(folder: Path, expose: dict[int, int], reach: Sequence[int],
        command: Sequence[str]) -> int:
    """Run ``command`` in a new network namespace behind the two relays (see the module
    docstring); returns its exit code, or :data:`NO_NAMESPACE`."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, measured by the tests' servers
        code = NO_NAMESPACE
        try:
            die_with_parent()
            enter_new_network_namespace()
            code = 1
            code = asyncio.run(_inner(folder, expose, reach, command))
        except BaseException as exc:
            print(f"isolation: {exc}", file=sys.stderr, flush=True)
        finally:
            os._exit(code)
    signal.signal(signal.SIGTERM, lambda *_: _stop_child(pid))
    return asyncio.run(_outer(folder, expose, reach, pid))


def _stop_child(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


def _port_pair(text: str) -> tuple[int, int]:
    inner, _, outer = text.partition(":")
    return int(inner), int(outer)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers.network.isolation",
        description="Run a command in a network namespace of its own, reachable through "
                    "127.0.0.1 only.")
    parser.add_argument("--sockets", type=Path, required=True,
                        help="private folder for the relays' Unix sockets")
    parser.add_argument("--expose", type=_port_pair, action="append", default=[],
                        metavar="INNER:OUTER",
                        help="the command's port INNER, reached at 127.0.0.1:OUTER")
    parser.add_argument("--reach", type=int, action="append", default=[], metavar="PORT",
                        help="127.0.0.1:PORT of the machine, reached from inside")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    return run(args.sockets, dict(args.expose), args.reach, command)


if __name__ == "__main__":
    sys.exit(main())
