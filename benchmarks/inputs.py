"""Benchmark inputs, built in a temporary folder from the workbook's data (read only).

- :func:`build_archive`: a folder of N files made of hard links (copies where links
  are impossible) to the real files in ``data/real`` (small and large, a dozen
  transfer syntaxes, plus a DICOMDIR tree, a file without preamble and a truncated
  file), the synthetic chest X-ray cohort and the synthetic CT study, as far as
  those exist.
- :func:`write_series`: a CT series of 512x512 slices (PS3.3 A.3, CT Image IOD)
  made from ``CT_small.dcm``: its pixels enlarged 4x, one slice per Image Position
  (Patient) step along z (PS3.3 C.7.6.2), file names shuffled so that order must
  come from the geometry.
- :func:`viewer_slice`: the 512x512 slice in Hounsfield units (``int16``, as
  ``helpers.image.volume.load_series`` returns it) that lesson 4's viewer opens on, or
  :func:`hu_slice`, one made from ``CT_small.dcm``, when the CT study is absent.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from helpers.paths import DATA_DIR


@dataclass(frozen=True)
class Archive:
    root: Path
    files: int
    bytes: int
    groups: dict[str, int]  # files per source group


def _sources() -> dict[str, tuple[Path, list[Path]]]:
    """Source groups that exist: name -> (base folder, files under it, sorted)."""
    groups = {"real": DATA_DIR / "real", "cxr_cohort": DATA_DIR / "cxr_cohort" / "images",
              "ct_chest": DATA_DIR / "ct_chest"}
    found = {}
    for name, base in groups.items():
        if base.is_dir():
            files = sorted(p for p in base.rglob("*") if p.is_file())
            if files:
                found[name] = (base, files)
    if "real" not in found:
        raise SystemExit("data/real is missing: run `make data` first")
    return found


def build_archive(target: Path, n_files: int = 3000) -> Archive:
    """Fill ``target`` with ``n_files`` files, an equal share from each source group.

    Each group's files are taken in turn, again and again, into numbered copy
    folders (``real/000/CT_small.dcm``, ``real/001/CT_small.dcm`` ...).
    """
    sources = _sources()
    share = [n_files // len(sources) + (1 if i < n_files % len(sources) else 0)
             for i in range(len(sources))]
    total, counts = 0, {}
    for (name, (base, files)), quota in zip(sources.items(), share, strict=True):
        for i in range(quota):
            src = files[i % len(files)]
            dest = target / name / f"{i // len(files):03d}" / src.relative_to(base)
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src, dest)
            except OSError:
                shutil.copyfile(src, dest)
            total += src.stat().st_size
        counts[name] = quota
    return Archive(target, n_files, total, counts)


def _ct_small():
    import pydicom

    return pydicom.dcmread(DATA_DIR / "real" / "CT_small.dcm")


#: Standard deviation (stored values = HU) of the noise added to the enlarged pixels,
#: about that of a chest CT, so that PNG and JPEG-free encodes see realistic content.
NOISE_HU = 15.0


def _enlarged(stored: np.ndarray, k: int) -> np.ndarray:
    """Slice ``k``: CT_small's 128x128 pixels enlarged 4x, shifted a little per slice,
    plus seeded Gaussian noise (``int16``)."""
    big = np.repeat(np.repeat(stored.astype(np.int32), 4, axis=0), 4, axis=1)
    big = np.roll(big, (k % 16) - 8, axis=1)
    noise = np.random.default_rng(k).normal(0.0, NOISE_HU, big.shape)
    return np.clip(big + np.rint(noise), -32768, 32767).astype(np.int16)


def hu_slice(size: int = 512) -> np.ndarray:
    """One ``size`` x ``size`` slice in HU (``int16``), from CT_small's pixels."""
    ds = _ct_small()
    hu = _enlarged(ds.pixel_array, 0).astype(np.int32) * int(ds.RescaleSlope) \
        + int(ds.RescaleIntercept)
    return hu[:size, :size].astype(np.int16)


def viewer_slice() -> tuple[np.ndarray, str]:
    """The slice lesson 4's viewer opens on: the middle axial slice of the synthetic chest
    CT (``data/ct_chest/axial``), in HU; :func:`hu_slice` when that series is absent."""
    folder = DATA_DIR / "ct_chest" / "axial"
    if folder.is_dir() and any(folder.iterdir()):
        from helpers.image.volume import load_series

        volume = load_series(folder)
        k = volume.shape[0] // 2
        return volume.array[k], f"data/ct_chest/axial, middle slice ({k} of {volume.shape[0]})"
    return hu_slice(), "CT_small.dcm enlarged 4x with noise (data/ct_chest is absent)"


def write_series(folder: Path, n_slices: int = 200, spacing_mm: float = 1.25,
                 seed: int = 6) -> Path:
    """Write a CT series of ``n_slices`` 512x512 slices into ``folder``; return it."""
    from pydicom.uid import generate_uid

    ds = _ct_small()
    stored = ds.pixel_array
    ds.Rows = ds.Columns = 512
    ds.PixelSpacing = [f"{float(v) / 4:.6f}" for v in ds.PixelSpacing]
    ds.SeriesInstanceUID = generate_uid()
    x0, y0, z0 = (float(v) for v in ds.ImagePositionPatient)
    names = np.random.default_rng(seed).permutation(n_slices)
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(n_slices):
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.InstanceNumber = k + 1
        z = z0 + k * spacing_mm
        ds.ImagePositionPatient = [f"{x0:.6f}", f"{y0:.6f}", f"{z:.6f}"]
        ds.SliceLocation = f"{z:.6f}"
        ds.PixelData = _enlarged(stored, k).tobytes()
        ds.save_as(folder / f"IM{names[k]:05d}", enforce_file_format=True)
    return folder
