"""Checks for Lesson 1, the DICOM standard.

Each check compares the learner's answer with what pydicom reads from the real
file or finds in its data dictionary (PS3.6), and says why a wrong answer is
wrong. None of them uses :mod:`helpers.dicom.part10_bytes`, so the walker the lesson builds
is checked by something else.
"""

from __future__ import annotations

import re

import pydicom
from pydicom.datadict import get_entry, keyword_for_tag

from ..feedback import Feedback, check, right, wrong

#: The keyword the learner looks up in the data dictionary (exercise 1).
LOOKUP_KEYWORD = "ImagePositionPatient"
#: The file the byte-decoding exercise reads, and the element it decodes.
DECODE_FILE = "MR_small.dcm"
DECODE_KEYWORD = "Columns"
#: The file whose dataset start the learner finds.
OFFSET_FILE = "waveform_ecg.dcm"
#: Exercise 4 (multiple choice): how many series four mammography views make. Each
#: wrong option names the misconception it reveals.
SERIES_OPTIONS: dict[str, str] = {
    "a": "exactly 4: in 2D imaging every image must be its own series",
    "b": "exactly 1: a study may hold only one series per modality",
    "c": "exactly 2: one series per breast (laterality)",
    "d": "it depends on the device: 1 to 4 series are all valid DICOM",
}

#: The header of the PHI exercise: the first file (by name) of the synthetic axial CT,
#: whose fields the lesson does not print.
PHI_SERIES = "axial"
#: Candidate header fields for the PHI exercise, with why each one is or is not
#: protected health information (PS3.15 Annex E, Table E.1-1, Basic Profile). The
#: lesson's own PHI table (section 3) lists none of them.
PHI_REASONS: dict[str, str] = {
    "InstitutionAddress": "the hospital's street address says where the patient was treated",
    "AcquisitionDate": "a date of care: dates are identifiers (HIPAA), shifted or removed",
    "SeriesDate": "a date of care too, often the same as the study date",
    "StudyID": "a hospital-assigned study identifier (often the order number): it links to "
               "the hospital's records",
}
NOT_PHI_REASONS: dict[str, str] = {
    "SliceThickness": "an acquisition parameter",
    "KVP": "the X-ray tube voltage is an acquisition parameter",
    "ConvolutionKernel": "the reconstruction filter, a property of the image",
    "Manufacturer": "the scanner's maker is kept by the Basic Profile",
    "ManufacturerModelName": "the scanner model is kept by the Basic Profile",
    "BodyPartExamined": "what was imaged, not who",
    "PixelSpacing": "the pixel size in mm is a property of the image",
    "PatientPosition": "how the patient lay in the scanner (e.g. HFS), not who they are",
    "ProtocolName": "the scan protocol's name (here 'Chest routine'), not the patient's",
}
PHI_CANDIDATES: list[str] = sorted([*PHI_REASONS, *NOT_PHI_REASONS])


def _as_tag(value: object) -> int | None:
    """An int tag from an int, a pydicom Tag, or text like '(0028,0030)' / '00280030'."""
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        digits = re.sub(r"[\s(),x]", "", value.lower().replace("0x", ""))
        if re.fullmatch(r"[0-9a-f]{8}", digits):
            return int(digits, 16)
    return None


def _tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


