"""The input gate of a model: which files it may be given, and why the others are refused.

A model trained on adult PA chest radiographs must not be fed a lateral view, a
lossy-compressed copy, a screenshot with burned-in text or an image without a pixel
size. :func:`check_dicom` (the capstone of the course this workbook grew from,
generalised) reads those facts from a header table (:func:`helpers.tables.crawl.scan`
rows: one per file, header text as the file holds it) and returns a table of
reasons, one row per refused file and rule, so a pipeline can log why and go on.

The rules, each from the header (PS3.3):

- ``modality``: Modality (0008,0060), C.7.3.1.1.1;
- ``body_part``: Body Part Examined (0018,0015), C.7.3.1 (Annex L of PS3.16 lists the values);
- ``view_position``: View Position (0018,5101), C.8.11.5 (DX) / C.8.1.1 (CR): PA, AP, LL...;
- ``photometric``: Photometric Interpretation (0028,0004), C.7.6.3.1.2;
- ``bits_stored``: Bits Stored (0028,0101), C.7.6.3;
- ``lossy``: Lossy Image Compression (0028,2110) "01" (C.7.6.1.1.5: the image has been
  lossy compressed at some time), or a lossy transfer syntax (PS3.5 8.2);
- ``burned_in``: Burned In Annotation (0028,0301) "YES" (C.7.6.1.1.1: text in the pixels,
  possibly identifying); with ``require_no_burned_in`` an absent value (unknown) is
  refused too;
- ``pixel_spacing``: Pixel Spacing (0028,0030) or Imager Pixel Spacing (0018,1164)
  present (C.7.6.2, C.8.11.4): without it no size in mm can be measured.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from pydicom.uid import UID

__all__ = ["Gate", "GATE_FIELDS", "REASON_COLUMNS", "check_dicom"]

#: The header fields the gate reads (pass them to ``scan(fields=...)``).
GATE_FIELDS: tuple[str, ...] = (
    "PatientID", "Modality", "BodyPartExamined", "ViewPosition", "PhotometricInterpretation",
    "BitsStored", "LossyImageCompression", "BurnedInAnnotation", "PixelSpacing",
    "ImagerPixelSpacing", "SOPClassUID",
)
#: The columns of the reasons table.
REASON_COLUMNS: tuple[str, ...] = ("path", "rule", "value", "reason")


@dataclass(frozen=True)
class Gate:
    """What a model accepts. ``None`` for a rule: not checked."""

    modalities: frozenset[str] | None = frozenset({"CR", "DX"})
    body_parts: frozenset[str] | None = frozenset({"CHEST"})
    view_positions: frozenset[str] | None = frozenset({"PA", "AP"})
    photometric: frozenset[str] | None = frozenset({"MONOCHROME1", "MONOCHROME2"})
    bits_stored: frozenset[int] | None = None
    refuse_lossy: bool = True
    refuse_burned_in: bool = True
    require_no_burned_in: bool = False
    need_pixel_spacing: bool = True


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


def _reasons(row: pd.Series, gate: Gate) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []

    def one_of(rule: str, column: str, allowed: frozenset | None, what: str) -> None:
        if allowed is None:
            return
        value = _text(row.get(column))
        if value.upper() not in {str(a).upper() for a in allowed}:
            shown = value or "(absent)"
            out.append((rule, shown, f"{what} {shown} is not one of {sorted(allowed)}"))

    one_of("modality", "Modality", gate.modalities, "Modality (0008,0060)")
    one_of("body_part", "BodyPartExamined", gate.body_parts, "Body Part Examined (0018,0015)")
    one_of("view_position", "ViewPosition", gate.view_positions, "View Position (0018,5101)")
    one_of("photometric", "PhotometricInterpretation", gate.photometric,
           "Photometric Interpretation (0028,0004)")
    if gate.bits_stored is not None:
        value = _text(row.get("BitsStored"))
        if value not in {str(b) for b in gate.bits_stored}:
            out.append(("bits_stored", value or "(absent)",
                        f"Bits Stored (0028,0101) {value or '(absent)'} is not one of "
                        f"{sorted(gate.bits_stored)}"))
    if gate.refuse_lossy:
        flag = _text(row.get("LossyImageCompression"))
        syntax = _text(row.get("TransferSyntaxUID"))
        if flag == "01":
            out.append(("lossy", flag, "Lossy Image Compression (0028,2110) is 01: the pixels "
                                       "were lossy compressed at some time (PS3.3 C.7.6.1.1.5)"))
        elif syntax and UID(syntax).is_compressed and not UID(syntax).is_deflated \
                and "Lossless" not in UID(syntax).name and "RLE" not in UID(syntax).name:
            out.append(("lossy", syntax, f"stored with a lossy transfer syntax "
                                         f"({UID(syntax).name}, PS3.5 8.2)"))
    if gate.refuse_burned_in:
        flag = _text(row.get("BurnedInAnnotation")).upper()
        if flag == "YES" or (gate.require_no_burned_in and flag != "NO"):
            out.append(("burned_in", flag or "(absent)",
                        "Burned In Annotation (0028,0301) is "
                        + ("YES: text is drawn into the pixels" if flag == "YES"
                           else f"{flag or 'absent'}: the pixels may hold text")))
    if gate.need_pixel_spacing:
        if not (_text(row.get("PixelSpacing")) or _text(row.get("ImagerPixelSpacing"))):
            out.append(("pixel_spacing", "(absent)", "neither Pixel Spacing (0028,0030) nor "
                        "Imager Pixel Spacing (0018,1164): no size in mm"))
    return out


def check_dicom(table: pd.DataFrame, gate: Gate | None = None) -> pd.DataFrame:
    """The reasons each file of a header table is refused by ``gate`` (default: adult
    chest radiographs, :class:`Gate`'s defaults): one row per file and broken rule,
    columns :data:`REASON_COLUMNS`. A file with no row is accepted; a column the table
    lacks counts as an absent value (crawl with :data:`GATE_FIELDS`)."""
    gate = Gate() if gate is None else gate
    rows = []
    for _, row in table.iterrows():
        for rule, value, reason in _reasons(row, gate):
            rows.append({"path": row["path"], "rule": rule, "value": value, "reason": reason})
    return pd.DataFrame(rows, columns=list(REASON_COLUMNS))
