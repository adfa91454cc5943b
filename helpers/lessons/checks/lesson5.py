"""Checks for Lesson 5, non-image data for machine learning.

The right answers come from somewhere other than the helpers the lesson uses:
AS ages from the definition in PS3.5 Table 6.2-1, the excluded images from the
cohort generator's own record of what it injected (:func:`helpers.data.cxr_plan.plan`),
leaked patients and date shifts recomputed here with plain pandas and datetime, the
hidden PHI by a plain search of every value for the original file's identifiers.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import cache

import pandas as pd
import pydicom
from pydicom.dataset import Dataset

from ..feedback import (
    Expected,
    Feedback,
    as_count,
    as_days,
    as_names,
    as_number,
    check,
    close_more_decimals,
    expects,
    right,
    rounded_from,
    wrong,
)

#: The AS value of exercise 1 and its meaning (PS3.5 Table 6.2-1: nnnW = weeks); a
#: week is 7 / 365.25 of a year, and 7/365 or 1/52 is accepted too.
AGE_VALUE = "036W"
AGE_YEARS = 36 * 7 / 365.25
#: Exercise 4: the image whose patient's date shift the learner measures; the lesson's
#: worked example is EXAMPLE_FILE.
SHIFT_FILE = "00000002_000.dcm"
EXAMPLE_FILE = "00000001_000.dcm"
#: Exercise 5: the image whose carelessly cleaned header hides PHI.
HIDDEN_PHI_FILE = "00000007_000.dcm"
PRIVATE_CREATOR = "WORKBOOK PACS 1.0"


@expects(lambda: Expected(AGE_YEARS, near=r"(?i)year|036W|age"))
@check
def check_age_years(answer: object) -> Feedback:
    """Exercise 1: Patient's Age :data:`AGE_VALUE` in years (7/365.25, 7/365 or 1/52 of
    a year per week all count, to two decimals or more; 0.7 is a near miss)."""
    value = as_number(answer)
    if value is None:
        return wrong(f"give a number of years (a float), not {type(answer).__name__}.")
    if abs(value - AGE_YEARS) <= 0.004:
        return right(f"{AGE_VALUE} is 36 weeks (W): 36 x 7 / 365.25 = {AGE_YEARS:.3f} years, "
                     "a baby of about 8 months.")
    if math.isclose(value, 36):
        return wrong("36 is the number, but the unit letter W means weeks, not years.")
    if math.isclose(value, 3):
        return wrong("36 months would be 3 years, but W means weeks; M is months.")
    if math.isclose(value, 36 / 365.25, rel_tol=1e-3) or math.isclose(value, 36 / 365,
                                                                        rel_tol=1e-3):
        return wrong("that reads 036 as days; W means weeks (D is days).")
    if rounded_from(value, AGE_YEARS) or abs(value - AGE_YEARS) < 0.01:
        return close_more_decimals(value, AGE_YEARS)
    if math.isclose(value, 36 * 7, rel_tol=1e-9):
        return wrong("252 is the number of days; convert to years (divide by 365.25).")
    if math.isclose(value, 36 / 12, rel_tol=1e-9) or math.isclose(value, 36 / 4.345,
                                                                    rel_tol=1e-3):
        return wrong("that treats the weeks as months; W means weeks (7 days each).")
    return wrong(f"the last letter of an AS value is the unit (D days, W weeks, M months, "
                 f"Y years); {AGE_VALUE} is 36 of them.")


@cache
def _plan() -> pd.DataFrame:
    from ...data.cxr_plan import plan

    return plan()


#: Defects that make an image something other than a frontal chest radiograph.
EXCLUDING_DEFECTS = ("lateral", "body_part_abdomen", "body_part_cspine")


def excluded_rows() -> pd.DataFrame:
    """Plan rows the generator made lateral or gave another region's body part."""
    plan = _plan()
    return plan[plan["defect"].isin(EXCLUDING_DEFECTS)]


def _patients_touched() -> tuple[set, set]:
    """(patients with an excluded image, patients with a kept image), from the plan."""
    excluded = excluded_rows()
    kept = set(_plan().loc[~_plan().index.isin(excluded.index), "patient_number"])
    return set(excluded["patient_number"]), kept


