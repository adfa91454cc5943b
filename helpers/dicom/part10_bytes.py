"""A byte-level reader of a DICOM Part 10 file's elements, written to be read by a learner.

It does by hand what :func:`pydicom.dcmread` does for you, one element at a time:

1. the 128-byte preamble and the four bytes ``DICM`` (PS3.10 section 7.1);
2. the File Meta Information, group 0002, always explicit VR little endian
   (PS3.10 section 7.1, table 7.1-1), whose (0002,0010) Transfer Syntax UID says
   how the rest of the file is encoded;
3. the data elements of the dataset (PS3.5 section 7.1): explicit VR
   (PS3.5 7.1.2: tag, two-letter VR, a 2-byte length, or 2 reserved bytes and a
   4-byte length for OB, OD, OF, OL, OV, OW, SQ, SV, UC, UN, UR, UT, UV) or
   implicit VR (PS3.5 7.1.3: tag and a 4-byte length; the VR comes from the data
   dictionary, PS3.6, here pydicom's copy of it), little endian (PS3.5 7.3) or
   the retired big endian;
4. sequences (PS3.5 section 7.5): items (FFFE,E000) of defined or undefined
   length, Item Delimitation (FFFE,E00D) and Sequence Delimitation (FFFE,E0DD);
   and encapsulated pixel data fragments (PS3.5 A.4).

:func:`read_elements` stops at Pixel Data (7FE0,0010) by default, or after
``max_elements`` records, or at zero bytes padding the file after the data set
(a Data Set Trailing Padding element (FFFC,FFFC), PS3.10 7.2, is a record).
Each element becomes an :class:`Element` record: where it starts in the
file, its tag, VR, declared length, the raw value bytes and, for simple VRs, the
decoded value. Lengths are checked against the file size before anything is
read, so a corrupt length never makes it read more than ``max_value_bytes``.

Deflated transfer syntaxes are not handled (the dataset is zlib-compressed, so
file offsets stop meaning anything); they raise
:class:`~helpers.dicom.errors.UnsupportedTransferSyntaxError`. Every other failure
is worded by :mod:`helpers.dicom.reading`, as every reader of the workbook words it.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.tag import Tag

from . import reading
from .errors import NotDicomError, TruncatedFileError, UnsupportedTransferSyntaxError

PathLike = str | os.PathLike[str]

PREAMBLE_LENGTH = 128
PREFIX = b"DICM"
#: A length of 0xFFFFFFFF means "undefined": the value ends at a delimiter (PS3.5 7.1.1).
UNDEFINED_LENGTH = 0xFFFFFFFF

ITEM = 0xFFFEE000
ITEM_DELIMITER = 0xFFFEE00D
SEQUENCE_DELIMITER = 0xFFFEE0DD
PIXEL_DATA_TAGS = frozenset({0x7FE00008, 0x7FE00009, 0x7FE00010})

#: Explicit VRs with 2 reserved bytes and a 4-byte length (PS3.5 table 7.1-1).
LONG_LENGTH_VRS = frozenset(
    {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}
)
#: Binary numbers: struct code and size of one value (PS3.5 table 6.2-1).
NUMBER_VRS: dict[str, str] = {
    "US": "H", "SS": "h", "UL": "I", "SL": "i", "FL": "f", "FD": "d", "UV": "Q", "SV": "q",
}
#: Text VRs; the last set cannot hold several values (no backslash splitting).
TEXT_VRS = frozenset(
    {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC",
     "UI", "UR", "UT"}
)
SINGLE_TEXT_VRS = frozenset({"LT", "ST", "UR", "UT"})

#: Transfer syntaxes the walker reads: UID -> (implicit VR, little endian).
#: Any other UID is an encapsulated (compressed) syntax, which is explicit VR
#: little endian up to the pixel data (PS3.5 A.4), except deflate.
TRANSFER_SYNTAXES: dict[str, tuple[bool, bool]] = {
    "1.2.840.10008.1.2": (True, True),      # Implicit VR Little Endian
    "1.2.840.10008.1.2.1": (False, True),   # Explicit VR Little Endian
    "1.2.840.10008.1.2.2": (False, False),  # Explicit VR Big Endian (retired)
}
DEFLATED = frozenset({"1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.8.1"})


@dataclass(frozen=True)
class Element:
    """One record of the walk: a data element, an item or a delimiter."""

    offset: int          #: file offset of the tag's first byte
    tag: int             #: group << 16 | element
    vr: str              #: two letters; the dictionary's VR when implicit; "" for items
    length: int          #: value length as written (UNDEFINED_LENGTH if undefined)
    header_length: int   #: bytes before the value: 8 (or 12 for explicit long VRs)
    raw: bytes           #: the value bytes (at most ``max_value_bytes`` of them)
    value: object        #: decoded value for numbers and text, else None
    depth: int           #: 0 at top level, +1 inside each sequence item
    part: str            #: "meta" (group 0002) or "dataset"
    explicit_vr: bool    #: True when the VR was read from the file

    @property
    def group(self) -> int:
        return self.tag >> 16

    @property
    def element(self) -> int:
        return self.tag & 0xFFFF

    @property
    def tag_text(self) -> str:
        """The tag as DICOM writes it, e.g. ``(0028,0010)``."""
        return str(Tag(self.tag))

    @property
    def value_offset(self) -> int:
        """File offset of the first value byte."""
        return self.offset + self.header_length

    @property
    def keyword(self) -> str:
        """The dictionary keyword ("" for private or unknown tags)."""
        return keyword_for_tag(self.tag) or ""

    @property
    def is_private(self) -> bool:
        """Odd group numbers are private (PS3.5 section 7.8)."""
        return self.group % 2 == 1

    @property
    def undefined_length(self) -> bool:
        return self.length == UNDEFINED_LENGTH

    @property
    def end(self) -> int:
        """File offset just after this element's value (defined lengths only)."""
        return self.value_offset + (0 if self.undefined_length else self.length)


