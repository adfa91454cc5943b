"""Turn a crawled chest X-ray cohort into a clean table a model can train on.

The steps of lesson 5, each a small function over pandas tables:

1. :func:`read_labels` reads a labels file in the layout of NIH ChestX-ray14's
   ``Data_Entry_2017.csv`` and tidies its column names;
2. :func:`clean` parses the header text (:mod:`helpers.dicom.vr`) and flags what a
   chest X-ray cohort should not contain: missing or impossible ages, a body
   part other than CHEST, a modality other than CR/DX, lateral views, and
   MONOCHROME1 images (kept, but their pixels must be inverted);
3. :func:`join_labels` joins the header table with the labels, and
   :func:`disagreements` lists where the two disagree (sex, age, view);
4. :func:`one_hot` turns ``"Effusion|Mass"`` into one 0/1 column per finding;
5. :func:`patient_split` splits by patient (no patient in both halves),
   stratified by finding, so that validation measures generalisation to new
   patients rather than memory of old ones.

DICOM references: PS3.3 C.7.3.1 (General Series: Modality, Body Part Examined,
whose defined terms are in PS3.16 Annex L), C.8.1.1 (CR Series: View Position
``PA``, ``AP``, ``LL``, ``RL`` ...), C.7.6.3.1.2 (Photometric Interpretation:
MONOCHROME1 shows the minimum value as white), PS3.5 Table 6.2-1 (AS, DA).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd

from ..dicom.vr import ages_in_years, parse_date, parse_ds

#: The 14 findings of NIH ChestX-ray14 (Wang et al., CVPR 2017), in its order.
FINDINGS: list[str] = [
    "Infiltration", "Effusion", "Atelectasis", "Nodule", "Mass", "Pneumothorax",
    "Consolidation", "Pleural_Thickening", "Cardiomegaly", "Emphysema", "Edema", "Fibrosis",
    "Pneumonia", "Hernia",
]
NO_FINDING = "No Finding"

#: What a frontal chest radiograph's header should say.
CHEST_MODALITIES = ("CR", "DX")
FRONTAL_VIEWS = ("PA", "AP")
#: Oldest credible age in years (the oldest verified human lived 122 years).
MAX_AGE_YEARS = 120
#: How far (years) the header's age may be from the age the birth and study dates give.
AGE_TOLERANCE_YEARS = 1.0

#: The problems :func:`clean` flags, one boolean column each, and what they mean.
FLAGS: dict[str, str] = {
    "age_missing": "Patient's Age absent or empty",
    "age_impossible": f"not a valid age string, over {MAX_AGE_YEARS} years, or not what the "
                      "birth and study dates say",
    "body_part_wrong": "Body Part Examined is not CHEST",
    "modality_wrong": "Modality is not CR or DX",
    "lateral": "a lateral view (View Position LL or RL), not frontal",
    "monochrome1": "MONOCHROME1: pixels must be inverted before use",
}
#: Body Part Examined values that still mean the chest: the defined term (PS3.16
#: Annex L) and a synonym archives use. Any other non-empty value names another
#: region, and the image is not a chest radiograph.
CHEST_TERMS = ("CHEST", "THORAX")


# ---------------------------------------------------------------------------
# Labels


def read_labels(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read an NIH-style labels CSV and tidy its columns.

    The real file's header row has commas inside two bracketed names and every
    line ends with a comma, so pandas reads 12 columns; they are renamed to
    ``Width``, ``Height``, ``Spacing x``, ``Spacing y`` and the empty last one
    is dropped.
    """
    labels = pd.read_csv(path)
    labels = labels.rename(columns={
        "OriginalImage[Width": "Width", "Height]": "Height",
        "OriginalImagePixelSpacing[x": "Spacing x", "y]": "Spacing y",
    })
    return labels.drop(columns=[c for c in labels.columns if c.startswith("Unnamed")])


def one_hot(labels: pd.Series, findings: list[str] | None = None) -> pd.DataFrame:
    """One 0/1 column per finding from ``|``-joined labels; ``No Finding`` is all zeros.

    pandas' ``Series.str.get_dummies("|")`` makes the columns; this adds what a
    training table needs on top: columns are ``findings`` (default :data:`FINDINGS`)
    in that order, even for a finding no row has, and a label not in the list (or an
    empty one, which get_dummies makes a column ``""``) raises ``ValueError`` naming
    its row (a typo in the labels file must not become a column of its own, or be
    dropped silently).
    """
    findings = FINDINGS if findings is None else findings
    text = labels.astype(str).str.replace(r"\s*\|\s*", "|", regex=True).str.strip()
    dummies = text.str.get_dummies("|")
    unknown = [c for c in dummies.columns if c not in findings and c != NO_FINDING]
    bad = dummies[unknown].sum(axis=1) > 0
    if bad.any():
        i = bad.idxmax()
        label = next(c for c in unknown if dummies.at[i, c])
        raise ValueError(f"row {i}: unknown finding {label!r} in {labels[i]!r}")
    return dummies.reindex(columns=findings, fill_value=0).astype("int8")


