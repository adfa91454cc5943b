"""The synthetic chest X-ray cohort, checked against references it did not write.

- dicom3tools' dciodvfy validates every generated file (no line with "Error"): in
  test_generated_data_valid, once over data/;
- the labels CSV is read by pandas and compared with the NIH ChestX-ray14 layout
  and the published label counts (Wang et al., CVPR 2017), typed in here from
  the paper, with exact binomial tolerances;
- headers are read back by pydicom and compared with the plan (the truth) and
  with ages computed here by dateutil;
- pixels are read by pydicom and their anatomy checked (lungs darker than the
  mediastinum in display, in either photometric interpretation);
- a generation of a sample (``only=``), in a fresh interpreter with another hash seed,
  writes the same bytes as data/.
"""

from __future__ import annotations

import hashlib
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest
from dateutil.relativedelta import relativedelta

from helpers import data
from helpers.data import cxr_plan, synth_cxr

# The NIH file's columns as pandas reads them (its header splits the bracketed names
# at their commas and ends with a comma).
NIH_COLUMNS = ["Image Index", "Finding Labels", "Follow-up #", "Patient ID", "Patient Age",
               "Patient Gender", "View Position", "OriginalImage[Width", "Height]",
               "OriginalImagePixelSpacing[x", "y]", "Unnamed: 11"]
# Wang et al. 2017 (ChestX-ray8/14): images per label out of 112,120.
PUBLISHED = {"No Finding": 60361, "Infiltration": 19894, "Effusion": 13317,
             "Atelectasis": 11559, "Nodule": 6331, "Mass": 5782, "Pneumothorax": 5302,
             "Consolidation": 4667, "Pleural_Thickening": 3385, "Cardiomegaly": 2776,
             "Emphysema": 2516, "Edema": 2303, "Fibrosis": 1686, "Pneumonia": 1431,
             "Hernia": 227}
PUBLISHED_N = 112120


@pytest.fixture(scope="module")
def plan() -> pd.DataFrame:
    return cxr_plan.plan()


@pytest.fixture(scope="module")
def cohort() -> Path:
    """data/cxr_cohort: what synth_cxr.generate writes, byte for byte (the build checks
    data/ against the manifest, test_data_portable that generate writes the manifest's
    bytes), so it is not generated again here."""
    return data.cohort_images().parent


@pytest.fixture(scope="module")
def headers(cohort, plan) -> dict[str, pydicom.Dataset]:
    return {name: pydicom.dcmread(cohort / "images" / name, stop_before_pixels=True)
            for name in plan["image_index"]}


@pytest.fixture(scope="module")
def labels(cohort) -> pd.DataFrame:
    return pd.read_csv(cohort / "Data_Entry_2017.csv")


def _sample(plan: pd.DataFrame) -> list[str]:
    """Image names covering every kind: each defect, paediatric, MONOCHROME1, lateral."""
    names = set(plan.groupby("defect")["image_index"].first())
    names |= set(plan[plan["paediatric"]]["image_index"][:3])
    names |= set(plan[plan["finding_labels"] == "No Finding"]["image_index"][:3])
    return sorted(names)


# --- the files ---------------------------------------------------------------------------

def test_size_and_naming(cohort, plan):
    files = sorted(p.name for p in (cohort / "images").iterdir())
    assert len(files) >= 300 and plan["patient_number"].nunique() >= 100
    assert files == sorted(plan["image_index"])
    for name in files:  # NIH naming: 8-digit patient, 3-digit follow-up
        patient, follow_up = name.removesuffix(".dcm").split("_")
        assert len(patient) == 8 and len(follow_up) == 3 and patient.isdigit()


def test_generation_is_deterministic(cohort, plan, tmp_path):
    """A fresh interpreter with another hash seed writes the same bytes."""
    names = _sample(plan)
    code = ("import sys; from pathlib import Path; from helpers.data import synth_cxr; "
            "synth_cxr.generate(Path(sys.argv[1]), only=set(sys.argv[2:]))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "again"), *names],
                   check=True, env=env)

    def digest(p: Path) -> str:
        return hashlib.sha256(p.read_bytes()).hexdigest()

    assert digest(tmp_path / "again" / "Data_Entry_2017.csv") == digest(
        cohort / "Data_Entry_2017.csv")
    for name in names:
        assert digest(tmp_path / "again" / "images" / name) == digest(
            cohort / "images" / name), name


# --- the labels CSV ----------------------------------------------------------------------

