"""Checks for Lesson 6, exploring medical metadata.

The right answers are computed here from sources the lesson's helpers do not
use: the cohort generator's plan (:func:`helpers.data.cxr_plan.plan`) for the
findings and the views, and the IDC Parquet file read with pyarrow's own filters for the real
metadata.
"""

from __future__ import annotations

import itertools
import math
from functools import cache

import pandas as pd

from ..feedback import Feedback, check, right, wrong

PREVALENCE_FINDING = "Effusion"
CHEST_XRAY_MODALITIES = ("CR", "DX")


@cache
def _labels() -> pd.Series:
    from ...data.cxr_plan import plan

    return plan()["finding_labels"]


def prevalence_truth(finding: str = PREVALENCE_FINDING) -> float:
    """Fraction of the cohort's images whose labels include ``finding`` (from the plan)."""
    return float(_labels().str.split("|").map(lambda ls: finding in ls).mean())


@check
def check_prevalence(answer: object) -> Feedback:
    """Exercise 1: prevalence of Effusion among all images of the labels file."""
    if isinstance(answer, bool) or not isinstance(answer, int | float):
        return wrong("give a fraction between 0 and 1, as a float.")
    truth = prevalence_truth()
    count = round(truth * len(_labels()))
    if math.isclose(answer, truth, abs_tol=5e-4):
        from ...data.cxr_plan import PUBLISHED_COUNTS, PUBLISHED_TOTAL

        published = PUBLISHED_COUNTS[PREVALENCE_FINDING] / PUBLISHED_TOTAL
        return right(f"{count} of {len(_labels())} images, a prevalence of {truth:.3f} "
                     f"({published:.3f} in the published NIH file).")
    if math.isclose(answer, 100 * truth, abs_tol=5e-2):
        return wrong("that is a percentage; give the fraction (divide by 100).")
    if answer == count:
        return wrong("that is the number of images; divide by the number of images.")
    return wrong("the mean of the Effusion one-hot column over all images is its prevalence.")


#: Exercise 2 counts pairs among the images of one sex, as the labels file records it
#: (the lesson prints the most frequent pairs over all frontal images).
TOP_PAIR_GENDER = "F"


def top_pairs(gender: str | None = TOP_PAIR_GENDER) -> tuple[set[frozenset[str]], int]:
    """The pairs of distinct findings sharing the most images (of ``gender`` in the labels
    file's Patient Gender column; None: all images), and that number."""
    from ...data.cxr_plan import plan

    rows = plan()
    if gender is not None:
        rows = rows[rows["csv_patient_gender"] == gender]
    counts: dict[frozenset[str], int] = {}
    for text in rows["finding_labels"]:
        found = sorted(set(text.split("|")) - {"No Finding"})
        for a, b in itertools.combinations(found, 2):
            counts[frozenset((a, b))] = counts.get(frozenset((a, b)), 0) + 1
    best = max(counts.values())
    return {p for p, n in counts.items() if n == best}, best


@check
def check_top_pair(answer: object) -> Feedback:
    """Exercise 2: the two different findings that occur together in the most images of
    women (Patient Gender ``F`` in the labels file)."""
    if not isinstance(answer, tuple | list | set | frozenset) or len(answer) != 2:
        return wrong("give two finding names, e.g. ('Mass', 'Nodule').")
    pair = frozenset(str(a) for a in answer)
    if len(pair) != 2:
        return wrong("give two *different* findings: the diagonal of the co-occurrence "
                     "matrix counts one finding alone.")
    best, n = top_pairs()
    if pair in best:
        return right(f"{' and '.join(sorted(pair))} occur together in {n} images of women, "
                     "more than any other pair.")
    if pair in top_pairs(None)[0]:
        return wrong("that is the most frequent pair over all images; among women another "
                     "pair leads. Filter the rows on Patient Gender first.")
    return wrong("look for the largest value off the diagonal of the co-occurrence matrix.")


