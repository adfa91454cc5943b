"""Checks for Lesson 8, DICOM networking.

The right answers come from the files the lesson sent to the archive, read here with
pydicom (never from the archive or the network helpers the learner uses), and for the
QIDO-RS URL from the rules of PS3.18 section 10.6.1, with the URL parsed by the
standard library.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import pydicom

from ...paths import DATA_DIR
from ..feedback import Feedback, as_number, check, right, wrong

#: The lesson sends the whole CT study and the first CXR_SENT images of the X-ray cohort
#: (file-name order).
CXR_SENT = 60
#: Exercise 1: CR series of this year.
YEAR = "2012"
#: Exercise 2: the CT series whose files the learner retrieves.
SERIES_NUMBER = "3"
#: Exercise 3: the search whose QIDO-RS URL the learner writes.
QIDO_MODALITY, QIDO_YEAR, QIDO_FIELD = "CR", "2013", "SeriesDescription"
_FIELD_TAG = "0008103E"


def cxr_sent() -> list[Path]:
    """The X-ray cohort images the lesson sends."""
    return sorted((DATA_DIR / "cxr_cohort" / "images").glob("*.dcm"))[:CXR_SENT]


def ct_sent() -> list[Path]:
    """The CT study's files (every series)."""
    return sorted((DATA_DIR / "ct_chest").rglob("*.dcm"))


@cache
def _headers(kind: str) -> tuple[tuple[str, str, str, str, str], ...]:
    """(Modality, StudyDate, SeriesInstanceUID, StudyInstanceUID, SeriesNumber) per file."""
    files = cxr_sent() if kind == "cxr" else ct_sent()
    out = []
    for path in files:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        out.append((str(ds.Modality), str(ds.StudyDate), str(ds.SeriesInstanceUID),
                    str(ds.StudyInstanceUID), str(ds.get("SeriesNumber", ""))))
    return tuple(out)


def _count(answer: object) -> float | None:
    """A count given as a number, or as a table / list of the matches (its length)."""
    if hasattr(answer, "__len__") and not isinstance(answer, str | bytes):
        return float(len(answer))  # type: ignore[arg-type]
    return as_number(answer)


def _cr_series(year: str | None) -> int:
    return len({series for modality, date, series, _, _ in _headers("cxr")
                if modality == "CR" and (year is None or date.startswith(year))})


@check
def check_cr_series_in_year(answer: object) -> Feedback:
    """Exercise 1: how many CR series of :data:`YEAR` the archive holds."""
    value = _count(answer)
    if value is None:
        return wrong(f"give a number (or the table of matches), not {type(answer).__name__}.")
    expected = _cr_series(YEAR)
    if value == expected:
        return right(f"{expected} CR series have a Study Date in {YEAR}: a C-FIND at the "
                     f"SERIES level with Modality `CR` and the range StudyDate "
                     f"`{YEAR}0101-{YEAR}1231`.")
    if value == 0:
        return wrong(f"no match usually means an exact match where a range was needed: "
                     f"StudyDate `{YEAR}` matches only the value `{YEAR}`; a date range is "
                     f"`{YEAR}0101-{YEAR}1231` (PS3.4 C.2.2.2.5).")
    if value == _cr_series(None):
        return wrong(f"that is every CR series: the query did not match on the date; add "
                     f"StudyDate `{YEAR}0101-{YEAR}1231`.")
    return wrong("count the series a C-FIND at the SERIES level returns with Modality `CR` "
                 f"and a Study Date range covering {YEAR} (StudyInstanceUID as a return key: "
                 "the archive's hierarchical search needs it).")


