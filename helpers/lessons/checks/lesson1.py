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

from ..feedback import (
    Expected,
    Feedback,
    as_choice,
    as_count,
    as_names,
    as_sequence,
    as_text,
    check,
    expects,
    plain,
    right,
    wrong,
)

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
#: Candidate header fields of the PHI exercise with their action in the Basic Profile,
#: PS3.15 Table E.1-1 (X remove, Z empty or dummy, D dummy, compound codes by the
#: attribute's type in the IOD), and what makes each one identifying. An attribute the
#: table lists is PHI-bearing: the profile removes or replaces it.
PHI_ACTIONS: dict[str, tuple[str, str]] = {
    "InstitutionAddress": ("X", "the hospital's street address says where the patient was "
                                "treated"),
    "AcquisitionDate": ("X/Z", "a date of care: dates are identifiers (HIPAA), shifted or "
                               "removed"),
    "SeriesDate": ("X/D", "a date of care too, often the same as the study date"),
    "StudyID": ("Z", "a hospital-assigned study identifier (often the order number): it "
                     "links to the hospital's records"),
    "ProtocolName": ("X/D", "sites type free text into it (a research study, a reason for "
                            "the scan, sometimes a name), so the profile does not trust it"),
}
#: Candidates Table E.1-1 does not list: the Basic Profile keeps them.
NOT_PHI_REASONS: dict[str, str] = {
    "SliceThickness": "an acquisition parameter",
    "KVP": "the X-ray tube voltage is an acquisition parameter",
    "ConvolutionKernel": "the reconstruction filter, a property of the image",
    "Manufacturer": "the scanner's maker, which Table E.1-1 does not list",
    "ManufacturerModelName": "the scanner model, which Table E.1-1 does not list",
    "BodyPartExamined": "what was imaged, not who",
    "PixelSpacing": "the pixel size in mm is a property of the image",
    "PatientPosition": "how the patient lay in the scanner (e.g. HFS), not who they are",
}
PHI_REASONS: dict[str, str] = {k: why for k, (_action, why) in PHI_ACTIONS.items()}
PHI_CANDIDATES: list[str] = sorted([*PHI_ACTIONS, *NOT_PHI_REASONS])