@dataclass(frozen=True)
class Preamble:
    """The first 132 bytes of a Part 10 file (PS3.10 section 7.1)."""

    preamble: bytes  #: 128 bytes, usually all zero; free for applications
    prefix: bytes    #: b"DICM"

    @property
    def is_zero(self) -> bool:
        return not any(self.preamble)


def read_preamble(path: PathLike) -> Preamble:
    """Read the preamble and check the ``DICM`` prefix.

    Raises :class:`NotDicomError` if the file is shorter than 132 bytes or has no
    ``DICM`` at byte 128 (a file written without file meta: pydicom needs ``force=True``).
    """
    p = Path(path)
    reading.check_file(p)
    with reading.reading(p), open(p, "rb") as fh:
        head = fh.read(PREAMBLE_LENGTH + len(PREFIX))
    if len(head) < PREAMBLE_LENGTH + len(PREFIX):
        raise NotDicomError(p, f"only {len(head)} bytes: shorter than the 128-byte preamble "
                               "plus 'DICM' (PS3.10 7.1)")
    prefix = head[PREAMBLE_LENGTH:]
    if prefix != PREFIX:
        raise NotDicomError(p, f"no 'DICM' at byte 128 (found {prefix!r}): not a DICOM Part 10 "
                               "file, or one without preamble and file meta (PS3.10 7.1)")
    return Preamble(head[:PREAMBLE_LENGTH], prefix)


def transfer_syntax(records: list[Element]) -> str | None:
    """The Transfer Syntax UID (0002,0010) among ``records``, if present."""
    for rec in records:
        if rec.tag == 0x00020010:
            return str(rec.value)
    return None


def dictionary_vr(tag: int) -> str:
    """The VR of ``tag`` for implicit VR files (PS3.5 7.1.3), from pydicom's dictionary.

    Group lengths are UL, private creators LO, and unknown or private tags UN.
    Some tags have an ambiguous VR such as ``"US or SS"`` (resolved by pydicom
    from Pixel Representation); it is returned as is.
    """
    group, elem = tag >> 16, tag & 0xFFFF
    if elem == 0:
        return "UL"
    if group % 2 == 1:
        return "LO" if 0x0010 <= elem <= 0x00FF else "UN"
    try:
        return dictionary_VR(tag)
    except KeyError:
        return "UN"


def decode_value(vr: str, raw: bytes, little_endian: bool = True) -> object:
    """Decode ``raw`` bytes for simple VRs (PS3.5 section 6.2); None for the rest.

    Numbers become an int/float, or a list when there are several; AT a tag int
    (or list); text is decoded as Latin-1 with its padding (trailing spaces, or
    NUL for UI) removed, and split on backslashes into a list when VM > 1.
    OB/OW/UN/SQ and ambiguous VRs give None.
    """
    order = "<" if little_endian else ">"
    if vr in NUMBER_VRS:
        size = struct.calcsize(NUMBER_VRS[vr])
        if len(raw) % size:
            return None
        values = list(struct.unpack(f"{order}{len(raw) // size}{NUMBER_VRS[vr]}", raw))
        return values[0] if len(values) == 1 else (values or None)
    if vr == "AT":
        if len(raw) % 4:
            return None
        pairs = struct.unpack(f"{order}{len(raw) // 2}H", raw)
        tags = [pairs[i] << 16 | pairs[i + 1] for i in range(0, len(pairs), 2)]
        return tags[0] if len(tags) == 1 else (tags or None)
    if vr in TEXT_VRS:
        text = raw.decode("latin-1").rstrip("\x00 " if vr == "UI" else " ")
        if vr == "UI":
            text = text.rstrip("\x00")
        if vr in SINGLE_TEXT_VRS or "\\" not in text:
            return text
        return text.split("\\")
    return None


