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

from ..feedback import (
    Expected,
    Feedback,
    as_count,
    as_names,
    as_number,
    check,
    close_more_decimals,
    expects,
    right,
    rounded_from,
    wrong,
)

PREVALENCE_FINDING = "Effusion"
#: Exercise 1: the prevalence is asked among the images the labels file calls AP (its
#: View Position column), a number no earlier output shows (lesson 5 prints per-finding
#: counts over all images and over the kept ones).
PREVALENCE_VIEW = "AP"
CHEST_XRAY_MODALITIES = ("CR", "DX")


@cache
def _labels() -> pd.DataFrame:
    from ...data.cxr_plan import plan

    return plan()[["finding_labels", "csv_view_position", "view_position", "defect"]]


def _has(finding: str, rows: pd.DataFrame) -> pd.Series:
    return rows["finding_labels"].str.split("|").map(lambda ls: finding in ls)


def prevalence_truth(finding: str = PREVALENCE_FINDING, view: str | None = PREVALENCE_VIEW,
                     column: str = "csv_view_position") -> float:
    """Fraction of the cohort's images (of ``view`` in ``column``; None: all) whose labels
    include ``finding``, from the generator's plan."""
    rows = _labels() if view is None else _labels()[_labels()[column] == view]
    return float(_has(finding, rows).mean())


@expects(lambda: Expected(prevalence_truth(), near=r"(?i)prevalence|AP|effusion|fraction"))
@check
def check_prevalence(answer: object) -> Feedback:
    """Exercise 1: prevalence of Effusion among the images the labels file calls AP."""
    value = as_number(answer)
    if value is None:
        return wrong("give a fraction between 0 and 1, as a float.")
    truth = prevalence_truth()
    rows = _labels()[_labels()["csv_view_position"] == PREVALENCE_VIEW]
    count = int(_has(PREVALENCE_FINDING, rows).sum())
    if math.isclose(value, truth, abs_tol=5e-4):
        everywhere = prevalence_truth(view=None)
        return right(f"{count} of {len(rows)} AP images, a prevalence of {truth:.3f}, "
                     f"against {everywhere:.3f} over all images: AP views (portable, sicker "
                     "patients) carry more effusions, a shortcut a model can learn.")
    if math.isclose(value, 100 * truth, abs_tol=5e-2):
        return wrong("that is a percentage; give the fraction (divide by 100).")
    if value == count:
        return wrong("that is the number of AP images with Effusion; divide by the number of "
                     "AP images.")
    hints = [
        (prevalence_truth(view=None), "that is the prevalence over all images; keep only "
                                      "the rows whose View Position is AP."),
        (prevalence_truth(column="view_position"),
         "that uses the headers' View Position; the question asks for the labels file's "
         "View Position column (the two disagree for some images)."),
        (prevalence_truth(view="PA"), "that is among the PA images; the question asks "
                                      "for AP."),
        (float(_has(PREVALENCE_FINDING, rows).sum() / len(_labels())),
         "that divides by all images; divide by the number of AP images."),
    ]
    kept = _labels()[~_labels()["defect"].isin(EXCLUDED_DEFECTS)]
    kept_ap = kept[kept["view_position"] == PREVALENCE_VIEW]
    hints.append((float(_has(PREVALENCE_FINDING, kept_ap).mean()),
                  "that counts only the frontal images kept in lesson 5 (the header's AP); "
                  "the question asks for every row of the labels file."))
    for other, hint in hints:
        if math.isclose(value, other, abs_tol=5e-4) and not math.isclose(other, truth):
            return wrong(hint)
    if rounded_from(value, truth):
        return close_more_decimals(value, truth)
    return wrong("keep the labels file's rows whose View Position is AP, then take the mean "
                 "of their Effusion one-hot column.")


#: Plan defects that lesson 5's cleaning excludes (lateral views, other body regions).
EXCLUDED_DEFECTS = ("lateral", "body_part_abdomen", "body_part_cspine")


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


def _finding_name(text: str) -> str:
    """A finding as the labels file spells it, from any letter case and with a space or a
    hyphen for the underscore ('pleural thickening')."""
    from ...tables.cohort import FINDINGS

    by_key = {f.lower().replace("_", " "): f for f in FINDINGS}
    key = text.strip().lower().replace("_", " ").replace("-", " ")
    return by_key.get(key, text.strip())


@expects(lambda: Expected(sorted(sorted(top_pairs()[0])[0])))
@check
def check_top_pair(answer: object) -> Feedback:
    """Exercise 2: the two different findings that occur together in the most images of
    women (Patient Gender ``F`` in the labels file)."""
    if isinstance(answer, str) and "|" in answer:
        answer = answer.split("|")
    names = as_names(answer)
    if names is None or len(names) not in (1, 2) or len(list(answer)) != 2:  # type: ignore[arg-type]
        return wrong("give two finding names, e.g. ('Mass', 'Nodule').")
    pair = frozenset(_finding_name(str(a)) for a in names)
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
    if pair in top_pairs("M")[0]:
        return wrong("that is the most frequent pair among men (M); the question asks for "
                     "women (F).")
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
        "chest-like": int((xray & body.isin(["CHEST", "THORAX", "LUNG"])).sum()),
        "case": int((xray & body.str.upper().eq("CHEST")).sum()),
        "any modality": int(chest.sum()),
    }


@expects(lambda: Expected(chest_xray_series_truth(), near=r"(?i)series|CR|DX|chest"))
@check
def check_chest_xray_series(answer: object) -> Feedback:
    """Exercise 3: CR or DX series with Body Part Examined CHEST in the IDC index."""
    answer = as_count(answer)
    if answer is None:
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
        "chest-like": "that also counts THORAX and LUNG; the question asks for Body Part "
                      "Examined exactly CHEST.",
        "case": "that also counts other letter cases of chest; a CS value is upper case, "
                "and the question asks for exactly CHEST.",
        "any modality": "that counts every modality with Body Part CHEST (CT, MR, ...); keep "
                        "only CR and DX.",
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


@expects(lambda: Expected(both_views_truth(), near=r"(?i)patients?.*(AP|PA|both)"))
@check
def check_both_views(answer: object) -> Feedback:
    """Exercise 4: patients of the crawl with at least one AP and at least one PA image.
    The number, or the row ``duckdb.sql(...).fetchone()`` returns (one value)."""
    if isinstance(answer, tuple) and len(answer) == 1:
        answer = answer[0]
    answer = as_count(answer)
    if answer is None:
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
