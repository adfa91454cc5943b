"""Fixtures for the browser tests: JupyterLab on localhost and headless Chromium.

JupyterLab is started by the test from ``.venv/bin/jupyter`` on a free port with a
random token, with its root in a temporary folder holding a *copy* of the test
notebook (so nothing the browser does can change the committed notebook), autosave off,
and its own settings, workspace, config and runtime folders. Chromium is Debian's
``/usr/bin/chromium`` (or ``$CHROMIUM``), driven by Playwright's sync API. Tests
skip with an install hint where Chromium or Playwright is absent.
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
import time
import urllib.request
from pathlib import Path

import pytest

from helpers.paths import REPO_ROOT, output_dir

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
    "--no-first-run", "--disable-component-update", "--disable-sync",
]
INSTALL_HINT = ("Chromium and Playwright are needed for the browser tests: "
                "apt-get install chromium (Debian/Ubuntu) and pip install playwright "
                "(set $CHROMIUM to another Chromium binary if you have one)")


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium driven by Playwright (skips with a hint when absent)."""
    exe = chromium_path()
    if exe is None:
        pytest.skip(INSTALL_HINT)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(INSTALL_HINT)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_settings(folder: Path) -> None:
    """User settings for the test's JupyterLab: no autosave, no news, no update check."""
    overrides = {
        "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
            {"fetchNews": "false", "checkForUpdates": False},
    }
    for rel, value in overrides.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


class Lab:
    """A running JupyterLab: ``url(path)`` gives an address with the token."""

    def __init__(self, root: Path, port: int, token: str, process: subprocess.Popen) -> None:
        self.root, self.port, self.token, self.process = root, port, token, process

    def url(self, path: str = "lab") -> str:
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"


def _wait_until_up(lab: Lab, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(lab.url("api/status"), timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s:\n"
                       f"{log.read_text()[-3000:]}")


def start_lab(root: Path, home: Path) -> Lab:
    """Start JupyterLab serving ``root`` with isolated settings under ``home``."""
    jupyter = Path(sys.executable).with_name("jupyter")
    if not jupyter.exists():
        jupyter = REPO_ROOT / ".venv" / "bin" / "jupyter"
    port, token = _free_port(), secrets.token_hex(16)
    settings = home / "settings"
    _write_settings(settings)
    env = dict(os.environ)
    env.update({
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "PYTHONUNBUFFERED": "1",
    })
    args = [
        str(jupyter), "lab", f"--port={port}", "--ip=127.0.0.1", "--no-browser",
        "--ServerApp.open_browser=False", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        "--LabApp.news_url=",
    ]
    if os.geteuid() == 0:
        args.append("--allow-root")
    log = home / "jupyterlab.log"
    fh = open(log, "wb")  # noqa: SIM115 - closed when the server stops
    process = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, env=env,
                               cwd=root, start_new_session=True)
    lab = Lab(root, port, token, process)
    lab.log = log  # type: ignore[attr-defined]
    lab._fh = fh  # type: ignore[attr-defined]
    try:
        _wait_until_up(lab, log)
    except BaseException:
        stop_lab(lab)
        raise
    return lab


def stop_lab(lab: Lab) -> None:
    """Stop the server we started (and its kernels, in its process group)."""
    if lab.process.poll() is None:
        try:
            os.killpg(lab.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            lab.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(lab.process.pid, signal.SIGKILL)
            lab.process.wait(timeout=10)
    lab._fh.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def lab_with_viewer_notebook(tmp_path_factory, browser):
    """JupyterLab serving a temporary copy of tests/browser/viewer_test.ipynb (the
    viewers under test; the committed file is untouched)."""
    source = Path(__file__).with_name("viewer_test.ipynb")
    root = tmp_path_factory.mktemp("lab-root")
    shutil.copy2(source, root / source.name)
    lab = start_lab(root, tmp_path_factory.mktemp("lab-home"))
    try:
        yield lab
    finally:
        stop_lab(lab)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where the browser tests save screenshots: output/browser/."""
    return output_dir("browser")