@dataclass
class _Context:
    kind: str            # "dataset", "sequence", "item" or "fragments"
    end: int | None      # offset where a defined-length container ends
    depth: int
    implicit: bool
    little: bool


class _Reader:
    """Bounded reads from an open file; every shortfall is a TruncatedFileError."""

    def __init__(self, fh: BinaryIO, path: Path, size: int) -> None:
        self.fh, self.path, self.size = fh, path, size

    def read(self, offset: int, count: int, what: str) -> bytes:
        if offset + count > self.size:  # a value's length is checked before: a header
            raise TruncatedFileError(self.path, reading.ENDS_IN_HEADER)
        self.fh.seek(offset)
        return self.fh.read(count)


def read_elements(
    path: PathLike,
    *,
    max_elements: int | None = None,
    stop_at_pixel_data: bool = True,
    max_value_bytes: int = 1024,
) -> list[Element]:
    """Read a Part 10 file element by element and return the records, in file order.

    The file meta group comes first (``part="meta"``), then the dataset. Items
    and delimiters inside sequences are records too (``vr=""``). The walk stops
    after the Pixel Data element's header when ``stop_at_pixel_data`` (its
    ``raw`` is then empty), after ``max_elements`` records, or at the end of the
    file. ``raw`` keeps at most ``max_value_bytes`` bytes of each value.

    Raises :class:`NotDicomError` (no ``DICM``, bytes that are not an element, a
    wrong (0002,0000) group length), :class:`TruncatedFileError` (a header or a
    declared length running past the end of the file or of its sequence item, a
    missing delimiter) or :class:`UnsupportedTransferSyntaxError` (deflate), worded
    by :mod:`helpers.dicom.reading`.
    """
    p = Path(path)
    read_preamble(p)
    size = reading.check_file(p)
    records: list[Element] = []
    limit = max_elements if max_elements is not None else float("inf")
    with reading.reading(p), open(p, "rb") as fh:
        reader = _Reader(fh, p, size)
        pos = PREAMBLE_LENGTH + len(PREFIX)
        meta = _Context("dataset", None, 0, implicit=False, little=True)
        # File meta: every element of group 0002, explicit VR little endian.
        while pos + 4 <= size and len(records) < limit:
            group = struct.unpack("<H", reader.read(pos, 2, "a tag"))[0]
            if group != 0x0002:
                break
            rec = _element(reader, pos, meta, "meta", max_value_bytes)
            records.append(rec)
            pos = rec.end
        if len(records) >= limit:
            return records
        _check_meta_length(p, records, pos)
        uid = transfer_syntax(records)
        ts = next((r for r in records if r.tag == 0x00020010), None)
        if ts is not None and len(ts.raw) < ts.length:  # max_value_bytes cut the UID short
            uid = str(decode_value("UI", reader.read(ts.value_offset, ts.length, "a value")))
        if uid is None:
            raise NotDicomError(p, "the file meta group has no (0002,0010) Transfer Syntax UID "
                                   "(PS3.10 7.1), so the dataset's encoding is unknown")
        if uid in DEFLATED:
            raise UnsupportedTransferSyntaxError(
                p, f"transfer syntax {uid} is deflated (zlib-compressed, PS3.5 A.5); this "
                   "element reader does not inflate it: use pydicom.dcmread")
        implicit, little = TRANSFER_SYNTAXES.get(uid, (False, True))
        _check_encoding(reader, pos, implicit)
        _walk_dataset(reader, pos, implicit, little, records, limit, stop_at_pixel_data,
                      max_value_bytes)
    return records


