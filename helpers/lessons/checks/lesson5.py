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

from ..feedback import Feedback, as_number, check, right, wrong

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


@check
def check_age_years(answer: object) -> Feedback:
    """Exercise 1: Patient's Age :data:`AGE_VALUE` in years."""
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


@check
def check_excluded_patients(answer: object) -> Feedback:
    """Exercise 2: how many patients have at least one image the cleaning excludes from
    a frontal chest set (lateral views, other body regions): patients, not images."""
    value = as_number(answer)
    if value is None or value != int(value):
        return wrong("give a whole number of patients.")
    excluded = excluded_rows()
    truth = int(excluded["patient_number"].nunique())
    kept = set(_plan().loc[~_plan().index.isin(excluded.index), "patient_number"])
    lose_all = len(set(excluded["patient_number"]) - kept)
    if int(value) == truth:
        return right(f"{truth} patients lose {len(excluded)} images between them; "
                     f"{lose_all} of them lose every image and leave the training set. "
                     "The generator's own record agrees.")
    if int(value) == len(excluded):
        return wrong("that counts images; several excluded images can belong to one "
                     "patient. Count the distinct Patient IDs of the excluded rows.")
    if int(value) == len(_plan()) - len(excluded):
        return wrong("that is the number of images kept; the question asks about the "
                     "patients of the excluded images.")
    if int(value) == lose_all:
        return wrong("that counts only the patients who lose every image; count every "
                     "patient with at least one excluded image.")
    return wrong("take the rows whose `keep` column is False and count their distinct "
                 "`PatientID` values, e.g. `cleaned.loc[~cleaned['keep'], 'PatientID']"
                 ".nunique()`.")


def leaked_patients(patients: pd.Series, split: pd.Series) -> int:
    """Patients with images on both sides of ``split`` (recomputed with plain pandas)."""
    sides = pd.DataFrame({"p": list(patients), "s": list(split)}).groupby("p")["s"].nunique()
    return int((sides > 1).sum())


@check
def check_leaked_patients(answer: object, patients: pd.Series, split: pd.Series) -> Feedback:
    """Exercise 3: patients on both sides of an image-level random split."""
    value = as_number(answer)
    if value is None or value != int(value):
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


@check
def check_date_shift(answer: object, key: str) -> Feedback:
    """Exercise 4: by how many days de-identification with ``key`` moved the dates of the
    patient of :data:`SHIFT_FILE` (new date minus original date)."""
    value = as_number(answer)
    if value is None or value != int(value):
        return wrong("give a whole number of days (negative if the dates moved back).")
    truth = _shift_days(SHIFT_FILE, key)
    if int(value) == truth:
        return right(f"{truth} days: every date of this patient moves by the same amount, so "
                     "the intervals between follow-ups are kept (PS3.15 E.3.6).")
    if int(value) == -truth:
        return wrong("right size, wrong sign: new date minus original date.")
    if int(value) == _shift_days(EXAMPLE_FILE, key):
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
    if isinstance(label, int) and not isinstance(label, bool):
        return f"({label >> 16:04X},{label & 0xFFFF:04X})"
    text = str(label).strip()
    digits = text.upper().replace("(", "").replace(")", "").replace(",", "").replace(" ", "")
    if len(digits) == 8 and all(c in "0123456789ABCDEF" for c in digits):
        return f"({digits[:4]},{digits[4:]})"
    return text


@check
def check_hidden_phi(answer: object) -> Feedback:
    """Exercise 5: the elements of :func:`hidden_phi_header` that still hold the patient's
    name, an ID or the birth date (keywords; private elements as '(gggg,eeee)')."""
    if isinstance(answer, str) or not hasattr(answer, "__iter__"):
        return wrong("give a set of keywords, private elements as '(0019,1001)'.")
    chosen = {_normalise(a) for a in answer}  # type: ignore[union-attr]
    from ...data import cohort_images

    original = pydicom.dcmread(cohort_images() / HIDDEN_PHI_FILE, stop_before_pixels=True)
    values = _identifiers(original)
    suspect = hidden_phi_header()
    truth = {_label(e) for e in suspect if _holds(e, values)}
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
