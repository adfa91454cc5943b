"""helpers.tables.cohort: what the cleaning finds is what the cohort's plan says was injected.

The plan (helpers.data.cxr_plan.plan) records the truth about every defect the
generator put into the headers and the labels CSV; the cleaning only sees the
files. One-hot encoding is compared with pandas' own str.get_dummies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import data
from helpers.data.cxr_plan import FINDINGS as PLAN_FINDINGS
from helpers.data.cxr_plan import plan
from helpers.tables import cohort
from helpers.tables.crawl import scan


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    return plan().set_index("image_index")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return scan(data.cohort_images(), progress=False)[0]


@pytest.fixture(scope="module")
def cleaned(table: pd.DataFrame) -> pd.DataFrame:
    out = cohort.clean(table)
    out.index = out["path"].str.rsplit("/", n=1).str[-1]
    return out


@pytest.fixture(scope="module")
def labels() -> pd.DataFrame:
    return cohort.read_labels(data.cohort_labels())


def test_flags_match_the_injected_defects(cleaned: pd.DataFrame, truth: pd.DataFrame) -> None:
    defect = truth["defect"].reindex(cleaned.index)
    expected = {
        "age_missing": defect.isin(["age_missing", "age_empty"]),
        "age_impossible": defect == "age_impossible",
        "body_part_wrong": defect.str.startswith("body_part_"),
        "modality_wrong": defect == "modality_ot",
        "lateral": truth["true_view"].reindex(cleaned.index).isin(["LL", "RL"]),
        "monochrome1": defect == "monochrome1",
    }
    for flag, want in expected.items():
        assert want.any(), flag
        got = cleaned[flag]
        assert (got == want).all(), f"{flag}: {sorted(got.index[got != want])}"
    assert set(cohort.FLAGS) == set(expected)
    other_region = defect.isin(["body_part_abdomen", "body_part_cspine"])
    assert (cleaned["keep"] == ~(other_region | expected["lateral"])).all()


def test_parsed_values_match_the_truth(cleaned: pd.DataFrame, truth: pd.DataFrame) -> None:
    t = truth.reindex(cleaned.index)
    ok = ~(cleaned["age_missing"] | cleaned["age_impossible"])
    # AS ages are whole units, the truth is exact: within one unit (a year, or a month for
    # the paediatric ages written in months)
    assert (cleaned.loc[ok, "age_years"] - t.loc[ok, "true_age_years"]).abs().max() <= 1.0
    assert np.allclose(cleaned["age_from_dates"], t["true_age_years"], atol=0.01)
    assert np.allclose(cohort.best_age(cleaned), t["true_age_years"], atol=1.0)
    assert np.allclose(cleaned["spacing_mm"], t["spacing"])


def test_labels_file(labels: pd.DataFrame, table: pd.DataFrame) -> None:
    assert list(labels.columns) == [
        "Image Index", "Finding Labels", "Follow-up #", "Patient ID", "Patient Age",
        "Patient Gender", "View Position", "Width", "Height", "Spacing x", "Spacing y"]
    assert cohort.unmatched(table, labels) == {"no label": [], "no image": []}
    assert cohort.unmatched(table.iloc[1:], labels)["no image"] == \
        [table["path"].iloc[0].rsplit("/", 1)[-1]]


def test_disagreements_match_the_truth(table: pd.DataFrame, labels: pd.DataFrame,
                                       truth: pd.DataFrame) -> None:
    joined = cohort.join_labels(table, labels)
    assert len(joined) == len(table) == len(labels)
    found = cohort.disagreements(joined)
    defect = truth["defect"]
    expected = {
        "sex": set(defect.index[defect == "csv_sex"]),
        "age": set(defect.index[defect == "csv_age"]),
        "view": set(defect.index[defect.isin(["csv_view", "lateral"])]),
    }
    for field, names in expected.items():
        assert set(found.loc[found["field"] == field, "Image Index"]) == names, field


def test_one_hot_has_a_one_exactly_for_each_label(labels: pd.DataFrame) -> None:
    """Per row, the columns holding 1 are the row's labels split at ``|`` (plain Python,
    not pandas' get_dummies, which one_hot uses), No Finding none; every finding is a
    column in FINDINGS' order; a typo or an empty label is refused naming its row."""
    ours = cohort.one_hot(labels["Finding Labels"])
    assert list(ours.columns) == cohort.FINDINGS
    assert set(cohort.FINDINGS) == set(PLAN_FINDINGS)
    for i, text in labels["Finding Labels"].items():
        expected = set(text.split("|")) - {cohort.NO_FINDING}
        assert set(ours.columns[ours.loc[i] == 1]) == expected, text
    assert set(ours.to_numpy().ravel()) <= {0, 1}
    with pytest.raises(ValueError, match="row 0: unknown finding 'Efusion'"):
        cohort.one_hot(pd.Series(["Efusion|Mass"]))
    with pytest.raises(ValueError, match="row 1: unknown finding ''"):
        cohort.one_hot(pd.Series(["Mass", "Mass||Effusion"]))


def _random_cohort(rng: np.random.Generator, patients: int) -> pd.DataFrame:
    per = rng.integers(1, 6, patients)
    pid = np.repeat([f"P{i:03d}" for i in range(patients)], per)
    rates = np.linspace(0.02, 0.3, len(cohort.FINDINGS))
    onehot = (rng.random((len(pid), len(rates))) < rates).astype(int)
    return pd.DataFrame(onehot, columns=cohort.FINDINGS).assign(PatientID=pid)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(5, 80), st.floats(0.1, 0.5))
def test_split_never_leaks_a_patient(seed: int, patients: int, fraction: float) -> None:
    df = _random_cohort(np.random.default_rng(seed), patients)
    split = cohort.patient_split(df, validation=fraction, seed=seed)
    assert split.isin(["train", "validation"]).all() and split.index.equals(df.index)
    sides = df.assign(split=split).groupby("PatientID")["split"].nunique()
    assert (sides == 1).all()
    assert cohort.patient_split(df, validation=fraction, seed=seed).equals(split)


def test_split_is_stratified_better_than_chance() -> None:
    """Mean prevalence gap between the sides vs random patient-level splits."""
    rng = np.random.default_rng(7)
    df = _random_cohort(rng, 150)

    def gap(split: pd.Series) -> float:
        table = cohort.prevalence_by_split(df, split)
        return float((table["validation"] - table["all"]).abs().mean())

    ours = gap(cohort.patient_split(df, seed=1))
    patients = df["PatientID"].unique()
    random_gaps = []
    for _ in range(30):
        val = set(rng.choice(patients, round(0.2 * len(patients)), replace=False))
        random_gaps.append(gap(df["PatientID"].map(
            lambda p, v=val: "validation" if p in v else "train")))
    assert ours < np.percentile(random_gaps, 10)
    share = (cohort.patient_split(df, seed=1) == "validation").mean()
    assert 0.15 < share < 0.25


def test_split_on_the_cohort(table: pd.DataFrame, labels: pd.DataFrame) -> None:
    joined = cohort.join_labels(table, labels)
    df = pd.concat([joined, cohort.one_hot(joined["Finding Labels"])], axis=1)
    split = cohort.patient_split(df, seed=0)
    assert df.assign(split=split).groupby("PatientID")["split"].nunique().max() == 1
    # the labels file's Patient ID and the header's are the same grouping
    assert df.groupby("Patient ID")["PatientID"].nunique().max() == 1
    assert df.groupby("PatientID")["Patient ID"].nunique().max() == 1