@check
def check_lookup(answer: object) -> Feedback:
    """Exercise 1: (tag, VR, VM) of :data:`LOOKUP_KEYWORD`, from pydicom's data dictionary."""
    if not isinstance(answer, tuple | list) or len(answer) != 3:
        return wrong("give three things in a tuple: (tag, VR, VM), e.g. "
                     "(0x00100010, 'PN', '1') for PatientName.")
    tag_given, vr, vm = answer
    tag = pydicom.datadict.tag_for_keyword(LOOKUP_KEYWORD)
    true_vr, true_vm, name, _retired, _kw = get_entry(tag)
    got = _as_tag(tag_given)
    if got is None:
        return wrong(f"the tag {tag_given!r} is not a tag: write it as an integer like "
                     "0x00280030 (group then element, 4 hex digits each).")
    if got != tag:
        swapped = (got & 0xFFFF) << 16 | got >> 16
        if swapped == tag:
            return wrong(f"{_tag_text(got)} has group and element swapped: the group "
                         "(which module family) comes first.")
        other = keyword_for_tag(got)
        if other == "ImageOrientationPatient":
            return wrong(f"{_tag_text(got)} is Image Orientation (Patient), the two direction "
                         "vectors; Image Position (Patient) is the position of the first "
                         "pixel's centre.")
        return wrong(f"{_tag_text(got)} is {other or 'not in the dictionary'}, not "
                     f"{name}; look it up with pydicom.datadict.tag_for_keyword.")
    if str(vr).upper() != true_vr:
        hint = (f" {name} is written as text: decimal strings like '-178.85'."
                if str(vr).upper() in ("FL", "FD") else "")
        return wrong(f"the VR of {name} is not {vr!r}.{hint} pydicom.datadict."
                     "dictionary_VR gives it.")
    if str(vm) != true_vm:
        if str(vm) == "6":
            return wrong("VM 6 belongs to Image Orientation (Patient) (two vectors); a "
                         "position is one point.")
        return wrong(f"VM {vm!r} is not right: {name} holds x, y and z of one point, so VM "
                     f"is {true_vm!r} (give the dictionary's text, like '1' or '2').")
    return right(f"{name} is {_tag_text(tag)}, VR {true_vr} (decimal string), VM {true_vm}: "
                 "x, y, z in mm of the centre of the first pixel sent, in the patient's LPS "
                 "coordinates (PS3.3 C.7.6.2.1.1).")


def _decode_reference() -> tuple[int, str, int, int]:
    """The element :data:`DECODE_KEYWORD` of :data:`DECODE_FILE` as pydicom reads it:
    (tag, VR, length, value)."""
    from ...data import real

    ds = pydicom.dcmread(real(DECODE_FILE), stop_before_pixels=True)
    raw = ds.get_item(DECODE_KEYWORD)  # the element as read, with its length
    element = ds[DECODE_KEYWORD]
    return int(element.tag), element.VR, int(raw.length), int(element.value)


@check
def check_decoded_element(answer: object) -> Feedback:
    """Exercise 2: decode 10 bytes of explicit VR little endian by hand.

    The answer is ``(tag, VR, length, value)``.
    """
    if not isinstance(answer, tuple | list) or len(answer) != 4:
        return wrong("give four things in a tuple: (tag, VR, length, value).")
    tag_given, vr, length, value = answer
    tag, true_vr, true_length, true_value = _decode_reference()
    got = _as_tag(tag_given)
    if got is None:
        return wrong(f"{tag_given!r} is not a tag: give it as an integer like 0x00280010.")
    if got != tag:
        bytes_le = tag.to_bytes(4, "big")
        big_endian = (bytes_le[1] << 24 | bytes_le[0] << 16 | bytes_le[3] << 8 | bytes_le[2])
        if got == big_endian:
            return wrong(f"{_tag_text(got)} reads each 2-byte number big endian. This file "
                         "is little endian: the low byte comes first, so bytes 28 00 mean "
                         "0x0028.")
        if got == (tag & 0xFFFF) << 16 | tag >> 16:
            return wrong(f"{_tag_text(got)} reads the 4 tag bytes as one number; they are two "
                         "2-byte numbers, the group first, then the element.")
        return wrong(f"{_tag_text(got)} is not the tag in these bytes: the first two bytes "
                     "are the group, the next two the element, each little endian.")
    if str(vr) != true_vr:
        return wrong(f"the VR is the two ASCII letters after the tag (bytes 5 and 6); they "
                     f"spell {true_vr!r}, not {vr!r}.")
    if length != true_length:
        if length == 10:
            return wrong("10 is the size of the whole element; the length field counts only "
                         "the value bytes that follow it.")
        return wrong(f"the length is the 2-byte little endian number after the VR; "
                     f"{length!r} is not it.")
    if value != true_value:
        if value == int.from_bytes(true_value.to_bytes(2, "little"), "big"):
            return wrong(f"{value} reads the value big endian; little endian puts the low "
                         "byte first.")
        return wrong(f"{value!r} is not the value: it is a US (unsigned 16-bit) number "
                     "made of the last two bytes, low byte first.")
    return right(f"{_tag_text(tag)} {DECODE_KEYWORD}, VR {true_vr}, length {true_length}, "
                 f"value {true_value}: the image has {true_value} columns (pydicom agrees).")