def excluded_patients_truth() -> int:
    """Patients who lose at least one image to the cleaning and keep at least one."""
    dropped, kept = _patients_touched()
    return len(dropped & kept)


#: Images lesson 5's cleaning flags body_part_wrong (its problem table prints the count):
#: every Body Part Examined but CHEST, although THORAX and empty ones are kept.
BODY_PART_DEFECTS = ("body_part_abdomen", "body_part_cspine", "body_part_thorax",
                     "body_part_empty")


@expects(lambda: Expected(excluded_patients_truth(), near=r"(?i)patient"))
@check
def check_excluded_patients(answer: object) -> Feedback:
    """Exercise 2: how many patients the frontal chest set still has, but not whole: at
    least one image excluded by the cleaning (lateral views, other body regions) and at
    least one kept. Patients, not images."""
    value = as_count(answer)
    if value is None:
        return wrong("give a whole number of patients.")
    excluded = excluded_rows()
    dropped, kept = _patients_touched()
    truth = len(dropped & kept)
    lose_all = len(dropped - kept)
    if value == truth:
        return right(f"{truth} patients keep some images and lose others ({len(excluded)} "
                     f"images are dropped in all); {lose_all} more lose every image and "
                     "leave the set. The generator's own record agrees.")
    flagged = int(_plan()["defect"].isin(BODY_PART_DEFECTS).sum())
    if value == len(dropped):
        also = (f" ({value} is also the body_part_wrong count printed above, which "
                "includes THORAX and empty body parts: those images are kept)"
                if value == flagged else "")
        return wrong(f"that counts every patient with an excluded image, including the "
                     f"{lose_all} who lose all of theirs and are not in the set at all{also}; "
                     "keep those who still have a kept image.")
    if value == flagged:
        return wrong("that is the body_part_wrong count of images printed above: it includes "
                     "THORAX and empty body parts, which the cleaning keeps. Count patients.")
    if value == len(excluded):
        return wrong("that counts images; several excluded images can belong to one "
                     "patient. Count the distinct Patient IDs of the excluded rows.")
    if value == len(_plan()) - len(excluded):
        return wrong("that is the number of images kept; the question asks about the "
                     "patients of the excluded images.")
    if value == lose_all:
        return wrong("that counts the patients who lose every image; the question asks for "
                     "those who lose some and keep some.")
    lateral = set(_plan().loc[_plan()["defect"] == "lateral", "patient_number"])
    if value in (len(lateral), len(lateral & kept)):
        return wrong("that counts only the patients with a lateral view; images of another "
                     "body region (ABDOMEN, CSPINE) are dropped too.")
    other = set(excluded.loc[excluded["defect"] != "lateral", "patient_number"])
    if value in (len(other), len(other & kept)):
        return wrong("that counts only the patients with an image of another body region; "
                     "lateral views are dropped too.")
    if value == len(kept):
        return wrong("that counts every patient still in the set; keep only those who also "
                     "lost an image.")
    return wrong("take the Patient IDs of the rows whose `keep` column is False and of those "
                 "whose `keep` is True, and count the IDs in both sets.")


def leaked_patients(patients: pd.Series, split: pd.Series) -> int:
    """Patients with images on both sides of ``split`` (recomputed with plain pandas)."""
    sides = pd.DataFrame({"p": list(patients), "s": list(split)}).groupby("p")["s"].nunique()
    return int((sides > 1).sum())


@expects(lambda patients, split: Expected(leaked_patients(patients, split),
                                          near=r"(?i)patient|both|leak"))
