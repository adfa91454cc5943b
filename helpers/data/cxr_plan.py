"""The plan of the synthetic chest X-ray cohort: one row per image, no pixels.

:func:`plan` decides everything the DICOM headers and the labels CSV will say,
and records the truth about every defect it injects, so that tests and lesson 5
(which has to *find* those defects) can compare what they found with what was
done. It is pure and fast (no file is read or written); :mod:`.synth_cxr` turns
the plan into files and :mod:`.cxr_render` into pixels.

Source of the statistics
------------------------
Wang X, Peng Y, Lu L, Lu Z, Bagheri M, Summers RM. *ChestX-ray8: Hospital-scale
chest X-ray database and benchmarks on weakly-supervised classification and
localization of common thorax diseases.* CVPR 2017, pp. 2097-2106 (the NIH
ChestX-ray14 release: 112,120 frontal images of 30,805 patients, labels file
``Data_Entry_2017.csv``). Per-label image counts are :data:`PUBLISHED_COUNTS`;
mean age about 47 years, about 56 % male, about 60 % PA and 40 % AP views.

Findings are drawn with a Gaussian copula: each of the 14 labels has a latent
normal variable thresholded at its published prevalence; the latents share a
common factor (loading :data:`COMMON_LOADING`) and a group factor
(:data:`GROUPS`, loading :data:`GROUP_LOADING`), so Effusion comes with
Atelectasis, Infiltration, Edema or Cardiomegaly more often than chance, and
Nodule with Mass. The loadings were chosen so that the fraction of images with
no label (53.8 %) and the labels per abnormal image (1.57) match the published
file. A patient's follow-ups share half of their latent variance (findings
persist). The marginal prevalence of every label is exactly the published one.

The header (PS3.3 A.2, CR Image IOD)
------------------------------------
Patient module (C.7.1.1): Patient's Name, ID, Birth Date, Sex, Other Patient IDs;
Patient Study (C.7.2.2): Patient's Age, an AS string (PS3.5 Table 6.2-1:
``nnnD``, ``nnnW``, ``nnnM`` or ``nnnY``) computed from the birth date on the
study date (days under 4 weeks, weeks under 13 weeks, months under 2 years,
years otherwise); General Study (C.7.2.1); General Series (C.7.3.1) with
Modality; CR Series (C.8.1.1) with Body Part Examined and View Position;
General Equipment (C.7.5.1); General Image (C.7.6.1); Image Pixel (C.7.6.3);
CR Image (C.8.1.2) with Photometric Interpretation MONOCHROME1 or MONOCHROME2
and Imager Pixel Spacing; SOP Common (C.12.1).

Defects (column ``defect``; each defective image has exactly one)
----------------------------------------------------------------
Chosen at the fixed rates of :data:`DEFECT_RATES` among adult images, disjoint:

- ``age_missing``: Patient's Age (0010,1010) absent from the header;
- ``age_empty``: Patient's Age present with an empty value;
- ``age_impossible``: ``150Y``, ``000Y`` or ``412Y`` in the header, and the
  same number in the CSV (the real NIH file has ages of 148 to 414);
- ``body_part_abdomen``: Body Part Examined ``ABDOMEN``;
- ``body_part_thorax``: ``THORAX``, not the defined term ``CHEST`` (a lower-case
  ``chest``, common in real archives, would break the CS value representation
  and the rule that every file validates, so the synonym stands in for it);
- ``body_part_empty``: Body Part Examined present but empty (it is Type 2 in the
  CR Series module, so it cannot be absent from a valid file);
  ``body_part_cspine``: ``CSPINE``, another examination's body part;
- ``modality_ot``: Modality ``OT`` (other) in a CR image; legal to the validator,
  wrong for the SOP class;
- ``lateral``: a lateral view, View Position ``LL`` or ``RL`` in the header. The
  NIH CSV only knows PA and AP, and says ``PA`` for these images, as a labeller
  who never looked would;
- ``monochrome1``: stored with Photometric Interpretation MONOCHROME1 (PS3.3
  C.7.6.3.1.2: the minimum value is displayed white), so the stored values are
  the inverse of a MONOCHROME2 image's; not wrong, but a reader that ignores it
  shows a negative;
- ``csv_sex``, ``csv_age``, ``csv_view``: the CSV disagrees with the header
  (sex flipped; age off by 2 to 12 years; PA and AP swapped). The header is
  right (consistent with the birth date, the truth columns).

Not defects but real-archive variety: a few paediatric patients (``paediatric``)
whose header ages are in days, weeks or months (the CSV has whole years, 0 for
infants), AP views more common among follow-ups than first images.

Truth columns: ``true_age_years`` (float), ``true_sex``, ``true_view``
(``PA``, ``AP``, ``LL`` or ``RL``), ``defect``, ``paediatric``, and the
rendering truth ``ctr`` (cardiothoracic ratio drawn) and ``pixel_seed``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from statistics import NormalDist

import numpy as np
import pandas as pd

from .fake_people import fake_patient
from .uids import uid

DEFAULT_SEED = 2017

#: Images per label in the published dataset (Wang et al. 2017, 112,120 images).
PUBLISHED_TOTAL = 112_120
PUBLISHED_COUNTS: dict[str, int] = {
    "No Finding": 60361, "Infiltration": 19894, "Effusion": 13317, "Atelectasis": 11559,
    "Nodule": 6331, "Mass": 5782, "Pneumothorax": 5302, "Consolidation": 4667,
    "Pleural_Thickening": 3385, "Cardiomegaly": 2776, "Emphysema": 2516, "Edema": 2303,
    "Fibrosis": 1686, "Pneumonia": 1431, "Hernia": 227,
}
#: The 14 findings, in the order of the published table.
FINDINGS: list[str] = [k for k in PUBLISHED_COUNTS if k != "No Finding"]

#: Copula groups: labels in one group co-occur more often than chance.
GROUPS: dict[str, int] = {
    "Infiltration": 0, "Effusion": 0, "Atelectasis": 0, "Consolidation": 0, "Edema": 0,
    "Pneumonia": 0, "Cardiomegaly": 0, "Nodule": 1, "Mass": 1, "Pneumothorax": 2,
    "Emphysema": 2, "Fibrosis": 2, "Pleural_Thickening": 2, "Hernia": 3,
}
COMMON_LOADING = 0.10   # variance share of the factor common to all labels
GROUP_LOADING = 0.15    # variance share of the group factor
PATIENT_SHARE = 0.5     # variance share of a patient's latents kept across follow-ups

N_PATIENTS = 120
MALE_FRACTION = 0.565  # of patients
N_IMAGES = 360
#: (rows, columns, pixel spacing in mm): a 35 x 43 cm cassette and a 43 x 43 cm detector.
SIZES: list[tuple[int, int, float]] = [(320, 256, 1.35), (256, 256, 1.68)]

#: Fraction of all images given each defect (at least 2 images each).
DEFECT_RATES: dict[str, float] = {
    "age_missing": 0.02, "age_empty": 0.015, "age_impossible": 0.015,
    "body_part_abdomen": 0.01, "body_part_thorax": 0.015, "body_part_empty": 0.01,
    "body_part_cspine": 0.01, "modality_ot": 0.025, "lateral": 0.03, "monochrome1": 0.05,
    "csv_sex": 0.02, "csv_age": 0.02, "csv_view": 0.02,
}
IMPOSSIBLE_AGES = [150, 0, 412]
#: Paediatric patients' age at their first image, in days.
PAEDIATRIC_FIRST_AGE_DAYS = [3, 70, 180, 540, 2300]

#: The CSV columns as pandas reads the real file (its header row splits the two
#: bracketed names at their commas and ends with a comma: 12 columns).
CSV_HEADER = ("Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,"
              "View Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],")


def age_string(birth: str, on: str) -> str:
    """Age on date ``on`` of a person born on ``birth`` as a DICOM AS value (PS3.5 6.2)."""
    b, d = _date(birth), _date(on)
    days = (d - b).days
    years = d.year - b.year - ((d.month, d.day) < (b.month, b.day))
    months = (d.year - b.year) * 12 + d.month - b.month - (d.day < b.day)
    if days < 28:
        return f"{days:03d}D"
    if days < 91:
        return f"{days // 7:03d}W"
    if years < 2:
        return f"{months:03d}M"
    return f"{years:03d}Y"


def _date(s: str) -> dt.date:
    return dt.date(int(s[:4]), int(s[4:6]), int(s[6:]))


def _images_per_patient(rng: np.random.Generator, paediatric: set[int]) -> np.ndarray:
    """Images per patient: mostly 1 to 4, three adults with many (as in the NIH set).

    Paediatric patients get at most 3; the total is exactly :data:`N_IMAGES`.
    """
    cap = np.array([3 if p in paediatric else 8 for p in range(N_PATIENTS)])
    counts = np.minimum(1 + rng.negative_binomial(1, 0.45, N_PATIENTS), cap)
    adults = [p for p in range(N_PATIENTS) if p not in paediatric]
    many = rng.choice(adults, 3, replace=False)
    counts[many] = rng.integers(14, 22, 3)
    cap[many] = 0  # the busy patients are left alone below
    while counts.sum() != N_IMAGES:  # adjust one patient at a time, deterministically
        i = int(rng.integers(N_PATIENTS))
        if counts.sum() > N_IMAGES and 1 < counts[i] <= cap[i]:
            counts[i] -= 1
        elif counts.sum() < N_IMAGES and counts[i] < cap[i]:
            counts[i] += 1
    return counts


def _latents(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` x 14 correlated standard normal latents (the copula; see module docstring)."""
    groups = np.array([GROUPS[f] for f in FINDINGS])
    common = rng.standard_normal((n, 1))
    group = rng.standard_normal((n, groups.max() + 1))[:, groups]
    own = rng.standard_normal((n, len(FINDINGS)))
    return (np.sqrt(COMMON_LOADING) * common + np.sqrt(GROUP_LOADING) * group
            + np.sqrt(1 - COMMON_LOADING - GROUP_LOADING) * own)


