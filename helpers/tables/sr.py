"""Measurements in a Structured Report (TID 1500), to and from a table.

A DICOM SR (PS3.3 A.35) is a tree of content items; the Measurement Report template,
TID 1500 (PS3.16), is the one AI results and quantitative readings use: a root
"Imaging Measurement Report" holding measurement groups (TID 1411 for a volume
referenced by a SEG segment), each with a tracking identifier, a finding and
numeric measurements (TID 300: a coded name, a value and a UCUM unit). highdicom
builds and parses that tree; this module turns it into one row per measurement,
the shape a dataset or a statistics package wants, and writes such rows back.
"""

from __future__ import annotations

import os
from pathlib import Path

import highdicom as hd
import pandas as pd
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from ..dicom.dicomio import read
from ..dicom.errors import WorkbookError

__all__ = ["MEASUREMENTS", "MEASUREMENT_COLUMNS", "NotAReportError", "measurement_report",
           "measurements"]

#: The measurements this module writes: name -> (concept, UCUM unit). Volume is SNOMED
#: CT's; there is no standard code for a Dice coefficient, so it has a local one
#: (coding scheme ``99WORKBOOK``: a private scheme, PS3.16 8.2 "99" prefix).
MEASUREMENTS: dict[str, tuple[hd.sr.CodedConcept, hd.sr.CodedConcept]] = {
    "Volume": (hd.sr.CodedConcept("118565006", "SCT", "Volume"),
               hd.sr.CodedConcept("mL", "UCUM", "milliliter")),
    "Dice": (hd.sr.CodedConcept("DICE", "99WORKBOOK", "Dice similarity coefficient"),
             hd.sr.CodedConcept("1", "UCUM", "no units")),
    "Hausdorff distance": (hd.sr.CodedConcept("HAUSDORFF", "99WORKBOOK", "Hausdorff distance"),
                           hd.sr.CodedConcept("mm", "UCUM", "millimeter")),
}
#: Columns of :func:`measurements`' table.
MEASUREMENT_COLUMNS = ("tracking_id", "finding", "segment", "seg_uid", "measurement",
                       "value", "unit")


class NotAReportError(WorkbookError, ValueError):
    """A file that is not a TID 1500 Measurement Report (PS3.16)."""


def measurement_report(seg: Dataset, rows: pd.DataFrame, *, series_uid: str, sop_uid: str,
                       device: str = "DICOM Workbook", series_number: int = 1
                       ) -> hd.sr.Comprehensive3DSR:
    """A TID 1500 report of ``rows`` (columns ``segment``, ``measurement`` among
    :data:`MEASUREMENTS`, ``value``), each group referencing that segment of ``seg``
    (a SEG dataset, the evidence). Returns the SR dataset (Comprehensive 3D SR)."""
    context = hd.sr.ObservationContext(observer_device_context=hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=hd.UID(), name=device)))
    groups = []
    for segment, part in rows.groupby("segment", sort=True):
        description = seg.SegmentSequence[int(segment) - 1]
        items = []
        for r in part.itertuples():
            name, unit = MEASUREMENTS[r.measurement]
            items.append(hd.sr.Measurement(name=name, value=float(r.value), unit=unit))
        groups.append(hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(
                identifier=f"segment {int(segment)} {description.SegmentLabel}"),
            referenced_segment=hd.sr.ReferencedSegment(
                sop_class_uid=seg.SOPClassUID, sop_instance_uid=seg.SOPInstanceUID,
                segment_number=int(segment),
                source_series=hd.sr.SourceSeriesForSegmentation(
                    seg.ReferencedSeriesSequence[0].SeriesInstanceUID)),
            finding_type=hd.sr.CodedConcept.from_dataset(
                description.SegmentedPropertyTypeCodeSequence[0]),
            measurements=items))
    report = hd.sr.MeasurementReport(
        observation_context=context,
        procedure_reported=hd.sr.CodedConcept("363679005", "SCT", "Imaging procedure"),
        imaging_measurements=groups)
    return hd.sr.Comprehensive3DSR(
        evidence=[seg], content=report, series_instance_uid=series_uid,
        series_number=series_number, sop_instance_uid=sop_uid, instance_number=1,
        manufacturer=device, is_complete=True)


def measurements(path: str | os.PathLike[str]) -> pd.DataFrame:
    """One row per numeric measurement of a TID 1500 report (columns
    :data:`MEASUREMENT_COLUMNS`), read with highdicom: volumetric, planar and
    image-level groups, with the SEG segment each references when it does."""
    p = Path(path)
    read(p, stop_before_pixels=True)   # a readable DICOM file, or a documented error
    try:
        content = hd.sr.srread(p).content
        if not isinstance(content, hd.sr.MeasurementReport):
            raise ValueError("its content is not an Imaging Measurement Report")
    except (ValueError, AttributeError, TypeError, KeyError) as exc:
        raise NotAReportError(p, f"is not a TID 1500 Measurement Report (PS3.16): "
                              f"{str(exc).splitlines()[0][:100]}") from None
    rows = []
    for group in (content.get_volumetric_roi_measurement_groups()
                  + content.get_planar_roi_measurement_groups()
                  + content.get_image_measurement_groups()):
        segment = getattr(group, "referenced_segment", None)
        for m in group.get_measurements():
            rows.append({
                "tracking_id": group.tracking_identifier,
                "finding": group.finding_type.meaning if group.finding_type else "",
                "segment": int(segment.referenced_segment_numbers[0])
                if segment is not None else None,
                "seg_uid": str(segment.referenced_sop_instance_uid)
                if segment is not None else None,
                "measurement": m.name.meaning, "value": float(m.value),
                "unit": m.unit.value})
    return pd.DataFrame(rows, columns=list(MEASUREMENT_COLUMNS))