@check
def check_leaked_patients(answer: object, patients: pd.Series, split: pd.Series) -> Feedback:
    """Exercise 3: patients on both sides of an image-level random split."""
    value = as_count(answer)
    if value is None:
        return wrong("give a whole number of patients.")
    truth = leaked_patients(patients, split)
    if int(value) == truth:
        total = pd.Series(list(patients)).nunique()
        return right(f"{truth} of {total} patients have images in both train and validation: "
                     "a model could be validated on patients it has already seen.")
    leaked_images = int(pd.Series(list(patients)).isin(
        pd.Series(list(patients))[pd.Series(list(split)) == "validation"]).sum())
    if int(value) == leaked_images:
        return wrong("that counts images; count distinct patients.")
    sides = pd.DataFrame({"p": list(patients), "s": list(split)})
    seen = sides.loc[sides["s"] == "validation", "p"].isin(
        set(sides.loc[sides["s"] == "train", "p"]))
    if int(value) == int(seen.sum()):
        return wrong("that counts validation images of leaked patients (printed in section "
                     "6); count distinct patients.")
    if int(value) == int(sides.groupby("p")["s"].nunique().eq(1).sum()):
        return wrong("that counts the patients on one side only; the question asks for "
                     "those on both sides.")
    return wrong("group by patient and count the distinct sides: "
                 "`df.groupby('PatientID')['naive'].nunique().gt(1).sum()`.")


def _shift_days(name: str, key: str) -> int:
    from ...data import cohort_images
    from ...tables.deid import deidentify

    original = pydicom.dcmread(cohort_images() / name, stop_before_pixels=True)
    new = deidentify(original, key=key)

    def day(text: str) -> dt.date:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))

    return (day(str(new.StudyDate)) - day(str(original.StudyDate))).days


@expects(lambda key: Expected(_shift_days(SHIFT_FILE, key), near=r"(?i)day|moved|shift"))
@check
def check_date_shift(answer: object, key: str) -> Feedback:
    """Exercise 4: by how many days de-identification with ``key`` moved the dates of the
    patient of :data:`SHIFT_FILE` (new date minus original date): a number of days or a
    ``timedelta``."""
    value = as_days(answer)
    if value is None:
        return wrong("give a whole number of days (negative if the dates moved back), or "
                     "the timedelta itself.")
    truth = _shift_days(SHIFT_FILE, key)
    if int(value) == truth:
        return right(f"{truth} days: every date of this patient moves by the same amount, so "
                     "the intervals between follow-ups are kept (PS3.15 E.3.6).")
    if int(value) == -truth:
        return wrong("right size, wrong sign: new date minus original date.")
    if abs(int(value)) == abs(truth) * 86400:
        return wrong("that is in seconds; give days (timedelta.days).")
    if abs(int(value) - truth) == 1:
        return wrong("off by one day: subtract the two dates, do not count both ends.")
    example = _shift_days(EXAMPLE_FILE, key)
    if int(value) == -example:
        return wrong(f"{value} is the lesson's example patient's shift with its sign "
                     "flipped (section 7 printed it); this patient has their own shift, and "
                     "the answer is new date minus original date.")
    if int(value) == example:
        return wrong("that is the shift of the lesson's example patient. Each patient gets "
                     "their own shift from the keyed hash, so that a shift learnt for one "
                     "patient reveals nothing about another.")
    return wrong("parse both Study Date values (DA, YYYYMMDD) into dates and subtract: "
                 "`(parse_date(new.StudyDate) - parse_date(old.StudyDate)).days`.")


def hidden_phi_header() -> Dataset:
    """The header of :data:`HIDDEN_PHI_FILE` after a careless clean-up: Patient's Name,
    Patient ID and Birth Date replaced, but the name left in a free-text comment and the
    ID copied into a private element, as real PACS exports do. A new dataset; the file on
    disk is not touched."""
    from ...data import cohort_images

    ds = pydicom.dcmread(cohort_images() / HIDDEN_PHI_FILE, stop_before_pixels=True)
    name = ds.PatientName
    ds.ImageComments = f"Follow-up of {name.given_name} {name.family_name}, compare with prior"
    block = ds.private_block(0x0019, PRIVATE_CREATOR, create=True)
    block.add_new(0x01, "LO", str(ds.PatientID))
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = "ANONYMOUS", "ANON", ""
    return ds


