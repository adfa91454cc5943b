"""Every check accepts every reasonable way of writing a right answer.

Each of the 35 exercise checks gets its right answer, worked out here independently of
the check (pydicom on the files, raw bytes, the labels CSV, numpy), and then the same
answer written the other ways a learner naturally writes it: numpy scalars
(``np.int64``, ``np.float64``), 0-d and one-element arrays (``window()`` returns one),
integral floats where a count is asked, numeric text, surrounding whitespace, another
letter case where case carries no meaning, tuple / list / array, str / Path, the
helpers' own return types (``organize_folder(...).counts``), a ``timedelta``. Every
form must be marked right. The normalisation lives in one place,
``helpers.lessons.feedback``; this test proves each check inherits it.

The typical wrong answers and their hints are tested per lesson in
``test_checks_lesson*.py``; for lessons 7 and 8 (added last) ``WRONG`` below also asserts
that each typical wrong answer, written in the learner's other forms, gets its hint.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest
from pydicom.tag import Tag

from helpers import data
from helpers.image.pixels import window
from helpers.lessons.checks import (
    lesson0,
    lesson1,
    lesson2,
    lesson3,
    lesson4,
    lesson5,
    lesson6,
    lesson7,
    lesson8,
)
from helpers.lessons.feedback import Feedback

# ---------------------------------------------------------------------------
# How one right answer can be written


def number_forms(x: float) -> Iterator[object]:
    """A real number: float, numpy float, 0-d and one-element arrays, text."""
    yield float(x)
    yield np.float64(x)
    yield np.float32(x) if float(np.float32(x)) == x else float(x)
    yield np.array(x)
    yield np.array([x])
    yield np.array([[x]])
    yield pd.Series([x]).sum()
    yield repr(float(x))
    yield f"  {x!r}\n"


def count_forms(n: int) -> Iterator[object]:
    """A whole number: int, numpy ints, an integral float (320.0), arrays, text, and
    what ``(mask).sum()`` gives in pandas."""
    yield int(n)
    yield np.int64(n)
    yield np.int32(n)
    yield np.uint16(n) if n >= 0 else np.int16(n)
    yield float(n)
    yield np.float64(n)
    yield np.array(n)
    yield np.array([n])
    yield pd.Series([True] * n + [False]).sum() if n >= 0 else np.int64(n)
    yield str(n)
    yield f" {n} "


def text_forms(s: str, *, case_free: bool) -> Iterator[object]:
    yield s
    yield f"  {s}\n"
    yield np.str_(s)
    if case_free:
        yield s.lower()
        yield s.upper()
        yield f" {s.swapcase()} "


def choice_forms(letter: str) -> Iterator[object]:
    yield from (letter, letter.upper(), f" {letter} ", f"({letter})", f"{letter.upper()})",
                f"{letter}.", np.str_(letter))


def sequence_forms(items: tuple, *, whole: bool) -> Iterator[object]:
    """A tuple of numbers: tuple, list, array, numpy-typed items, float items."""
    yield tuple(items)
    yield list(items)
    yield np.array(items)
    yield tuple(np.int64(v) if whole else np.float64(v) for v in items)
    yield [float(v) for v in items]
    yield pd.Series(items)
    if whole:
        yield np.array(items, dtype=np.float64)
        yield np.array(items, dtype=np.uint16 if min(items) >= 0 else np.int32)


def name_set_forms(names: set[str], *, case_free: bool = True) -> Iterator[object]:
    """A collection of names: set, frozenset, list, tuple, array, pandas Series / Index,
    whitespace around each, another letter case."""
    ordered = sorted(names)
    yield set(names)
    yield frozenset(names)
    yield list(ordered)
    yield tuple(reversed(ordered))
    yield np.array(ordered)
    yield pd.Series(ordered)
    yield pd.Index(ordered)
    yield {f" {n} " for n in ordered}
    if case_free:
        yield {n.lower() for n in ordered}
        yield {n.upper() for n in ordered}


def days_forms(n: int) -> Iterator[object]:
    yield from count_forms(n)
    yield dt.timedelta(days=n)
    yield np.timedelta64(n, "D")
    yield pd.Timedelta(days=n)
    yield dt.date(2020, 6, 1) + dt.timedelta(days=n) - dt.date(2020, 6, 1)


# ---------------------------------------------------------------------------
# The right answers, worked out independently of the checks


def _first(series: str) -> pydicom.Dataset:
    folder = data.ct_series(series)
    return pydicom.dcmread(folder / min(p.name for p in folder.iterdir()),
                           stop_before_pixels=True)


def _labels_rows() -> list[dict[str, str]]:
    with open(data.cohort_labels(), newline="") as fh:
        return list(csv.DictReader(fh))


def _along(ds: pydicom.Dataset) -> float:
    o = np.array(ds.ImageOrientationPatient, dtype=float)
    return float(np.dot(np.array(ds.ImagePositionPatient, dtype=float), np.cross(o[:3], o[3:])))


def _oblique() -> dict[str, pydicom.Dataset]:
    return {f.name: pydicom.dcmread(f, stop_before_pixels=True)
            for f in sorted(data.ct_series("oblique").glob("*.dcm"))}


Case = tuple[str, Callable[..., Feedback], Callable[[], Iterator[object]], tuple]


def _cases() -> Iterator[Case]:
    # lesson 0
    yield ("l0 bone window", lesson0.check_bone_window,
           lambda: itertools.chain(sequence_forms((500, 2000), whole=True),
                                   [(np.float64(500.0), np.float64(2000.0))]), ())
    header = _first("axial")
    lung = [str(e).upper() for e in header.WindowCenterWidthExplanation].index("LUNG")
    center = float(header.WindowCenter[lung])
    yield ("l0 header window", lesson0.check_header_window,
           lambda: itertools.chain(count_forms(int(center)), [header.WindowCenter[lung]]), ())
    yield ("l0 predict", lesson0.check_predict_grey,
           lambda: itertools.chain(choice_forms("a"), count_forms(255)), ())
    # lesson 1
    tag = pydicom.datadict.tag_for_keyword("ImagePositionPatient")
    vr, vm = pydicom.datadict.dictionary_VR(tag), pydicom.datadict.dictionary_VM(tag)

    def lookup_forms() -> Iterator[object]:
        for t in (tag, np.int64(tag), Tag(tag), "(0020,0032)", "0x00200032", "0020,0032",
                  " 00200032 "):
            yield (t, vr, vm)
        for v in text_forms(vr, case_free=True):
            yield [tag, v, vm]
        for m in count_forms(int(vm)):
            yield (tag, vr, m)
        yield np.array([tag, vr, vm])            # numpy turns the tag into decimal text
    yield ("l1 lookup", lesson1.check_lookup, lookup_forms, ())

    raw = data.real(lesson1.DECODE_FILE).read_bytes()
    at = raw.index(b"\x28\x00\x11\x00US")
    group, elem, vr_bytes, length, value = struct.unpack("<HH2sHH", raw[at:at + 10])
    element = (group << 16 | elem, vr_bytes.decode(), length, value)

    def decode_forms() -> Iterator[object]:
        yield element
        yield list(element)
        yield (np.uint32(element[0]), np.str_(element[1]), np.uint16(length), np.uint16(value))
        yield (f"({group:04X},{elem:04X})", element[1].lower(), float(length), float(value))
        yield (Tag(element[0]), f" {element[1]} ", str(length), np.array([value]))
    yield ("l1 decode", lesson1.check_decoded_element, decode_forms, ())

    # PS3.15 Table E.1-1 (2024b): listed, so removed or replaced by the Basic Profile
    phi = {"InstitutionAddress", "AcquisitionDate", "SeriesDate", "StudyID", "ProtocolName"}
    yield ("l1 phi", lesson1.check_phi,
           lambda: itertools.chain(name_set_forms(phi),
                                   [{"(0008,0081)", "(0008,0022)", "(0008,0021)",
                                     "(0020,0010)", "(0018,1030)"}]), ())
    yield ("l1 series", lesson1.check_series_convention, lambda: choice_forms("d"), ())
    ecg = data.real(lesson1.OFFSET_FILE)
    first = next(iter(pydicom.dcmread(ecg))).tag
    start = ecg.read_bytes().index(struct.pack("<HH", first.group, first.element), 132)
    yield ("l1 offset", lesson1.check_dataset_offset, lambda: count_forms(start), ())
    # lesson 2
    shape = pydicom.dcmread(data.real(lesson2.MULTIFRAME_FILE)).pixel_array.shape
    yield ("l2 shape", lesson2.check_frames_shape,
           lambda: itertools.chain(sequence_forms(shape, whole=True),
                                   [np.empty(shape).shape]), ())
    ybr = pydicom.dcmread(data.real(lesson2.YBR_FILE))
    stored = np.frombuffer(ybr.PixelData, np.uint8).reshape(ybr.Rows, ybr.Columns, 3)[50, 50]
    yield ("l2 ybr", lesson2.check_stored_ybr,
           lambda: itertools.chain(sequence_forms(tuple(int(v) for v in stored), whole=True),
                                   [stored, stored.reshape(1, 3)]), ())
    ids: dict[str, set[str]] = {k: set() for k in ("PatientID", "StudyInstanceUID",
                                                   "SeriesInstanceUID", "SOPInstanceUID")}
    for path in sorted(data.cohort_images().glob("*.dcm")):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        for k, seen in ids.items():
            seen.add(str(ds[k].value))
    counts = dict(zip(("patients", "studies", "series", "instances"),
                      (len(v) for v in ids.values()), strict=True))

    def count_dicts() -> Iterator[object]:
        from helpers.tables.organize import organize_folder

        yield counts
        yield organize_folder(data.cohort_images()).counts   # with its 'errors' key
        yield {**counts, "errors": 0}
        yield {k: np.int64(v) for k, v in counts.items()}
        yield {k: float(v) for k, v in counts.items()}
        yield {f" {k.title()} ": v for k, v in counts.items()}
        yield pd.Series(counts)
    yield ("l2 counts", lesson2.check_folder_counts, count_dicts, ())
    # lesson 2's copy is written per test (it needs a folder): see test_safe_copy_forms
    # lesson 3
    ct = pydicom.dcmread(data.real(lesson3.HU_FILE))
    hu = int(ct.pixel_array[lesson3.HU_PIXEL]) * float(ct.RescaleSlope) + float(
        ct.RescaleIntercept)
    yield ("l3 hu", lesson3.check_hu,
           lambda: itertools.chain(count_forms(int(hu)), number_forms(hu),
                                   [np.int16(hu), np.array([[hu]])]), ())
    c, w = lesson3.GREY_WINDOW
    grey = window(np.array([float(lesson3.GREY_HU)]), c, w)
    yield ("l3 grey", lesson3.check_grey,
           lambda: itertools.chain(count_forms(int(grey[0])), [grey, grey[0]]), ())
    def loader(ds, center, width):
        grey = window(ds.pixel_array * float(ds.get("RescaleSlope", 1))
                      + float(ds.get("RescaleIntercept", 0)), center, width)
        return 255 - grey if ds.PhotometricInterpretation == "MONOCHROME1" else grey
    yield ("l3 loader", lesson3.check_loader,
           lambda: [loader, lambda ds, c, w: loader(ds, c, w).tolist(),
                    lambda ds, c, w: loader(ds, c, w).astype(np.float64)], ())
    mg = pydicom.dcmread(data.mammogram(lesson3.MG_VIEW))
    mg_grey = window(np.array([mg.pixel_array[lesson3.MG_PIXEL]]), mg.WindowCenter[0],
                     mg.WindowWidth[0], function=mg.VOILUTFunction)
    yield ("l3 mammogram", lesson3.check_mammogram_grey,
           lambda: itertools.chain(count_forms(int(mg_grey[0])), [mg_grey, mg_grey[0]]), ())
    # lesson 4
    headers = _oblique()
    o = np.array(next(iter(headers.values())).ImageOrientationPatient, dtype=float)
    normal = np.cross(o[:3], o[3:])
    tilt = float(np.degrees(np.arccos(abs(normal[2]) / np.linalg.norm(normal))))
    yield ("l4 tilt", lesson4.check_tilt, lambda: number_forms(tilt), ())
    last = max(headers, key=lambda n: _along(headers[n]))
    yield ("l4 last slice", lesson4.check_last_slice,
           lambda: itertools.chain(text_forms(last, case_free=True),
                                   [data.ct_series("oblique") / last, Path(last)]), ())

    left = [368, 215, 40]   # clicked in the browser; tested in test_checks_lesson4.py
    yield ("l4 left lung", lesson4.check_left_lung,
           lambda: sequence_forms(tuple(left), whole=True), ())
    # lesson 5
    yield ("l5 age", lesson5.check_age_years,
           lambda: itertools.chain(number_forms(36 * 7 / 365.25), number_forms(36 * 7 / 365),
                                   ["0.69", 0.69, np.float64(0.690)]), ())
    dropped, kept = set(), set()
    for path in sorted(data.cohort_images().glob("*.dcm")):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        part = str(ds.get("BodyPartExamined", "") or "").upper()
        excluded = ds.ViewPosition in ("LL", "RL") or part not in ("", "CHEST", "THORAX")
        (dropped if excluded else kept).add(str(ds.PatientID))
    yield ("l5 excluded", lesson5.check_excluded_patients,
           lambda: count_forms(len(dropped & kept)), ())
    patients = pd.Series(["a", "a", "b", "b", "c", "d", "d"])
    split = pd.Series(["train", "validation", "train", "train", "validation", "validation",
                       "train"])
    yield ("l5 leaked", lesson5.check_leaked_patients, lambda: count_forms(2), (patients, split))
    key = "lesson-4-example-key"
    from helpers.tables.deid import deidentify
    old = pydicom.dcmread(data.cohort_images() / lesson5.SHIFT_FILE, stop_before_pixels=True)
    new = deidentify(old, key=key)
    day = [dt.datetime.strptime(str(d.StudyDate), "%Y%m%d").date() for d in (old, new)]
    yield ("l5 shift", lesson5.check_date_shift,
           lambda: itertools.chain(days_forms((day[1] - day[0]).days), [day[1] - day[0]]),
           (key,))
    hidden = {"ImageComments", "OtherPatientIDsSequence", "(0019,1001)"}
    yield ("l5 hidden phi", lesson5.check_hidden_phi,
           lambda: itertools.chain(
               name_set_forms(hidden),
               [{"ImageComments", "OtherPatientIDsSequence[0].PatientID", "(0019,1001)"},
                {"ImageComments", "OtherPatientIDsSequence", 0x00191001},
                {"ImageComments", "OtherPatientIDsSequence", "0019,1001"},
                {"ImageComments", "OtherPatientIDsSequence", np.int64(0x00191001)},
                {0x00204000, Tag(0x00101002), "0x00191001"}]), ())
    # lesson 6
    rows = _labels_rows()
    ap = [r for r in rows if r["View Position"] == "AP"]
    prevalence = sum("Effusion" in r["Finding Labels"].split("|") for r in ap) / len(ap)
    yield ("l6 prevalence", lesson6.check_prevalence, lambda: number_forms(prevalence), ())
    pairs: dict[tuple[str, str], int] = {}
    for r in rows:
        if r["Patient Gender"] == "F":
            found = sorted(set(r["Finding Labels"].split("|")) - {"No Finding"})
            for p in itertools.combinations(found, 2):
                pairs[p] = pairs.get(p, 0) + 1
    best = max(pairs, key=pairs.get)
    yield ("l6 top pair", lesson6.check_top_pair,
           lambda: itertools.chain(name_set_forms(set(best)),
                                   [best[::-1], "|".join(best),
                                    tuple(b.replace("_", " ") for b in best)]), ())
    import idc_index_data
    idc = pd.read_parquet(idc_index_data.IDC_INDEX_PARQUET_FILEPATH,
                          columns=["Modality", "BodyPartExamined"])
    chest = int((idc["Modality"].isin(["CR", "DX"]) & idc["BodyPartExamined"].eq("CHEST")).sum())
    yield ("l6 chest series", lesson6.check_chest_xray_series, lambda: count_forms(chest), ())
    views: dict[str, set[str]] = {}
    for path in sorted(data.cohort_images().glob("*.dcm")):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        views.setdefault(str(ds.PatientID), set()).add(str(ds.ViewPosition))
    both = sum({"AP", "PA"} <= v for v in views.values())
    yield ("l6 both views", lesson6.check_both_views,
           lambda: itertools.chain(count_forms(both), [(both,), (np.int64(both),)]), ())
    # lesson 7: from the label files read with the lesson's readers (the checks use pydicom)
    truth = _lesson7_truth()
    yield ("l7 liver ml", lesson7.check_liver_ml,
           lambda: itertools.chain(number_forms(truth["liver_ml"]),
                                   [round(truth["liver_ml"], 3), f"{truth['liver_ml']:.2f}"]), ())
    yield ("l7 most anterior", lesson7.check_most_anterior,
           lambda: text_forms(truth["front"], case_free=True), ())
    yield ("l7 shifted dice", lesson7.check_shifted_dice,
           lambda: itertools.chain(number_forms(truth["dice"]), [round(truth["dice"], 4)]), ())
    yield ("l7 first frame", lesson7.check_first_frame_slice,
           lambda: count_forms(truth["slice"]), ())
    # lesson 8: from the files the lesson sends, read with pydicom
    cr, series3 = _lesson8_truth()
    yield ("l8 cr series", lesson8.check_cr_series_in_year,
           lambda: itertools.chain(count_forms(cr), [pd.DataFrame({"x": range(cr)}),
                                                     list(range(cr))]), ())
    yield ("l8 series files", lesson8.check_series_instances,
           lambda: itertools.chain(count_forms(series3), [pd.DataFrame({"x": range(series3)})]),
           ())
    url = ("http://localhost:8042/dicom-web/series?Modality=CR&StudyDate=20130101-20131231"
           "&includefield=SeriesDescription")
    yield ("l8 qido url", lesson8.check_qido_url,
           lambda: [url, f"  {url}\n", np.str_(url), url.replace("Modality", "00080060"),
                    url.replace("SeriesDescription", "0008103E"),
                    url.replace("SeriesDescription", "0008103e")], ())


def _lesson7_truth() -> dict[str, object]:
    from helpers.image.labels import read_seg, seg_frames, segments
    from helpers.image.volume import load_series

    ct = load_series(data.ct_series("axial"))
    organs = read_seg(data.ct_label_file("seg"), ct)
    heart = organs.masks["heart"]
    moved = np.zeros_like(heart)
    moved[:, 3:, :] = heart[:, :-3, :]
    rtss = pydicom.dcmread(data.ct_label_file("rtstruct"))
    names = {int(r.ROINumber): str(r.ROIName) for r in rtss.StructureSetROISequence}
    front_y = {names[int(rc.ReferencedROINumber)]:
               np.concatenate([np.reshape(np.array(c.ContourData, float), (-1, 3))[:, 1]
                               for c in rc.ContourSequence]).min()
               for rc in rtss.ROIContourSequence}
    frames = seg_frames(data.ct_label_file("seg"))
    aorta = int(segments(data.ct_label_file("seg")).set_index("label").loc["aorta", "number"])
    z = frames[frames.segment == aorta].iloc[0].z
    return {"liver_ml": float(organs.volume_ml("liver", ct)),
            "front": min(front_y, key=front_y.get),
            "dice": float(2 * (heart & moved).sum() / (heart.sum() + moved.sum())),
            "slice": int(round((z - ct.origin[2]) / ct.spacing[2]))}


def _lesson8_truth() -> tuple[int, int]:
    cxr = sorted(data.cohort_images().glob("*.dcm"))[:60]
    cr = set()
    for path in cxr:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        if ds.Modality == "CR" and str(ds.StudyDate)[:4] == "2012":
            cr.add(ds.SeriesInstanceUID)
    series3 = sum(str(pydicom.dcmread(p, stop_before_pixels=True).SeriesNumber) == "3"
                  for p in (data.DATA_DIR / "ct_chest").rglob("*.dcm"))
    return len(cr), series3


@pytest.fixture(scope="module")
def cases() -> dict[str, Case]:
    return {case[0]: case for case in _cases()}


CASE_NAMES = ["l0 bone window", "l0 header window", "l0 predict", "l1 lookup", "l1 decode",
              "l1 phi", "l1 series", "l1 offset", "l2 shape", "l2 ybr", "l2 counts",
              "l3 hu", "l3 grey", "l3 loader", "l3 mammogram", "l4 tilt", "l4 last slice",
              "l4 left lung",
              "l5 age", "l5 excluded", "l5 leaked", "l5 shift", "l5 hidden phi",
              "l6 prevalence", "l6 top pair", "l6 chest series", "l6 both views",
              "l7 liver ml", "l7 most anterior", "l7 shifted dice", "l7 first frame",
              "l8 cr series", "l8 series files", "l8 qido url"]


def test_every_check_is_in_the_matrix():
    """All exercise checks of every lesson (the copy of lesson 2 in its own test)."""
    checks = {name for m in (lesson0, lesson1, lesson2, lesson3, lesson4, lesson5, lesson6,
                             lesson7, lesson8)
              for name in dir(m) if name.startswith("check_")}
    covered = {case[1].__name__ for case in _cases()} | {"check_modified_copy"}
    assert checks == covered
    assert set(CASE_NAMES) == {case[0] for case in _cases()}
    assert len(CASE_NAMES) + 1 == len(covered) == 35   # 35 exercises, one check each


def test_every_check_module_is_imported_here():
    """A new lesson's checks cannot be left out of the matrix unnoticed."""
    modules = sorted(p.stem for p in Path(lesson0.__file__).parent.glob("lesson*.py"))
    assert modules == [f"lesson{n}" for n in range(9)]


