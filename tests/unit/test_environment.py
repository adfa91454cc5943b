"""Lesson 0's environment check says what this machine can really do."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pydicom
import pytest

from helpers import data
from helpers.dicom import dicomio
from helpers.dicom.errors import PixelDecodeError
from helpers.lessons import environment


def test_versions_are_the_installed_ones():
    table = environment.package_versions()
    assert table.set_index("package").loc["pydicom", "version"] == pydicom.__version__
    assert table.set_index("package").loc["numpy", "version"] == metadata.version("numpy")
    assert environment.package_versions(["surely-not-installed-pkg"]).version[0] == "missing"


def test_the_report_lists_every_package_requirements_txt_pins():
    """What lesson 0 reports is what requirements.txt pins (nbval, a test tool, aside), so a
    package a new lesson needs cannot be left out of the learner's check."""
    pins = [line.split("==")[0].strip()
            for line in (Path(__file__).resolve().parents[2] / "requirements.txt")
            .read_text().splitlines() if "==" in line and not line.startswith("#")]
    assert sorted(set(pins) - {"nbval"}) == sorted(environment.PACKAGES)
    assert all(environment.USES[name] for name in environment.PACKAGES)


@pytest.mark.parametrize("name", [
    "MR_small_RLE.dcm", "JPGExtended.dcm", "JPEG-LL.dcm", "MR_small_jpeg_ls_lossless.dcm",
    "MR_small_jp2klossless.dcm", "693_J2KR.dcm", "SC_rgb_jpeg_gdcm.dcm",
])
def test_a_syntax_reported_decodable_really_decodes(name):
    ds = dicomio.read(data.real(name))
    table = environment.decoders().set_index("UID")
    syntax = str(ds.file_meta.TransferSyntaxUID)
    assert syntax in table.index, f"{syntax} missing from the environment check"
    assert table.loc[syntax, "decodable"]
    frames = dicomio.pixels(ds)
    assert frames.size == ds.Rows * ds.Columns * int(ds.get("NumberOfFrames", 1)) * \
        ds.SamplesPerPixel


def test_no_problems_in_the_test_environment():
    assert environment.check() == []


def test_an_undecodable_file_gives_a_clear_error():
    """JPEG-lossy.dcm is a real 12-bit JPEG that neither pylibjpeg nor Pillow decodes."""
    ds = dicomio.read(data.real("JPEG-lossy.dcm"))
    with pytest.raises(PixelDecodeError, match="JPEG-lossy.dcm: pixel data cannot be decoded"):
        dicomio.pixels(ds)
