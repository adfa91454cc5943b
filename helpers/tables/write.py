"""Write a table: CSV for one file, partitioned Parquet for a large header table.

Both follow the workbook's one writer rule (:func:`helpers.dicom.dicomio.write_bytes`):
an existing file, or a folder holding anything, is not replaced
(:class:`~helpers.dicom.errors.OverwriteError`) unless ``overwrite=True`` (a lesson that
re-runs overwrites its own earlier output explicitly). Neither writes a table's ``attrs``
(a crawl records the absolute path of the folder it crawled there).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..dicom.dicomio import write_bytes
from ..dicom.errors import OverwriteError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["write_csv", "write_parquet"]

PathLike = str | os.PathLike[str]


def write_csv(table: pd.DataFrame, path: PathLike, *, overwrite: bool = False) -> Path:
    """Write ``table`` as CSV (UTF-8, no index, ``\\n`` line ends) to the file ``path``."""
    text = table.to_csv(index=False, lineterminator="\n")
    return write_bytes(Path(path), text.encode("utf-8"), overwrite=overwrite)


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def write_parquet(table: pd.DataFrame, folder: PathLike, *,
                  partition_on: Sequence[str] = ("Modality",), overwrite: bool = False) -> Path:
    """Write ``table`` as a Parquet dataset into the folder ``folder``, one sub-folder per
    value of ``partition_on`` (hive style, ``Modality=CT/``), files named
    ``part-0.parquet``... so that the same table always gives the same files.

    An existing folder holding anything is refused unless ``overwrite=True``, which
    replaces it only when it holds nothing but Parquet files (a dataset this function
    wrote), never other content.
    Read it back with ``pandas.read_parquet(folder)``, or query it with DuckDB:
    ``read_parquet('folder/**/*.parquet', hive_partitioning=true)``.
    """
    out = Path(folder)
    if out.exists() and not out.is_dir():
        raise OverwriteError(out, "is a file, not a folder for a Parquet dataset")
    staging = out.with_name(f".{out.name}.writing")
    shutil.rmtree(staging, ignore_errors=True)  # a write of ours that was interrupted
    plain = table.copy(deep=False)  # the same columns, without the crawled folder's path:
    plain.attrs = {}                # pandas would store attrs (an absolute path) in the file
    if partition_on:
        plain.to_parquet(staging, engine="pyarrow", partition_cols=list(partition_on),
                         index=False, basename_template="part-{i}.parquet")
    else:
        staging.mkdir()
        plain.to_parquet(staging / "part-0.parquet", engine="pyarrow", index=False)
    if out.exists() and any(out.iterdir()):
        existing = _tree(out)
        problem = ""
        if not overwrite:
            problem = "already exists; choose a new folder or pass overwrite=True"
        elif any(not rel.endswith(".parquet") for rel in existing):
            problem = ("holds files that are not Parquet; overwrite=True replaces only a "
                       "Parquet dataset: choose a new folder")
        if problem:
            shutil.rmtree(staging)
            raise OverwriteError(out, problem)
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    return out
