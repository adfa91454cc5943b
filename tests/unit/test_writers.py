"""The one writer rule of the file layer (save_copy, and the table writers of
helpers.tables.write): an existing file is never replaced unless overwrite=True, and the
source of a dataset never (tests/reliability/test_nothing_lost.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pydicom
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from broken_inputs import good_dataset  # noqa: E402

from helpers.dicom import dicomio  # noqa: E402
from helpers.dicom.errors import OverwriteError  # noqa: E402
from helpers.tables.write import write_csv  # noqa: E402

REFUSAL = "already exists; choose a new name or pass overwrite=True"


def test_save_copy_refuses_an_existing_file_even_with_the_same_bytes(tmp_path):
    target = tmp_path / "copy.dcm"
    ds = good_dataset()
    dicomio.save_copy(ds, target)
    first = target.read_bytes()
    with pytest.raises(OverwriteError, match=f"copy.dcm: {REFUSAL}"):
        dicomio.save_copy(ds, target)
    ds.PatientName = "Other^Name"
    dicomio.save_copy(ds, target, overwrite=True)
    assert target.read_bytes() != first
    assert pydicom.dcmread(target).PatientName == "Other^Name"


def test_write_csv_follows_the_same_rule(tmp_path):
    path = tmp_path / "t.csv"
    write_csv(pd.DataFrame({"a": [1]}), path)
    for table in (pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [2]})):
        with pytest.raises(OverwriteError, match=f"t.csv: {REFUSAL}"):
            write_csv(table, path)
    assert pd.read_csv(path)["a"].tolist() == [1]
    write_csv(pd.DataFrame({"a": [2]}), path, overwrite=True)
    assert pd.read_csv(path)["a"].tolist() == [2]


def test_a_dataset_pydicom_cannot_write_leaves_no_file(tmp_path):
    ds = good_dataset()
    ds.add_new(0x00000002, "UI", "1.2.3")  # a command group element (PS3.10 7.1)
    target = tmp_path / "bad.dcm"
    with pytest.raises(Exception, match="bad.dcm: cannot be written"):
        dicomio.save_copy(ds, target)
    assert not target.exists()