def _identifiers(ds: Dataset) -> list[str]:
    """The patient's name parts, IDs (Patient ID and Other Patient IDs) and birth date."""
    name = ds.PatientName
    found = [name.family_name, name.given_name, str(ds.PatientID), str(ds.PatientBirthDate)]
    found += [str(item.PatientID) for item in ds.get("OtherPatientIDsSequence", [])]
    return [v for v in found if len(v) >= 3]


def _label(element: pydicom.DataElement) -> str:
    return element.keyword or f"({element.tag.group:04X},{element.tag.element:04X})"


def _holds(element: pydicom.DataElement, values: list[str]) -> bool:
    if element.VR == "SQ":
        return any(_holds(e, values) for item in element.value for e in item)
    text = str(element.value)
    return any(v in text for v in values)


def _normalise(label: object) -> str:
    """A label as :func:`_label` writes it, from a keyword in any letter case, a nested
    path as ``deid.audit`` names it (``OtherPatientIDsSequence[0].PatientID``: the
    top-level element holds it), or a tag as a number or text ('(0019,1001)',
    '0019,1001', '0x00191001')."""
    from pydicom.datadict import keyword_for_tag

    if isinstance(label, int) and not isinstance(label, bool):
        keyword = keyword_for_tag(label)
        return keyword or f"({label >> 16:04X},{label & 0xFFFF:04X})"
    text = str(label).strip()
    text = text.split("[")[0].split(".")[0].strip() if "[" in text else text
    digits = text.upper().replace("0X", "")
    for ch in "(), ":
        digits = digits.replace(ch, "")
    if len(digits) == 8 and all(c in "0123456789ABCDEF" for c in digits):
        keyword = keyword_for_tag(int(digits, 16))
        return keyword or f"({digits[:4]},{digits[4:]})"
    return _KEYWORDS_BY_CASE.get(text.lower(), text)


#: Keywords a learner may write in another letter case, by their lower-case form.
_KEYWORDS_BY_CASE = {k.lower(): k for k in (
    "ImageComments", "OtherPatientIDsSequence", "PatientName", "PatientID",
    "PatientBirthDate", "InstitutionName", "ReferringPhysicianName", "StudyDescription")}


def hidden_phi_truth() -> set[str]:
    """The labels of the elements of :func:`hidden_phi_header` that hold the patient's
    name, an ID or the birth date."""
    from ...data import cohort_images

    original = pydicom.dcmread(cohort_images() / HIDDEN_PHI_FILE, stop_before_pixels=True)
    values = _identifiers(original)
    return {_label(e) for e in hidden_phi_header() if _holds(e, values)}


@expects(lambda: Expected(sorted(hidden_phi_truth())))
@check
def check_hidden_phi(answer: object) -> Feedback:
    """Exercise 5: the elements of :func:`hidden_phi_header` that still hold the patient's
    name, an ID or the birth date (keywords in any letter case, a nested element as the
    audit names it, private elements as '(gggg,eeee)' or their tag number)."""
    names = as_names(answer)
    if names is None:
        return wrong("give a set of keywords, private elements as '(0019,1001)'.")
    chosen = {_normalise(a) for a in names}
    truth = hidden_phi_truth()
    if chosen == truth:
        return right(f"{', '.join(sorted(truth))}: free text, a sequence and a private "
                     "element. PS3.15 Table E.1-1 removes each of them (X), and removes private "
                     "elements unless an option keeps them: blanking three named attributes "
                     "is not de-identification.")
    missed, extra = truth - chosen, chosen - truth
    hints = []
    for label in sorted(missed):
        if label.startswith("("):
            hints.append(f"{label} is a private element: vendors copy IDs into them, and "
                         "only their documentation says so")
        elif label == "OtherPatientIDsSequence":
            hints.append("OtherPatientIDsSequence nests another identifier of the patient "
                         "inside an item: look inside sequences")
        else:
            hints.append(f"{label} is free text, and free text can hold a name")
    for label in sorted(extra):
        if label in ("PatientName", "PatientID", "PatientBirthDate"):
            hints.append(f"{label} was already replaced")
        else:
            hints.append(f"{label} holds none of this patient's name, IDs or birth date")
    return wrong("; ".join(hints) + ".")
