"""Where the workbook keeps things, and how paths are shown to a learner.

Notebook outputs must not depend on where the repository lives, so every path a
lesson prints goes through :func:`shown`, which makes it relative to the
repository root.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root (the folder holding ``helpers/``).
REPO_ROOT: Path = Path(__file__).resolve().parent.parent

#: Generated and collected data; rebuilt by ``python -m helpers.data build``.
#: Lessons only read from here. Override with ``DICOM_WORKBOOK_DATA``.
DATA_DIR: Path = Path(os.environ.get("DICOM_WORKBOOK_DATA", REPO_ROOT / "data")).resolve()

#: Where lessons write what they make (modified copies, clean tables).
#: Override with ``DICOM_WORKBOOK_OUTPUT``.
OUTPUT_DIR: Path = Path(os.environ.get("DICOM_WORKBOOK_OUTPUT", REPO_ROOT / "output")).resolve()


def _in_workbook(p: Path) -> str | None:
    for base, label in ((DATA_DIR, "data"), (OUTPUT_DIR, "output"), (REPO_ROOT, "")):
        try:
            rel = p.relative_to(base)
        except ValueError:
            continue
        return "/".join(part for part in (label, rel.as_posix()) if part)
    return None


def shown(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> str:
    """Return ``path`` as a learner should see it, with forward slashes.

    - inside the workbook: relative to the data folder, the output folder or the
      repository (``data/real/CT_small.dcm``), so lesson outputs do not depend on
      where the repository lives;
    - elsewhere, under ``root`` (the folder a helper was given): relative to that
      folder (``a/0.dcm`` and ``b/0.dcm``), so two files of one call never share a
      name (helpers that read a folder or a list of files pass it);
    - elsewhere: the file name (a helper given one file names that file).

    >>> shown(DATA_DIR / "real" / "CT_small.dcm")
    'data/real/CT_small.dcm'
    """
    try:
        p = Path(path).resolve()
    except (RuntimeError, OSError):  # a symbolic link loop: where the link itself is
        p = Path(os.path.abspath(path))
    inside = _in_workbook(p)
    if inside is not None:
        return inside
    if root is not None:
        try:
            rel = p.relative_to(Path(os.path.abspath(root)).resolve())
            if rel.parts:
                return rel.as_posix()
        except ValueError:
            pass
    return p.name


def path_of(file: str) -> Path:
    """The file behind a path as :func:`shown` prints it (``data/real/CT_small.dcm``),
    for the tables whose ``file`` column holds such paths: the inverse of :func:`shown`
    for files inside the workbook.

    >>> path_of("data/real/CT_small.dcm") == DATA_DIR / "real" / "CT_small.dcm"
    True
    """
    head, _, rest = file.partition("/")
    if head == "data" and rest:
        return DATA_DIR / rest
    if head == "output" and rest:
        return OUTPUT_DIR / rest
    return REPO_ROOT / file


def output_dir(*parts: str) -> Path:
    """Return (and create) a folder under :data:`OUTPUT_DIR`."""
    folder = OUTPUT_DIR.joinpath(*parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
