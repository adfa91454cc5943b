"""Exercise checks of lessons 5 and 6: placeholders, right answers, wrong answers.

Right answers are computed here from the raw sources (the labels CSV with the csv
module, the cohort folder with pydicom, the IDC Parquet file with pandas), not
with the functions the checks use.
"""

from __future__ import annotations

import csv
import itertools
from collections import Counter

import pandas as pd
import pydicom
import pytest

from helpers import data
from helpers.lessons.checks import lesson5, lesson6


def _labels_rows() -> list[dict[str, str]]:
    with open(data.cohort_labels(), newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("check", [
    lesson5.check_age_years, lesson5.check_excluded_patients, lesson5.check_hidden_phi,
    lesson6.check_prevalence,
    lesson6.check_top_pair, lesson6.check_chest_xray_series, lesson6.check_both_views,
])
def test_placeholder(check) -> None:
    for placeholder in (..., None):
        fb = check(placeholder)
        assert not fb and "no answer yet" in str(fb)


def test_placeholder_with_context() -> None:
    assert not lesson5.check_leaked_patients(..., pd.Series(["a"]), pd.Series(["train"]))
    assert not lesson5.check_date_shift(None, "any key")


def test_age_years() -> None:
    assert lesson5.AGE_VALUE == "036W"          # PS3.5 Table 6.2-1: W = weeks
    assert lesson5.check_age_years(36 * 7 / 365.25)
    assert lesson5.check_age_years(36 / 52)
    assert lesson5.check_age_years("0.69")
    fb = lesson5.check_age_years(36)
    assert not fb and "weeks, not years" in str(fb)
    assert "M is months" in lesson5.check_age_years(3).message
    assert "days" in lesson5.check_age_years(36 / 365.25).message
    assert not lesson5.check_age_years(0.75)
    assert not lesson5.check_age_years("thirty-six weeks")


def test_excluded_patients() -> None:
    """Lateral views and other body regions, counted with pydicom on the files."""
    images, patients = 0, set()
    kept_patients = set()
    for path in sorted(data.cohort_images().glob("*.dcm")):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        part = str(ds.get("BodyPartExamined", "") or "").upper()
        if ds.ViewPosition in ("LL", "RL") or part not in ("", "CHEST", "THORAX"):
            images += 1
            patients.add(str(ds.PatientID))
        else:
            kept_patients.add(str(ds.PatientID))
    assert len(patients) < images  # the question is worth asking: some patients lose two
    assert lesson5.check_excluded_patients(len(patients))
    assert not lesson5.check_excluded_patients(len(patients) + 1)
    fb = lesson5.check_excluded_patients(images)
    assert not fb and "counts images" in str(fb)
    fb = lesson5.check_excluded_patients(len(_labels_rows()) - images)
    assert not fb and "kept" in str(fb)
    fb = lesson5.check_excluded_patients(len(patients - kept_patients))
    assert not fb and "every image" in str(fb)
    assert not lesson5.check_excluded_patients(2.5)


def test_leaked_patients() -> None:
    patients = pd.Series(["a", "a", "b", "b", "c", "d", "d"])
    split = pd.Series(["train", "validation", "train", "train", "validation", "validation",
                       "train"])
    assert lesson5.check_leaked_patients(2, patients, split)      # a and d
    assert not lesson5.check_leaked_patients(3, patients, split)
    # images of a patient who has a validation image: a (2), c (1), d (2)
    assert "counts images" in lesson5.check_leaked_patients(5, patients, split).message
    assert not lesson5.check_leaked_patients("two", patients, split)


def _shift(name: str, key: str) -> int:
    """New minus original Study Date of one cohort file, de-identified with ``key``."""
    import datetime as dt

    from helpers.tables.deid import deidentify

    old = pydicom.dcmread(data.cohort_images() / name, stop_before_pixels=True)
    new = deidentify(old, key=key)
    day = [dt.datetime.strptime(str(d.StudyDate), "%Y%m%d").date() for d in (old, new)]
    return (day[1] - day[0]).days


def test_date_shift() -> None:
    key = "lesson-4-example-key"
    shift = _shift(lesson5.SHIFT_FILE, key)
    example = _shift(lesson5.EXAMPLE_FILE, key)
    assert shift != example and shift != 0
    assert lesson5.check_date_shift(shift, key)
    fb = lesson5.check_date_shift(-shift, key)
    assert not fb and "sign" in str(fb)
    assert "example patient" in lesson5.check_date_shift(example, key).message
    assert not lesson5.check_date_shift(shift + 1, key)
    assert not lesson5.check_date_shift(shift, "another key")


def test_hidden_phi() -> None:
    original = pydicom.dcmread(data.cohort_images() / lesson5.HIDDEN_PHI_FILE,
                               stop_before_pixels=True)
    suspect = lesson5.hidden_phi_header()
    # the file on disk is untouched, the named attributes were replaced
    assert str(original.PatientName) != "ANONYMOUS" and suspect.PatientID == "ANON"
    assert original.PatientName.family_name in suspect.ImageComments
    assert suspect[0x00191001].value == original.PatientID
    right = {"ImageComments", "OtherPatientIDsSequence", "(0019,1001)"}
    assert lesson5.check_hidden_phi(right)
    assert lesson5.check_hidden_phi({"ImageComments", "OtherPatientIDsSequence", 0x00191001})
    assert "private element" in lesson5.check_hidden_phi(right - {"(0019,1001)"}).message
    assert "inside sequences" in lesson5.check_hidden_phi(
        right - {"OtherPatientIDsSequence"}).message
    assert "free text" in lesson5.check_hidden_phi(right - {"ImageComments"}).message
    assert "already replaced" in lesson5.check_hidden_phi(right | {"PatientName"}).message
    assert "none of this patient" in lesson5.check_hidden_phi(right | {"Modality"}).message
    assert not lesson5.check_hidden_phi("ImageComments")


def test_prevalence() -> None:
    rows = _labels_rows()
    with_effusion = sum("Effusion" in r["Finding Labels"].split("|") for r in rows)
    assert lesson6.check_prevalence(with_effusion / len(rows))
    fb = lesson6.check_prevalence(100 * with_effusion / len(rows))
    assert not fb and "percentage" in str(fb)
    fb = lesson6.check_prevalence(with_effusion)
    assert not fb and "number of images" in str(fb)
    assert not lesson6.check_prevalence("0.13")


def _pairs(gender: str | None) -> Counter:
    pairs = Counter()
    for r in _labels_rows():
        if gender is None or r["Patient Gender"] == gender:
            found = sorted(set(r["Finding Labels"].split("|")) - {"No Finding"})
            pairs.update(itertools.combinations(found, 2))
    return pairs


def test_top_pair() -> None:
    pairs = _pairs(lesson6.TOP_PAIR_GENDER)
    (best, n), = pairs.most_common(1)
    assert sum(1 for c in pairs.values() if c == n) == 1, "a tie: the check accepts either"
    assert lesson6.check_top_pair(best)
    assert lesson6.check_top_pair(tuple(reversed(best)))
    (overall, _), = _pairs(None).most_common(1)
    assert set(overall) != set(best), "the exercise must differ from the printed pairs"
    assert "over all images" in lesson6.check_top_pair(overall).message
    worst = min(pairs, key=pairs.get)
    assert not lesson6.check_top_pair(worst)
    fb = lesson6.check_top_pair(("Mass", "Mass"))
    assert not fb and "different" in str(fb)
    assert not lesson6.check_top_pair("Mass|Nodule")


def test_chest_xray_series() -> None:
    import idc_index_data

    idc = pd.read_parquet(idc_index_data.IDC_INDEX_PARQUET_FILEPATH,
                          columns=["Modality", "BodyPartExamined"])
    truth = int((idc["Modality"].isin(["CR", "DX"]) & idc["BodyPartExamined"].eq("CHEST")).sum())
    assert truth > 0
    assert lesson6.check_chest_xray_series(truth)
    assert lesson6.check_chest_xray_series(float(truth))
    assert not lesson6.check_chest_xray_series(truth + 1)
    assert not lesson6.check_chest_xray_series(str(truth))
    only_cr = int((idc["Modality"].eq("CR") & idc["BodyPartExamined"].eq("CHEST")).sum())
    assert "only CR" in lesson6.check_chest_xray_series(only_cr).message
    only_dx = int((idc["Modality"].eq("DX") & idc["BodyPartExamined"].eq("CHEST")).sum())
    assert "only DX" in lesson6.check_chest_xray_series(only_dx).message


def test_both_views() -> None:
    """Patients with an AP and a PA image, counted with pydicom on the files; the labels
    file's View Position (csv) for the hint about it."""
    views: dict[str, set[str]] = {}
    images = 0
    for path in sorted(data.cohort_images().glob("*.dcm")):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        views.setdefault(str(ds.PatientID), set()).add(str(ds.ViewPosition))
        images += ds.ViewPosition in ("AP", "PA")
    both = sum({"AP", "PA"} <= v for v in views.values())
    assert 0 < both < len(views)
    assert lesson6.check_both_views(both)
    assert lesson6.check_both_views(float(both))
    assert not lesson6.check_both_views(both + 1)
    assert not lesson6.check_both_views(str(both))
    assert "counts images" in lesson6.check_both_views(images).message
    ap = sum("AP" in v for v in views.values())
    assert "also have a PA" in lesson6.check_both_views(ap).message
    pa = sum("PA" in v for v in views.values())
    assert "also have an AP" in lesson6.check_both_views(pa).message
    either = sum(bool(v & {"AP", "PA"}) for v in views.values())
    assert "AND, not OR" in lesson6.check_both_views(either).message
    assert "every patient" in lesson6.check_both_views(len(views)).message
    csv_views: dict[str, set[str]] = {}
    for r in _labels_rows():
        csv_views.setdefault(r["Patient ID"], set()).add(r["View Position"])
    csv_both = sum({"AP", "PA"} <= v for v in csv_views.values())
    assert csv_both != both, "the hint about the labels file needs a different count"
    assert "labels file" in lesson6.check_both_views(csv_both).message
