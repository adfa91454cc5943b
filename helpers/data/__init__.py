"""The workbook's data: real files from PyPI packages and deterministic synthetic studies.

Build and verify with ``python -m helpers.data build`` (``make data`` does it).
Lessons find files by name, never by absolute path::

    from helpers import data
    ct = data.real("CT_small.dcm")            # data/real/CT_small.dcm
    axial = data.ct_series("axial")           # folder of one synthetic CT series
    images, labels = data.cohort_images(), data.cohort_labels()

Layout of ``data/`` (everything but the manifest is generated and git-ignored):

- ``real/``: files copied from pydicom and pydicom-data (see :mod:`.real_files`), and
  the ``dicomdirtests/`` tree with its DICOMDIR;
- ``ct_chest/<series>/``: a synthetic chest CT study, one folder per series
  (``axial``, and a non-axial one), file names shuffled (see :mod:`.synth_ct`; its
  phantom is :mod:`.ct_phantom`);
- ``corpus/``: real-world files from other projects' test data on PyPI, for the tests
  and for lesson 4's rounded positions (see :mod:`.corpus`);
- ``cxr_cohort/``: a synthetic chest X-ray cohort, ``images/*.dcm`` and the
  labels file ``Data_Entry_2017.csv`` in the NIH ChestX-ray14 layout
  (see :mod:`.synth_cxr`).
"""

from __future__ import annotations

from pathlib import Path

from ..paths import DATA_DIR
from .build import (
    MANIFEST_NAME,
    BuildReport,
    DataError,
    build,
    check_group,
    read_manifest,
    read_variants,
)
from .real_files import DICOMDIR_TREE, REAL_FILES

__all__ = [
    "DATA_DIR", "MANIFEST_NAME", "REAL_FILES", "BuildReport", "DataError", "build",
    "real", "corpus_file", "dicomdir", "ct_series", "ct_series_names", "ct_label_file",
    "cohort_images", "cohort_labels",
    "verify",
]


def _existing(path: Path, what: str) -> Path:
    if not path.exists():
        raise DataError(f"{what} ({path.relative_to(DATA_DIR.parent).as_posix()}) is missing: "
                        "run `make data` (or `python -m helpers.data build`) first")
    return path


def real(name: str) -> Path:
    """Path of a real file by its pydicom test-file name, e.g. ``real("CT_small.dcm")``."""
    if name not in REAL_FILES and not name.startswith(DICOMDIR_TREE + "/"):
        raise KeyError(f"{name!r} is not one of the workbook's real files: "
                       f"{', '.join(sorted(REAL_FILES))}")
    return _existing(DATA_DIR / "real" / name, f"real file {name}")


def corpus_file(name: str) -> Path:
    """Path of a real-world file of the test corpus (see :mod:`.corpus`), by its path
    under ``data/corpus``, e.g. ``corpus_file("nibabel/0.dcm")``."""
    from .corpus import SOURCES, target_name

    known = {target_name(s, m) for s in SOURCES for m in s.members}
    if name not in known:
        raise KeyError(f"{name!r} is not a file of the real-world corpus: "
                       f"{', '.join(sorted(known))}")
    return _existing(DATA_DIR / "corpus" / name, f"corpus file {name}")


def dicomdir() -> Path:
    """Path of the real DICOMDIR (PS3.10 section 8) whose tree holds several patients."""
    return real(f"{DICOMDIR_TREE}/DICOMDIR")


def ct_series_names() -> list[str]:
    """Names of the synthetic CT study's series folders, sorted."""
    root = _existing(DATA_DIR / "ct_chest", "the synthetic CT study")
    return sorted(p.name for p in root.iterdir() if p.is_dir())


def ct_series(name: str = "axial") -> Path:
    """Folder holding one series of the synthetic chest CT study."""
    return _existing(DATA_DIR / "ct_chest" / name, f"synthetic CT series {name!r}")


def ct_label_file(kind: str = "seg") -> Path:
    """The synthetic CT's organ labels: ``"seg"`` (Segmentation) or ``"rtstruct"``."""
    names = {"seg": "seg/SEG000001.dcm", "rtstruct": "rtstruct/RS000001.dcm"}
    if kind not in names:
        raise ValueError(f"kind must be one of {sorted(names)}, not {kind!r}")
    return _existing(DATA_DIR / "ct_labels" / names[kind], f"the CT's {kind} label file")


def cohort_images() -> Path:
    """Folder of the synthetic chest X-ray cohort's DICOM images."""
    return _existing(DATA_DIR / "cxr_cohort" / "images", "the synthetic chest X-ray cohort")


def cohort_labels() -> Path:
    """The cohort's labels CSV, in the layout of NIH ChestX-ray14's Data_Entry_2017.csv."""
    return _existing(DATA_DIR / "cxr_cohort" / "Data_Entry_2017.csv", "the cohort labels CSV")


def verify() -> dict[str, int]:
    """Check every file against the manifest; return ``{group: files verified}``.

    Files whose Pixel Data alone differs, kept by a lenient build on this machine
    (see :mod:`.build`), count as verified. Raises :class:`DataError` naming the
    first missing or changed file.
    """
    manifest, variants = read_manifest(), read_variants()
    counts: dict[str, int] = {}
    for rel in manifest.files:
        counts[rel.split("/", 1)[0]] = counts.get(rel.split("/", 1)[0], 0) + 1
    for group in counts:
        bad = check_group(manifest.group(group).files, accepted=variants)
        if bad:
            raise DataError(f"data/{bad[0]}: missing or changed; run `make data` to rebuild")
    return dict(sorted(counts.items()))
