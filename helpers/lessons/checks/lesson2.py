"""Checks for Lesson 2, reading images.

Each check works its answer out with pydicom on the real file (headers, the
DICOMDIR's directory records, pixel data decoded by pydicom) and explains the
usual mistakes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pydicom

from ...paths import OUTPUT_DIR, shown
from ..feedback import (
    Expected,
    Feedback,
    as_count,
    as_counts,
    as_mapping,
    as_path,
    check,
    expects,
    right,
    wrong,
)

MULTIFRAME_FILE = "rtdose.dcm"  # an RT dose grid: 15 frames, one per dose plane
YBR_FILE = "SC_ybr_full_uncompressed.dcm"
YBR_PIXEL = (50, 50)  # (row, column)
COPY_SOURCE = "MR_small.dcm"
COPY_KEYWORD = "ImageComments"
COPY_VALUE = "Reviewed in lesson 2"


#: A multi-frame file whose shape the lesson prints (section 5): a hint names it.
SHOWN_MULTIFRAME_FILE = "emri_small.dcm"
#: Which sample of an (R, G, B) or (Y, Cb, Cr) triplet is which.
SAMPLES = ("Y", "Cb", "Cr")


def frames_shape_truth(name: str = MULTIFRAME_FILE) -> tuple[int, int, int]:
    """(Number of Frames, Rows, Columns) of ``name``, from its header."""
    from ...data import real

    ds = pydicom.dcmread(real(name), stop_before_pixels=True)
    return int(ds.NumberOfFrames), int(ds.Rows), int(ds.Columns)


@expects(lambda: Expected(frames_shape_truth()))
@check
def check_frames_shape(answer: object) -> Feedback:
    """Exercise 1: the shape of ``pixel_array`` for the multi-frame :data:`MULTIFRAME_FILE`."""
    shape = as_counts(answer)
    if shape is None:
        count = as_count(answer)
        if count is not None and count == frames_shape_truth()[0]:
            return wrong(f"{count} is the number of frames; the shape has three numbers: "
                         "frames, rows, columns.")
        return wrong("give the shape as a tuple of whole numbers, like ds.pixel_array.shape.")
    frames, rows, cols = frames_shape_truth()
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
    if shape == frames_shape_truth(SHOWN_MULTIFRAME_FILE):
        return wrong(f"{shape} is the shape of {SHOWN_MULTIFRAME_FILE}, printed in section 5; "
                     f"read {MULTIFRAME_FILE}'s own header or pixel_array.")
    if shape == (frames, rows, cols, 1) or shape == (1, frames, rows, cols):
        return wrong("one dimension too many: a grey (one sample per pixel) multi-frame image "
                     "is (frames, rows, columns).")
    return wrong("look at NumberOfFrames, Rows and Columns in the header, or at "
                 "ds.pixel_array.shape.")


def stored_ybr_truth() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(stored Y, Cb, Cr; the same pixel converted to RGB) at :data:`YBR_PIXEL`."""
    from pydicom.pixels import pixel_array

    from ...data import real

    path = real(YBR_FILE)
    row, col = YBR_PIXEL
    return (tuple(int(v) for v in pixel_array(path, as_rgb=False)[row, col]),
            tuple(int(v) for v in pixel_array(path, as_rgb=True)[row, col]))


@expects(lambda: Expected(stored_ybr_truth()[0]))
@check
def check_stored_ybr(answer: object) -> Feedback:
    """Exercise 2: the stored (Y, Cb, Cr) values of one pixel of a YBR_FULL image."""
    from pydicom.pixels import pixel_array

    from ...data import real

    stored, rgb = stored_ybr_truth()
    row, col = YBR_PIXEL
    triplet = as_counts(answer, 3)
    if triplet is None:
        if as_count(answer) == stored[0]:
            return wrong(f"{stored[0]} is Y alone; give all three samples (Y, Cb, Cr).")
        return wrong("give three whole numbers: (Y, Cb, Cr).")
    if triplet == stored:
        return right(f"{stored} as stored: Y (brightness) {stored[0]}, then the two colour "
                     f"differences; shown on screen this pixel is RGB {rgb}.")
    if triplet == rgb:
        return wrong(f"{rgb} is the pixel after pydicom converted it to RGB (the default). "
                     "Ask for the stored values with as_rgb=False.")
    path = real(YBR_FILE)
    if triplet == tuple(int(v) for v in pixel_array(path, as_rgb=False)[col, row]):
        return wrong("row and column are swapped: arrays are indexed [row, column].")
    for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        if triplet == tuple(int(v) for v in pixel_array(path, as_rgb=False)[row + dr, col + dc]):
            return wrong("that is a neighbouring pixel: off by one. Index [50, 50] counts "
                         "from 0, the 51st row and column.")
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


