"""Export a :class:`~helpers.image.volume.Volume` (or a label mask on its grid) as NIfTI-1.

Most training code reads NIfTI, not DICOM. Two conventions meet here:

- DICOM places voxels in the patient's **LPS** system: +x towards the patient's
  Left, +y Posterior, +z Superior (PS3.3 C.7.6.2.1.1); :attr:`Volume.affine` maps
  (column, row, slice) to LPS millimetres.
- NIfTI-1's ``qform``/``sform`` map voxel (i, j, k) to **RAS**: +x Right, +y Anterior,
  +z Superior (``nifti1.h``).

The two share z and point x and y the opposite ways, so
``ras_affine = diag(-1, -1, 1, 1) @ lps_affine``. The voxels are not moved: voxel
(i, j, k) of the file is ``array[k, j, i]`` (column, row, slice), which is why the
array is transposed to (column, row, slice) order.

The independent reference is ``dcm2niix`` (Rorden's converter, Debian package):
on the same series its file has the same affine within 1e-3 mm and the same voxels
once both are brought to the closest canonical (RAS) orientation
(``nibabel.as_closest_canonical``); dcm2niix itself stores the rows flipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import nibabel as nib
import numpy as np

from ..dicom.errors import OverwriteError
from .volume import Volume

__all__ = ["LPS_TO_RAS", "ras_affine", "to_nifti", "save_nifti"]

#: Change of axes from DICOM's LPS to NIfTI's RAS (x and y reversed).
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def ras_affine(volume: Volume) -> np.ndarray:
    """The NIfTI (RAS) affine of ``volume``: :data:`LPS_TO_RAS` @ ``volume.affine``."""
    return LPS_TO_RAS @ volume.affine


def to_nifti(volume: Volume, array: np.ndarray | None = None) -> nib.Nifti1Image:
    """``volume`` (or ``array``, a mask of the same shape on its grid) as a NIfTI-1
    image: voxels in (column, row, slice) order, the RAS affine as both qform and
    sform (code 1, scanner anatomical), spacing in mm."""
    data = volume.array if array is None else np.asarray(array)
    if data.shape != volume.shape:
        raise ValueError(f"array of shape {data.shape} is not on the volume's grid "
                         f"{volume.shape}")
    if data.dtype == bool:
        data = data.astype(np.uint8)
    image = nib.Nifti1Image(np.ascontiguousarray(np.transpose(data, (2, 1, 0))),
                            ras_affine(volume))
    image.set_qform(ras_affine(volume), code=1)
    image.set_sform(ras_affine(volume), code=1)
    image.header.set_xyzt_units("mm")
    return image


def save_nifti(volume: Volume, path: str | os.PathLike[str], array: np.ndarray | None = None,
               *, overwrite: bool = False) -> Path:
    """Write :func:`to_nifti` to ``path`` (``.nii`` or ``.nii.gz``); refuses to replace a
    file unless ``overwrite``. Returns the path."""
    p = Path(path)
    if p.exists() and not overwrite:
        raise OverwriteError(p, "exists already; pass overwrite=True to replace it")
    p.parent.mkdir(parents=True, exist_ok=True)
    nib.save(to_nifti(volume, array), p)
    return p
