"""Checks for Lesson 2, reading images.

Each check works its answer out with pydicom on the real file (headers, the
DICOMDIR's directory records, pixel data decoded by pydicom) and explains the
usual mistakes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pydicom

from ...paths import OUTPUT_DIR, shown
from ..feedback import Feedback, check, right, wrong

MULTIFRAME_FILE = "rtdose.dcm"  # an RT dose grid: 15 frames, one per dose plane
YBR_FILE = "SC_ybr_full_uncompressed.dcm"
YBR_PIXEL = (50, 50)  # (row, column)
COPY_SOURCE = "MR_small.dcm"
COPY_KEYWORD = "ImageComments"
COPY_VALUE = "Reviewed in lesson 2"


def _ints(answer: object) -> tuple[int, ...] | None:
    """A tuple of ints from a tuple, list or numpy array of integers, else None."""
    if isinstance(answer, np.ndarray):
        answer = answer.tolist()
    if not isinstance(answer, tuple | list):
        return None
    if not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in answer):
        return None
    return tuple(int(v) for v in answer)


@check
def check_frames_shape(answer: object) -> Feedback:
    """Exercise 1: the shape of ``pixel_array`` for the multi-frame :data:`MULTIFRAME_FILE`."""
    shape = _ints(answer)
    if shape is None:
        return wrong("give the shape as a tuple of whole numbers, like ds.pixel_array.shape.")
    from ...data import real

    ds = pydicom.dcmread(real(MULTIFRAME_FILE), stop_before_pixels=True)
    frames, rows, cols = int(ds.NumberOfFrames), int(ds.Rows), int(ds.Columns)
    if shape == (frames, rows, cols):
        return right(f"({frames}, {rows}, {cols}): Number of Frames first, then Rows, then "
                     "Columns; ds.pixel_array[i] is frame i.")
    if shape == (rows, cols):
        return wrong(f"({rows}, {cols}) is one frame; this file holds Number of Frames = "
                     f"{frames} of them.")
    if sorted(shape) == sorted((frames, rows, cols)):
        return wrong("the numbers are right but not their order: pydicom puts the frame "
                     "index first, then rows, then columns.")
    if shape == (frames,):
        return wrong(f"{frames} is the number of frames; each frame is a {rows} x {cols} "
                     "grid, so the array has three dimensions.")
    return wrong("look at NumberOfFrames, Rows and Columns in the header, or at "
                 "ds.pixel_array.shape.")


@check
def check_stored_ybr(answer: object) -> Feedback:
    """Exercise 2: the stored (Y, Cb, Cr) values of one pixel of a YBR_FULL image."""
    triplet = _ints(answer)
    if triplet is None or len(triplet) != 3:
        return wrong("give three whole numbers: (Y, Cb, Cr).")
    from pydicom.pixels import pixel_array

    from ...data import real

    path = real(YBR_FILE)
    row, col = YBR_PIXEL
    stored = tuple(int(v) for v in pixel_array(path, as_rgb=False)[row, col])
    rgb = tuple(int(v) for v in pixel_array(path, as_rgb=True)[row, col])
    if triplet == stored:
        return right(f"{stored} as stored: Y (brightness) {stored[0]}, then the two colour "
                     f"differences; shown on screen this pixel is RGB {rgb}.")
    if triplet == rgb:
        return wrong(f"{rgb} is the pixel after pydicom converted it to RGB (the default). "
                     "Ask for the stored values with as_rgb=False.")
    if triplet == tuple(int(v) for v in pixel_array(path, as_rgb=False)[col, row]):
        return wrong("row and column are swapped: arrays are indexed [row, column].")
    return wrong(f"read the pixel at row {row}, column {col} of the array pydicom returns "
                 "with as_rgb=False.")


def _folder_reference() -> dict[str, int]:
    """Patients, studies, series and instances among the chest X-ray cohort's images,
    counted from the identifiers in each header (PS3.3 C.7.1.1, C.7.2.1, C.7.3.1, C.12.1)."""
    from ...data import cohort_images

    tags = ["PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"]
    ids: dict[str, set[str]] = {t: set() for t in tags}
    for path in sorted(cohort_images().glob("*.dcm")):
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=tags)
        for t in tags:
            ids[t].add(str(ds.get(t, "")))
    return {"patients": len(ids["PatientID"]), "studies": len(ids["StudyInstanceUID"]),
            "series": len(ids["SeriesInstanceUID"]), "instances": len(ids["SOPInstanceUID"])}


@check
def check_folder_counts(answer: object) -> Feedback:
    """Exercise 3: patients, studies, series and instances in the X-ray cohort's images."""
    keys = ("patients", "studies", "series", "instances")
    if not isinstance(answer, dict) or set(answer) != set(keys):
        return wrong(f"give a dict with exactly the keys {', '.join(keys)}.")
    expected = _folder_reference()
    wrong_keys = [k for k in keys if answer[k] != expected[k]]
    if not wrong_keys:
        return right(", ".join(f"{expected[k]} {k}" for k in keys)
                     + ": every level counted by its own identifier, whatever the file names "
                     "say.")
    if answer["instances"] == expected["instances"] + 1:
        return wrong("one instance too many: the labels CSV next to images/ is not a DICOM "
                     "instance. Organise images/ (data.cohort_images()).")
    if answer["patients"] == expected["studies"] and "patients" in wrong_keys:
        return wrong("your patient count is the study count: a patient has one study per "
                     "visit here, so count distinct Patient IDs.")
    if answer["studies"] == expected["instances"] and "studies" in wrong_keys:
        return wrong("your study count is the instance count: several images can share one "
                     "study. Count distinct Study Instance UIDs.")
    return wrong(f"{', '.join(wrong_keys)} {'is' if len(wrong_keys) == 1 else 'are'} not "
                 "right: count distinct Patient IDs, Study Instance UIDs, Series Instance "
                 "UIDs and SOP Instance UIDs.")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@check
