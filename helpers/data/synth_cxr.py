"""Write the synthetic chest X-ray cohort: DICOM images plus an NIH-style labels CSV.

``generate(out_dir)`` writes

- ``out_dir/images/<Image Index>``, one CR Image (PS3.3 A.2) per row of
  :func:`.cxr_plan.plan`, e.g. ``00000001_000.dcm`` (patient 1, follow-up 0);
- ``out_dir/Data_Entry_2017.csv`` in the layout of NIH ChestX-ray14's labels file
  (Wang et al., CVPR 2017): ``Image Index`` (the file name, as in the NIH file),
  ``Finding Labels`` (joined by ``|`` or ``No Finding``), ``Follow-up #``,
  ``Patient ID`` (the NIH integer, not the header's MRN), ``Patient Age``
  (whole years), ``Patient Gender`` (M/F), ``View Position`` (PA/AP),
  ``OriginalImage[Width,Height]`` and ``OriginalImagePixelSpacing[x,y]``. As in
  the real file the header row's bracketed names contain commas and every line
  ends with a comma, so pandas reads 12 columns: ``OriginalImage[Width``,
  ``Height]``, ``OriginalImagePixelSpacing[x``, ``y]`` and ``Unnamed: 11``.

What is in the headers, and which defects are injected where, is documented in
:mod:`.cxr_plan`; the pixels come from :mod:`.cxr_render`. Everything is
deterministic: two runs write identical bytes.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import numpy as np
import pandas as pd
from pydicom.dataset import Dataset

from .cxr_plan import CSV_HEADER, DEFAULT_SEED, plan
from .cxr_render import render
from .dicomfile import new_dataset, save_new

CR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.1"  # PS3.4 B.5, Computed Radiography Image Storage
CSV_NAME = "Data_Entry_2017.csv"
MANUFACTURERS = [("Fujifilm Medical Systems", "FCR XG5000"), ("Agfa", "CR 85-X"),
                 ("Carestream Health", "DirectView CR 975")]


def header(row: pd.Series) -> Dataset:
    """The CR Image IOD header (PS3.3 A.2) for one plan row, without Pixel Data."""
    ds = new_dataset(CR_IMAGE_STORAGE, row.sop_uid)
    ds.SpecificCharacterSet = "ISO_IR 100"                       # SOP Common C.12.1
    ds.ImageType = ["ORIGINAL", "PRIMARY"]                       # General Image C.7.6.1
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = row.study_date
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = row.study_time
    ds.AccessionNumber = row.accession_number                    # General Study C.7.2.1
    ds.Modality = row.modality                                   # General Series C.7.3.1
    maker, model = MANUFACTURERS[row.patient_number % len(MANUFACTURERS)]
    ds.Manufacturer = maker                                      # General Equipment C.7.5.1
    ds.InstitutionName = row.institution
    ds.InstitutionAddress = row.institution_address
    ds.ReferringPhysicianName = row.referring_physician
    ds.StationName = f"CR{row.patient_number % 4 + 1:02d}"
    ds.StudyDescription = "XR CHEST"
    ds.SeriesDescription = f"CHEST {row.view_position}"
    ds.ManufacturerModelName = model
    ds.PatientName = row.patient_name                            # Patient C.7.1.1
    ds.PatientID = row.patient_id
    ds.PatientBirthDate = row.birth_date
    ds.PatientSex = row.patient_sex
    ds.OtherPatientIDsSequence = [Dataset()]
    ds.OtherPatientIDsSequence[0].PatientID = row.other_patient_id
    ds.OtherPatientIDsSequence[0].TypeOfPatientID = "TEXT"
    if not pd.isna(row.patient_age):                              # Patient Study C.7.2.2
        ds.PatientAge = row.patient_age
    if not pd.isna(row.body_part):                                # CR Series C.8.1.1
        ds.BodyPartExamined = row.body_part
    ds.KVP = 90 if row.view_position == "AP" else 110            # CR Image C.8.1.2
    ds.ViewPosition = row.view_position
    ds.StudyInstanceUID = row.study_uid
    ds.SeriesInstanceUID = row.series_uid
    ds.StudyID = f"{row.follow_up + 1}"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.PatientOrientation = ["P", "F"] if row.view_position in ("LL", "RL") else ["L", "F"]
    if row.body_part not in ("CHEST", "ABDOMEN", "CSPINE"):
        # Type 2C (C.7.3.1): required if the body part may be paired; unknown here
        ds.Laterality = ""
    ds.SamplesPerPixel = 1                                       # Image Pixel C.7.6.3
    ds.PhotometricInterpretation = row.photometric
    ds.Rows, ds.Columns = int(row.rows), int(row.columns)
    spacing = f"{row.spacing:g}"
    ds.ImagerPixelSpacing = [spacing, spacing]                   # row, column (PS3.3 10.7.1.3)
    ds.PixelSpacing = [spacing, spacing]
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    return ds


def pixels(row: pd.Series) -> np.ndarray:
    """The stored pixel values of one plan row (see :func:`.cxr_render.render`)."""
    return render(rows=int(row.rows), columns=int(row.columns), spacing=float(row.spacing),
                  labels=row.finding_labels.split("|"), view=row.view_position,
                  # quantised on purpose: the plan draws it with numpy's C normal()
                  ctr=round(float(row.ctr), 4), seed=int(row.pixel_seed),
                  female=row.true_sex == "F",
                  age_years=float(row.true_age_years), photometric=row.photometric)


def dataset(row: pd.Series) -> Dataset:
    """The complete dataset of one plan row: header, VOI window and Pixel Data."""
    ds = header(row)
    px = pixels(row)
    lo, hi = np.percentile(px, [1, 99])
    ds.WindowCenter = f"{(lo + hi) / 2:.0f}"                     # VOI LUT C.11.2
    ds.WindowWidth = f"{max(hi - lo, 1):.0f}"
    ds.PixelData = px.astype("<u2").tobytes()
    return ds


def csv_text(df: pd.DataFrame) -> str:
    """The labels file, byte for byte in the NIH layout (trailing comma on every line)."""
    lines = [CSV_HEADER]
    for r in df.itertuples():
        s = f"{r.spacing:g}"
        lines.append(f"{r.image_index},{r.finding_labels},{r.follow_up},{r.patient_number},"
                     f"{r.csv_patient_age},{r.csv_patient_gender},{r.csv_view_position},"
                     f"{r.width},{r.height},{s},{s},")
    return "\n".join(lines) + "\n"


def generate(out_dir: Path, seed: int = DEFAULT_SEED, only: Collection[str] | None = None,
             part: tuple[int, int] = (0, 1)) -> None:
    """Write the cohort (images and labels CSV) into ``out_dir``; refuses to overwrite.

    ``only``: write just these images (Image Index values); the CSV is always complete.
    ``part=(i, n)``: write only every n-th image starting at the i-th (and the CSV
    only in part 0), so that n processes can share the work; each image depends
    only on its own row of the plan, so the parts write the same bytes.
    """
    out_dir = Path(out_dir)
    index, parts = part
    df = plan(seed)
    for k, (_, row) in enumerate(df.iterrows()):
        if k % parts == index and (only is None or row.image_index in only):
            save_new(dataset(row), out_dir / "images" / row.image_index)
    if index == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
        with open(out_dir / CSV_NAME, "x", newline="") as fh:
            fh.write(csv_text(df))
