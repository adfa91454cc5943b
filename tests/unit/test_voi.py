"""VOI LUT Functions and VOI LUT Sequences (PS3.3 C.11.2) against DCMTK and pydicom.

Files are built here: a 16-bit image holding every value of a range (so each
grey level of the curve is hit), with a VOI LUT Function (0028,1056) and/or a VOI
LUT Sequence (0028,3010). The references nobody here wrote:

- DCMTK 3.6.7 ``dcm2pnm`` (8-bit PGM): ``+Wi n`` renders the header's n-th window
  with the header's VOI LUT Function, ``+Ww c w +Wfs`` a window with SIGMOID forced,
  ``+Wl n`` the n-th VOI LUT table;
- pydicom's ``apply_windowing`` (the formulas, unrounded) and ``apply_voi_lut``
  (the table lookup).

DCMTK 3.6.7 does not implement LINEAR_EXACT (it warns and renders LINEAR); the
last tests pin that, so LINEAR_EXACT's reference is pydicom.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import apply_modality_lut, apply_voi_lut, apply_windowing
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from helpers.dicom.errors import InvalidValueError
from helpers.image.pixels import header_vois, voi_function, voi_lut, window

PHOTOMETRICS = ("MONOCHROME2", "MONOCHROME1")
# (center, width): wide, narrow, fractional, off to one side, negative values.
SIGMOID_WINDOWS = [(2000, 1000), (2047.5, 4096), (100, 1), (1000.3, 37.7), (3900, 20),
                   (0, 500), (-300, 800)]
EXACT_WINDOWS = [(2000, 1000), (2048, 4096), (100, 1), (100, 0.5), (1000.3, 37.7),
                 (10, 3), (-300, 800)]


def build(path: Path, values: np.ndarray, photometric: str = "MONOCHROME2", *,
          signed: bool = False, luts: list[tuple[int, int, int, np.ndarray, str]] = (),
          **attributes: object) -> Path:
    """A Secondary Capture file with 16-bit ``values`` and optional VOI LUT items
    ``(entries, first mapped, bits, table, VR of LUT Data)``."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = uid = generate_uid()
    ds.SOPClassUID, ds.SOPInstanceUID = SecondaryCaptureImageStorage, uid
    ds.Modality = "OT"
    ds.Rows, ds.Columns = values.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1 if signed else 0
    for keyword, value in attributes.items():
        setattr(ds, keyword, value)
    items = []
    for entries, first, bits, table, vr in luts:
        item = Dataset()
        item.add(DataElement(0x00283002, "SS" if signed and first < 0 else "US",
                             [entries, first, bits]))
        data = (table.astype("<u2").tobytes() if vr == "OW"
                else [int(v) for v in table])
        item.add(DataElement(0x00283006, vr, data))
        item.LUTExplanation = f"table {len(items) + 1}"
        items.append(item)
    if items:
        ds.VOILUTSequence = items
    ds.PixelData = values.astype("<i2" if signed else "<u2").tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.fixture(scope="module")
def dcm2pnm(tmp_path_factory):
    """``dcm2pnm(path, *options)``: DCMTK's 8-bit rendering of the first frame."""
    exe = shutil.which("dcm2pnm") or pytest.skip("dcm2pnm is not installed (Debian: dcmtk)")
    out = tmp_path_factory.mktemp("dcm2pnm") / "out.pgm"

    def render(path: Path, *options: str) -> np.ndarray:
        run = subprocess.run([exe, *options, "+op", str(path), str(out)], capture_output=True,
                             text=True, check=True)
        image = np.asarray(Image.open(out))
        out.unlink()
        render.stderr = run.stderr
        return image

    return render


def ramp(lo: int = 0, hi: int = 4096) -> np.ndarray:
    """Every value ``lo .. hi - 1`` once, as a 64-column image."""
    values = np.arange(lo, hi)
    return values.reshape(-1, 64)


def pydicom_curve(values: np.ndarray, center: float, width: float, function: str) -> np.ndarray:
    """pydicom's windowing into 0..255 (a dataset with 8-bit unsigned output, no rescale)."""
    ds = Dataset()
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsStored, ds.PixelRepresentation = 8, 0
    ds.WindowCenter, ds.WindowWidth, ds.VOILUTFunction = center, width, function
    return apply_windowing(np.asarray(values, dtype=np.float64), ds)


