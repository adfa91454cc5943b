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
    assert "keep more decimals" in lesson5.check_age_years(0.7).message   # rounded
    assert "days" in lesson5.check_age_years(252).message
    assert "as months" in lesson5.check_age_years(3.0).message or "M is months" in \
        lesson5.check_age_years(3.0).message


def test_excluded_patients() -> None:
    """Lateral views and other body regions, counted with pydicom on the files."""
    images, patients = 0, set()
    kept_patients = set()
    flagged = 0   # lesson 5's body_part_wrong: any Body Part Examined but CHEST
    for path in sorted(data.cohort_images().glob("*.dcm")):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        part = str(ds.get("BodyPartExamined", "") or "").upper()
        flagged += part != "CHEST"
        if ds.ViewPosition in ("LL", "RL") or part not in ("", "CHEST", "THORAX"):
            images += 1
            patients.add(str(ds.PatientID))
        else:
            kept_patients.add(str(ds.PatientID))
    partly = patients & kept_patients
    assert len(partly) < len(patients) < images   # some lose two, some lose all
    assert lesson5.check_excluded_patients(len(partly))
    assert not lesson5.check_excluded_patients(len(partly) + 5)
    fb = lesson5.check_excluded_patients(len(patients))
    assert not fb and "not in the set at all" in str(fb)
    if flagged == len(patients):   # the printed flag count equals it: named too
        assert "body_part_wrong count" in str(fb)
    fb = lesson5.check_excluded_patients(images)
    assert not fb and "counts images" in str(fb)
    fb = lesson5.check_excluded_patients(len(_labels_rows()) - images)
    assert not fb and "kept" in str(fb)
    fb = lesson5.check_excluded_patients(len(patients - kept_patients))
    assert not fb and "lose every image" in str(fb)
    assert "every patient still in the set" in lesson5.check_excluded_patients(
        len(kept_patients)).message
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
    # a on both sides; b, c, d, e on one side only
    patients = pd.Series(["a", "a", "b", "c", "d", "e"])
    split = pd.Series(["train", "validation", "train", "train", "validation", "train"])
    assert lesson5.check_leaked_patients(1, patients, split)
    assert "one side only" in lesson5.check_leaked_patients(4, patients, split).message
    # a and b on both sides; 3 validation images have a training image of their patient
    # (what section 6 prints), 6 images belong to a patient with a validation image
    patients = pd.Series(["a", "a", "a", "b", "b", "c"])
    split = pd.Series(["train", "validation", "validation", "train", "validation",
                       "validation"])
    assert lesson5.check_leaked_patients(2, patients, split)
    assert "printed in section 6" in lesson5.check_leaked_patients(3, patients, split).message
    assert "counts images" in lesson5.check_leaked_patients(6, patients, split).message


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
    assert "sign" in lesson5.check_date_shift(-example, key).message
    assert "off by one" in lesson5.check_date_shift(shift + 1, key).message
    assert not lesson5.check_date_shift(shift + 5, key)
    assert not lesson5.check_date_shift(shift, "another key")
    import datetime as dt
    assert lesson5.check_date_shift(dt.timedelta(days=shift), key)
    assert "seconds" in lesson5.check_date_shift(shift * 86400, key).message


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
    # named as deid.audit names it, as the lesson prints it
    from helpers.tables import deid
    where = set(deid.audit(suspect, deid.phi_values(original))["where"])
    assert "OtherPatientIDsSequence[0].PatientID" in where
    assert lesson5.check_hidden_phi({"ImageComments", "OtherPatientIDsSequence[0].PatientID",
                                     "(0019,1001)"})
    assert lesson5.check_hidden_phi({"imagecomments", "OtherPatientIDsSequence",
                                     "0x00191001"})


def test_prevalence() -> None:
    rows = _labels_rows()
    ap = [r for r in rows if r["View Position"] == "AP"]
    has = [("Effusion" in r["Finding Labels"].split("|")) for r in ap]
    truth = sum(has) / len(ap)
    assert lesson6.check_prevalence(truth)
    fb = lesson6.check_prevalence(100 * truth)
    assert not fb and "percentage" in str(fb)
    fb = lesson6.check_prevalence(sum(has))
    assert not fb and "number of AP images with Effusion" in str(fb)
    everywhere = sum("Effusion" in r["Finding Labels"].split("|") for r in rows) / len(rows)
    assert "over all images" in lesson6.check_prevalence(everywhere).message
    pa = [r for r in rows if r["View Position"] == "PA"]
    on_pa = sum("Effusion" in r["Finding Labels"].split("|") for r in pa) / len(pa)
    assert "PA images" in lesson6.check_prevalence(on_pa).message
    assert "divide by the number of AP" in lesson6.check_prevalence(sum(has) / len(rows)).message
    # by the headers' View Position (pydicom on the files) instead of the labels file's
    header_view = {p.name: str(pydicom.dcmread(p, stop_before_pixels=True).ViewPosition)
                   for p in sorted(data.cohort_images().glob("*.dcm"))}
    on_header = [("Effusion" in r["Finding Labels"].split("|")) for r in rows
                 if header_view[r["Image Index"]] == "AP"]
    header_prevalence = sum(on_header) / len(on_header)
    assert abs(header_prevalence - truth) > 1e-3
    assert "headers' View Position" in lesson6.check_prevalence(header_prevalence).message
    assert "keep more decimals" in lesson6.check_prevalence(round(truth, 2)).message
    assert not lesson6.check_prevalence("a lot")


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
    assert not lesson6.check_top_pair("Mass")
    (men, _), = _pairs("M").most_common(1)
    if set(men) not in (set(best), set(overall)):
        assert "among men" in lesson6.check_top_pair(men).message


def test_chest_xray_series() -> None:
    import idc_index_data

    idc = pd.read_parquet(idc_index_data.IDC_INDEX_PARQUET_FILEPATH,
                          columns=["Modality", "BodyPartExamined"])
    truth = int((idc["Modality"].isin(["CR", "DX"]) & idc["BodyPartExamined"].eq("CHEST")).sum())
    assert truth > 0
    assert lesson6.check_chest_xray_series(truth)
    assert lesson6.check_chest_xray_series(float(truth))
    assert not lesson6.check_chest_xray_series(truth + 1)
    assert lesson6.check_chest_xray_series(str(truth))   # numeric text is a number
    only_cr = int((idc["Modality"].eq("CR") & idc["BodyPartExamined"].eq("CHEST")).sum())
    assert "only CR" in lesson6.check_chest_xray_series(only_cr).message
    only_dx = int((idc["Modality"].eq("DX") & idc["BodyPartExamined"].eq("CHEST")).sum())
    assert "only DX" in lesson6.check_chest_xray_series(only_dx).message
    chest_any = int(idc["BodyPartExamined"].eq("CHEST").sum())
    assert "every modality" in lesson6.check_chest_xray_series(chest_any).message


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
    assert lesson6.check_both_views((both,))            # the row fetchone() returns
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
