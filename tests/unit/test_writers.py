"""The one writer rule (save_copy, and the table writer write_csv): the same bytes
again are allowed and change nothing; other bytes are refused unless overwrite=True;
the source of a dataset is never replaced (tests/reliability/test_nothing_lost.py)."""

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


def test_save_copy_again_with_the_same_dataset_changes_nothing(tmp_path):
    target = tmp_path / "copy.dcm"
    ds = good_dataset()
    dicomio.save_copy(ds, target)
    first, when = target.read_bytes(), target.stat().st_mtime_ns
    dicomio.save_copy(ds, target)  # a re-run: allowed
    assert target.read_bytes() == first and target.stat().st_mtime_ns == when
    ds.PatientName = "Other^Name"
    with pytest.raises(OverwriteError, match="copy.dcm: already exists with other content"):
        dicomio.save_copy(ds, target)
    assert target.read_bytes() == first
    dicomio.save_copy(ds, target, overwrite=True)
    assert pydicom.dcmread(target).PatientName == "Other^Name"


def test_write_csv_follows_the_same_rule(tmp_path):
    path = tmp_path / "t.csv"
    write_csv(pd.DataFrame({"a": [1]}), path)
    write_csv(pd.DataFrame({"a": [1]}), path)
    with pytest.raises(OverwriteError, match="t.csv: already exists with other content"):
        write_csv(pd.DataFrame({"a": [2]}), path)
    write_csv(pd.DataFrame({"a": [2]}), path, overwrite=True)
    assert pd.read_csv(path)["a"].tolist() == [2]