# --------------------------------------------------------------------------- SIGMOID
@pytest.mark.parametrize("photometric", PHOTOMETRICS)
def test_sigmoid_equals_dcm2pnm(tmp_path, dcm2pnm, photometric):
    """The header's SIGMOID window (``+Wi 1``) and a forced one (``+Wfs``), on every
    value of 0..4095 and of -2048..2047 (signed)."""
    mismatched = {}
    for signed, values in ((False, ramp()), (True, ramp(-2048, 2048))):
        for center, width in SIGMOID_WINDOWS:
            path = build(tmp_path / "s.dcm", values, photometric, signed=signed,
                         WindowCenter=center, WindowWidth=width, VOILUTFunction="SIGMOID")
            ds = pydicom.dcmread(path)
            assert voi_function(ds) == "SIGMOID"
            values_in = apply_modality_lut(ds.pixel_array, ds)
            got = window(values_in, center, width, photometric, voi_function(ds))
            for options in (("+Wi", "1"), ("+Ww", repr(float(center)), repr(float(width)),
                                           "+Wfs")):
                bad = int((got != dcm2pnm(path, *options)).sum())
                if bad:
                    mismatched[(signed, center, width, options[0])] = bad
            # the lookup-table path (small integers) gives the same grey levels
            assert np.array_equal(window(values.astype(np.int16), center, width, photometric,
                                         "SIGMOID"), got)
    assert not mismatched, mismatched


def test_sigmoid_agrees_with_pydicom():
    """Truncated, pydicom's unrounded sigmoid equals window() (MONOCHROME2: pydicom
    leaves the inversion to the caller) except within 1e-9 of an integer."""
    values = ramp(-3000, 5000).astype(np.float64)
    for center, width in SIGMOID_WINDOWS:
        y = pydicom_curve(values, center, width, "SIGMOID")
        got = window(values, center, width, function="SIGMOID")
        differ = got != np.trunc(y).astype(np.uint8)
        assert not np.any(differ & (np.abs(y - np.round(y)) > 1e-9)), (center, width)


def test_sigmoid_differs_from_linear_where_it_matters(tmp_path, dcm2pnm):
    """The issue's failure: a SIGMOID header rendered LINEAR differs from DCMTK."""
    path = build(tmp_path / "s.dcm", ramp(), WindowCenter=2000, WindowWidth=1000,
                 VOILUTFunction="SIGMOID")
    expected = dcm2pnm(path, "+Wi", "1")
    linear = window(ramp(), 2000, 1000)
    assert int((linear != expected).sum()) > 1000


# --------------------------------------------------------------------------- LINEAR_EXACT
def test_linear_exact_agrees_with_pydicom():
    values = ramp(-3000, 5000).astype(np.float64)
    for center, width in EXACT_WINDOWS:
        y = pydicom_curve(values, center, width, "LINEAR_EXACT")
        got = window(values, center, width, function="LINEAR_EXACT")
        differ = got != np.trunc(y).astype(np.uint8)
        assert not np.any(differ & (np.abs(y - np.round(y)) > 1e-9)), (center, width)
        # integer input through the lookup table: the same
        assert np.array_equal(window(values.astype(np.int32), center, width,
                                     function="LINEAR_EXACT"), got)


def test_linear_exact_is_not_linear():
    """Width 1 LINEAR is a threshold at c - 0.5; LINEAR_EXACT ramps over c -/+ 0.5."""
    x = np.array([99.0, 99.5, 99.75, 100.0, 100.25, 100.5, 101.0])
    assert window(x, 100, 1).tolist() == [0, 0, 255, 255, 255, 255, 255]
    assert window(x, 100, 1, function="LINEAR_EXACT").tolist() == [0, 0, 63, 127, 191, 255, 255]


def test_monochrome1_linear_exact_falls(tmp_path):
    x = ramp(0, 256).astype(np.float64)
    rising = window(x, 128, 100, "MONOCHROME2", "LINEAR_EXACT").astype(int)
    falling = window(x, 128, 100, "MONOCHROME1", "LINEAR_EXACT").astype(int)
    assert falling[0, 0] == 255 and falling[-1, -1] == 0
    assert np.all(np.abs(falling + rising - 255) <= 1)  # computed directly: truncation differs


def test_dcmtk_367_renders_linear_exact_as_linear(tmp_path, dcm2pnm):
    """Why pydicom is LINEAR_EXACT's reference: DCMTK warns and applies LINEAR."""
    path = build(tmp_path / "e.dcm", ramp(), WindowCenter=100, WindowWidth=1,
                 VOILUTFunction="LINEAR_EXACT")
    shown = dcm2pnm(path, "+Wi", "1")
    assert "LINEAR_EXACT" in dcm2pnm.stderr
    assert np.array_equal(shown, window(ramp(), 100, 1))


# --------------------------------------------------------------------------- VOI LUT Sequence
# (entries, first mapped, bits, table, VR): 8-, 10-, 12- and 16-bit tables, offsets,
# values clipped at both ends, OW and US LUT Data, a random (non-monotonic) table.
_RNG = np.random.default_rng(24)
LUTS = [
    (2000, 1000, 12, np.round(np.linspace(0, 4095, 2000)).astype(np.uint16), "US"),
    (3000, 500, 16, np.round(np.linspace(0, 65535, 3000)).astype(np.uint16), "OW"),
    (256, 100, 8, np.arange(256, dtype=np.uint16), "US"),
    (4096, 0, 10, np.round(np.linspace(0, 1000, 4096)).astype(np.uint16), "US"),
    (100, 2000, 16, _RNG.integers(0, 65536, 100).astype(np.uint16), "OW"),
]