def _walk_dataset(reader: _Reader, pos: int, implicit: bool, little: bool,
                  records: list[Element], limit: float, stop_at_pixel_data: bool,
                  max_value_bytes: int) -> None:
    """The dataset after the meta group, with sequences descended using a stack."""
    order = "<" if little else ">"
    stack = [_Context("dataset", reader.size, 0, implicit, little)]
    while stack and len(records) < limit:
        ctx = stack[-1]
        if ctx.end is None and pos >= reader.size:
            raise TruncatedFileError(reader.path, reading.NO_DELIMITER)
        if ctx.kind == "dataset" and pos < reader.size and _zeros_at(reader, pos):
            reading.trailing_bytes(reader.path, pos, reader.size, records[-1].tag)
            return  # zero bytes padding the file (raises for other bytes)
        if ctx.end is not None and pos >= ctx.end:
            if pos > ctx.end:
                raise NotDicomError(reader.path, f"an element ends at byte {pos}, past the end "
                                                 f"of its {ctx.kind} at byte {ctx.end}")
            stack.pop()
            continue
        if ctx.kind in ("sequence", "fragments"):
            # Inside a sequence: only items and the sequence delimiter (PS3.5 7.5).
            head = reader.read(pos, 8, "an item header")
            group, elem, length = struct.unpack(f"{order}HHI", head)
            tag = group << 16 | elem
            if tag == SEQUENCE_DELIMITER:
                records.append(Element(pos, tag, "", length, 8, b"", None, ctx.depth,
                                       "dataset", False))
                pos += 8
                stack.pop()
                continue
            if tag != ITEM:
                raise NotDicomError(reader.path, f"expected an item (FFFE,E000) at byte {pos} "
                                                 f"inside a {ctx.kind}, found "
                                                 f"{Tag(group, elem)}")
            if ctx.kind == "fragments":
                if length == UNDEFINED_LENGTH:
                    raise NotDicomError(reader.path, f"a pixel data fragment at byte {pos} has "
                                                     "undefined length (PS3.5 A.4 forbids it)")
                _check_fits(reader, pos, 8, length, ctx)
                raw = reader.read(pos + 8, min(length, max_value_bytes), "a fragment")
                records.append(Element(pos, tag, "", length, 8, raw, None, ctx.depth,
                                       "dataset", False))
                pos += 8 + length
                continue
            records.append(Element(pos, tag, "", length, 8, b"", None, ctx.depth, "dataset",
                                   False))
            if length != UNDEFINED_LENGTH:
                _check_fits(reader, pos, 8, length, ctx)
            end = None if length == UNDEFINED_LENGTH else pos + 8 + length
            stack.append(_Context("item", end, ctx.depth + 1, ctx.implicit, ctx.little))
            pos += 8
            continue
        # In a dataset or an item: data elements.
        if ctx.end is None or pos + 4 <= ctx.end:
            tag_bytes = reader.read(pos, 4, "a tag")
            group, elem = struct.unpack(f"{order}HH", tag_bytes)
            if group << 16 | elem == ITEM_DELIMITER:
                if ctx.kind != "item":
                    raise NotDicomError(reader.path, f"an item delimiter at byte {pos} outside "
                                                     "any item")
                records.append(Element(pos, ITEM_DELIMITER, "", 0, 8, b"", None,
                                       ctx.depth - 1, "dataset", False))
                pos += 8
                stack.pop()
                continue
        elif ctx.kind == "dataset":
            raise TruncatedFileError(reader.path, reading.ENDS_IN_HEADER)
        rec = _element(reader, pos, ctx, "dataset", max_value_bytes)
        records.append(rec)
        pos = rec.value_offset
        if rec.tag in PIXEL_DATA_TAGS and rec.depth == 0 and stop_at_pixel_data:
            return
        if _is_sequence(rec):
            end = None if rec.undefined_length else rec.end
            if rec.vr == "UN":
                # An explicit UN of undefined length holds implicit VR LE items (PS3.5 6.2.2).
                stack.append(_Context("sequence", end, ctx.depth, implicit=True, little=True))
            else:
                stack.append(_Context("sequence", end, ctx.depth, ctx.implicit, ctx.little))
            continue
        if rec.undefined_length:
            if rec.vr in ("OB", "OW", "OB or OW"):
                stack.append(_Context("fragments", None, ctx.depth, ctx.implicit, ctx.little))
                continue
            raise NotDicomError(reader.path, f"{rec.tag_text} at byte {rec.offset} has undefined "
                                             f"length but VR {rec.vr} cannot have one")
        pos = rec.end


def _is_sequence(rec: Element) -> bool:
    """SQ, or an undefined length UN (PS3.5 6.2.2) or implicit non-pixel element."""
    if rec.vr == "SQ":
        return True
    if not rec.undefined_length or rec.vr in ("OB", "OW", "OB or OW"):
        return False
    return rec.vr == "UN" or not rec.explicit_vr


