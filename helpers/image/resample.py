"""Resample a :class:`~helpers.image.volume.Volume` to a new voxel spacing.

Models want every case on one voxel size (often isotropic), so a CT of 0.7 x 0.7 x
3 mm voxels is resampled before training. The new grid keeps the volume's origin
(the centre of voxel (0, 0, 0)) and direction; its size along each axis is
``round(size * spacing / new_spacing)``, so it covers the same extent. Output voxel
``i`` lies at ``i * new_spacing`` mm from the origin along its axis, which is the
*continuous index* ``c = i * new_spacing / spacing`` of the input.

The rules are those of ITK's ``ResampleImageFilter`` (what SimpleITK runs), so that
the result equals SimpleITK's on the same grid and interpolator:

- a point is inside the input when ``-0.5 <= c <= size - 0.5`` along every axis
  (ITK's ``IsInsideBuffer``: within half a voxel of the outermost centres); outside,
  the output is ``default`` (ITK's default pixel value, 0);
- **linear**: between the two neighbouring voxels, weights ``1 - f`` and ``f``
  (``f = c - floor(c)``), a neighbour beyond the last voxel replaced by the last
  (ITK's ``LinearInterpolateImageFunction``); trilinear interpolation is that rule
  along each axis in turn (it is separable);
- **nearest** (for label masks, which must stay whole numbers): the voxel
  ``floor(c + 0.5)`` (ITK rounds halves up, ``Math::RoundHalfIntegerUp``), clamped
  to the image.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .volume import Volume

__all__ = ["resample", "resampled_grid"]


def resampled_grid(volume: Volume, spacing: float | tuple[float, float, float]
                   ) -> tuple[tuple[int, int, int], np.ndarray]:
    """The new array shape ``(slices, rows, columns)`` and affine for ``spacing``
    (mm, one number for isotropic voxels, else (column, row, slice) as
    :attr:`Volume.spacing`)."""
    new = np.broadcast_to(np.asarray(spacing, dtype=float), (3,))
    old = np.asarray(volume.spacing)
    size_xyz = np.asarray(volume.shape[::-1], dtype=float)
    new_size = np.maximum(np.rint(size_xyz * old / new).astype(int), 1)
    affine = volume.affine.copy()
    affine[:3, :3] = volume.direction * new
    return (int(new_size[2]), int(new_size[1]), int(new_size[0])), affine


def _along(array: np.ndarray, axis: int, positions: np.ndarray, linear: bool,
           default: float) -> np.ndarray:
    """Interpolate ``array`` along ``axis`` at continuous indices ``positions``."""
    n = array.shape[axis]
    outside = (positions < -0.5) | (positions > n - 0.5)
    shape = [1] * array.ndim
    shape[axis] = len(positions)
    if linear:
        lower = np.floor(positions)
        frac = (positions - lower).reshape(shape)
        i0 = np.clip(lower.astype(int), 0, n - 1)
        i1 = np.clip(lower.astype(int) + 1, 0, n - 1)
        out = (np.take(array, i0, axis=axis) * (1.0 - frac)
               + np.take(array, i1, axis=axis) * frac)
    else:
        out = np.take(array, np.clip(np.floor(positions + 0.5).astype(int), 0, n - 1),
                      axis=axis)
    if outside.any():
        out = out.copy()
        index = [slice(None)] * array.ndim
        index[axis] = outside
        out[tuple(index)] = default
    return out


def resample(volume: Volume, spacing: float | tuple[float, float, float] = 1.0, *,
             interpolation: str = "linear", default: float = 0.0) -> Volume:
    """``volume`` on a grid of ``spacing`` mm (isotropic by default, 1 mm).

    ``interpolation``: ``"linear"`` (intensities; the result is float64) or
    ``"nearest"`` (label masks; the dtype is kept). The affine keeps the origin and
    direction and takes the new spacing; ``paths`` is emptied (the voxels are no
    longer those of the files). See the module's doc for the rules (ITK's).
    """
    if interpolation not in ("linear", "nearest"):
        raise ValueError(f"interpolation must be 'linear' or 'nearest', not {interpolation!r}")
    linear = interpolation == "linear"
    shape, affine = resampled_grid(volume, spacing)
    ratio = np.linalg.norm(affine[:3, :3], axis=0) / np.asarray(volume.spacing)  # new / old
    data = volume.array.astype(np.float64) if linear else volume.array
    # array axes (slice, row, column) are the (z, y, x) of the spacing (x, y, z)
    for axis, along in ((2, 0), (1, 1), (0, 2)):
        positions = np.arange(shape[axis], dtype=float) * ratio[along]
        data = _along(data, axis, positions, linear, default)
    return replace(volume, array=np.ascontiguousarray(data), affine=affine, paths=[])