def _thresholds() -> np.ndarray:
    return np.array([NormalDist().inv_cdf(1 - PUBLISHED_COUNTS[f] / PUBLISHED_TOTAL)
                     for f in FINDINGS])


def plan(seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """Return the cohort plan: one row per image, sorted by ``image_index``.

    Columns hold the CSV values (``csv_*``, ``finding_labels``, ``follow_up``,
    ``patient_number``, ``width``, ``height``, ``spacing``), the header values
    (``patient_name`` ... ``photometric``; ``None`` means the element is absent),
    and the truth (``true_*``, ``defect``, ``paediatric``, ``ctr``,
    ``pixel_seed``). See the module docstring for the defects.
    """
    rng = np.random.default_rng(seed)
    paediatric = dict(zip(sorted(rng.choice(N_PATIENTS, len(PAEDIATRIC_FIRST_AGE_DAYS),
                                            replace=False).tolist()),
                          PAEDIATRIC_FIRST_AGE_DAYS, strict=True))
    counts = _images_per_patient(rng, set(paediatric))
    males = set(rng.permutation(N_PATIENTS)[:round(MALE_FRACTION * N_PATIENTS)].tolist())
    thresholds = _thresholds()
    rows = []
    for p in range(N_PATIENTS):
        number = p + 1
        n = int(counts[p])
        sex = "M" if p in males else "F"
        first = dt.date(2010, 1, 1) + dt.timedelta(days=int(rng.integers(0, 5 * 365)))
        if p in paediatric:
            person = fake_patient(rng, sex=sex, age=0, on_date=first.strftime("%Y%m%d"))
            birth = first - dt.timedelta(days=paediatric[p])
            person = replace(person, birth_date=birth.strftime("%Y%m%d"))
        else:
            age = int(np.clip(np.round(rng.normal(47, 16.5)), 18, 92))
            person = fake_patient(rng, sex=sex, age=age, on_date=first.strftime("%Y%m%d"))
        size = SIZES[int(rng.random() < 0.35)]
        base_ctr = float(rng.normal(0.44, 0.03)) if p not in paediatric else 0.52
        z_patient = _latents(rng, 1)[0]
        date = first
        for k in range(n):
            if k:
                date += dt.timedelta(days=int(rng.integers(2, 240)))
            z = (np.sqrt(PATIENT_SHARE) * z_patient
                 + np.sqrt(1 - PATIENT_SHARE) * _latents(rng, 1)[0])
            labels = [f for f, zi, t in zip(FINDINGS, z, thresholds, strict=True) if zi > t]
            on = date.strftime("%Y%m%d")
            ap = p in paediatric or rng.random() < (0.25 if k == 0 else 0.55)
            view = "AP" if ap else "PA"
            ctr = base_ctr + (0.15 if "Cardiomegaly" in labels else 0.0)
            years = (date - _date(person.birth_date)).days / 365.25
            index = f"{number:08d}_{k:03d}.dcm"
            rows.append(dict(
                image_index=index, patient_number=number, follow_up=k,
                finding_labels="|".join(labels) or "No Finding",
                csv_patient_age=person.age_on(on), csv_patient_gender=person.sex,
                csv_view_position=view,
                width=size[1], height=size[0], spacing=size[2],
                patient_name=person.name, patient_id=person.patient_id,
                birth_date=person.birth_date, patient_sex=person.sex,
                other_patient_id=person.other_id, institution=person.institution,
                institution_address=person.institution_address,
                referring_physician=person.referring_physician,
                accession_number=f"ACC{number:05d}{k:03d}",
                study_date=on, study_time=f"{int(rng.integers(7, 19)):02d}"
                f"{int(rng.integers(0, 60)):02d}{int(rng.integers(0, 60)):02d}",
                study_uid=uid("cxr_cohort", "study", index),
                series_uid=uid("cxr_cohort", "series", index),
                sop_uid=uid("cxr_cohort", "image", index),
                patient_age=age_string(person.birth_date, on),
                modality="CR", body_part="CHEST", view_position=view,
                photometric="MONOCHROME2", rows=size[0], columns=size[1],
                true_age_years=round(years, 3), true_sex=person.sex, true_view=view,
                defect="", paediatric=p in paediatric, ctr=round(ctr, 3),
                pixel_seed=int(rng.integers(2**31)),
            ))
    df = pd.DataFrame(rows)
    _inject_defects(df, rng)
    for col in ("patient_age", "body_part"):  # None (absent) rather than NaN
        df[col] = pd.Series([None if pd.isna(x) else x for x in df[col]], dtype=object)
    return df.sort_values("image_index", ignore_index=True)


def _inject_defects(df: pd.DataFrame, rng: np.random.Generator) -> None:
    """Give each defect of :data:`DEFECT_RATES` to its own adult images (in place)."""
    pool = list(rng.permutation(np.flatnonzero(~df["paediatric"].to_numpy())))
    for name, rate in DEFECT_RATES.items():
        for i in [pool.pop() for _ in range(max(2, round(rate * len(df))))]:
            df.loc[i, "defect"] = name
            _apply(df, i, name, rng)


def _apply(df: pd.DataFrame, i: int, name: str, rng: np.random.Generator) -> None:
    if name == "age_missing":
        df.loc[i, "patient_age"] = None
    elif name == "age_empty":
        df.loc[i, "patient_age"] = ""
    elif name == "age_impossible":
        age = IMPOSSIBLE_AGES[int(rng.integers(len(IMPOSSIBLE_AGES)))]
        df.loc[i, ["patient_age", "csv_patient_age"]] = [f"{age:03d}Y", age]
    elif name.startswith("body_part_"):
        df.loc[i, "body_part"] = {"abdomen": "ABDOMEN", "thorax": "THORAX", "empty": "",
                                  "cspine": "CSPINE"}[name.removeprefix("body_part_")]
    elif name == "modality_ot":
        df.loc[i, "modality"] = "OT"
    elif name == "lateral":
        side = "LL" if rng.random() < 0.7 else "RL"
        df.loc[i, ["view_position", "true_view", "csv_view_position"]] = [side, side, "PA"]
    elif name == "monochrome1":
        df.loc[i, "photometric"] = "MONOCHROME1"
    elif name == "csv_sex":
        df.loc[i, "csv_patient_gender"] = {"M": "F", "F": "M"}[df.loc[i, "patient_sex"]]
    elif name == "csv_age":
        delta = int(rng.integers(2, 13)) * (1 if rng.random() < 0.5 else -1)
        df.loc[i, "csv_patient_age"] = max(1, int(df.loc[i, "csv_patient_age"]) + delta)
    elif name == "csv_view":
        df.loc[i, "csv_view_position"] = {"PA": "AP", "AP": "PA"}[df.loc[i, "view_position"]]