# ---------------------------------------------------------------------------
# Cleaning and validation


def _years_between(born: object, on: object) -> float:
    if born is None or on is None:
        return math.nan
    return (on - born).days / 365.25


def clean(table: pd.DataFrame) -> pd.DataFrame:
    """Parse the header text of a :func:`helpers.tables.crawl.scan` table and flag problems.

    Adds ``age_years`` (from the AS value, PS3.5), ``age_from_dates`` (study date
    minus birth date), ``study_date`` (a date), ``spacing_mm`` (first Pixel
    Spacing value, else Imager Pixel Spacing), ``view`` (View Position), one
    boolean column per :data:`FLAGS` entry, ``problems`` (the flags joined by
    ``;``), ``excluded`` (why the image cannot be in a frontal chest X-ray set:
    a lateral view, or a body part naming another region; empty otherwise) and
    ``keep`` (``excluded`` is empty). An empty body part or the synonym THORAX
    is flagged but kept. Nothing is dropped or overwritten: the original columns
    stay as they were.
    """
    out = table.copy()
    out["age_years"] = ages_in_years(out["PatientAge"])
    born = out["PatientBirthDate"].map(parse_date)
    out["study_date"] = out["StudyDate"].map(parse_date)
    out["age_from_dates"] = [_years_between(b, s) for b, s in zip(born, out["study_date"],
                                                                   strict=True)]
    spacing = out["PixelSpacing"].where(out["PixelSpacing"].notna(), out["ImagerPixelSpacing"])
    out["spacing_mm"] = [v[0] if (v := parse_ds(s)) else math.nan for s in spacing]
    out["view"] = out["ViewPosition"]

    out["age_missing"] = out["PatientAge"].isna() | (out["PatientAge"].astype("string")
                                                      .str.strip() == "")
    off = (out["age_years"] - out["age_from_dates"]).abs() > AGE_TOLERANCE_YEARS
    out["age_impossible"] = ~out["age_missing"] & (
        out["age_years"].isna() | (out["age_years"] > MAX_AGE_YEARS) | off.fillna(False))
    out["body_part_wrong"] = out["BodyPartExamined"].fillna("").str.upper() != "CHEST"
    out["modality_wrong"] = ~out["Modality"].isin(CHEST_MODALITIES)
    out["lateral"] = ~out["ViewPosition"].isin(FRONTAL_VIEWS)
    out["monochrome1"] = out["PhotometricInterpretation"] == "MONOCHROME1"
    flags = out[list(FLAGS)]
    out["problems"] = [";".join(f for f, on in row.items() if on) for _, row in flags.iterrows()]
    part = out["BodyPartExamined"].fillna("").str.strip().str.upper()
    other_region = (part != "") & ~part.isin(CHEST_TERMS)
    out["excluded"] = [
        "lateral view" if lat else f"body part {p}" if other else ""
        for lat, other, p in zip(out["lateral"], other_region, part, strict=True)
    ]
    out["keep"] = out["excluded"] == ""
    return out


def problem_counts(cleaned: pd.DataFrame) -> pd.DataFrame:
    """How many images have each flag, with what the flag means."""
    return pd.DataFrame({
        "images": [int(cleaned[f].sum()) for f in FLAGS],
        "meaning": list(FLAGS.values()),
    }, index=pd.Index(list(FLAGS), name="flag"))


def best_age(cleaned: pd.DataFrame) -> pd.Series:
    """The age to use: the header's when it is credible, else the one the dates give."""
    usable = ~(cleaned["age_missing"] | cleaned["age_impossible"])
    return cleaned["age_years"].where(usable, cleaned["age_from_dates"]).rename("age")


# ---------------------------------------------------------------------------
# Joining with the labels


