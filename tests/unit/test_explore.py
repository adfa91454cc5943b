"""helpers.tables.explore: co-occurrence, IDC cleaning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.tables import explore


def test_cooccurrence_matches_pandas() -> None:
    rng = np.random.default_rng(1)
    onehot = pd.DataFrame(rng.integers(0, 2, (40, 4)), columns=list("ABCD"))
    co = explore.cooccurrence(onehot)
    for a in onehot:
        for b in onehot:
            both = pd.crosstab(onehot[a], onehot[b]).reindex(index=[0, 1], columns=[0, 1],
                                                             fill_value=0)
            assert co.loc[a, b] == both.loc[1, 1]


@pytest.mark.parametrize(("text", "family"), [
    ("SIEMENS", "Siemens"), ("Siemens Healthineers", "Siemens"), ("GE MEDICAL SYSTEMS", "GE"),
    ('"GE Healthcare"', "GE"), ("GE", "GE"), ("Philips Medical Systems", "Philips"),
    ("TOSHIBA", "Canon/Toshiba"), ("CARESTREAM HEALTH", "Carestream/Kodak"),
    ("QIICR", "other"), ("GEMINI Labs", "other"), (None, "missing"), (np.nan, "missing"),
    ("  ", "missing"),
])
def test_vendor(text: object, family: str) -> None:
    assert explore.vendor(text) == family


def test_clean_sex() -> None:
    raw = pd.Series(["M", "F", " f", "O", "U", "0000", None, "6657"], name="PatientSex")
    out = explore.clean_sex(raw)
    assert out.tolist()[:4] == ["M", "F", "F", "O"] and out.iloc[4:].isna().all()
    assert out.name == "PatientSex"


def test_load_idc_index_reads_only_the_columns_asked() -> None:
    idc = explore.load_idc_index(["Modality", "PatientAge"])
    assert list(idc.columns) == ["Modality", "PatientAge"]
    assert len(idc) > 100_000