@check
def check_phi(answer: object) -> Feedback:
    """Exercise 3: which of :data:`PHI_CANDIDATES` are protected health information."""
    if isinstance(answer, str) or not hasattr(answer, "__iter__"):
        return wrong("give a set of keywords, e.g. {'PatientName', 'Rows'}.")
    chosen = {str(k) for k in answer}  # type: ignore[union-attr]
    unknown = sorted(chosen - set(PHI_CANDIDATES))
    if unknown:
        return wrong(f"{', '.join(unknown)} is not one of the candidates; choose from "
                     "PHI_CANDIDATES.")
    missed = sorted(set(PHI_REASONS) - chosen)
    extra = sorted(chosen - set(PHI_REASONS))
    if not missed and not extra:
        return right(f"all {len(PHI_REASONS)} identify a person or link to one; the rest "
                     "describe the image or the machine.")
    parts = []
    if missed:
        parts.append("missing: " + "; ".join(f"{k} ({PHI_REASONS[k]})" for k in missed))
    if extra:
        parts.append("not PHI: " + "; ".join(f"{k} ({NOT_PHI_REASONS[k]})" for k in extra))
    return wrong(". ".join(parts) + ".")


@check
def check_series_convention(answer: object) -> Feedback:
    """Exercise 4 (multiple choice, :data:`SERIES_OPTIONS`): how many series the four
    views of one mammography exam make. PS3.3 C.7.3.1 defines a series by its Series
    Instance UID and its General Series attributes; it sets no count of images per series."""
    choice = str(answer).strip().lower().strip("()")
    if choice not in SERIES_OPTIONS:
        return wrong(f"give one letter: {', '.join(SERIES_OPTIONS)}.")
    if choice == "d":
        return right("nothing in DICOM fixes the number of images in a series (PS3.3 "
                     "C.7.3.1): many X-ray devices write one series per view, as in the "
                     "C-spine study, and many mammography units put all four views in one. "
                     "Group by Series Instance UID, never by an assumed count.")
    if choice == "a":
        return wrong("one image per series is a common convention (the C-spine study above "
                     "follows it), not a rule: many mammography and X-ray devices put several "
                     "views in one series.")
    if choice == "b":
        return wrong("a study can hold many series of one modality: the CT study above has "
                     "three CT series.")
    return wrong("laterality (0020,0060) is an attribute of the series or image, not a rule "
                 "for grouping: a device may put both breasts in one series, or each view in "
                 "its own.")


@check
def check_dataset_offset(answer: object) -> Feedback:
    """Exercise 5: the byte where the dataset starts in :data:`OFFSET_FILE`."""
    if not isinstance(answer, int) or isinstance(answer, bool):
        return wrong("give the offset as a whole number of bytes from the start of the file.")
    from ...data import real

    meta = pydicom.filereader.read_file_meta_info(real(OFFSET_FILE))
    group_length = int(meta.FileMetaInformationGroupLength)
    # 128 preamble + 4 'DICM' + the (0002,0000) element itself (12 bytes) + the rest
    start = 128 + 4 + 12 + group_length
    if answer == start:
        return right(f"128 (preamble) + 4 ('DICM') + 12 (the group length element) + "
                     f"{group_length} (what it counts) = {start}.")
    if answer == 128:
        return wrong("128 is where 'DICM' starts, right after the preamble.")
    if answer == 132:
        return wrong("132 is where the file meta group starts; the dataset comes after it.")
    if answer == 132 + group_length:
        return wrong("close: (0002,0000) counts the bytes after itself, so add the 12 bytes "
                     "of the group length element too.")
    return wrong(f"{answer} is not it: add the preamble, 'DICM', and the whole meta group "
                 "(its (0002,0000) element says how long the rest of it is).")