def join_labels(table: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Join header rows with label rows on the file name (``Image Index``).

    An inner join; :func:`unmatched` says which rows found no partner. Label
    columns keep their NIH names, header columns their DICOM keywords.
    """
    names = table["path"].str.rsplit("/", n=1).str[-1]
    joined = table.assign(**{"Image Index": names}).merge(
        labels, on="Image Index", how="inner", validate="one_to_one")
    return joined


def unmatched(table: pd.DataFrame, labels: pd.DataFrame) -> dict[str, list[str]]:
    """File names in the headers but not the labels, and the other way round."""
    names = set(table["path"].str.rsplit("/", n=1).str[-1])
    listed = set(labels["Image Index"])
    return {"no label": sorted(names - listed), "no image": sorted(listed - names)}


def disagreements(joined: pd.DataFrame) -> pd.DataFrame:
    """Where the header and the labels file disagree: one row per image and field.

    Compares sex (Patient's Sex vs Patient Gender), age in whole years (the
    header's AS value, floored, vs Patient Age) and view (View Position); a
    value missing on one side is not a disagreement (it is counted by
    :func:`clean`). Columns: ``Image Index``, ``field``, ``header``, ``labels``.
    """
    ages = ages_in_years(joined["PatientAge"])
    header_age = np.floor(ages + 1e-9)
    checks = {
        "sex": (joined["PatientSex"], joined["Patient Gender"]),
        "age": (header_age, joined["Patient Age"].astype("float64")),
        "view": (joined["ViewPosition"], joined["View Position"]),
    }
    rows = []
    for field, (header, listed) in checks.items():
        differ = header.notna() & listed.notna() & (header != listed)
        for i in joined.index[differ]:
            h, v = header[i], listed[i]
            rows.append({"Image Index": joined.at[i, "Image Index"], "field": field,
                         "header": joined.at[i, "PatientAge"] if field == "age" else h,
                         "labels": int(v) if field == "age" else v})
    out = pd.DataFrame(rows, columns=["Image Index", "field", "header", "labels"])
    return out.sort_values(["field", "Image Index"], ignore_index=True)


# ---------------------------------------------------------------------------
# Patient-level split


def patient_split(
    df: pd.DataFrame,
    *,
    patient: str = "PatientID",
    labels: list[str] | None = None,
    validation: float = 0.2,
    seed: int = 0,
) -> pd.Series:
    """Assign every row to ``"train"`` or ``"validation"``, whole patients at a time.

    All images of one patient go to the same side, so no patient is in both.
    Stratified by finding with iterative stratification (Sechidis, Tsoumakas and
    Vlahavas, ECML PKDD 2011) at patient level: the rarest finding's patients
    are placed first, each on the side that still most lacks images with that
    finding, then the next rarest, and so on; patients with no finding fill the
    sides up to the wanted number of images. ``labels``: the 0/1 finding
    columns (default :data:`FINDINGS`). Deterministic for a given ``seed``.
    """
    labels = FINDINGS if labels is None else labels
    rng = np.random.default_rng(seed)
    per_patient = df.groupby(patient, sort=True)[labels].sum()
    sizes = df.groupby(patient, sort=True).size()
    patients = list(per_patient.index)
    counts = per_patient.to_numpy(dtype=float)
    fractions = np.array([1 - validation, validation])
    wanted = fractions[:, None] * counts.sum(axis=0)[None, :]   # sides x labels
    wanted_images = fractions * sizes.sum()
    side = np.full(len(patients), -1)
    order = rng.permutation(len(patients))

    def place(i: int, column: int | None) -> None:
        lack = wanted[:, column] if column is not None else wanted_images
        best = np.flatnonzero(lack == lack.max())
        if len(best) > 1:  # tie: the side lacking more images, then chance
            more = wanted_images[best]
            best = best[more == more.max()]
        s = int(best[0] if len(best) == 1 else rng.choice(best))
        side[i] = s
        wanted[s] -= counts[i]
        wanted_images[s] -= sizes.iloc[i]

    while True:
        left = side == -1
        remaining = (counts[left] > 0).sum(axis=0)
        if not remaining.any():
            break
        column = int(np.argmin(np.where(remaining > 0, remaining, np.iinfo(int).max)))
        for i in order:
            if side[i] == -1 and counts[i, column] > 0:
                place(i, column)
    for i in order:
        if side[i] == -1:
            place(i, None)
    names = np.array(["train", "validation"])
    mapping = dict(zip(patients, names[side], strict=True))
    return df[patient].map(mapping).rename("split")


def prevalence_by_split(df: pd.DataFrame, split: pd.Series,
                        labels: list[str] | None = None) -> pd.DataFrame:
    """Fraction of images with each finding, overall and on each side of a split."""
    labels = FINDINGS if labels is None else labels
    out = pd.DataFrame({"all": df[labels].mean()})
    for name in ("train", "validation"):
        out[name] = df.loc[split == name, labels].mean()
    out["images"] = df[labels].sum()
    return out
