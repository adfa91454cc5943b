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
import struct
import warnings
from pathlib import Path
from typing import Any

import pydicom
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.tag import Tag
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from .errors import (
    EmptyFileError,
    MissingTagError,
    NotAnInstanceError,
    NotDicomError,
    TruncatedFileError,
    UnreadableFileError,
    WorkbookError,
)
from .walk import os_reason

#: Header fields read into a row by default, by keyword, in column order.
FIELDS: tuple[str, ...] = (
    "PatientID", "PatientName", "PatientBirthDate", "PatientSex", "PatientAge",
    "StudyInstanceUID", "StudyDate", "AccessionNumber", "InstitutionName",
    "SeriesInstanceUID", "SeriesNumber", "Modality", "BodyPartExamined", "ViewPosition",
    "SOPClassUID", "SOPInstanceUID", "InstanceNumber", "Manufacturer",
    "Rows", "Columns", "NumberOfFrames", "SamplesPerPixel", "BitsAllocated", "BitsStored",
    "PhotometricInterpretation", "PixelSpacing", "ImagerPixelSpacing",
)
#: Fields kept as integers (VR US); every other field is text.
INT_FIELDS: tuple[str, ...] = ("Rows", "Columns", "SamplesPerPixel", "BitsAllocated",
                               "BitsStored")
#: Columns added to the header fields.
EXTRA_COLUMNS: tuple[str, ...] = (
    "TransferSyntaxUID", "transfer_syntax", "sop_class", "has_pixels", "part10", "file_size",
)
#: Media Storage Directory Storage: the SOP class of a DICOMDIR (PS3.4 Annex B.5).
DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"

_UNDEFINED_LENGTH = 0xFFFFFFFF
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
                   pixel_data: bool = True, trailing_bytes: bool = True) -> None:
    """Raise unless the data set was read to its declared end.

    pydicom reads a value that runs past the end of the file up to the end and
    stops without a word, so the last element read (the highest tag: PS3.5
    section 7.1 sorts elements by tag) is the one to check: its value must end
    within the file (:class:`TruncatedFileError` otherwise: a cut file, or a
    corrupt length). ``pixel_data=False``
    leaves a Pixel Data overrun to the pixel reader; ``trailing_bytes=True`` also
    rejects bytes after the last element that are not data elements
    (:class:`NotDicomError`). A deflated data set (PS3.5 A.5) is not checked: its
    offsets count the inflated stream, not the file's bytes.
    """
    meta = getattr(ds, "file_meta", None)
    if meta is not None and meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian:
        return  # offsets count the inflated stream (PS3.5 A.5); zlib reports a cut stream
    for dataset in (meta, ds):
        last = _last_raw_element(dataset) if dataset is not None else None
        if last is None or last.length == _UNDEFINED_LENGTH or last.value_tell is None:
            continue
        is_pixels = last.tag in _PIXEL_DATA_TAGS
        end = last.value_tell + last.length
        remain = max(size - last.value_tell, 0)
        if end > size and is_pixels and pixel_data:
            raise TruncatedFileError(path, f"truncated: Pixel Data declares {last.length} bytes "
                                           f"but only {remain} are in the file")
        if end > size and not is_pixels:
            raise TruncatedFileError(path, f"data element {Tag(last.tag)} declares "
                                           f"{last.length} bytes but only {remain} remain in "
                                           "the file (truncated file, or a corrupt length)")
        if trailing_bytes and dataset is ds and end < size:
            extra = size - end
            if extra < 12:  # shorter than one element header
                raise TruncatedFileError(path, "truncated: the file ends inside a data "
                                               "element header")
            raise NotDicomError(path, f"cannot be parsed as DICOM: {extra} bytes after "
                                      f"element {Tag(last.tag)} are not data elements")


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
        raise NotDicomError(path, "not DICOM: no 'DICM' at byte 128, no data element at the "
                                  "start")
    ds = pydicom.dcmread(path, defer_size=_DEFER_SIZE, force=True)
    if "SOPInstanceUID" not in ds:
        raise NotDicomError(path, "not DICOM: no 'DICM' at byte 128, no SOP Instance UID as a "
                                  "bare data set")
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
    ``has_pixels``, ``part10``, ``file_size``). Pixel Data is never loaded.

    Raises a :class:`~helpers.dicom.errors.WorkbookError` subclass naming the file:
    :class:`EmptyFileError`, :class:`NotDicomError`, :class:`TruncatedFileError`,
    :class:`NotAnInstanceError` (a DICOMDIR), :class:`MissingTagError` (no SOP
    Instance UID) or :class:`UnreadableFileError`. ``raw_text=False`` converts every
    field with pydicom (see the module: the reference the raw decoding is tested
    against).
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        if size == 0:
            raise EmptyFileError(p, "empty file (0 bytes)")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds, part10 = _dcmread(p)
            for w in caught:
                text = str(w.message)
                if "End of file" in text or "delimiter" in text:
                    raise TruncatedFileError(p, "truncated: the file ends inside a value of "
                                                "undefined length (encapsulated pixel data or "
                                                "a sequence)")
            if len(ds) == 0:
                meta = getattr(ds, "file_meta", None)
                if meta is None or "TransferSyntaxUID" not in meta:
                    raise TruncatedFileError(p, "truncated: the file ends inside the file meta "
                                                "information (group 0002)")
                raise TruncatedFileError(p, "truncated: no data set after the file meta "
                                            "information")
            check_complete(ds, p, size)
            return _row(ds, p, size, part10, tuple(fields), raw_text)
    except WorkbookError:
        raise
    except OSError as exc:
        raise UnreadableFileError(p, os_reason(exc)) from None
    except EOFError:
        raise TruncatedFileError(p, "truncated: the file ends inside the header") from None
    except MemoryError:
        raise NotDicomError(p, "a data element declares an impossible length") from None
    except Exception as exc:  # pydicom raises many types on corrupt input
        text = str(exc).splitlines()[0][:120] if str(exc) else ""
        if ("truncat" in text.lower() or "end of file" in text.lower()
                or isinstance(exc, struct.error)):  # unpack past the end: the file is cut
            raise TruncatedFileError(p, f"truncated: {text}") from None
        raise NotDicomError(p, f"cannot be parsed as DICOM ({type(exc).__name__}: {text})") \
            from None


def header_values(ds: Dataset, fields: tuple[str, ...] = FIELDS) -> dict[str, Any]:
    """The ``fields`` of a data set already in memory (a C-FIND match, a DICOM JSON
    object read with :meth:`pydicom.dataset.Dataset.from_json`) converted exactly as
    :func:`read_header` converts a file's: text as the header table holds it, integers
    for :data:`INT_FIELDS`, None when absent or empty."""
    return {keyword: _value(ds, keyword) for keyword in fields}
