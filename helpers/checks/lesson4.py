"""Checks for Lesson 4, non-image data for machine learning.

The right answers come from somewhere other than the helpers the lesson uses:
AS ages from the definition in PS3.5 Table 6.2-1, the excluded images from the
cohort generator's own record of what it injected (:func:`helpers.data.cxr_plan.plan`),
leaked patients and date shifts recomputed here with plain pandas and datetime.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import cache

import pandas as pd

from ..exercises import Feedback, as_number, is_placeholder, not_answered, right, wrong

#: The AS value of exercise 1 and its meaning (PS3.5 Table 6.2-1: nnnM = months).
AGE_VALUE = "018M"
AGE_YEARS = 18 / 12


def check_age_years(answer: object) -> Feedback:
    """Exercise 1: Patient's Age ``018M`` in years."""
    if is_placeholder(answer):
        return not_answered()
    value = as_number(answer)
    if value is None:
        return wrong(f"give a number of years (a float), not {type(answer).__name__}.")
    if math.isclose(value, AGE_YEARS, abs_tol=1e-6):
        return right(f"{AGE_VALUE} is 18 months (M), which is {AGE_YEARS} years.")
    if math.isclose(value, 18):
        return wrong("18 is the number, but the unit letter M means months, not years.")
    return wrong(f"the last letter of an AS value is the unit (D days, W weeks, M months, "
                 f"Y years); {AGE_VALUE} is 18 of them.")


@cache
def _plan() -> pd.DataFrame:
    from ..data.cxr_plan import plan

    return plan()


#: Defects that make an image something other than a frontal chest radiograph.
EXCLUDING_DEFECTS = ("lateral", "body_part_abdomen", "body_part_cspine")


def excluded_truth() -> int:
    """Images the generator made lateral or gave another region's body part (its plan)."""
    return int(_plan()["defect"].isin(EXCLUDING_DEFECTS).sum())


def check_excluded_count(answer: object) -> Feedback:
    """Exercise 2: how many images the cleaning excludes from a frontal chest set."""
    if is_placeholder(answer):
        return not_answered()
    value = as_number(answer)
    if value is None or value != int(value):
        return wrong("give a whole number of images.")
    truth = excluded_truth()
    lateral = int((_plan()["defect"] == "lateral").sum())
    if int(value) == truth:
        return right(f"{truth} images: {lateral} lateral views and {truth - lateral} whose body "
                     "part is another region (ABDOMEN, CSPINE). The generator's own record "
                     "agrees.")
    if int(value) == len(_plan()) - truth:
        return wrong("that is the number kept; the question asks how many are excluded.")
    flagged = int(_plan()["defect"].str.startswith("body_part_").sum()) + lateral
    if int(value) == flagged:
        return wrong("that counts every body part flag; an empty body part or THORAX is still "
                     "a chest. Count the rows whose `keep` column is False.")
    return wrong("count the rows whose `keep` column is False (lateral views and body parts "
                 "of another region), e.g. `(~cleaned['keep']).sum()`.")


def leaked_patients(patients: pd.Series, split: pd.Series) -> int:
    """Patients with images on both sides of ``split`` (recomputed with plain pandas)."""
    sides = pd.DataFrame({"p": list(patients), "s": list(split)}).groupby("p")["s"].nunique()
    return int((sides > 1).sum())


def check_leaked_patients(answer: object, patients: pd.Series, split: pd.Series) -> Feedback:
    """Exercise 3: patients on both sides of an image-level random split."""
    if is_placeholder(answer):
        return not_answered()
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


def check_date_shift(answer: object, original: object, deidentified: object) -> Feedback:
    """Exercise 4: by how many days de-identification moved this patient's dates."""
    if is_placeholder(answer):
        return not_answered()
    value = as_number(answer)
    if value is None or value != int(value):
        return wrong("give a whole number of days (negative if the dates moved back).")

    def day(ds: object) -> dt.date:
        text = str(ds.StudyDate)  # type: ignore[attr-defined]
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))

    truth = (day(deidentified) - day(original)).days
    if int(value) == truth:
        return right(f"{truth} days: every date of this patient moves by the same amount, so "
                     "the intervals between follow-ups are kept (PS3.15 E.3.6).")
    if int(value) == -truth:
        return wrong("right size, wrong sign: new date minus original date.")
    return wrong("parse both Study Date values (DA, YYYYMMDD) into dates and subtract: "
                 "`(parse_date(new.StudyDate) - parse_date(old.StudyDate)).days`.")
