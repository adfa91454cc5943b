"""Intensity statistics of greyscale radiographs, as a model would see them (lesson 6),
and intensity scaling for a model's input (lesson 7).

- :func:`as_monochrome2` (PS3.3 C.7.6.3.1.2: in MONOCHROME1 the minimum value is
  white, so it is inverted to compare with MONOCHROME2 images);
- :func:`field_mask`: the collimated field of a radiograph, without the unexposed
  border around it;
- :func:`zscore`, the usual normalisation before a model sees an image, and
  :func:`image_stats`, per-image statistics inside the field.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import pandas as pd


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


# ---- intensity as a model's input (lesson 7) ------------------------------------------------

def ct_clip_scale(hu: np.ndarray, center: float, width: float) -> np.ndarray:
    """CT numbers clipped to the window ``[center - width/2, center + width/2]`` and
    scaled to 0-1 (float64): the usual input of a CT model.

    Hounsfield units are absolute (PS3.3 C.8.2.1: Rescale Type HU), so one window
    (e.g. soft tissue 40/400, lung -600/1500) means the same on every scanner. This
    is the plain clip a training pipeline uses, not the display's linear VOI function
    of PS3.3 C.11.2.1.2.1, which shifts the window by half a grey level
    (``center - 0.5``, ``width - 1``).
    """
    if width <= 0:
        raise ValueError(f"window width must be positive, not {width}")
    low = center - width / 2.0
    return np.clip((np.asarray(hu, dtype=np.float64) - low) / width, 0.0, 1.0)


def mr_percentile_scale(values: np.ndarray, low: float = 1.0, high: float = 99.0,
                        mask: np.ndarray | None = None) -> np.ndarray:
    """MR values scaled so that the ``low`` and ``high`` percentiles (inside ``mask``,
    e.g. the body) map to 0 and 1, then clipped to 0-1.

    MR signal has no absolute unit (PS3.3 C.8.3.1 has no Rescale Type like CT's HU):
    the same tissue differs between scanners, coils and sequences, so each image is
    normalised by its own distribution; percentiles rather than min/max keep a few
    bright voxels (vessels, artefacts) from setting the scale.
    """
    v = np.asarray(values, dtype=np.float64)
    inside = v if mask is None else v[mask]
    p_low, p_high = np.percentile(inside, [low, high])
    if p_high <= p_low:
        return np.zeros_like(v)
    return np.clip((v - p_low) / (p_high - p_low), 0.0, 1.0)


def xray_unit_scale(stored: np.ndarray, photometric: str, bits_stored: int) -> np.ndarray:
    """A radiograph's stored values as 0-1 with bright meaning dense: MONOCHROME1
    inverted first (:func:`as_monochrome2`), then divided by ``2**BitsStored - 1``
    (PS3.3 C.7.6.3.1: the stored range). Inverting after scaling would be the same
    only when the stored range is the full range, so the order is fixed here."""
    return as_monochrome2(stored, photometric, bits_stored) / (2**bits_stored - 1)
