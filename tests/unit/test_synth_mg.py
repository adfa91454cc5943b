"""The synthetic For Presentation mammograms (data/mg), checked against references
they did not write.

- dicom3tools' dciodvfy validates both files (no line with "Error"): in
  test_generated_data_valid, once over data/;
- DCMTK's ``dcm2pnm`` renders each of the header's windows with the header's VOI LUT
  Function (``+Wi n``: SIGMOID here) and the VOI LUT Sequence table (``+Wl 1``), and
  ``window()`` / ``VoiLut.apply`` must equal it pixel for pixel;
- pydicom reads the headers back (the attributes PS3.3 C.8.11.7 and C.11.2 ask for)
  and ``apply_voi_lut`` / ``apply_windowing`` check the table against the window;
- the anatomy: air darker than fat, fat darker than glandular tissue, the pectoral
  muscle on the MLO only.
"""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.pixels import apply_voi_lut, apply_windowing

from helpers import data
from helpers.image.pixels import header_vois, voi_function, window

VIEWS = ("CC", "MLO")


@pytest.fixture(scope="module", params=VIEWS)
def mammogram(request) -> tuple[str, pydicom.Dataset]:
    return request.param, pydicom.dcmread(data.mammogram(request.param))


def test_the_header_is_a_for_presentation_mammogram(mammogram):
    view, ds = mammogram
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.1.2"
    assert ds.file_meta.MediaStorageSOPClassUID == ds.SOPClassUID
    assert (ds.Modality, ds.PresentationIntentType) == ("MG", "FOR PRESENTATION")
    assert (ds.BodyPartExamined, ds.ImageLaterality, ds.ViewPosition) == ("BREAST", "L", view)
    assert ds.ViewCodeSequence[0].CodeMeaning == {"CC": "cranio-caudal",
                                                   "MLO": "medio-lateral oblique"}[view]
    assert list(ds.PatientOrientation) == (["A", "R"] if view == "CC" else ["A", "FR"])
    assert (ds.PhotometricInterpretation, ds.BitsStored, ds.Rows, ds.Columns) == (
        "MONOCHROME2", 12, 512, 416)
    assert ds.PatientSex == "F" and ds.PatientName and ds.PatientID
    # both VOI encodings, as vendors write them (PS3.3 C.11.2)
    assert ds.VOILUTFunction == "SIGMOID" and voi_function(ds) == "SIGMOID"
    assert list(ds.WindowCenterWidthExplanation) == ["NORMAL", "HARDER", "SOFTER"]
    assert len(ds.VOILUTSequence) == 1
    assert list(ds.VOILUTSequence[0].LUTDescriptor) == [4096, 0, 12]
    kinds = [(v.kind, v.function) for v in header_vois(ds)]
    assert kinds == [("window", "SIGMOID")] * 3 + [("lut", "LINEAR")]


def test_window_equals_dcm2pnm_with_the_header_sigmoid(mammogram, dcm2pnm):
    """``dcm2pnm +Wi n`` applies the n-th window with the header's VOI LUT Function."""
    view, ds = mammogram
    path = data.mammogram(view)
    stored = ds.pixel_array
    for n, (center, width) in enumerate(zip(ds.WindowCenter, ds.WindowWidth, strict=True), 1):
        expected = dcm2pnm(path, "+Wi", str(n))
        got = window(stored, center, width, ds.PhotometricInterpretation, voi_function(ds))
        assert np.array_equal(got, expected), (view, n, int(np.sum(got != expected)))
        # the guard: the same window taken LINEAR is a different picture
        linear = window(stored, center, width, ds.PhotometricInterpretation)
        assert np.mean(linear != expected) > 0.5, (view, n)


def test_voi_lut_equals_dcm2pnm_and_pydicom(mammogram, dcm2pnm):
    """``dcm2pnm +Wl 1`` applies the VOI LUT Sequence's table; pydicom's
    ``apply_voi_lut`` gives the table's values."""
    view, ds = mammogram
    stored = ds.pixel_array
    lut = header_vois(ds)[3]
    assert np.array_equal(lut.apply(stored, ds.PhotometricInterpretation),
                          dcm2pnm(data.mammogram(view), "+Wl", "1"))
    assert np.array_equal(lut.lut.values(stored), apply_voi_lut(stored, ds, prefer_lut=True))


def test_the_table_is_the_normal_sigmoid_window():
    """The LUT Data is the NORMAL window's SIGMOID at 12 bits (pydicom's formula,
    unrounded, with the image's 12-bit output range), rounded to the nearest."""
    ds = pydicom.dcmread(data.mammogram("CC"))
    x = np.arange(4096, dtype=np.float64)
    one = Dataset()
    one.PhotometricInterpretation, one.BitsStored, one.PixelRepresentation = "MONOCHROME2", 12, 0
    one.WindowCenter, one.WindowWidth = ds.WindowCenter[0], ds.WindowWidth[0]
    one.VOILUTFunction = "SIGMOID"
    with np.errstate(over="ignore"):  # pydicom's exp overflows far below the center
        reference = apply_windowing(x, one)
    table = header_vois(ds)[3].lut.table
    assert np.max(np.abs(table - reference)) <= 0.5 + 1e-9


def test_the_anatomy(mammogram):
    """Air < fat < glandular tissue in stored values; the pectoral muscle (dense, in the
    upper chest-wall corner) only on the MLO."""
    view, ds = mammogram
    px = ds.pixel_array.astype(np.float64)
    air = px[:, -20:].mean()                    # beyond the nipple
    breast = px[200:312, 20:200]
    fat, gland = np.percentile(breast, [10, 90])
    assert air < 200 < fat < gland
    corner = px[:40, :40].mean()                # upper chest-wall corner
    if view == "MLO":
        assert corner > np.median(breast)
    else:
        assert corner < fat
