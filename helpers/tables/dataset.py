"""A model-ready dataset's manifest: one row per case, split by patient.

Training code (a PyTorch ``Dataset``, MONAI's ``CacheDataset``...) iterates over a
table of cases: where the image is, where its label is, its voxel size and shape,
whose it is and which split it belongs to. The split is made by patient with
:func:`helpers.tables.cohort.patient_split` (lesson 5): a patient's cases all go to
one side, because images of one person resemble each other more than images of two,
and a model validated on a patient it was trained on looks better than it is.
:func:`check_patient_level` asserts it, and the manifest refuses to be built otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..dicom.errors import OverwriteError, WorkbookError
from .cohort import patient_split

__all__ = ["MANIFEST_COLUMNS", "SplitLeakError", "build_manifest", "check_patient_level",
           "write_manifest"]

#: The manifest's columns (``spacing`` and ``shape`` as text "a x b x c", mm and voxels).
MANIFEST_COLUMNS = ("case", "path", "label_path", "spacing", "shape", "patient", "split")


class SplitLeakError(WorkbookError, ValueError):
    """A patient whose cases are in more than one split (data leak between training
    and validation)."""


def check_patient_level(manifest: pd.DataFrame, *, patient: str = "patient",
                        split: str = "split") -> None:
    """Raise :class:`SplitLeakError` naming the patients found in two splits."""
    sides = manifest.groupby(patient)[split].nunique()
    leaked = sorted(map(str, sides[sides > 1].index))
    if leaked:
        raise SplitLeakError(None, f"{len(leaked)} patient(s) in more than one split: "
                                   f"{', '.join(leaked[:5])}{' ...' if len(leaked) > 5 else ''}")


def build_manifest(cases: pd.DataFrame, *, validation: float = 0.2, seed: int = 0) -> pd.DataFrame:
    """:data:`MANIFEST_COLUMNS` for ``cases`` (every column but ``split``), with a
    patient-level train/validation split (``validation`` of the cases, ``seed``)."""
    missing = [c for c in MANIFEST_COLUMNS if c != "split" and c not in cases]
    if missing:
        raise KeyError(f"the cases table lacks the columns {missing}")
    out = cases.loc[:, [c for c in MANIFEST_COLUMNS if c != "split"]].copy()
    out["split"] = patient_split(out, patient="patient", labels=[], validation=validation,
                                 seed=seed).to_numpy()
    check_patient_level(out)
    return out.reset_index(drop=True)


def write_manifest(manifest: pd.DataFrame, path: str | os.PathLike[str], *,
                   overwrite: bool = False) -> Path:
    """Write the manifest as one Parquet file (no index, no attrs); refuses to replace
    a file unless ``overwrite``."""
    check_patient_level(manifest)
    p = Path(path)
    if p.exists() and not overwrite:
        raise OverwriteError(p, "exists already; pass overwrite=True to replace it")
    p.parent.mkdir(parents=True, exist_ok=True)
    table = manifest.copy(deep=False)
    table.attrs = {}
    table.to_parquet(p, engine="pyarrow", index=False)
    return p
