"""Read one file's header into one row: the only header reader of the workbook.

:func:`read_header` reads a file with :func:`pydicom.dcmread` (Pixel Data
deferred, never loaded) and converts every field with pydicom's own value
conversion (PS3.5 section 6.2, the VRs). It raises a
:class:`~helpers.dicom.errors.WorkbookError` subclass naming the file and the problem
for anything that is not a readable DICOM instance; a crawl turns that into a row
of its errors table (``kind`` = the class name).

Decisions, with the parts of the standard behind them:

- A Part 10 file (PS3.10 section 7.1: 128-byte preamble, ``DICM``, file meta
  group 0002) is read as is. A data set *without* preamble and file meta (a
  non-conformant file, common in old archives) is still an instance when its
  first bytes look like a data element and it carries a SOP Instance UID; its
  row says ``part10=False`` and its transfer syntax is the one pydicom inferred.
- A DICOMDIR (PS3.10 section 8, Media Storage Directory SOP Class
  1.2.840.10008.1.3.10) is readable but not an instance:
  :class:`~helpers.dicom.errors.NotAnInstanceError`.
- A file whose last element declares more bytes than the file holds (PS3.5
  section 7.1.1: the value length) is truncated
  (:class:`~helpers.dicom.errors.TruncatedFileError`); :func:`check_complete` looks at
  the element headers pydicom recorded (public
  ``Dataset.get_item(tag, keep_deferred=True)``), not at the pixel values.
- Text values are kept as the file holds them, padding removed as pydicom
  does (``"045Y"``, ``"0.143\\\\0.143"``, ``"Smith^Maria"``); :mod:`helpers.dicom.vr`
  parses them when the table is cleaned. Rows, Columns, Samples per Pixel,
  Bits Allocated and Bits Stored (US) are integers.

Speed: converting an element with pydicom costs about as much as parsing the
file, so the value of a text element whose conversion is only "decode, strip
the padding" (PS3.5 section 6.2: the VRs below, in a Latin-1 compatible
character set, PS3.3 C.12.1.1.2) is taken from the raw element pydicom keeps
(public ``Dataset.get_item(tag, keep_deferred=True)``) and decoded here exactly
as pydicom's converters in ``pydicom.values`` do; everything else goes through
pydicom. ``raw_text=False`` converts every field with pydicom; the two are
tested equal on every file of the fuzz corpus (``tests/reliability``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pydicom
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from . import reading
from .errors import (
    MissingTagError,
    NotAnInstanceError,
    NotDicomError,
    TruncatedFileError,
)
from .reading import past_the_end

#: Header fields read into a row by default, by keyword, in column order (the field
#: lists of the workbook all live here: :data:`GEOMETRY_FIELDS`, :data:`HIERARCHY_FIELDS`).
FIELDS: tuple[str, ...] = (
    "PatientID", "PatientName", "PatientBirthDate", "PatientSex", "PatientAge",
    "StudyInstanceUID", "StudyDate", "AccessionNumber", "InstitutionName",
    "SeriesInstanceUID", "SeriesNumber", "Modality", "BodyPartExamined", "ViewPosition",
    "SOPClassUID", "SOPInstanceUID", "InstanceNumber", "Manufacturer",
    "Rows", "Columns", "NumberOfFrames", "SamplesPerPixel", "BitsAllocated", "BitsStored",
    "PhotometricInterpretation", "PixelSpacing", "ImagerPixelSpacing",
)
#: What placing a slice in a volume needs (:mod:`helpers.image.stack`): the series it
#: belongs to (PS3.3 C.7.3.1), the Image Plane module (PS3.3 C.7.6.2: position,
#: orientation, pixel spacing), Rows and Columns (Image Pixel module, PS3.3 C.7.6.3).
#: Crawl with ``scan(folder, fields=GEOMETRY_FIELDS)`` for
#: :func:`helpers.image.volume.load_series`.
GEOMETRY_FIELDS: tuple[str, ...] = (
    "SeriesInstanceUID", "SeriesDescription", "ImagePositionPatient",
    "ImageOrientationPatient", "PixelSpacing", "Rows", "Columns",
)
#: What placing an instance in patient > study > series > instance needs
#: (:mod:`helpers.tables.organize`; PS3.3 A.1.2), from the top of the hierarchy down.
HIERARCHY_FIELDS: tuple[str, ...] = (
    "PatientID", "PatientName",
    "StudyInstanceUID", "StudyDate", "StudyDescription",
    "SeriesInstanceUID", "SeriesNumber", "Modality", "SeriesDescription",
    "SOPInstanceUID", "InstanceNumber",
)
#: Fields kept as integers (VR US); every other field is text.
INT_FIELDS: tuple[str, ...] = ("Rows", "Columns", "SamplesPerPixel", "BitsAllocated",
                               "BitsStored")
#: Columns added to the header fields.
EXTRA_COLUMNS: tuple[str, ...] = (
    "TransferSyntaxUID", "transfer_syntax", "sop_class", "has_pixels", "part10", "file_size",
    "trailing_padding",
)
#: Media Storage Directory Storage: the SOP class of a DICOMDIR (PS3.4 Annex B.5).
DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"

_UNDEFINED_LENGTH = 0xFFFFFFFF
#: Data Set Trailing Padding (PS3.10 7.2), and the explicit VRs with a 4-byte length.
_TRAILING_PADDING = 0xFFFCFFFC
_LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT",
                       "UV"})
_PIXEL_DATA_TAGS = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})
_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
#: Values longer than this are left in the file until asked for (Pixel Data).
_DEFER_SIZE = 256
#: First tag groups a data set without preamble may start with (little or big endian).
_PLAUSIBLE_FIRST_GROUPS = {0x0000, 0x0002, 0x0004, 0x0008}


def _last_raw_element(ds: Dataset) -> RawDataElement | None:
    """The element with the highest tag, if pydicom still holds it as read (its
    value offset and declared length, PS3.5 section 7.1), else None."""
    if len(ds) == 0:
        return None
    item = ds.get_item(max(map(int, ds.keys())), keep_deferred=True)
    return item if isinstance(item, RawDataElement) else None


def check_complete(ds: Dataset, path: str | os.PathLike[str], size: int, *,
                   pixel_data: bool = True, trailing_bytes: bool = True) -> int:
    """Raise unless the data set was read to its declared end; return the bytes of
    padding after it.

    pydicom reads a value that runs past the end of the file up to the end and
    stops without a word, so the last element read (the highest tag: PS3.5
    section 7.1 sorts elements by tag) is the one to check: its value must end
    within the file (:class:`TruncatedFileError` otherwise: a cut file, or a
    corrupt length). ``pixel_data=False`` leaves a Pixel Data overrun to the pixel
    reader. ``trailing_bytes=True`` also checks what follows the last element: zero
    bytes (a writer's padding to a block size) and a Data Set Trailing Padding
    element (FFFC,FFFC) (PS3.10 7.2) are padding, whose size in bytes is returned;
    anything else is refused (:class:`NotDicomError`). Every explicit VR read must be
    one of PS3.5 table 6.2-1 (pydicom keeps any two letters until the value is
    converted). The File Meta Information
    Group Length (0002,0000) must be the length of the file meta elements after it
    (PS3.10 7.1). A deflated data set (PS3.5 A.5) is not checked: its offsets
    count the inflated stream, not the file's bytes.
    """
    meta = getattr(ds, "file_meta", None)
    if meta is not None and meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian:
        return 0  # offsets count the inflated stream (PS3.5 A.5); zlib reports a cut stream
    _check_meta_length(meta, path)
    _check_vrs(ds, path)
    padding = 0
    for dataset in (meta, ds):
        last = _last_raw_element(dataset) if dataset is not None else None
        if last is None or last.length == _UNDEFINED_LENGTH or last.value_tell is None:
            continue
        end = last.value_tell + last.length
        if end > size and (pixel_data or last.tag not in _PIXEL_DATA_TAGS):
            raise TruncatedFileError(path, past_the_end(last.tag, last.length,
                                                        size - last.value_tell))
        if trailing_bytes and dataset is ds and end <= size:
            padding = reading.trailing_bytes(path, end, size, last.tag)
            if last.tag == _TRAILING_PADDING:  # the element itself is padding too
                header = 8 if last.is_implicit_VR or last.VR not in _LONG_VRS else 12
                padding += last.length + header
    return padding


def _check_meta_length(meta: Dataset | None, path: str | os.PathLike[str]) -> None:
    """(0002,0000), the first element at byte 132, counts the bytes of the file meta
    elements after it, which start at byte 144 (PS3.10 7.1)."""
    if meta is None or 0x00020000 not in meta:
        return
    last = _last_raw_element(meta)
    if last is None or last.value_tell is None or last.tag == 0x00020000:
        return
    declared = meta[0x00020000].value
    actual = last.value_tell + last.length - 144
    if isinstance(declared, int) and declared != actual:
        raise NotDicomError(path, reading.wrong_meta_length(declared, actual))


def _check_vrs(ds: Dataset, path: str | os.PathLike[str]) -> None:
    """Every explicit VR read is one of PS3.5 table 6.2-1 (pydicom keeps any two
    letters until the value is converted)."""
    for dataset in (getattr(ds, "file_meta", None), ds):
        if dataset is None:
            continue
        for tag in dataset.keys():
            raw = dataset.get_item(tag, keep_deferred=True)
            vr = getattr(raw, "VR", None)
            if (isinstance(raw, RawDataElement) and not raw.is_implicit_VR and vr
                    and vr not in reading.VRS):
                raise NotDicomError(path, reading.not_a_vr(int(tag), vr))


def _looks_like_dataset(path: Path) -> bool:
    """True when the first bytes could be a data element (a data set without preamble)."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if len(head) < 8:
        return False
    return (int.from_bytes(head[:2], "little") in _PLAUSIBLE_FIRST_GROUPS
            or int.from_bytes(head[:2], "big") in _PLAUSIBLE_FIRST_GROUPS)


def _dcmread(path: Path) -> tuple[Dataset, bool]:
    """Read the header (pixel data deferred); return ``(dataset, part10)``."""
    try:
        return pydicom.dcmread(path, defer_size=_DEFER_SIZE), True
    except InvalidDicomError:
        pass
    if not _looks_like_dataset(path):
        raise NotDicomError(path, reading.NOT_DICOM)
    ds = pydicom.dcmread(path, defer_size=_DEFER_SIZE, force=True)
    if "SOPInstanceUID" not in ds:
        raise NotDicomError(path, reading.NOT_DICOM)
    return ds, False


#: VRs whose pydicom value, joined by ``\\`` and stripped at both ends, is the
#: decoded bytes stripped at both ends (``multi_string``, ``convert_single_string``
#: in ``pydicom.values``). PN is left to pydicom (``PersonName`` rewrites some
#: component groups), and so are AE and the binary VRs.
_ENDS_STRIPPED_VRS = frozenset({"AS", "CS", "DA", "DT", "TM", "DS", "IS", "LT", "ST",
                                "UT"})
#: VRs pydicom strips at the end of each value (``convert_text``).
_EACH_VALUE_RSTRIPPED_VRS = frozenset({"LO", "SH", "UC"})
#: VRs whose decoding depends on Specific Character Set (PS3.5 6.1.2.3).
_CHARSET_VRS = frozenset({"LO", "LT", "SH", "ST", "UC", "UT"})
#: Character sets whose bytes Latin-1 decodes as pydicom does (PS3.3 C.12.1.1.2).
_LATIN1_CHARSETS = frozenset({"", "ISO_IR 6", "ISO_IR 100"})
#: DS and IS values pydicom keeps as written (``DSfloat`` and ``IS`` keep the
#: original string); any other number text is left to pydicom.
_PLAIN_NUMBER = {"DS": re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"),
                 "IS": re.compile(r"[+-]?\d{1,10}")}
_TAGS: dict[str, int] = {}


def _raw_value(ds: Dataset, keyword: str, latin1: bool) -> tuple[bool, str | int | None]:
    """``(True, value)`` decoded from the raw element as pydicom would, or
    ``(False, None)`` when only pydicom's conversion can say."""
    tag = _TAGS.get(keyword)
    if tag is None:
        tag = _TAGS[keyword] = tag_for_keyword(keyword) or 0
    raw = ds.get_item(tag, keep_deferred=True) if tag else None
    if raw is None:
        return (True, None) if tag else (False, None)
    if not isinstance(raw, RawDataElement) or not isinstance(raw.value, bytes):
        return False, None
    vr = raw.VR or dictionary_VR(tag)
    value = raw.value
    if keyword in INT_FIELDS:
        if vr != "US" or len(value) != 2:
            return False, None
        return True, int.from_bytes(value, "little" if raw.is_little_endian else "big")
    if (vr in _CHARSET_VRS and not latin1) or b"\x1b" in value:  # ISO 2022 escapes
        return False, None
    text = value.decode("latin-1")
    if vr == "UI":  # convert_UI: each value a UID, which strips all white space
        text = "\\".join(part.strip() for part in text.rstrip("\0 ").split("\\"))
    elif vr in _EACH_VALUE_RSTRIPPED_VRS:
        text = "\\".join(part.rstrip("\0 ") for part in text.split("\\"))
    elif vr not in _ENDS_STRIPPED_VRS:
        return False, None
    elif vr in _PLAIN_NUMBER and not all(_PLAIN_NUMBER[vr].fullmatch(part) for part in
                                         text.rstrip(" \0").split("\\")):
        return False, None
    return True, text.strip(" \x00") or None


def _value(ds: Dataset, keyword: str) -> str | int | None:
    """One field as pydicom converts it: text (values joined by ``\\``), an int for
    :data:`INT_FIELDS`, or None when absent or empty."""
    try:
        elem = ds[keyword]
    except KeyError:
        return None
    except Exception:  # a value pydicom cannot convert: the raw bytes, as text
        if keyword in INT_FIELDS:  # not a number: an Int64 column would reject the text
            return None
        raw = ds.get_item(keyword)
        value = getattr(raw, "value", None)
        if isinstance(value, bytes):
            return value.decode("latin-1").strip(" \x00") or None
        return None
    value = elem.value
    if value is None or value == "" or value == b"":
        return None
    if keyword in INT_FIELDS:
        try:
            return int(value)
        except (TypeError, ValueError):
            return None
    if elem.VM > 1 and not isinstance(value, str | bytes):
        text = "\\".join(str(v) for v in value)
    else:
        text = str(value)
    return text.strip(" \x00") or None


def _transfer_syntax(ds: Dataset) -> str:
    meta = getattr(ds, "file_meta", None)
    tsyntax = getattr(meta, "TransferSyntaxUID", None)
    if tsyntax is None:  # no file meta: what pydicom inferred from the bytes
        implicit, little = ds.original_encoding
        tsyntax = (ImplicitVRLittleEndian if implicit else
                   ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
    return str(tsyntax)


def _row(ds: Dataset, path: Path, size: int, part10: bool,
         fields: tuple[str, ...], raw_text: bool) -> dict[str, Any]:
    meta = getattr(ds, "file_meta", None)
    if (str(getattr(meta, "MediaStorageSOPClassUID", "") or "") == DICOMDIR_SOP_CLASS
            or "DirectoryRecordSequence" in ds):
        raise NotAnInstanceError(path, "a DICOMDIR: an index of other files, not an instance "
                                       "(PS3.10 8)")
    row: dict[str, Any] = {}
    charset = _value(ds, "SpecificCharacterSet") if raw_text else None
    latin1 = raw_text and (charset or "") in _LATIN1_CHARSETS
    for keyword in fields:
        done, value = _raw_value(ds, keyword, latin1) if raw_text else (False, None)
        row[keyword] = value if done else _value(ds, keyword)

    def field(keyword: str) -> str | int | None:
        return row[keyword] if keyword in row else _value(ds, keyword)

    if field("SOPInstanceUID") is None:
        raise MissingTagError(path, "no SOP Instance UID (0008,0018): not an instance")
    tsyntax = _transfer_syntax(ds)
    row["TransferSyntaxUID"] = tsyntax
    row["transfer_syntax"] = UID(tsyntax).name
    sop = field("SOPClassUID")
    row["sop_class"] = UID(sop).name if sop else None
    row["has_pixels"] = any(k in ds for k in _PIXEL_KEYWORDS)
    row["part10"] = part10
    row["file_size"] = size
    return row


def read_header(path: str | os.PathLike[str], *, fields: tuple[str, ...] = FIELDS,
                raw_text: bool = True) -> dict[str, Any]:
    """Read one file's header fields into a row (a dict): ``fields`` (keywords,
    default :data:`FIELDS`), then
    :data:`EXTRA_COLUMNS` (transfer syntax and its name, SOP class name,
    ``has_pixels``, ``part10``, ``file_size``, and ``trailing_padding``: the bytes of
    zero padding and Data Set Trailing Padding (FFFC,FFFC) after the data set, PS3.10
    7.2). Pixel Data is never loaded.

    Raises a :class:`~helpers.dicom.errors.WorkbookError` subclass naming the file,
    worded by :mod:`helpers.dicom.reading` (the same sentence as every other reader):
    :class:`EmptyFileError`, :class:`NotDicomError`, :class:`TruncatedFileError`,
    :class:`NotAnInstanceError` (a DICOMDIR), :class:`MissingTagError` (no SOP
    Instance UID), :class:`NotAFileError` or :class:`UnreadableFileError`.
    ``raw_text=False`` converts every field with pydicom (see the module: the
    reference the raw decoding is tested against).
    """
    p = Path(path)
    size = reading.check_file(p)
    with reading.reading(p):
        ds, part10 = _dcmread(p)
        if len(ds) == 0:
            raise TruncatedFileError(p, reading.NO_DATA_SET)
        padding = check_complete(ds, p, size)
        row = _row(ds, p, size, part10, tuple(fields), raw_text)
        row["trailing_padding"] = padding
        return row


def header_values(ds: Dataset, fields: tuple[str, ...] = FIELDS) -> dict[str, Any]:
    """The ``fields`` of a data set already in memory (a C-FIND match, a DICOM JSON
    object read with :meth:`pydicom.dataset.Dataset.from_json`) converted exactly as
    :func:`read_header` converts a file's: text as the header table holds it, integers
    for :data:`INT_FIELDS`, None when absent or empty."""
    return {keyword: _value(ds, keyword) for keyword in fields}
