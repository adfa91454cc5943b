"""helpers.dicom.vr parsers against pydicom's own VR validators and value classes."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydicom.valuerep import DA, DSfloat, PersonName, validate_value

from helpers.dicom.vr import ages_in_years, parse_age, parse_date, parse_ds, parse_is, parse_name


def _pydicom_accepts(vr: str, value: str) -> bool:
    try:
        validate_value(vr, value, 2)  # 2 = config.RAISE
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(("value", "years"), [
    ("045Y", 45.0), ("000Y", 0.0), ("120Y", 120.0), ("006M", 0.5), ("018M", 1.5),
    ("003W", 21 / 365.25), ("010D", 10 / 365.25), ("052W", 364 / 365.25),
])
def test_valid_ages(value: str, years: float) -> None:
    assert parse_age(value) == pytest.approx(years)


@pytest.mark.parametrize("value", [
    "45Y", "45", "045", "045y", "045 Y", "0045Y", "Y045", "-45Y", "04.5Y", "045X", "N-A",
    "abcd", "", "   ", None, math.nan, pd.NA, 45,
])
def test_invalid_or_missing_ages(value: object) -> None:
    assert parse_age(value) is None


@given(st.text(alphabet="0123456789DWMYdwmy -.X", min_size=1, max_size=6))
def test_strict_age_accepts_exactly_what_pydicom_validates(value: str) -> None:
    stripped = value.strip(" ")
    assert (parse_age(value) is not None) == (bool(stripped) and _pydicom_accepts("AS", stripped))


@pytest.mark.parametrize(("value", "years"), [
    ("042y", 42.0), ("90", 90.0), ("45Y", 45.0), ("6M", 0.5), ("045Y", 45.0),
])
def test_lenient_ages(value: str, years: float) -> None:
    assert parse_age(value, lenient=True) == pytest.approx(years)
    assert parse_age("N-A", lenient=True) is None
    assert parse_age("1000Y", lenient=True) is None


def test_ages_column() -> None:
    col = pd.Series(["045Y", None, "006M", "bad"], index=[10, 11, 12, 13], name="PatientAge")
    out = ages_in_years(col)
    assert list(out.index) == [10, 11, 12, 13] and out.dtype == "float64"
    assert out[10] == 45 and out[12] == 0.5 and out[[11, 13]].isna().all()


@given(st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_dates_match_pydicom(day: dt.date) -> None:
    text = day.strftime("%Y%m%d")
    assert parse_date(text) == day == DA(text)
    assert parse_date(day.strftime("%Y.%m.%d")) == DA(day.strftime("%Y.%m.%d"))


@pytest.mark.parametrize("value", ["20230230", "2023131", "20231301", "2023-01-05", "2023.0105",
                                   "yesterday", "", None])
def test_invalid_dates(value: object) -> None:
    assert parse_date(value) is None


@pytest.mark.parametrize("value", [
    "Smith^Maria", "Smith^Maria^Q^Dr^Jr", "Hart^Eleanor^^Dr", "Anonymous", "Yamada^Tarou=山田^太郎",
    "^Given", "Family^Given^Middle",
])
def test_names_match_pydicom(value: str) -> None:
    ours, ref = parse_name(value), PersonName(value)
    assert (ours.family, ours.given, ours.middle, ours.prefix, ours.suffix) == (
        ref.family_name, ref.given_name, ref.middle_name, ref.name_prefix, ref.name_suffix)


def test_name_display_and_invalid() -> None:
    assert str(parse_name("Smith^Maria^^Dr")) == "Dr Maria Smith"
    assert parse_name("a^b^c^d^e^f") is None
    assert parse_name(None) is None and parse_name("  ") is None


@given(st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1,
                max_size=3))
def test_ds_matches_pydicom(values: list[float]) -> None:
    texts = [str(DSfloat(v, auto_format=True)) for v in values]
    assert parse_ds("\\".join(texts)) == tuple(float(DSfloat(t)) for t in texts)


@pytest.mark.parametrize("value", ["0,143", "abc", "1.0\\x", "nan", "inf", "", None, "1.2.3"])
def test_invalid_ds(value: object) -> None:
    assert parse_ds(value) is None


def test_ds_forms() -> None:
    assert parse_ds(" 0.143\\0.143 ") == (0.143, 0.143)
    assert parse_ds("1e-3") == (0.001,)
    assert parse_ds(".5") == (0.5,) and parse_ds("5.") == (5.0,)
    assert parse_is("12\\-3") == (12, -3) and parse_is("1.5") is None