def test_every_check_uses_the_shared_normalisation():
    """Each check goes through feedback.check (placeholders, numpy scalars) and says what
    it expects (@expects) for the copyable-answer test."""
    for m in (lesson0, lesson1, lesson2, lesson3, lesson4, lesson5, lesson6, lesson7, lesson8):
        for name in dir(m):
            if name.startswith("check_"):
                fn = getattr(m, name)
                assert hasattr(fn, "__wrapped__"), f"{m.__name__}.{name} is not a @check"
                assert hasattr(fn, "expected"), f"{m.__name__}.{name} has no @expects"


@pytest.mark.parametrize("name", CASE_NAMES)
def test_right_answer_in_every_form_is_right(cases, name):
    _, check, forms, args = cases[name]
    tried = 0
    for form in forms():
        feedback = check(form, *args)
        assert isinstance(feedback, Feedback)
        assert feedback.ok, f"{name}: {form!r} ({type(form).__name__}) was refused: {feedback}"
        tried += 1
    assert tried >= 3


@pytest.fixture()
def output(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setattr(lesson2, "OUTPUT_DIR", tmp_path)
    return tmp_path


def test_safe_copy_forms(output: Path):
    """The path as Path, text, text with spaces, the dataset written; and a copy that
    also got a new SOP Instance UID (lesson 2 recommends one when content changes)."""
    ds = pydicom.dcmread(data.real(lesson2.COPY_SOURCE))
    ds.ImageComments = lesson2.COPY_VALUE
    plain_copy = output / "copy.dcm"
    ds.save_as(plain_copy, enforce_file_format=True)
    new_uid = pydicom.uid.generate_uid()
    ds.SOPInstanceUID = new_uid
    ds.file_meta.MediaStorageSOPInstanceUID = new_uid
    uid_copy = output / "new_uid.dcm"
    ds.save_as(uid_copy, enforce_file_format=True)
    for path in (plain_copy, uid_copy):
        for form in (path, str(path), f" {path} ", pydicom.dcmread(path)):
            feedback = lesson2.check_modified_copy(form)
            assert feedback.ok, (form, feedback)
    assert "new SOP Instance UID" in lesson2.check_modified_copy(uid_copy).message


def _wrong_cases() -> Iterator[tuple[str, Callable[..., Feedback], object, str]]:
    """Lessons 7 and 8: each typical wrong answer, with the words its hint must hold."""
    truth = _lesson7_truth()
    ml, dice = float(truth["liver_ml"]), float(truth["dice"])
    voxel_ml = 0.7 * 0.7 * 3.0 / 1000
    yield "l7 voxels", lesson7.check_liver_ml, ml / voxel_ml, "number of voxels"
    yield "l7 mm3", lesson7.check_liver_ml, ml * 1000, "mm3"
    yield "l7 litres", lesson7.check_liver_ml, ml / 1000, "litres"
    yield "l7 no slice spacing", lesson7.check_liver_ml, ml / 3.0, "slice spacing"
    yield "l7 ml as text", lesson7.check_liver_ml, "a lot", "number"
    yield "l7 name as number", lesson7.check_most_anterior, 3, "string"
    yield "l7 unknown roi", lesson7.check_most_anterior, " spleen ", "no ROI"
    yield "l7 jaccard", lesson7.check_shifted_dice, dice / (2 - dice), "Jaccard"
    yield "l7 percent", lesson7.check_shifted_dice, 100 * dice, "percentage"
    yield "l7 distance", lesson7.check_shifted_dice, 1 - dice, "1 - Dice"
    yield "l7 rounded dice", lesson7.check_shifted_dice, round(dice, 2), "more decimals"
    yield "l7 frame order", lesson7.check_first_frame_slice, 0, "frame order"
    yield "l7 half slice", lesson7.check_first_frame_slice, 2.5, "whole number"
    cr, series3 = _lesson8_truth()
    yield "l8 exact date", lesson8.check_cr_series_in_year, pd.DataFrame(), "exact match"
    yield "l8 not whole", lesson8.check_cr_series_in_year, cr + 0.5, "whole number"
    yield "l8 words", lesson8.check_cr_series_in_year, "fifteen", "give a number"
    yield "l8 one file", lesson8.check_series_instances, np.int64(1), "IMAGE level"
    yield "l8 text count", lesson8.check_series_instances, "many", "give a number"
    url = ("http://localhost:8042/dicom-web/series?Modality=CR&StudyDate=20130101-20131231"
           "&includefield=SeriesDescription")
    yield "l8 studies", lesson8.check_qido_url, np.str_(url.replace("/series?", "/studies?")), \
        "searches studies"
    wildcard = f" {url.replace('20130101-20131231', '2013*')}"
    yield "l8 wildcard date", lesson8.check_qido_url, wildcard, "not a date range"
    yield "l8 no includefield", lesson8.check_qido_url, url.split("&includefield")[0], \
        "includefield"
    yield "l8 url as path", lesson8.check_qido_url, Path("series"), "as a string"


WRONG_NAMES = ["l7 voxels", "l7 mm3", "l7 litres", "l7 no slice spacing",
               "l7 ml as text", "l7 name as number", "l7 unknown roi", "l7 jaccard",
               "l7 percent", "l7 distance", "l7 rounded dice", "l7 frame order",
               "l7 half slice", "l8 exact date", "l8 not whole", "l8 words", "l8 one file",
               "l8 text count", "l8 studies", "l8 wildcard date", "l8 no includefield",
               "l8 url as path"]


@pytest.fixture(scope="module")
def wrong_cases() -> dict[str, tuple]:
    return {case[0]: case for case in _wrong_cases()}


@pytest.mark.parametrize("name", WRONG_NAMES)
def test_typical_wrong_answer_gets_its_hint(wrong_cases, name):
    _, check, answer, hint = wrong_cases[name]
    feedback = check(answer)
    assert not feedback.ok, f"{name}: {answer!r} was accepted"
    assert hint in feedback.message, f"{name}: {feedback.message!r} lacks {hint!r}"
