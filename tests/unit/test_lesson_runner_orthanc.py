"""The lesson runner (tests/lesson_runs.py) skips lesson 8's Orthanc cells where Orthanc is
absent, with the install message, and runs them where it is present; absence is faked
here by monkeypatching ``servers.orthanc_installed``."""

from __future__ import annotations

import nbformat
import pytest
from lesson_runs import LESSONS, ORIGIN, ORTHANC_TAG, skip_reason, with_solutions

from helpers.network import servers

NETWORKING = next(p for p in LESSONS if p.name.startswith("08_"))


def tagged(nb: nbformat.NotebookNode) -> list[int]:
    return [i for i, c in enumerate(nb.cells)
            if ORTHANC_TAG in c.get("metadata", {}).get("tags", [])]


@pytest.fixture()
def lesson() -> nbformat.NotebookNode:
    nb = nbformat.read(NETWORKING, as_version=4)
    assert len(tagged(nb)) >= 5, "lesson 8's DICOMweb cells carry the needs-orthanc tag"
    return nb


def ran(nb: nbformat.NotebookNode) -> set[int]:
    return {c.metadata[ORIGIN]["cell"] for c in with_solutions(nb).cells
            if "cell" in c.metadata.get(ORIGIN, {})}


def test_orthanc_absent_its_cells_skip_with_the_install_message(lesson, monkeypatch):
    monkeypatch.setattr(servers, "orthanc_installed", lambda: False)
    for i in tagged(lesson):
        reason = skip_reason(lesson.cells[i])
        assert reason and servers.ORTHANC_INSTALL in reason and "not installed" in reason
    assert not ran(lesson) & set(tagged(lesson))
    untagged = {i for i in range(len(lesson.cells)) if i not in tagged(lesson)}
    assert ran(lesson) == untagged              # every other cell still runs
    assert all(skip_reason(lesson.cells[i]) is None for i in untagged)


def test_orthanc_present_its_cells_run(lesson, monkeypatch):
    monkeypatch.setattr(servers, "orthanc_installed", lambda: True)
    assert all(skip_reason(c) is None for c in lesson.cells)
    assert ran(lesson) == set(range(len(lesson.cells)))
