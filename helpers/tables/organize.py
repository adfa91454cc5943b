"""Organise DICOM files into the information model: patient > study > series > instance.

The DICOM information model (PS3.3 section A.1.2, "DICOM Model of the Real
World"; PS3.4 C.6.1 for the query levels) puts every instance in one series,
every series in one study and every study under one patient. The headers say
where: Patient ID (0010,0020), Study Instance UID (0020,000D), Series Instance
UID (0020,000E), SOP Instance UID (0008,0018).

Two sources:

- :func:`organize_folder` crawls a folder (:func:`helpers.tables.crawl.scan`, headers
  only) and places its header table with
  :func:`helpers.tables.hierarchy.hierarchy`, reporting the files it cannot place
  (not DICOM, truncated, missing UIDs, a DICOMDIR, a duplicate instance) in an
  error table instead of stopping;
- :func:`organize_dicomdir` reads a DICOMDIR (PS3.10 section 8, the Basic
  Directory IOD of PS3.3 F.3), whose directory records already hold the
  hierarchy, without opening the instances, and reports records whose file is
  missing.

Both give an :class:`Organized`: one row per instance, a per-series table with
counts, and the errors, in the workbook's one error vocabulary: the columns
``path``, ``kind``, ``error`` of a crawl's error table
(:data:`helpers.dicom.errors.ERROR_COLUMNS`), ``kind`` the name of the
:class:`helpers.dicom.errors.WorkbookError` subclass. ``path`` names a file as every
error message does (:func:`helpers.paths.shown`: ``data/...`` inside the workbook,
else relative to the folder given). :func:`tree_text` draws the hierarchy with its UIDs.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..dicom.dicomio import read
from ..dicom.errors import ERROR_COLUMNS, NotDicomError, UnreadableFileError
from ..paths import shown
from .crawl import HIERARCHY_FIELDS, scan
from .hierarchy import hierarchy, series_of

PathLike = str | os.PathLike[str]

_ORDER = ["PatientID", "StudyDate", "StudyInstanceUID", "SeriesNumber", "SeriesInstanceUID",
          "InstanceNumber", "path"]


@dataclass(frozen=True)
class Organized:
    """Instances placed in the hierarchy, and the files that could not be."""

    instances: pd.DataFrame  #: one row per instance: ``path`` and :data:`HIERARCHY_FIELDS`
    #: :data:`~helpers.dicom.errors.ERROR_COLUMNS`, one row per file not placed
    errors: pd.DataFrame

    @property
    def series(self) -> pd.DataFrame:
        """One row per series with its patient, study and ``instances`` count."""
        cols = [c for c in HIERARCHY_FIELDS if c not in ("SOPInstanceUID", "InstanceNumber")]
        return series_of(self.instances)[[*cols, "instances"]]

    @property
    def counts(self) -> dict[str, int]:
        """How many patients, studies, series, instances, and files with errors."""
        inst = self.instances
        return {
            "patients": int(inst["PatientID"].nunique()),
            "studies": int(inst["StudyInstanceUID"].nunique()),
            "series": int(inst["SeriesInstanceUID"].nunique()),
            "instances": len(inst),
            "errors": len(self.errors),
        }


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _number(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _row(path: str, get) -> dict[str, object]:
    row: dict[str, object] = {"path": path}
    for field in HIERARCHY_FIELDS:
        value = get(field)
        row[field] = _number(value) if field.endswith("Number") else _text(value)
    return row


def _finish(rows: list[dict[str, object]], errors: list[dict[str, str]]) -> Organized:
    instances = pd.DataFrame(rows, columns=["path", *HIERARCHY_FIELDS])
    for col in ("SeriesNumber", "InstanceNumber"):
        instances[col] = instances[col].astype("Int64")
    instances = instances.sort_values(_ORDER, kind="stable").reset_index(drop=True)
    error_table = pd.DataFrame(errors, columns=list(ERROR_COLUMNS))
    error_table = error_table.sort_values("path", kind="stable").reset_index(drop=True)
    return Organized(instances, error_table)


def organize_folder(folder: PathLike) -> Organized:
    """Read every file under ``folder`` (headers only) into the hierarchy.

    Files are visited in sorted order. A file that cannot be read or placed
    becomes a row of ``errors`` saying why; the crawl goes on. A DICOMDIR is
    reported (it indexes instances, it is not one: use :func:`organize_dicomdir`),
    and so is a second file with an already seen SOP Instance UID.
    """
    root = Path(folder)
    if not root.is_dir():
        raise NotDicomError(root, "is not a folder")
    table, errors = scan(root, progress=False, fields=HIERARCHY_FIELDS)
    placed = hierarchy(table)
    failed = [{"path": shown(root / row["path"], root), "kind": row["kind"],
               "error": row["error"]}
              for table_of_errors in (errors, placed.rejected)
              for row in table_of_errors.to_dict("records")]
    rows = [_row(shown(root / row["path"], root), row.get)
            for row in placed.instances.to_dict("records")]
    return _finish(rows, failed)


def organize_dicomdir(path: PathLike) -> Organized:
    """Read the hierarchy from a DICOMDIR's directory records (PS3.3 F.3, F.5).

    Instances are not opened; a record whose file is missing is reported in
    ``errors`` (kind ``UnreadableFileError``). ``path`` is the referenced file
    (Referenced File ID).
    """
    from pydicom.fileset import FileSet

    p = Path(path)
    ds = read(p, stop_before_pixels=True)
    try:
        with warnings.catch_warnings():
            # pydicom warns about, and leaves out, records whose file is missing:
            # they are reported below instead
            warnings.simplefilter("ignore", UserWarning)
            fileset = FileSet(ds)
    except (ValueError, TypeError, AttributeError) as exc:
        raise NotDicomError(p, f"is not a usable DICOMDIR (Basic Directory IOD): {exc}") \
            from None
    rows: list[dict[str, object]] = []
    for instance in fileset:

        def get(keyword: str, instance=instance) -> object:
            if keyword == "SOPInstanceUID":
                return instance.SOPInstanceUID
            return instance[keyword].value if keyword in instance else None

        rows.append(_row(shown(instance.path, p.parent), get))
    failed: list[dict[str, str]] = []
    for record in ds.DirectoryRecordSequence:
        file_id = record.get("ReferencedFileID")
        if file_id is None:
            continue
        parts = [file_id] if isinstance(file_id, str) else list(file_id)
        referenced = p.parent.joinpath(*parts)
        if not referenced.is_file():
            failed.append({"path": shown(referenced, p.parent),
                           "kind": UnreadableFileError.__name__,
                           "error": "listed in the DICOMDIR but missing on disk"})
    return _finish(rows, failed)


def tree_text(org: Organized, *, instances_shown: int = 0, uid_tail: int = 0) -> str:
    """Draw patient > study > series (> instance) with UIDs and counts, as text.

    ``instances_shown`` SOP Instance UIDs are listed under each series (0: none).
    ``uid_tail`` > 0 shows only the last ``uid_tail`` characters of each UID, after
    "…" (UIDs of one study share their long root, PS3.5 9; their tails tell them apart).
    """

    def show(uid: str) -> str:
        return "…" + uid[-uid_tail:] if 0 < uid_tail < len(uid) else uid

    lines: list[str] = []
    inst = org.instances
    series = org.series
    for pid, pat in series.groupby("PatientID", sort=False):
        name = pat["PatientName"].iloc[0]
        n_studies = pat["StudyInstanceUID"].nunique()
        lines.append(f"Patient {pid or '(no ID)'} {name}  [{n_studies} "
                     f"stud{'y' if n_studies == 1 else 'ies'}]")
        studies = list(pat.groupby("StudyInstanceUID", sort=False))
        for si, (study_uid, study) in enumerate(studies):
            last_study = si == len(studies) - 1
            first = study.iloc[0]
            lines.append(f"{'└──' if last_study else '├──'} Study {show(study_uid)}  "
                         f"{first['StudyDate']} {first['StudyDescription']}".rstrip()
                         + f"  [{len(study)} series]")
            pad = "    " if last_study else "│   "
            for ri, (_, ser) in enumerate(study.iterrows()):
                last_series = ri == len(study) - 1
                number = "" if pd.isna(ser["SeriesNumber"]) else f"#{ser['SeriesNumber']} "
                count = int(ser["instances"])
                lines.append(f"{pad}{'└──' if last_series else '├──'} Series "
                             f"{show(ser['SeriesInstanceUID'])}  {number}{ser['Modality']} "
                             f"{ser['SeriesDescription']}".rstrip()
                             + f"  [{count} instance{'' if count == 1 else 's'}]")
                if instances_shown:
                    sub = pad + ("    " if last_series else "│   ")
                    uids = inst.loc[inst["SeriesInstanceUID"] == ser["SeriesInstanceUID"],
                                    "SOPInstanceUID"].tolist()
                    shown_uids = uids[:instances_shown]
                    for k, uid in enumerate(shown_uids):
                        more = len(uids) - len(shown_uids)
                        end = k == len(shown_uids) - 1 and not more
                        lines.append(f"{sub}{'└──' if end else '├──'} Instance {show(uid)}")
                    if len(uids) > len(shown_uids):
                        lines.append(f"{sub}└── ... and {len(uids) - len(shown_uids)} more")
    return "\n".join(lines)