def _zeros_at(reader: _Reader, pos: int) -> bool:
    """True when the next (up to) 4 bytes are zero: no element has tag (0000,0000) in a
    file (group 0000 is the command group of a message, PS3.7 E.1), so zeros there
    are padding, or garbage that :func:`helpers.dicom.reading.trailing_bytes` refuses."""
    count = min(4, reader.size - pos)
    return not any(reader.read(pos, count, "padding"))


def _check_encoding(reader: _Reader, pos: int, implicit: bool) -> None:
    """The data set must start, and be written, as the transfer syntax says: a first
    element whose bytes 4-5 are (or are not) a VR is explicit (or implicit) VR."""
    if pos >= reader.size:
        raise TruncatedFileError(reader.path, reading.NO_DATA_SET)
    if pos + 6 > reader.size:
        return  # a cut header: reported where it is read
    found_explicit = reader.read(pos + 4, 2, "a VR").decode("latin-1") in reading.VRS
    if found_explicit == implicit:
        found, expected = ("explicit", "implicit") if implicit else ("implicit", "explicit")
        raise NotDicomError(reader.path, reading.wrong_vr_encoding(found, expected))


def _check_meta_length(path: Path, records: list[Element], meta_end: int) -> None:
    """(0002,0000) counts the bytes of the file meta elements after it (PS3.10 7.1)."""
    first = records[0] if records else None
    if first is None or first.tag != 0x00020000 or not isinstance(first.value, int):
        return
    if first.value != meta_end - first.end:
        raise NotDicomError(path, reading.wrong_meta_length(first.value, meta_end - first.end))


def _check_fits(reader: _Reader, offset: int, header: int, length: int, ctx: _Context,
                tag: int = ITEM) -> None:
    """A declared length must end inside the file and inside its container."""
    end = offset + header + length
    if end > reader.size:
        raise TruncatedFileError(reader.path, reading.past_the_end(
            tag, length, reader.size - offset - header))
    if ctx.end is not None and end > ctx.end:
        raise TruncatedFileError(
            reader.path, f"the element at byte {offset} declares {length} bytes, running past "
                         f"the end of its {ctx.kind} at byte {ctx.end}")


def _element(reader: _Reader, pos: int, ctx: _Context, part: str,
             max_value_bytes: int) -> Element:
    """Read one data element header (and a bounded part of its value) at ``pos``."""
    order = "<" if ctx.little else ">"
    if ctx.implicit:
        group, elem, length = struct.unpack(f"{order}HHI", reader.read(pos, 8, "an element"))
        tag = group << 16 | elem
        vr, header, explicit = dictionary_vr(tag), 8, False
    else:
        head = reader.read(pos, 8, "an element")
        group, elem = struct.unpack(f"{order}HH", head[:4])
        tag = group << 16 | elem
        vr_bytes = head[4:6]
        if vr_bytes.decode("latin-1") not in reading.VRS:
            raise NotDicomError(reader.path, reading.not_a_vr(tag, vr_bytes))
        vr, explicit = vr_bytes.decode("ascii"), True
        if vr in LONG_LENGTH_VRS:
            length = struct.unpack(f"{order}I", reader.read(pos + 8, 4, "an element"))[0]
            header = 12
        else:
            length = struct.unpack(f"{order}H", head[6:8])[0]
            header = 8
    depth = ctx.depth
    if length == UNDEFINED_LENGTH or (tag in PIXEL_DATA_TAGS and depth == 0):
        if length != UNDEFINED_LENGTH:
            _check_fits(reader, pos, header, length, ctx, tag)
        return Element(pos, tag, vr, length, header, b"", None, depth, part, explicit)
    _check_fits(reader, pos, header, length, ctx, tag)
    if vr == "SQ":
        return Element(pos, tag, vr, length, header, b"", None, depth, part, explicit)
    raw = reader.read(pos + header, min(length, max_value_bytes), "a value")
    value = decode_value(vr, raw, ctx.little) if length <= max_value_bytes else None
    return Element(pos, tag, vr, length, header, raw, value, depth, part, explicit)


def hexdump(path: PathLike, offset: int = 0, length: int = 64, width: int = 16) -> str:
    """The bytes ``offset .. offset+length`` of a file as ``xxd`` shows them.

    Each line: the offset in decimal, the bytes in hex, and the bytes that are
    printable ASCII (others as ``.``). Reads only ``length`` bytes.
    """
    with open(path, "rb") as fh:
        fh.seek(offset)
        chunk = fh.read(length)
    lines = []
    for start in range(0, len(chunk), width):
        row = chunk[start:start + width]
        hexes = " ".join(f"{b:02x}" for b in row).ljust(3 * width - 1)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        lines.append(f"{offset + start:6d}  {hexes}  {text}")
    return "\n".join(lines)
