"""Patient > Study > Series > Instance, as a group-by over the header table.

The DICOM information model (PS3.3 section A.1.2) puts every instance in one
series, every series in one study and every study under one patient; the query
levels of PS3.4 section C.6.1.1 (Patient Root) name the unique key of each level:
Patient ID (0010,0020), Study Instance UID (0020,000D), Series Instance UID
(0020,000E), SOP Instance UID (0008,0018). :func:`hierarchy` places the rows of a
header table (:func:`helpers.tables.crawl.scan`) in it without opening a file, and
rejects, in a table with the crawl's columns (``path``, ``kind``, ``error``), the
rows it cannot place: a missing UID (:class:`~helpers.dicom.errors.MissingTagError`)
or a second row with a SOP Instance UID already seen
(:class:`~helpers.dicom.errors.DuplicateInstanceError`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..dicom.errors import ERROR_COLUMNS, DuplicateInstanceError, MissingTagError

#: The unique key of each level, top down (PS3.4 C.6.1.1).
LEVELS: tuple[tuple[str, str], ...] = (
    ("patient", "PatientID"),
    ("study", "StudyInstanceUID"),
    ("series", "SeriesInstanceUID"),
    ("instance", "SOPInstanceUID"),
)
#: Keys an instance cannot be placed without (a missing Patient ID is a patient "").
REQUIRED: tuple[str, ...] = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")
_SERIES_KEYS = ["PatientID", "StudyInstanceUID", "SeriesInstanceUID"]
#: Sort order of the levels (columns absent from a table are skipped).
_ORDER = ["PatientID", "StudyDate", "StudyInstanceUID", "SeriesNumber", "SeriesInstanceUID",
          "InstanceNumber"]


def _blank(column: pd.Series) -> pd.Series:
    return column.isna() | (column.astype("string").str.strip() == "")


def _as_number(column: pd.Series) -> pd.Series:
    """IS text (``"3"``, ``" 12"``) as numbers for sorting; anything else last."""
    return pd.to_numeric(column, errors="coerce")


def series_of(instances: pd.DataFrame) -> pd.DataFrame:
    """One row per series of placed ``instances``: patient, study and series columns
    (first value in the series) and ``instances``, the count, in hierarchy order."""
    per_instance = {"SOPInstanceUID", "InstanceNumber", "path"}
    others = [c for c in instances.columns if c not in per_instance and c not in _SERIES_KEYS]
    if instances.empty:
        return pd.DataFrame(columns=[*_SERIES_KEYS, *others, "instances"])
    table = (instances.groupby(_SERIES_KEYS, sort=False, dropna=False)
             .agg(**{c: (c, "first") for c in others},
                  instances=("SOPInstanceUID", "size"))
             .reset_index())
    return _sorted(table)


def _sorted(table: pd.DataFrame, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    keys = [c for c in _ORDER if c in table.columns] + [c for c in extra if c in table.columns]
    sort = pd.DataFrame({f"k{i}": _as_number(table[c]) if c.endswith("Number") else table[c]
                         for i, c in enumerate(keys)}, index=table.index)
    order = sort.sort_values(list(sort.columns), kind="stable", na_position="last").index
    return table.loc[order].reset_index(drop=True)


@dataclass(frozen=True)
class Hierarchy:
    """The placed instances of a header table, and the rows that could not be placed."""

    instances: pd.DataFrame  #: the placed rows, in hierarchy order
    rejected: pd.DataFrame   #: ``path``, ``kind``, ``error``: one row per row not placed

    @property
    def series(self) -> pd.DataFrame:
        """One row per series with its patient, study and ``instances`` count."""
        return series_of(self.instances)

    @property
    def counts(self) -> dict[str, int]:
        """How many patients, studies, series and instances were placed."""
        inst = self.instances
        return {"patients": int(inst["PatientID"].nunique(dropna=False)),
                "studies": int(inst["StudyInstanceUID"].nunique()),
                "series": int(inst["SeriesInstanceUID"].nunique()),
                "instances": len(inst)}


def hierarchy(table: pd.DataFrame, *, path_column: str = "path") -> Hierarchy:
    """Place each row of a header table in patient > study > series > instance.

    ``table`` needs the four key columns of :data:`LEVELS` (a
    :func:`helpers.tables.crawl.scan` table has them) and ``path_column``. A row without
    a Study, Series or SOP Instance UID is rejected
    (:class:`~helpers.dicom.errors.MissingTagError`), and so is a row whose SOP Instance
    UID an earlier row (by path) already has
    (:class:`~helpers.dicom.errors.DuplicateInstanceError`).
    """
    rows = table.sort_values(path_column, kind="stable")
    rejected: list[dict[str, str]] = []
    missing = pd.Series(False, index=rows.index)
    for key in REQUIRED:
        missing |= _blank(rows[key])
    for index in rows.index[missing]:
        absent = [k for k in REQUIRED if _blank(rows.loc[[index], k]).iloc[0]]
        rejected.append({"path": rows.at[index, path_column], "kind": MissingTagError.__name__,
                         "error": f"no {', '.join(absent)}: cannot be placed in "
                                  "patient/study/series"})
    rows = rows[~missing]
    uid = rows["SOPInstanceUID"].astype("string").str.strip()
    first = rows[path_column].groupby(uid).transform("first")
    duplicate = uid.duplicated(keep="first")
    for index in rows.index[duplicate]:
        rejected.append({"path": rows.at[index, path_column],
                         "kind": DuplicateInstanceError.__name__,
                         "error": f"same SOP Instance UID as {first[index]} (a duplicate copy)"})
    placed = _sorted(rows[~duplicate], extra=(path_column,))
    problems = pd.DataFrame(rejected, columns=list(ERROR_COLUMNS))
    if path_column != "path":
        problems = problems.rename(columns={"path": path_column})
    problems = problems.sort_values(path_column, kind="stable").reset_index(drop=True)
    return Hierarchy(placed, problems)
