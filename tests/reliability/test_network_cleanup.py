"""After lesson 8 runs, every server it started is gone: no process, no listening port,
no state left. And a kernel that dies without cleaning up takes its servers with it.

The lesson's one run of the session (``lesson_runs.py``) has its output folder in a
temporary directory, so its servers' command lines name that directory; the run notes,
after each cell, the processes that name it (``execute_lesson.py``), and psutil, which
nobody here wrote, lists every process and socket of the machine afterwards.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from execute_lesson import processes_naming

from helpers.network import servers
from helpers.paths import REPO_ROOT

LESSON = REPO_ROOT / "notebooks" / "08_networking.ipynb"


def _listening_ports(procs: list[psutil.Process]) -> list[int]:
    pids = {p.pid for p in procs}
    return [c.laddr.port for c in psutil.net_connections("tcp")
            if c.pid in pids and c.status == psutil.CONN_LISTEN]


@pytest.mark.lessons
@pytest.mark.parametrize("lesson", [LESSON], ids=lambda p: p.stem)
def test_nothing_left_after_the_lesson(lesson: Path, lesson_runs):
    run = lesson_runs.get(lesson)
    assert run.executed is not None, run.stderr[-3000:]
    seen = [" ".join(cmd) for _, cmd in run.executed.metadata["workbook_test"]["processes_seen"]]
    assert any("pynetdicom qrscp" in cmd for cmd in seen), (
        "the lesson's archive was never seen running (is the test blind?)")
    if servers.orthanc_installed():
        assert any("orthanc.json" in cmd for cmd in seen), "Orthanc was never seen running"
    left = processes_naming(str(run.output))
    assert not left, f"processes left: {[p.cmdline() for p in left]}"
    assert not _listening_ports(left)
    assert not any((run.output / "servers").glob("*"))


@pytest.mark.parametrize("kind", ["qrscp", "orthanc"])
def test_a_killed_kernel_takes_its_server_with_it(tmp_path, kind):
    """SIGKILL leaves no chance to clean up: the parent-death signal stops the server,
    and for Orthanc the relays and Orthanc behind them (each asks for the signal)."""
    if kind == "orthanc" and not servers.orthanc_installed():
        pytest.skip(f"Orthanc is not installed: {servers.ORTHANC_INSTALL}")
    script = ("import time, psutil\nfrom helpers.network import servers\n"
              f"cm = servers.{kind}()\nserver = cm.__enter__()\n"
              "group = [server.pid] + [p.pid for p in "
              "psutil.Process(server.pid).children(recursive=True)]\n"
              "print(*group, flush=True)\ntime.sleep(600)\n")
    env = {**os.environ, "DICOM_WORKBOOK_OUTPUT": str(tmp_path),
           "PYTHONPATH": str(REPO_ROOT)}
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              text=True, env=env)
    pids = [int(pid) for pid in parent.stdout.readline().split()]
    assert pids and all(psutil.pid_exists(pid) for pid in pids)
    if kind == "orthanc":
        assert len(pids) == 3, "relay, relay in the namespace, Orthanc"
    parent.send_signal(signal.SIGKILL)
    parent.wait()

    def alive(pid: int) -> bool:
        try:
            return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.2)
    assert not [pid for pid in pids if alive(pid)]