def check_modified_copy(answer: object) -> Feedback:
    """Exercise 4: a copy of MR_small with a new Image Comments, written under output/."""
    if not isinstance(answer, str | os.PathLike):
        return wrong("give the path of the file you wrote (save_copy returns it).")
    from ...data import DATA_DIR, DataError, read_manifest, real

    path = Path(answer).resolve()
    source = real(COPY_SOURCE).resolve()
    if path == source:
        return wrong("that is the original file: write a copy to a new file instead.")
    if not path.is_file():
        return wrong(f"there is no file at {shown(path)}: did the save cell run?")
    if not path.is_relative_to(OUTPUT_DIR):
        return wrong(f"{shown(path)} is outside output/: write lesson files into "
                     "helpers.paths.output_dir('lesson2').")
    try:
        copy = pydicom.dcmread(path)
    except Exception as exc:
        return wrong(f"{shown(path)} cannot be read back as DICOM ({type(exc).__name__}).")
    original = pydicom.dcmread(source)
    if copy.get(COPY_KEYWORD) != COPY_VALUE:
        return wrong(f"the copy's {COPY_KEYWORD} is {copy.get(COPY_KEYWORD)!r}, not "
                     f"{COPY_VALUE!r}.")
    if original.get(COPY_KEYWORD) == COPY_VALUE:
        return wrong(f"the ORIGINAL {COPY_SOURCE} was changed too: never write over a source "
                     "file (rebuild the data with `make data`).")
    try:
        expected_hash = read_manifest().files.get(source.relative_to(DATA_DIR).as_posix())
    except DataError:  # no manifest yet (data collected by hand): nothing to compare
        expected_hash = None
    if expected_hash is not None and _sha256(source) != expected_hash:
        return wrong(f"the original {COPY_SOURCE} no longer matches the data manifest: it "
                     "was modified (rebuild the data with `make data`).")
    changed = sorted(el.keyword or str(el.tag) for el in original
                     if el.keyword != COPY_KEYWORD
                     and (el.tag not in copy or copy[el.tag].value != el.value))
    added = sorted(el.keyword or str(el.tag) for el in copy
                   if el.keyword != COPY_KEYWORD and el.tag not in original)
    if changed or added:
        what = ", ".join([*changed, *added][:5])
        return wrong(f"only {COPY_KEYWORD} should differ, but so do: {what}.")
    return right(f"{shown(path)} has {COPY_KEYWORD} = {COPY_VALUE!r}, every other element "
                 f"(pixels included) as in {COPY_SOURCE}, and the original is untouched.")