@pytest.mark.parametrize("photometric", PHOTOMETRICS)
@pytest.mark.parametrize("spec", range(len(LUTS)))
def test_voi_lut_equals_dcm2pnm_and_pydicom(tmp_path, dcm2pnm, photometric, spec):
    path = build(tmp_path / "l.dcm", ramp(), photometric, luts=[LUTS[spec]])
    ds = pydicom.dcmread(path)
    lut = voi_lut(ds)
    values = apply_modality_lut(ds.pixel_array, ds)
    # the table lookup: pydicom's apply_voi_lut, which computes the table index in
    # the table's own dtype, so for an 8-bit table it wraps past index 255 (pydicom
    # 3.0.2): compared where the index fits
    fits = (values - lut.first_mapped < 256) if lut.bits == 8 else np.ones(values.shape, bool)
    assert fits.sum() > 256
    reference = apply_voi_lut(ds.pixel_array, ds)
    assert np.array_equal(lut.values(values)[fits], reference[fits])
    # the 8-bit rendering: DCMTK's
    got = lut.apply(values, photometric)
    expected = dcm2pnm(path, "+Wl", "1")
    assert int((got != expected).sum()) == 0


def test_voi_lut_signed_first_value(tmp_path, dcm2pnm):
    """A signed image's LUT Descriptor first value is SS (PS3.3 C.11.2.1.1.1)."""
    table = np.round(np.linspace(0, 4095, 1500)).astype(np.uint16)
    path = build(tmp_path / "n.dcm", ramp(-2048, 2048), signed=True,
                 luts=[(1500, -700, 12, table, "US")])
    ds = pydicom.dcmread(path)
    lut = voi_lut(ds)
    assert lut.first_mapped == -700
    values = apply_modality_lut(ds.pixel_array, ds)
    assert np.array_equal(lut.values(values), apply_voi_lut(ds.pixel_array, ds))
    assert np.array_equal(lut.apply(values), dcm2pnm(path, "+Wl", "1"))


# --------------------------------------------------------------------------- what the header offers
def test_header_vois_lists_windows_then_tables_and_each_renders_as_dcmtk(tmp_path, dcm2pnm):
    path = build(tmp_path / "h.dcm", ramp(), "MONOCHROME1",
                 WindowCenter=[2000, 1000], WindowWidth=[1000, 300],
                 WindowCenterWidthExplanation=["NORMAL", "HARDER"], VOILUTFunction="SIGMOID",
                 luts=[LUTS[0], LUTS[1]])
    ds = pydicom.dcmread(path)
    offered = header_vois(ds)
    assert [(v.name, v.kind, v.function) for v in offered] == [
        ("NORMAL", "window", "SIGMOID"), ("HARDER", "window", "SIGMOID"),
        ("table 1", "lut", "LINEAR"), ("table 2", "lut", "LINEAR")]
    values = apply_modality_lut(ds.pixel_array, ds)
    for n, voi in enumerate(offered[:2], start=1):
        assert np.array_equal(voi.apply(values, "MONOCHROME1"), dcm2pnm(path, "+Wi", str(n)))
    for n, voi in enumerate(offered[2:], start=1):
        assert np.array_equal(voi.apply(values, "MONOCHROME1"), dcm2pnm(path, "+Wl", str(n)))
        # what a viewer is given: one grey level per table entry
        grey = voi.lut.grey_table("MONOCHROME1")
        index = np.clip(values.astype(int) - voi.lut.first_mapped, 0, len(grey) - 1)
        assert np.array_equal(grey[index], voi.apply(values, "MONOCHROME1"))


def test_header_vois_skips_widths_the_function_forbids():
    ds = Dataset()
    ds.WindowCenter, ds.WindowWidth = [10, 20, 30], [0.5, 0, 5]
    assert [v.width for v in header_vois(ds)] == [5]  # LINEAR: width >= 1
    ds.VOILUTFunction = "SIGMOID"
    assert [v.width for v in header_vois(ds)] == [0.5, 5]  # SIGMOID: width > 0


def test_unknown_voi_function_is_refused():
    ds = Dataset()
    ds.VOILUTFunction = "CUBIC"
    with pytest.raises(InvalidValueError, match=r"PS3.3 C.11.2.1.3"):
        voi_function(ds)
    with pytest.raises(ValueError, match="VOI LUT Function"):
        window(np.zeros(3), 0, 10, function="CUBIC")
    with pytest.raises(ValueError, match="> 0"):
        window(np.zeros(3), 0, 0, function="SIGMOID")
