"""Exploring a cohort's metadata, and real metadata at scale (lesson 6).

- Findings: :func:`cooccurrence` of one-hot labels.
- Pixels are the image layer's: :mod:`helpers.image.intensity`.
- Real metadata: :func:`load_idc_index` reads columns of the NCI Imaging Data
  Commons series index shipped by the PyPI package ``idc-index-data`` (one row
  per series; values copied from real headers, with their nulls and junk), and
  :func:`vendor` and :func:`clean_sex` tidy two of its messy columns.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

#: Columns of the IDC index lesson 6 uses (the file has about 30).
IDC_COLUMNS: list[str] = [
    "collection_id", "PatientID", "Modality", "BodyPartExamined", "PatientAge", "PatientSex",
    "Manufacturer",
]


# ---------------------------------------------------------------------------
# Findings


def cooccurrence(onehot: pd.DataFrame) -> pd.DataFrame:
    """Images having both findings, for every pair (the diagonal: images with that finding)."""
    m = onehot.to_numpy(dtype=np.int64)
    return pd.DataFrame(m.T @ m, index=onehot.columns, columns=onehot.columns)


# ---------------------------------------------------------------------------
# The Imaging Data Commons index


def idc_index_path() -> str:
    """Where ``idc-index-data`` installed its Parquet file."""
    import idc_index_data

    return str(idc_index_data.IDC_INDEX_PARQUET_FILEPATH)


def load_idc_index(columns: list[str] | None = None) -> pd.DataFrame:
    """Read only ``columns`` (default :data:`IDC_COLUMNS`) of the IDC series index.

    Parquet stores each column apart, so reading a few of the ~30 columns reads
    a fraction of the file. Text columns come back as they are in the index:
    missing values are ``NaN``.
    """
    return pd.read_parquet(idc_index_path(), columns=columns or IDC_COLUMNS)


#: Vendor families: a regular expression over the upper-cased Manufacturer.
VENDORS: dict[str, str] = {
    "GE": r"\bGE\b|GENERAL ELECTRIC|^\"?GE ",
    "Siemens": r"SIEMENS",
    "Philips": r"PHILIPS|ADAC",
    "Canon/Toshiba": r"TOSHIBA|CANON",
    "Hologic": r"HOLOGIC|LORAD",
    "Carestream/Kodak": r"CARESTREAM|KODAK",
    "Fujifilm": r"FUJI",
    "Agfa": r"AGFA",
    "Hitachi": r"HITACHI",
    "Varian": r"VARIAN",
    "Elekta": r"ELEKTA",
    "Leica": r"LEICA|APERIO",
}


def vendor(manufacturer: object) -> str:
    """The vendor family of a Manufacturer (0008,0070) value, ``"other"`` or ``"missing"``.

    Real values spell one vendor many ways (``SIEMENS``, ``Siemens Healthineers``,
    ``SIEMENS NM``; ``GE MEDICAL SYSTEMS``, ``GE Healthcare``, ``"GE Healthcare"``).
    """
    if manufacturer is None or (isinstance(manufacturer, float) and np.isnan(manufacturer)):
        return "missing"
    text = str(manufacturer).upper().strip()
    if not text:
        return "missing"
    for family, pattern in VENDORS.items():
        if re.search(pattern, text):
            return family
    return "other"


#: Patient's Sex (0010,0040) defined terms, PS3.3 C.7.1.1: M, F, O (other).
SEX_TERMS = ("M", "F", "O")


def clean_sex(values: pd.Series) -> pd.Series:
    """Patient's Sex as ``M``, ``F``, ``O`` or ``<NA>`` (missing or not a defined term).

    Strips spaces and upper-cases first; anything else (``0000``, ``U``, digits)
    is not a defined term and becomes missing.
    """
    text = values.astype("string").str.strip().str.upper()
    return text.where(text.isin(SEX_TERMS)).rename(values.name)