@cache
def chest_xray_series_truth() -> int:
    """CR or DX series in the IDC index whose Body Part Examined is exactly CHEST."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from ...tables.explore import idc_index_path

    table = pq.read_table(idc_index_path(), columns=["Modality", "BodyPartExamined"])
    keep = pc.and_(pc.is_in(table["Modality"], value_set=pa.array(CHEST_XRAY_MODALITIES)),
                   pc.equal(table["BodyPartExamined"], "CHEST"))
    return int(pc.sum(keep.cast("int64")).as_py())


@cache
def _chest_xray_variants() -> dict[str, int]:
    """Counts that typical wrong filters give, to name the mistake."""
    import pandas as pd

    from ...tables.explore import idc_index_path

    idc = pd.read_parquet(idc_index_path(),
                          columns=["collection_id", "PatientID", "Modality", "BodyPartExamined"])
    body = idc["BodyPartExamined"].fillna("")
    xray = idc["Modality"].isin(CHEST_XRAY_MODALITIES)
    chest = body == "CHEST"
    return {
        "only CR": int((idc["Modality"].eq("CR") & chest).sum()),
        "only DX": int((idc["Modality"].eq("DX") & chest).sum()),
        "spellings": int((xray & body.str.contains("CHEST|THORAX", case=False)).sum()),
        "patients": int(idc[xray & chest].groupby(["collection_id", "PatientID"]).ngroups),
    }


@check
def check_chest_xray_series(answer: object) -> Feedback:
    """Exercise 3: CR or DX series with Body Part Examined CHEST in the IDC index."""
    if isinstance(answer, bool) or not isinstance(answer, int) and not (
            isinstance(answer, float) and answer.is_integer()):
        return wrong("give a whole number of series (rows of the index).")
    truth = chest_xray_series_truth()
    if int(answer) == truth:
        return right(f"{truth} series: the real chest radiographs the IDC index lists.")
    variants = _chest_xray_variants()
    hints = {
        "only CR": "that counts only CR; DX (digital radiography) is the other X-ray "
                   "modality, and the question asks for both.",
        "only DX": "that counts only DX; CR (computed radiography) is the other X-ray "
                   "modality, and the question asks for both.",
        "spellings": "that also counts other spellings (THORAX, 'CHEST (THORAX) W', ...); the "
                     "question asks for Body Part Examined exactly CHEST.",
        "patients": "that counts patients; count series (rows of the index).",
    }
    for name, hint in hints.items():
        if int(answer) == variants[name] != truth:
            return wrong(hint)
    return wrong("filter rows with `Modality.isin(['CR', 'DX'])` and `BodyPartExamined == "
                 "'CHEST'`, then count rows (not patients).")


#: Exercise 4 (a SQL query over the crawl's Parquet folder): patients with at least one
#: image of each of these views, as the headers' View Position (0018,5101) says.
BOTH_VIEWS = ("AP", "PA")


@cache
def _views() -> pd.DataFrame:
    """Per image of the cohort: the patient, the header's View Position and the labels
    file's, from the generator's plan (not from the files or the crawl)."""
    from ...data.cxr_plan import plan

    return plan()[["patient_id", "view_position", "csv_view_position"]]


def both_views_truth(column: str = "view_position") -> int:
    """Patients with an image of each of :data:`BOTH_VIEWS`, by the header's View Position
    (``column="csv_view_position"``: by the labels file's)."""
    views = _views().groupby("patient_id")[column].agg(set)
    return int(sum(set(BOTH_VIEWS) <= seen for seen in views))


@check
def check_both_views(answer: object) -> Feedback:
    """Exercise 4: patients of the crawl with at least one AP and at least one PA image."""
    if isinstance(answer, bool) or not isinstance(answer, int) and not (
            isinstance(answer, float) and answer.is_integer()):
        return wrong("give a whole number of patients, e.g. the first value of "
                     "`duckdb.sql(...).fetchone()`.")
    truth = both_views_truth()
    if int(answer) == truth:
        return right(f"{truth} patients have both an AP and a PA image: for them a model can "
                     "compare the two views of one chest.")
    views = _views()
    per_patient = views.groupby("patient_id")["view_position"].agg(set)
    ap, pa = BOTH_VIEWS
    hints = [
        (int(views["view_position"].isin(BOTH_VIEWS).sum()),
         "that counts images; count patients (GROUP BY PatientID)."),
        (int(sum(ap in s for s in per_patient)),
         f"that counts patients with an {ap} image; each must also have a {pa} image."),
        (int(sum(pa in s for s in per_patient)),
         f"that counts patients with a {pa} image; each must also have an {ap} image."),
        (int(sum(bool(s & set(BOTH_VIEWS)) for s in per_patient)),
         "that counts patients with either view; the question asks for both (AND, not OR)."),
        (len(per_patient), "that counts every patient; keep only those with both views."),
        (both_views_truth("csv_view_position"),
         "that uses the labels file's View Position; the question asks for the headers "
         "(the crawl's ViewPosition column), and the two disagree for some images."),
    ]
    for value, hint in hints:
        if int(answer) == value != truth:
            return wrong(hint)
    return wrong("group the rows by PatientID and keep the groups with at least one AP and "
                 "at least one PA row: `HAVING count(*) FILTER (WHERE ViewPosition = 'AP') > 0 "
                 "AND ...`.")