def _as_tag(value: object) -> int | None:
    """An int tag from an int (numpy's too), a pydicom Tag, an integral float, or text
    like '(0028,0030)', '0028,0030', '0x00280030', '00280030' or the decimal digits an
    array of mixed items turns an int into."""
    value = plain(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        text = value.strip().lower()
        digits = re.sub(r"[\s(),]", "", text.replace("0x", ""))
        if re.fullmatch(r"[0-9a-f]{8}", digits):
            return int(digits, 16)
        if re.fullmatch(r"\d{1,10}", text):
            return int(text)
    return None


def _vm_text(value: object) -> str | None:
    """A VM as the dictionary writes it ('3', '1-n'), from text or a whole number."""
    count = as_count(value)
    if count is not None:
        return str(count)
    return as_text(value, case="lower")


def _hex_read_as_decimal(tag: int) -> int | None:
    """The number a learner gets by reading the tag's 8 hex digits as decimal (for
    (0020,0032): 200032), or None when a digit is a letter."""
    digits = f"{tag:08X}"
    return int(digits) if digits.isdigit() else None


def _tag_text(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def lookup_truth() -> tuple[int, str, str]:
    """(tag, VR, VM) of :data:`LOOKUP_KEYWORD` in pydicom's data dictionary (PS3.6)."""
    tag = pydicom.datadict.tag_for_keyword(LOOKUP_KEYWORD)
    vr, vm, *_ = get_entry(tag)
    return tag, vr, vm


@expects(lambda: Expected(_tag_text(lookup_truth()[0])))
@check
def check_lookup(answer: object) -> Feedback:
    """Exercise 1: (tag, VR, VM) of :data:`LOOKUP_KEYWORD`, from pydicom's data dictionary."""
    items = as_sequence(answer)
    if items is None or len(items) != 3:
        return wrong("give three things in a tuple: (tag, VR, VM), e.g. "
                     "(0x00100010, 'PN', '1') for PatientName.")
    tag_given, vr_given, vm_given = items
    tag, true_vr, true_vm = lookup_truth()
    name = get_entry(tag)[2]
    got = _as_tag(tag_given)
    if got is None:
        return wrong(f"the tag {tag_given!r} is not a tag: write it as an integer like "
                     "0x00280030 (group then element, 4 hex digits each).")
    if got != tag:
        swapped = (got & 0xFFFF) << 16 | got >> 16
        if swapped == tag:
            return wrong(f"{_tag_text(got)} has group and element swapped: the group "
                         "(which module family) comes first.")
        if got == _hex_read_as_decimal(tag):
            return wrong(f"{got} is the tag's hex digits read as a decimal number: write "
                         f"0x{tag:08X} (with 0x), or the text '{_tag_text(tag)}'.")
        other = keyword_for_tag(got)
        if other == "ImageOrientationPatient":
            return wrong(f"{_tag_text(got)} is Image Orientation (Patient), the two direction "
                         "vectors printed in section 5; Image Position (Patient) is the "
                         "position of the first pixel's centre.")
        return wrong(f"{_tag_text(got)} is {other or 'not in the dictionary'}, not "
                     f"{name}; look it up with pydicom.datadict.tag_for_keyword.")
    vr = as_text(vr_given, case="upper")
    if vr != true_vr:
        hint = (f" {name} is written as text: decimal strings like '-178.85'."
                if vr in ("FL", "FD") else "")
        return wrong(f"the VR of {name} is not {vr_given!r}.{hint} pydicom.datadict."
                     "dictionary_VR gives it.")
    vm = _vm_text(vm_given)
    if vm != true_vm:
        if vm == "6":
            return wrong("VM 6 belongs to Image Orientation (Patient) (two vectors); a "
                         "position is one point.")
        return wrong(f"VM {vm_given!r} is not right: {name} holds x, y and z of one point, "
                     f"so VM is {true_vm!r} (give the dictionary's text, like '1' or '2').")
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


@expects(lambda: Expected(_decode_reference(), near=r"(?i)columns|\(0028,0011\)"))
@check
def check_decoded_element(answer: object) -> Feedback:
    """Exercise 2: decode 10 bytes of explicit VR little endian by hand.

    The answer is ``(tag, VR, length, value)``.
    """
    items = as_sequence(answer)
    if items is None or len(items) != 4:
        return wrong("give four things in a tuple: (tag, VR, length, value).")
    tag_given, vr_given, length_given, value_given = items
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
        if got == _hex_read_as_decimal(tag):
            return wrong(f"{got} is the tag's hex digits read as a decimal number: write "
                         f"0x{tag:08X} (with 0x).")
        return wrong(f"{_tag_text(got)} is not the tag in these bytes: the first two bytes "
                     "are the group, the next two the element, each little endian.")
    vr = as_text(vr_given, case="upper")
    if vr != true_vr:
        if vr == true_vr[::-1]:
            return wrong(f"{vr_given!r} reads the two VR letters backwards: a VR is two "
                         "ASCII characters in the order they are stored, not a little "
                         "endian number.")
        return wrong(f"the VR is the two ASCII letters after the tag (bytes 5 and 6); they "
                     f"spell {true_vr!r}, not {vr_given!r}.")
    length = as_count(length_given)
    if length != true_length:
        if length == 10:
            return wrong("10 is the size of the whole element; the length field counts only "
                         "the value bytes that follow it.")
        if length == int.from_bytes(true_length.to_bytes(2, "little"), "big"):
            return wrong(f"{length} reads the length big endian; little endian puts the low "
                         "byte first.")
        return wrong(f"the length is the 2-byte little endian number after the VR; "
                     f"{length_given!r} is not it.")
    value = as_count(value_given)
    if value != true_value:
        if value == int.from_bytes(true_value.to_bytes(2, "little"), "big"):
            return wrong(f"{value} reads the value big endian; little endian puts the low "
                         "byte first.")
        if value is not None and value == int(f"{true_value:x}"):
            return wrong(f"{value} is the hex byte {true_value:02x} read as a decimal "
                         f"number: 0x{true_value:02x} is {true_value}.")
        return wrong(f"{value_given!r} is not the value: it is a US (unsigned 16-bit) "
                     "number made of the last two bytes, low byte first.")
    return right(f"{_tag_text(tag)} {DECODE_KEYWORD}, VR {true_vr}, length {true_length}, "
                 f"value {true_value}: the image has {true_value} columns (pydicom agrees).")


def _as_keyword(name: object) -> str | None:
    """A candidate keyword from its keyword in any letter case, or its tag
    ('(0008,0081)', 0x00080081)."""
    tag = _as_tag(name) if not (isinstance(name, str) and name.isalpha()) else None
    if tag is not None:
        name = keyword_for_tag(tag) or name
    text = str(name).strip()
    by_case = {k.lower(): k for k in PHI_CANDIDATES}
    return by_case.get(text.lower(), text)


@expects(lambda: Expected(sorted(PHI_ACTIONS)))
@check
def check_phi(answer: object) -> Feedback:
    """Exercise 3: which of :data:`PHI_CANDIDATES` are protected health information, as
    PS3.15 Table E.1-1 grades them (:data:`PHI_ACTIONS`: listed, so removed or replaced
    by the Basic Profile)."""
    names = as_names(answer)
    if names is None:
        return wrong("give a set of keywords, e.g. {'PatientName', 'Rows'}.")
    chosen = {_as_keyword(k) for k in names}
    unknown = sorted(str(k) for k in chosen - set(PHI_CANDIDATES))
    if unknown:
        return wrong(f"{', '.join(unknown)} is not one of the candidates; choose from "
                     "PHI_CANDIDATES.")
    missed = sorted(set(PHI_ACTIONS) - chosen)
    extra = sorted(chosen - set(PHI_ACTIONS))
    if not missed and not extra:
        actions = ", ".join(f"{k} {a}" for k, (a, _) in sorted(PHI_ACTIONS.items()))
        return right(f"PS3.15 Table E.1-1 lists all {len(PHI_ACTIONS)} ({actions}): each "
                     "identifies a person or may, so the Basic Profile removes or replaces "
                     "it; the rest describe the image or the machine, and the table does "
                     "not list them.")
    parts = []
    if missed:
        parts.append("missing: " + "; ".join(
            f"{k} (Table E.1-1: {PHI_ACTIONS[k][0]}; {PHI_ACTIONS[k][1]})" for k in missed))
    if extra:
        parts.append("not PHI: " + "; ".join(f"{k} ({NOT_PHI_REASONS[k]})" for k in extra))
    return wrong(". ".join(parts) + ".")


@expects(lambda: Expected(None, why_none="a letter among the options the cell prints"))
@check
def check_series_convention(answer: object) -> Feedback:
    """Exercise 4 (multiple choice, :data:`SERIES_OPTIONS`): how many series the four
    views of one mammography exam make. PS3.3 C.7.3.1 defines a series by its Series
    Instance UID and its General Series attributes; it sets no count of images per series."""
    choice = as_choice(answer, SERIES_OPTIONS)
    if choice is None:
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


def dataset_offset_truth(name: str = OFFSET_FILE) -> tuple[int, int]:
    """(where the dataset of ``name`` starts, its File Meta Information Group Length)."""
    from ...data import real

    meta = pydicom.filereader.read_file_meta_info(real(name))
    group_length = int(meta.FileMetaInformationGroupLength)
    # 128 preamble + 4 'DICM' + the (0002,0000) element itself (12 bytes) + the rest
    return 128 + 4 + 12 + group_length, group_length


#: The file whose dataset start lesson 1 works out in its text (a hint names it).
SHOWN_OFFSET_FILE = "CT_small.dcm"


@expects(lambda: Expected(dataset_offset_truth()[0],
                          near=r"(?i)byte|offset|dataset|start|meta group"))
@check
def check_dataset_offset(answer: object) -> Feedback:
    """Exercise 5: the byte where the dataset starts in :data:`OFFSET_FILE`."""
    value = as_count(answer)
    if value is None:
        return wrong("give the offset as a whole number of bytes from the start of the file.")
    start, group_length = dataset_offset_truth()
    if value == start:
        return right(f"128 (preamble) + 4 ('DICM') + 12 (the group length element) + "
                     f"{group_length} (what it counts) = {start}.")
    if value == 128:
        return wrong("128 is where 'DICM' starts, right after the preamble.")
    if value == 132:
        return wrong("132 is where the file meta group starts; the dataset comes after it.")
    if value == 132 + group_length:
        return wrong("close: (0002,0000) counts the bytes after itself, so add the 12 bytes "
                     "of the group length element too.")
    if value == 144:
        return wrong("144 is where the second meta element starts: add the group length, the "
                     "bytes of the rest of the meta group.")
    if value == group_length:
        return wrong(f"{group_length} is the group length alone; the dataset starts after "
                     "the preamble, 'DICM', the (0002,0000) element and the bytes it counts.")
    if value == dataset_offset_truth(SHOWN_OFFSET_FILE)[0]:
        return wrong(f"{value} is where {SHOWN_OFFSET_FILE}'s dataset starts (section 6); "
                     f"{OFFSET_FILE} has a meta group of another length.")
    if value in (start - 1, start + 1):
        return wrong(f"off by one: offsets count from 0, and the dataset's first byte is "
                     f"the one right after the meta group's last ({value} is not it).")
    return wrong(f"{value} is not it: add the preamble, 'DICM', and the whole meta group "
                 "(its (0002,0000) element says how long the rest of it is).")
