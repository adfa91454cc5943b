"""helpers.tables.hierarchy over a crawled header table, against the DICOMDIR.

Reference nobody here wrote: the DICOMDIR of pydicom's test tree, read with
pydicom's own ``FileSet`` (PS3.10 section 8, PS3.3 F.3), which holds the
patient > study > series > instance hierarchy in its directory records.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from pydicom import dcmread
from pydicom.fileset import FileSet

from helpers import data
from helpers.tables.crawl import scan
from helpers.tables.hierarchy import hierarchy


@pytest.fixture(scope="module")
def tree_table() -> pd.DataFrame:
    table, _ = scan(data.dicomdir().parent, progress=False)
    return table


def _reference() -> set[tuple[str, str, str, str]]:
    """(patient, study, series, instance) of every instance the DICOMDIR lists."""
    fileset = FileSet(dcmread(data.dicomdir()))
    out = set()
    for instance in fileset:
        ds = instance.load()
        out.add((str(ds.PatientID), str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID),
                 str(ds.SOPInstanceUID)))
    return out


def test_placed_instances_match_the_dicomdir(tree_table: pd.DataFrame) -> None:
    placed = hierarchy(tree_table)
    inst = placed.instances
    got = set(zip(inst["PatientID"], inst["StudyInstanceUID"], inst["SeriesInstanceUID"],
                  inst["SOPInstanceUID"], strict=True))
    listed = _reference()
    # the folder also holds the TINY_ALPHA tree, which the top DICOMDIR does not list
    assert listed <= got
    listed_series = {(p, st, se) for p, st, se, _ in listed}
    series = placed.series.set_index(["PatientID", "StudyInstanceUID", "SeriesInstanceUID"])
    for key in listed_series:
        n = sum(1 for r in listed if r[:3] == key)
        assert series.loc[key, "instances"] == n, key
    counts = placed.counts
    assert counts["instances"] == len(inst) == len(got)
    assert counts["series"] == len(placed.series)
    assert counts["studies"] == inst["StudyInstanceUID"].nunique() >= len(
        {r[1] for r in listed})


def test_rows_that_cannot_be_placed_are_rejected_with_a_kind(tmp_path: Path) -> None:
    shutil.copyfile(data.real("CT_small.dcm"), tmp_path / "a.dcm")
    shutil.copyfile(data.real("CT_small.dcm"), tmp_path / "b_copy.dcm")
    shutil.copyfile(data.real("MR_small.dcm"), tmp_path / "c.dcm")
    table, errors = scan(tmp_path, progress=False)
    assert errors.empty
    table.loc[table["path"] == "c.dcm", "SeriesInstanceUID"] = None
    placed = hierarchy(table)
    assert list(placed.instances["path"]) == ["a.dcm"]
    rejected = placed.rejected.set_index("path")
    assert rejected.loc["b_copy.dcm", "kind"] == "DuplicateInstanceError"
    assert "a.dcm" in rejected.loc["b_copy.dcm", "error"]
    assert rejected.loc["c.dcm", "kind"] == "MissingTagError"
    assert "SeriesInstanceUID" in rejected.loc["c.dcm", "error"]
    assert len(placed.instances) + len(placed.rejected) == len(table)


def test_instances_sorted_by_series_then_instance_number(tree_table: pd.DataFrame) -> None:
    inst = hierarchy(tree_table).instances
    for _, series in inst.groupby("SeriesInstanceUID", sort=False):
        numbers = pd.to_numeric(series["InstanceNumber"], errors="coerce").dropna().tolist()
        assert numbers == sorted(numbers)