def test_csv_has_the_nih_layout(cohort, labels):
    assert list(labels.columns) == NIH_COLUMNS
    assert labels["Unnamed: 11"].isna().all()
    first = (cohort / "Data_Entry_2017.csv").read_text().splitlines()[0]
    assert first.endswith("OriginalImagePixelSpacing[x,y],")
    assert set(labels["Patient Gender"]) == {"M", "F"}
    assert set(labels["View Position"]) == {"PA", "AP"}
    assert labels["Patient Age"].dtype.kind == "i"
    assert labels["Follow-up #"].dtype.kind == "i" and labels["Patient ID"].dtype.kind == "i"


def _binomial_interval(n: int, p: float, alpha: float = 1e-3) -> tuple[int, int]:
    """Smallest and largest counts not in either tail of Binomial(n, p) below alpha / 2."""
    pmf = [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    cdf = np.cumsum(pmf)
    lo = int(np.searchsorted(cdf, alpha / 2))
    hi = int(np.searchsorted(cdf, 1 - alpha / 2))
    return lo, hi


@pytest.mark.parametrize("label", sorted(PUBLISHED))
def test_label_prevalence_matches_the_published_one(labels, label):
    n = len(labels)
    count = int(labels["Finding Labels"].str.split("|").apply(lambda ls: label in ls).sum())
    lo, hi = _binomial_interval(n, PUBLISHED[label] / PUBLISHED_N)
    assert lo <= count <= hi, f"{label}: {count} of {n}, expected {lo}..{hi}"


def test_no_finding_stands_alone_and_labels_are_known(labels):
    for value in labels["Finding Labels"]:
        parts = value.split("|")
        assert set(parts) <= set(PUBLISHED) and len(set(parts)) == len(parts)
        assert "No Finding" not in parts or parts == ["No Finding"]


def test_effusion_co_occurs_more_than_chance(labels):
    onehot = labels["Finding Labels"].str.get_dummies("|")
    for other in ("Atelectasis", "Infiltration"):
        assert onehot[other][onehot["Effusion"] == 1].mean() > onehot[other].mean()


def test_population(labels, plan):
    patients = labels.groupby("Patient ID").first()
    assert 0.50 <= (patients["Patient Gender"] == "M").mean() <= 0.62
    adults = plan[~plan["paediatric"]]
    assert 42 <= adults["true_age_years"].mean() <= 52
    first = labels[labels["Follow-up #"] == 0]
    later = labels[labels["Follow-up #"] > 0]
    assert (later["View Position"] == "AP").mean() > (first["View Position"] == "AP").mean()
    per_patient = labels.groupby("Patient ID").size()
    assert per_patient.max() >= 10 and (per_patient == 1).sum() >= 10


# --- headers against the plan and the CSV ------------------------------------------------

def test_phi_is_consistent_per_patient(headers, labels):
    table = pd.DataFrame([
        dict(image=name, name=str(ds.PatientName), mrn=ds.PatientID,
             birth=ds.PatientBirthDate, sex=ds.PatientSex, date=ds.StudyDate,
             study=ds.StudyInstanceUID)
        for name, ds in headers.items()
    ]).merge(labels, left_on="image", right_on="Image Index")
    for _, g in table.groupby("Patient ID"):
        assert g[["name", "mrn", "birth", "sex"]].nunique().max() == 1
        g = g.sort_values("Follow-up #")
        assert g["date"].is_monotonic_increasing and g["study"].is_unique
    assert table.groupby("mrn")["Patient ID"].nunique().max() == 1


def _age_string(birth: str, on: str) -> str:
    """An independent AS age (PS3.5 6.2) via dateutil: D < 4 weeks, W < 13 weeks, M < 2 y."""
    b, d = pd.Timestamp(birth).date(), pd.Timestamp(on).date()
    delta, days = relativedelta(d, b), (d - b).days
    if days < 28:
        return f"{days:03d}D"
    if days < 91:
        return f"{days // 7:03d}W"
    if delta.years < 2:
        return f"{delta.years * 12 + delta.months:03d}M"
    return f"{delta.years:03d}Y"


def test_header_ages_follow_birth_dates_except_the_defects(headers, plan):
    units = set()
    for row in plan.itertuples():
        ds = headers[row.image_index]
        age = ds.get("PatientAge", None)
        if row.defect == "age_missing":
            assert "PatientAge" not in ds
        elif row.defect == "age_empty":
            assert "PatientAge" in ds and not age
        elif row.defect == "age_impossible":
            assert age in {"150Y", "000Y", "412Y"}
        else:
            assert age == _age_string(ds.PatientBirthDate, ds.StudyDate), row.image_index
            units.add(age[-1])
    assert units == {"D", "W", "M", "Y"}


def test_header_and_csv_agree_except_the_defects(headers, plan, labels):
    csv = labels.set_index("Image Index")
    for row in plan.itertuples():
        ds, c = headers[row.image_index], csv.loc[row.image_index]
        assert (c["OriginalImage[Width"], c["Height]"]) == (ds.Columns, ds.Rows)
        assert (c["OriginalImagePixelSpacing[x"], c["y]"]) == (
            float(ds.ImagerPixelSpacing[1]), float(ds.ImagerPixelSpacing[0]))
        assert ds.PixelSpacing == ds.ImagerPixelSpacing
        sex_ok = c["Patient Gender"] == ds.PatientSex
        view_ok = c["View Position"] == ds.ViewPosition
        assert sex_ok == (row.defect != "csv_sex")
        assert view_ok == (row.defect not in ("csv_view", "lateral"))
        if row.defect == "lateral":
            assert ds.ViewPosition in ("LL", "RL") and c["View Position"] == "PA"
        if str(ds.get("PatientAge", "")).endswith("Y") and row.defect != "age_impossible":
            age_ok = c["Patient Age"] == int(ds.PatientAge[:3])
            assert age_ok == (row.defect != "csv_age"), row.image_index
        if row.paediatric:
            assert c["Patient Age"] < 8


def test_injected_defects_are_in_the_headers(headers, plan):
    counts = plan["defect"].value_counts()
    n = len(plan)
    for name, rate in cxr_plan.DEFECT_RATES.items():
        assert counts[name] == max(2, round(rate * n))
    seen = {
        "modality_ot": sum(ds.Modality == "OT" for ds in headers.values()),
        "monochrome1": sum(ds.PhotometricInterpretation == "MONOCHROME1"
                           for ds in headers.values()),
        "lateral": sum(ds.ViewPosition in ("LL", "RL") for ds in headers.values()),
        "body_part_abdomen": sum(ds.BodyPartExamined == "ABDOMEN" for ds in headers.values()),
        "body_part_thorax": sum(ds.BodyPartExamined == "THORAX" for ds in headers.values()),
        "body_part_cspine": sum(ds.BodyPartExamined == "CSPINE" for ds in headers.values()),
        "body_part_empty": sum(ds.BodyPartExamined == "" for ds in headers.values()),
        "age_missing": sum("PatientAge" not in ds for ds in headers.values()),
    }
    assert seen == {k: counts[k] for k in seen}
    assert sum(ds.Modality == "CR" for ds in headers.values()) == n - counts["modality_ot"]
    assert sum(ds.BodyPartExamined == "CHEST" for ds in headers.values()) == n - sum(
        counts[k] for k in counts.index if k.startswith("body_part_"))


# --- pixels ------------------------------------------------------------------------------

def _regions(a: np.ndarray) -> tuple[float, float, float]:
    """Mean stored value of the mid lungs, the heart/spine, and the lung bases."""
    h, w = a.shape
    lungs = np.r_[a[int(.35 * h):int(.5 * h), int(.25 * w):int(.32 * w)].ravel(),
                  a[int(.35 * h):int(.5 * h), int(.68 * w):int(.75 * w)].ravel()]
    middle = a[int(.55 * h):int(.7 * h), int(.47 * w):int(.53 * w)]
    bases = np.r_[a[int(.62 * h):int(.7 * h), int(.2 * w):int(.35 * w)].ravel(),
                  a[int(.62 * h):int(.7 * h), int(.65 * w):int(.8 * w)].ravel()]
    return float(lungs.mean()), float(middle.mean()), float(bases.mean())


def test_pixels_agree_with_the_plan(cohort, plan):
    """Lungs are dark in display: low stored values in MONOCHROME2, high in MONOCHROME1."""
    bases = {"Effusion": [], "No Finding": []}
    for row in plan.itertuples():
        ds = pydicom.dcmread(cohort / "images" / row.image_index)
        a = ds.pixel_array.astype(float)
        assert a.shape == (row.rows, row.columns) and a.max() < 4096
        lungs, middle, base = _regions(a)
        # the middle is heart and spine on a frontal view, mostly lung on a lateral one
        margin = 100 if ds.ViewPosition in ("LL", "RL") else 1000
        if ds.PhotometricInterpretation == "MONOCHROME1":
            assert lungs > middle + margin, row.image_index
        else:
            assert lungs < middle - margin, row.image_index
            if row.view_position in ("PA", "AP") and not row.paediatric:
                for key in bases:
                    if key in row.finding_labels.split("|"):
                        bases[key].append(base)
    # an effusion makes the lung bases opaque: brighter on average than normal bases
    assert np.mean(bases["Effusion"]) > np.mean(bases["No Finding"]) + 200


def test_monochrome1_is_the_inverse_of_monochrome2(plan):
    row = plan[plan["defect"] == "monochrome1"].iloc[0]
    m1 = synth_cxr.pixels(row).astype(int)
    m2 = synth_cxr.pixels(row.copy().replace({"MONOCHROME1": "MONOCHROME2"})).astype(int)
    assert np.array_equal(m1, 4095 - m2)
