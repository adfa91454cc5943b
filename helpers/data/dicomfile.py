"""Create and save Part 10 files for the generated data (PS3.10 section 7).

Every generated file gets the same file meta information (preamble, ``DICM``,
group 0002 with the workbook's Implementation Class UID) so that its bytes
depend only on its content, never on the pydicom version that wrote it.
"""

from __future__ import annotations

from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian

from .uids import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME


def new_dataset(
    sop_class_uid: str, sop_instance_uid: str, transfer_syntax: str = ExplicitVRLittleEndian
) -> Dataset:
    """Return an empty dataset with its file meta group filled in (PS3.10 7.1)."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class_uid)
    meta.MediaStorageSOPInstanceUID = UID(sop_instance_uid)
    meta.TransferSyntaxUID = UID(transfer_syntax)
    meta.ImplementationClassUID = UID(IMPLEMENTATION_CLASS_UID)
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    return ds


def save_new(ds: Dataset, path: Path) -> None:
    """Write ``ds`` as a Part 10 file at ``path``, which must not exist yet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as fh:  # "x": never overwrite
        ds.save_as(fh, enforce_file_format=True)