#: The counts lesson 2 prints for pydicom's test tree (section 7), named in a hint.
SHOWN_TREE = "the dicomdirtests folder"


@expects(lambda: Expected(_folder_reference()["instances"], near=r"(?i)instances"))
@check
def check_folder_counts(answer: object) -> Feedback:
    """Exercise 3: patients, studies, series and instances in the X-ray cohort's images.
    A dict (or any mapping, e.g. ``organize_folder(...).counts`` with its extra
    ``errors`` key) with the four counts; extra keys are ignored."""
    keys = ("patients", "studies", "series", "instances")
    given = as_mapping(answer)
    if given is None or not set(keys) <= set(given):
        return wrong(f"give a dict with the keys {', '.join(keys)} (organize_folder(...)"
                     ".counts is one).")
    counts = {k: as_count(given[k]) for k in keys}
    expected = _folder_reference()
    answer = counts
    wrong_keys = [k for k in keys if counts[k] != expected[k]]
    if not wrong_keys:
        return right(", ".join(f"{expected[k]} {k}" for k in keys)
                     + ": every level counted by its own identifier, whatever the file names "
                     "say.")
    if (answer["patients"], answer["instances"]) == _shown_tree_counts():
        return wrong(f"those are the counts of {SHOWN_TREE}, printed in section 7; organise "
                     "the cohort's images, data.cohort_images().")
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


def _shown_tree_counts() -> tuple[int, int]:
    """(patients, instances) of pydicom's dicomdirtests folder, as lesson 2 organises it."""
    from ...data import dicomdir
    from ...tables.organize import organize_folder

    counts = organize_folder(dicomdir().parent).counts
    return counts["patients"], counts["instances"]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


#: Elements a safe copy may change besides :data:`COPY_KEYWORD`: a new SOP Instance UID
#: (lesson 2 recommends one when content changes), which the file meta repeats.
MAY_CHANGE = ("SOPInstanceUID",)


@expects(lambda: Expected(None, why_none="a file the learner writes"))
@check
def check_modified_copy(answer: object) -> Feedback:
    """Exercise 4: a copy of MR_small with a new Image Comments, written under output/
    (a new SOP Instance UID is fine too). The answer: the path save_copy returns, as a
    Path or text, or the dataset written (its ``filename``)."""
    given = as_path(answer)
    if given is None:
        return wrong("give the path of the file you wrote (save_copy returns it).")
    from ...data import DATA_DIR, DataError, read_manifest, real

    path = given.resolve()
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
    comment = copy.get(COPY_KEYWORD)
    if comment != COPY_VALUE and str(comment or "").strip().lower() == COPY_VALUE.lower():
        return wrong(f"almost: the copy's {COPY_KEYWORD} is {comment!r}; write exactly "
                     f"{COPY_VALUE!r} (letter case and spaces are part of a text value).")
    if comment != COPY_VALUE:
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
    allowed = (COPY_KEYWORD, *MAY_CHANGE)
    changed = sorted(el.keyword or str(el.tag) for el in original
                     if el.keyword not in allowed
                     and (el.tag not in copy or copy[el.tag].value != el.value))
    added = sorted(el.keyword or str(el.tag) for el in copy
                   if el.keyword not in allowed and el.tag not in original)
    if changed or added:
        what = ", ".join([*changed, *added][:5])
        return wrong(f"only {COPY_KEYWORD} should differ, but so do: {what}.")
    new_uid = copy.get("SOPInstanceUID") != original.get("SOPInstanceUID")
    if new_uid and copy.file_meta.get("MediaStorageSOPInstanceUID") != copy.SOPInstanceUID:
        return wrong("the copy has a new SOP Instance UID, but its file meta still names the "
                     "old one in Media Storage SOP Instance UID (0002,0003): set both.")
    uid = " and a new SOP Instance UID" if new_uid else ""
    return right(f"{shown(path)} has {COPY_KEYWORD} = {COPY_VALUE!r}{uid}, every other "
                 f"element (pixels included) as in {COPY_SOURCE}, and the original is "
                 "untouched.")
