"""Exercise checks of lesson 8: placeholders, right answers in every reasonable form, and
the hint behind each typical wrong answer.

Right answers are computed here from the files the lesson sends, read with pydicom
(the CR series of a year, the instances of a CT series), and the URL by hand from
PS3.18 10.6.1; not with the checks' own functions.
"""

from __future__ import annotations

import pandas as pd
import pydicom
import pytest

from helpers.lessons.checks import lesson8
from helpers.paths import DATA_DIR


def _cxr() -> list[pydicom.Dataset]:
    files = sorted((DATA_DIR / "cxr_cohort" / "images").glob("*.dcm"))[:60]
    return [pydicom.dcmread(f, stop_before_pixels=True) for f in files]


def _ct() -> list[pydicom.Dataset]:
    return [pydicom.dcmread(f, stop_before_pixels=True)
            for f in sorted((DATA_DIR / "ct_chest").rglob("*.dcm"))]


@pytest.mark.parametrize("check", [lesson8.check_cr_series_in_year,
                                   lesson8.check_series_instances, lesson8.check_qido_url])
def test_placeholder(check) -> None:
    for placeholder in (..., None):
        fb = check(placeholder)
        assert not fb and "no answer yet" in str(fb)


def test_cr_series_in_year() -> None:
    cr_2012 = {d.SeriesInstanceUID for d in _cxr()
               if d.Modality == "CR" and d.StudyDate.startswith("2012")}
    all_cr = {d.SeriesInstanceUID for d in _cxr() if d.Modality == "CR"}
    assert 0 < len(cr_2012) < len(all_cr)
    check = lesson8.check_cr_series_in_year
    assert check(len(cr_2012))
    assert check(float(len(cr_2012)))
    assert check(pd.DataFrame({"SeriesInstanceUID": sorted(cr_2012)}))  # the table itself
    assert "exact match" in check(0).message
    assert "did not match on the date" in check(len(all_cr)).message
    assert not check(len(cr_2012) + 1)
    assert "give a number" in check("fifteen").message


def test_series_instances() -> None:
    sizes: dict[str, int] = {}
    for d in _ct():
        sizes[str(d.SeriesNumber)] = sizes.get(str(d.SeriesNumber), 0) + 1
    check = lesson8.check_series_instances
    assert check(sizes["3"])
    assert check(list(range(sizes["3"])))
    assert "STUDY level" in check(sum(sizes.values())).message
    assert "IMAGE level" in check(1).message
    assert "series 2" in check(sizes["2"]).message
    assert "series 4" in check(sizes["4"]).message
    assert not check(sizes["3"] - 1)


GOOD = ("http://localhost:8042/dicom-web/series?Modality=CR&StudyDate=20130101-20131231"
        "&includefield=SeriesDescription")


@pytest.mark.parametrize("url", [
    GOOD,
    "http://localhost:8042/dicom-web/series?StudyDate=20130101-20131231"
    "&includefield=SeriesDescription&Modality=CR",
    "https://example.org/wado/series?00080060=CR&00080020=20130101-20131231"
    "&includefield=0008103E",
    "http://localhost:8042/dicom-web/series?Modality=CR&StudyDate=20130101-20131231"
    "&includefield=SeriesDescription,SeriesNumber",
    "http://localhost:8042/dicom-web/series/?Modality=CR&StudyDate=20130101-20131231"
    "&includefield=all",
])
def test_qido_url_right(url) -> None:
    assert lesson8.check_qido_url(url)


@pytest.mark.parametrize("url, hint", [
    (GOOD.replace("/series?", "/studies?"), "searches studies"),
    (GOOD.replace("/series?", "/instances?"), "one row per image"),
    (GOOD.replace("&includefield=SeriesDescription", ""), "includefield"),
    (GOOD.replace("20130101-20131231", "2013"), "not a date range"),
    (GOOD.replace("20130101-20131231", "2013*"), "not a date range"),
    (GOOD.replace("20130101-20131231", "20130101-20130131"), "range"),
    (GOOD.replace("Modality=CR", "Modality=DX"), "Modality=CR"),
    (GOOD + "&PatientID=1", "more than asked"),
    ("http://localhost:8042/dicom-web?Modality=CR", "ends with the resource"),
])
def test_qido_url_wrong(url, hint) -> None:
    fb = lesson8.check_qido_url(url)
    assert not fb and hint in fb.message


def test_qido_url_not_a_string() -> None:
    assert "as a string" in lesson8.check_qido_url(42).message


def test_qido_url_the_helper_builds_is_right() -> None:
    """The lesson's solution note says dicomweb.qido_url builds the same URL."""
    from helpers.network.dicomweb import qido_url

    url = qido_url("http://localhost:8042/dicom-web", "series",
                   {"Modality": "CR", "StudyDate": "20130101-20131231"}, ["SeriesDescription"])
    assert lesson8.check_qido_url(url)
