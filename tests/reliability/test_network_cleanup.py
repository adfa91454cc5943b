"""After lesson 8 runs, every server it started is gone: no process, no listening port,
no state left. And a kernel that dies without cleaning up takes its servers with it.

The lesson runs in a fresh kernel (nbclient) with its output folder in a temporary
directory, so its servers' command lines name that directory; psutil, which nobody here
wrote, lists every process and socket of the machine afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from nbclient import NotebookClient

from helpers.paths import REPO_ROOT

LESSON = REPO_ROOT / "notebooks" / "08_networking.ipynb"


def _servers_under(folder: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(folder) in cmdline:
            found.append(proc)
    return found


def _listening_ports(procs: list[psutil.Process]) -> list[int]:
    pids = {p.pid for p in procs}
    return [c.laddr.port for c in psutil.net_connections("tcp")
            if c.pid in pids and c.status == psutil.CONN_LISTEN]


@pytest.mark.slow
def test_nothing_left_after_the_lesson(tmp_path, monkeypatch):
    monkeypatch.setenv("DICOM_WORKBOOK_OUTPUT", str(tmp_path))
    nb = nbformat.read(LESSON, as_version=4)
    seen_running: list[int] = []

    def watch(cell, cell_index, **_):
        if "servers.qrscp(" in cell.source:
            seen_running.extend(p.pid for p in _servers_under(tmp_path))

    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(LESSON.parent)}},
                            on_cell_executed=watch)
    client.execute()
    assert seen_running, "the lesson's archive was never seen running (is the test blind?)"
    left = _servers_under(tmp_path)
    assert not left, f"processes left: {[p.cmdline() for p in left]}"
    assert not _listening_ports(left)
    assert not any((tmp_path / "servers").glob("*"))


@pytest.mark.slow
def test_a_killed_kernel_takes_its_server_with_it(tmp_path):
    """SIGKILL leaves no chance to clean up: the parent-death signal stops the server."""
    script = ("import time\nfrom helpers.network import servers\n"
              "cm = servers.qrscp()\nserver = cm.__enter__()\n"
              "print(server.pid, flush=True)\ntime.sleep(600)\n")
    env = {**os.environ, "DICOM_WORKBOOK_OUTPUT": str(tmp_path),
           "PYTHONPATH": str(REPO_ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              text=True, env=env)
    pid = int(parent.stdout.readline())
    assert psutil.pid_exists(pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and psutil.pid_exists(pid) \
            and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        time.sleep(0.2)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