@check
def check_series_instances(answer: object) -> Feedback:
    """Exercise 2: how many files a C-GET of CT series :data:`SERIES_NUMBER` brings."""
    value = _count(answer)
    if value is None:
        return wrong(f"give a number (or the table `get` returned), not "
                     f"{type(answer).__name__}.")
    per_series: dict[str, int] = {}
    for _, _, _, _, number in _headers("ct"):
        per_series[number] = per_series.get(number, 0) + 1
    expected = per_series[SERIES_NUMBER]
    if value == expected:
        return right(f"series {SERIES_NUMBER} holds {expected} instances: a C-GET at the "
                     "SERIES level names the study and the series by their UIDs.")
    if value == len(_headers("ct")):
        return wrong(f"{int(value)} is the whole study: the C-GET was at the STUDY level; "
                     "retrieve at the SERIES level with the series' SeriesInstanceUID.")
    if value == 1:
        return wrong("one file is one instance (IMAGE level); the series holds more.")
    others = {n: c for n, c in per_series.items() if n != SERIES_NUMBER and c == value}
    if others:
        return wrong(f"that is the size of series {', '.join(sorted(others))}: pick the "
                     f"series whose SeriesNumber is {SERIES_NUMBER} (a return key of the "
                     "C-FIND at the SERIES level).")
    return wrong(f"find the SeriesInstanceUID of series {SERIES_NUMBER} with a C-FIND at the "
                 "SERIES level, C-GET that series, and count the files that arrived.")


def _parse(url: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(url.strip())
    params: dict[str, list[str]] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        for item in value.split(","):  # includefield=a,b is allowed (PS3.18 8.3.4.3)
            params.setdefault(key.lower() if key.lower() == "includefield" else key,
                              []).append(unquote(item))
    return parts.path.rstrip("/"), params


def _is(params: dict[str, list[str]], keyword: str, tag: str) -> list[str] | None:
    return params.get(keyword) or params.get(tag) or params.get(tag.lower())


@check
def check_qido_url(answer: object) -> Feedback:
    """Exercise 3: the QIDO-RS URL of every CR series of :data:`QIDO_YEAR` returning Series
    Description (keywords or tags, any parameter order, any base URL)."""
    if not isinstance(answer, str):
        return wrong(f"give the URL as a string, not {type(answer).__name__}.")
    path, params = _parse(answer)
    resource = path.rsplit("/", 1)[-1]
    if resource == "studies":
        return wrong("`/studies` searches studies; Modality and Series Description are "
                     "series attributes: search `/series`.")
    if resource == "instances":
        return wrong("`/instances` returns one row per image; the question asks for series: "
                     "search `/series`.")
    if resource != "series":
        return wrong("a QIDO-RS search URL ends with the resource searched: `.../series` "
                     "(PS3.18 10.6.1).")
    modality = _is(params, "Modality", "00080060")
    if modality != [QIDO_MODALITY]:
        return wrong(f"match the modality: `Modality={QIDO_MODALITY}`.")
    dates = _is(params, "StudyDate", "00080020")
    expected_range = f"{QIDO_YEAR}0101-{QIDO_YEAR}1231"
    if dates in ([QIDO_YEAR], [f"{QIDO_YEAR}*"]):
        return wrong(f"StudyDate `{dates[0]}` is not a date range: dates do not take "
                     f"wildcards, a range is `{expected_range}` (PS3.18 8.3.4.1).")
    if dates != [expected_range]:
        return wrong(f"match the study date with the range `StudyDate={expected_range}`.")
    fields = {f.lower() for f in params.get("includefield", [])}
    if not fields & {QIDO_FIELD.lower(), _FIELD_TAG.lower(), "all"}:
        return wrong(f"{QIDO_FIELD} is not a default return key of a series search: ask for "
                     f"it with `includefield={QIDO_FIELD}` (PS3.18 8.3.4.3).")
    extra = set(params) - {"Modality", "00080060", "StudyDate", "00080020", "includefield"}
    if extra:
        return wrong(f"the URL matches on more than asked: {', '.join(sorted(extra))}.")
    return right("a series search with two matching keys (a single value and a date range) "
                 "and one `includefield`.")
