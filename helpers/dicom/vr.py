"""Parse the text value representations a metadata table holds: AS, DA, PN, DS, IS.

A crawl keeps header values as the text the file holds, because real archives
are messy and a cleaning step has to see what was there. These parsers turn
that text into numbers and dates, and say ``None`` (never raise) when a value
does not follow the standard, so the cleaning step can count and report it.

References: PS3.5 section 6.2, Table 6.2-1 (the VR definitions: AS Age String,
DA Date, DS Decimal String, IS Integer String) and section 6.2.1 (PN Person Name:
component groups separated by ``=``, components by ``^``). Each value of a
multi-valued element is separated by a backslash (PS3.5 6.4).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import NamedTuple

import pandas as pd

#: AS, PS3.5 Table 6.2-1: "A string of characters with one of the following
#: formats -- nnnD, nnnW, nnnM, nnnY", 4 bytes fixed.
_AS_STRICT = re.compile(r"(\d{3})([DWMY])")
#: What real archives also hold: lower-case units, fewer digits, a bare number.
_AS_LENIENT = re.compile(r"(\d{1,3})\s*([DWMYdwmy]?)")

#: Days per unit, for converting an age to years (a year is 365.25 days).
_DAYS_PER_YEAR = 365.25
_YEARS_PER_UNIT = {"D": 1 / _DAYS_PER_YEAR, "W": 7 / _DAYS_PER_YEAR, "M": 1 / 12, "Y": 1.0}

#: DS, PS3.5 Table 6.2-1: a fixed or floating point number, at most 16 bytes,
#: leading and trailing spaces allowed.
_DS = re.compile(r" *[+-]?(\d+|\d+\.\d*|\.\d+)([eE][+-]?\d+)? *")
_IS = re.compile(r" *[+-]?\d+ *")
#: DA, PS3.5 Table 6.2-1: YYYYMMDD; the ACR-NEMA form YYYY.MM.DD is still met in
#: old files (PS3.5 Table 6.2-1, note on DA).
_DA = re.compile(r"(\d{4})\.?(\d{2})\.?(\d{2})")


def _text(value: object) -> str | None:
    """The value as stripped text, or None for missing values (None, NaN, NA, '')."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    text = str(value).strip(" \x00")
    return text or None


def parse_age(value: object, *, lenient: bool = False) -> float | None:
    """Age String (AS) to years, or None when missing or not a valid AS value.

    ``"045Y"`` -> 45.0, ``"006M"`` -> 0.5, ``"003W"`` -> 21 days in years,
    ``"010D"`` -> 10 days in years (a year is 365.25 days).

    By default only the form PS3.5 Table 6.2-1 allows is accepted: three digits
    and one of ``D``, ``W``, ``M``, ``Y``. With ``lenient=True`` the forms real
    archives also hold are read too: lower-case units (``"042y"``), fewer digits
    (``"45Y"``) and bare numbers (``"90"``, taken as years).
    """
    text = _text(value)
    if text is None:
        return None
    match = (_AS_LENIENT if lenient else _AS_STRICT).fullmatch(text)
    if match is None:
        return None
    number, unit = int(match.group(1)), (match.group(2) or "Y").upper()
    return number * _YEARS_PER_UNIT[unit]


def ages_in_years(values: pd.Series, *, lenient: bool = False) -> pd.Series:
    """:func:`parse_age` over a column: float years, NaN where missing or invalid."""
    parsed = [parse_age(v, lenient=lenient) for v in values]
    return pd.Series([math.nan if p is None else p for p in parsed], index=values.index,
                     dtype="float64", name=values.name)


def parse_date(value: object) -> dt.date | None:
    """Date (DA) ``YYYYMMDD`` to a :class:`datetime.date`, or None when missing or invalid.

    Impossible calendar dates (``20230230``) are invalid. The ACR-NEMA form
    ``YYYY.MM.DD`` is accepted as pydicom does.
    """
    text = _text(value)
    if text is None:
        return None
    match = _DA.fullmatch(text)
    if match is None or (("." in text) and text.count(".") != 2):
        return None
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


class PersonName(NamedTuple):
    """The five components of a PN value's alphabetic group (PS3.5 6.2.1.1)."""

    family: str
    given: str
    middle: str
    prefix: str
    suffix: str

    def __str__(self) -> str:
        """The name as a person writes it: ``Dr Maria Q Smith Jr``."""
        return " ".join(p for p in (self.prefix, self.given, self.middle, self.family,
                                    self.suffix) if p)


def parse_name(value: object) -> PersonName | None:
    """Person Name (PN) to its components, or None when missing.

    ``"Smith^Maria^^Dr"`` -> ``PersonName(family='Smith', given='Maria', middle='',
    prefix='Dr', suffix='')``. Only the first (alphabetic) component group is
    read; ideographic and phonetic groups after ``=`` are ignored. More than five
    components is invalid (None).
    """
    text = _text(value)
    if text is None:
        return None
    alphabetic = text.split("=")[0]
    parts = [p.strip() for p in alphabetic.split("^")]
    if len(parts) > 5:
        return None
    parts += [""] * (5 - len(parts))
    return PersonName(*parts)


def _numbers(value: object, pattern: re.Pattern[str], convert: type) -> tuple | None:
    text = _text(value)
    if text is None:
        return None
    items = text.split("\\")
    if not all(pattern.fullmatch(item) for item in items):
        return None
    return tuple(convert(item) for item in items)


def parse_ds(value: object) -> tuple[float, ...] | None:
    """Decimal String (DS) to a tuple of floats (one per value), or None if invalid.

    ``"0.143\\\\0.143"`` (Pixel Spacing, row then column spacing in mm) ->
    ``(0.143, 0.143)``. Each value must be a decimal number as PS3.5 allows
    (``"1e-3"`` is valid, ``"0,143"`` or ``"abc"`` are not).
    """
    return _numbers(value, _DS, float)


def parse_is(value: object) -> tuple[int, ...] | None:
    """Integer String (IS) to a tuple of ints, or None if invalid."""
    return _numbers(value, _IS, int)
