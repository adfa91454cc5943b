"""Exploring a cohort's metadata and pixels, and real metadata at scale (lesson 5).

- Findings: :func:`cooccurrence` of one-hot labels.
- Pixels: :func:`as_monochrome2` (PS3.3 C.7.6.3.1.2: in MONOCHROME1 the minimum
  value is white, so it is inverted to compare with MONOCHROME2 images),
  :func:`field_mask` (the collimated field of a radiograph, without the
  unexposed border around it), :func:`image_stats` and :func:`zscore`, the
  usual normalisation before a model sees an image.
- Real metadata: :func:`load_idc_index` reads columns of the NCI Imaging Data
  Commons series index shipped by the PyPI package ``idc-index-data`` (one row
  per series; values copied from real headers, with their nulls and junk), and
  :func:`vendor` and :func:`clean_sex` tidy two of its messy columns.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

#: Columns of the IDC index lesson 5 uses (the file has about 30).
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
# Pixels


def as_monochrome2(stored: np.ndarray, photometric: str, bits_stored: int) -> np.ndarray:
    """Stored values of an unsigned greyscale image with bright meaning dense.

    MONOCHROME1 (PS3.3 C.7.6.3.1.2) displays the minimum value as white, so its
    values are inverted within the stored range: ``2**BitsStored - 1 - value``.
    MONOCHROME2 values are returned unchanged (as float64).
    """
    values = np.asarray(stored, dtype=np.float64)
    if photometric == "MONOCHROME1":
        return (2**bits_stored - 1) - values
    if photometric != "MONOCHROME2":
        raise ValueError(f"not a greyscale image: Photometric Interpretation {photometric!r}")
    return values


def field_mask(image: np.ndarray, *, tolerance: float = 6.0, share: float = 0.9,
               margin: int = 3) -> np.ndarray:
    """True inside the collimated field of a radiograph, False on the border around it.

    Outside the collimator's blades the plate is unexposed and uniform. The
    border level is the median of the outermost ring of pixels, its noise their
    median absolute deviation; a row (column) is border when at least ``share``
    of its pixels lie within ``tolerance`` noise units of that level. The field
    is what is left, a rectangle as collimators make, shrunk by ``margin``
    pixels on each side to drop the blurred edge of the blades.
    """
    img = np.asarray(image, dtype=np.float64)
    ring = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
    level = np.median(ring)
    noise = 1.4826 * np.median(np.abs(ring - level)) + 1e-6
    near = np.abs(img - level) <= tolerance * noise
    rows = near.mean(axis=1) < share
    cols = near.mean(axis=0) < share
    if not rows.any() or not cols.any():  # all border: no field found, keep everything
        return np.ones(img.shape, bool)
    r = np.flatnonzero(rows)
    c = np.flatnonzero(cols)
    mask = np.zeros(img.shape, bool)
    if rows.all() and cols.all():  # no border at all: the whole image is the field
        mask[:] = True
        return mask
    top, bottom = r[0] + margin, r[-1] + 1 - margin
    left, right = c[0] + margin, c[-1] + 1 - margin
    if bottom <= top or right <= left:
        return rows[:, None] & cols[None, :]
    mask[top:bottom, left:right] = True
    return mask


def zscore(image: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """``(image - mean) / std`` with mean and std taken inside ``mask``; 0 outside it."""
    img = np.asarray(image, dtype=np.float64)
    mask = np.ones(img.shape, bool) if mask is None else mask
    inside = img[mask]
    out = (img - inside.mean()) / (inside.std() or 1.0)
    out[~mask] = 0.0
    return out


def image_stats(paths: Iterable[str | os.PathLike[str]]) -> pd.DataFrame:
    """Per-image statistics of greyscale images, inside their collimated field.

    For each file: ``photometric``, ``stored_mean`` (raw stored values, as a
    careless loader would see them), and after :func:`as_monochrome2`,
    ``mean``, ``std``, ``p01`` and ``p99`` (1st and 99th percentiles) inside
    :func:`field_mask`, and ``field_share`` (fraction of the image inside the
    field). Pixels are read with :func:`helpers.dicom.dicomio.pixels` (clear errors).
    """
    from ..dicom.dicomio import pixels, read

    rows = []
    for path in paths:
        ds = read(path)
        stored = pixels(ds, path)
        img = as_monochrome2(stored, str(ds.PhotometricInterpretation), int(ds.BitsStored))
        mask = field_mask(img)
        inside = img[mask]
        p01, p99 = np.percentile(inside, [1, 99])
        rows.append({
            "path": str(path), "photometric": str(ds.PhotometricInterpretation),
            "stored_mean": float(stored.mean()), "mean": float(inside.mean()),
            "std": float(inside.std()), "p01": float(p01), "p99": float(p99),
            "field_share": float(mask.mean()),
        })
    return pd.DataFrame(rows)


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
