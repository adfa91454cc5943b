"""helpers.tables.deid against dicognito, a byte search of the written file, and dciodvfy.

The fake PHI put into the test datasets is listed here by hand, so the search for
leftovers does not depend on helpers.tables.deid.phi_values.
"""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import pandas as pd
import pydicom
import pytest
from deid_reference import missed_changes
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag
from pydicom.uid import UID

from helpers import data
from helpers.dicom.dicomio import save_copy
from helpers.dicom.errors import DeidentificationError, InvalidValueError
from helpers.tables.crawl import scan
from helpers.tables.deid import (
    BASIC_PROFILE,
    audit,
    audit_table,
    deidentify,
    deidentify_table,
    element_paths,
    phi_values,
    profile_table,
    pseudonym,
    split_dates,
)

KEY = "test-key"

#: Fake PHI written into the test dataset (made up; no real person).
FAKE = {
    "PatientName": "Okafor^Chidinma^Ada", "PatientID": "MRN4471902",
    "PatientBirthDate": "19580314", "InstitutionName": "Harbourview Infirmary",
    "InstitutionAddress": "9 Quay Lane^^Portwick^^PW2 7XY",
    "ReferringPhysicianName": "Brandt^Ottilie^^Dr", "AccessionNumber": "ACC7781234",
    "OperatorsName": "Quist^Henrik", "StationName": "XRAYROOM7",
}
PHI_STRINGS = ["Okafor", "Chidinma", "MRN4471902", "19580314", "Harbourview", "Quay Lane",
               "Portwick", "Brandt", "Ottilie", "ACC7781234", "Quist", "XRAYROOM7",
               "NHS55512345", "Fenwick", "Marisol"]


def phi_dataset() -> Dataset:
    """A real CT header (with its private tags) plus fake PHI, also inside sequences."""
    ds = pydicom.dcmread(data.real("CT_small.dcm"))
    for keyword, value in FAKE.items():
        setattr(ds, keyword, value)
    other = Dataset()
    other.PatientID, other.TypeOfPatientID = "NHS55512345", "TEXT"
    ds.OtherPatientIDsSequence = [other]
    observer = Dataset()  # a person name the profile table does not list
    observer.VerifyingObserverName = "Fenwick^Marisol"
    observer.VerificationDateTime = "20210402101500"
    ds.VerifyingObserverSequence = [observer]
    ref = Dataset()
    ref.ReferencedSOPClassUID = ds.SOPClassUID
    ref.ReferencedSOPInstanceUID = ds.SOPInstanceUID
    ds.ReferencedImageSequence = [ref]
    ds.AcquisitionDateTime = "20040119072731"
    return ds


def test_element_paths_is_iterall_with_paths() -> None:
    """The same elements in the same order as pydicom's Dataset.iterall, and each path
    names its element: following it with pydicom's own indexing finds that element."""
    ds = phi_dataset()
    found = list(element_paths(ds))
    assert [id(e) for _, e in found] == [id(e) for e in ds.iterall()]
    assert len(found) > len(ds)  # sequence items included
    for path, elem in found:
        node: object = ds
        for step in path.split("."):
            name, _, index = step.partition("[")
            key = Tag(int(name[1:5], 16), int(name[6:10], 16)) if name.startswith("(") else name
            node = node[key]  # type: ignore[index]
            if index:
                node = node.value[int(index.rstrip("]"))]  # type: ignore[attr-defined]
        assert node is elem, path


def test_input_untouched() -> None:
    ds = phi_dataset()
    before = copy.deepcopy(ds)
    deidentify(ds, key=KEY)
    assert ds == before and ds.file_meta == before.file_meta


def test_no_phi_left_in_the_written_file(tmp_path: Path) -> None:
    ds = phi_dataset()
    out = deidentify(ds, key=KEY)
    assert audit(out, phi_values(ds)).empty
    path = tmp_path / "deid.dcm"
    out.save_as(path, enforce_file_format=True)
    raw = path.read_bytes().lower()
    for text in PHI_STRINGS + [ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID]:
        assert text.lower().encode() not in raw, text
    assert not any(e.tag.is_private for e in pydicom.dcmread(path).iterall())


def test_audit_finds_what_is_left() -> None:
    ds = phi_dataset()
    report = audit(ds, phi_values(ds))
    flagged = set(report["keyword"])
    assert {"PatientName", "PatientID", "PatientBirthDate", "InstitutionName",
            "VerifyingObserverName", "OperatorsName"} <= flagged
    assert report["problem"].str.contains("private").any()
    assert "OtherPatientIDsSequence[0].PatientID" in set(report["where"])
    out = deidentify(ds, key=KEY)
    out.VerifyingObserverSequence[0].VerifyingObserverName = "Fenwick^M"  # a leak put back
    assert set(audit(out, phi_values(ds))["where"]) == \
        {"VerifyingObserverSequence[0].VerifyingObserverName"}


def test_method_attributes() -> None:
    out = deidentify(phi_dataset(), key=KEY)
    assert out.PatientIdentityRemoved == "YES"
    # a subset of Table E.1-1 may not claim the Basic Profile's code 113100 (PS3.16 CID
    # 7050); the method is said in words (PS3.3 C.12.1: Type 1C without the codes)
    assert "DeidentificationMethodCodeSequence" not in out
    assert out.DeidentificationMethod[0].startswith("Subset of PS3.15 Table E.1-1")
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"
    assert out.PatientAge == "000Y" and out.PatientSex == "O"  # patient characteristics kept


@pytest.mark.parametrize("name", ["CT_small.dcm", "test-SR.dcm", "rtstruct.dcm", "phi"])
def test_changes_everything_dicognito_changes(name: str) -> None:
    """Every value dicognito replaces is replaced or removed here too (see
    :func:`deid_reference.missed_changes` for the two exceptions)."""
    ds = phi_dataset() if name == "phi" else pydicom.dcmread(data.real(name), force=True)
    assert not missed_changes(ds, deidentify(ds, key=KEY))


def test_uids_consistent_within_a_study() -> None:
    files = sorted(p for p in data.dicomdir().parent.glob("77654033/CT2/*"))
    originals = [pydicom.dcmread(p) for p in files]
    assert len({ds.StudyInstanceUID for ds in originals}) == 1
    outs = [deidentify(ds, key=KEY) for ds in originals]
    assert len({o.StudyInstanceUID for o in outs}) == 1
    assert outs[0].StudyInstanceUID != originals[0].StudyInstanceUID
    for attr in ("SeriesInstanceUID", "FrameOfReferenceUID", "SOPInstanceUID"):
        assert len({getattr(o, attr) for o in outs}) == len({getattr(d, attr) for d in originals})
    for o in outs:
        assert o.file_meta.MediaStorageSOPInstanceUID == o.SOPInstanceUID
        assert UID(o.SOPInstanceUID).is_valid and len(o.SOPInstanceUID) <= 64
    assert len({o.PatientID for o in outs}) == 1 and outs[0].PatientID == outs[0].PatientName
    # dates move by the same number of days for one patient: intervals survive
    ds = phi_dataset()
    a = deidentify(ds, key=KEY)
    ds2 = phi_dataset()
    ds2.StudyDate = "20040201"  # 13 days after the first study
    b = deidentify(ds2, key=KEY)
    from helpers.dicom.vr import parse_date
    assert (parse_date(b.StudyDate) - parse_date(a.StudyDate)).days == 13
    assert a.StudyDate != ds.StudyDate
    # another key: other pseudonyms
    assert deidentify(ds, key="other").PatientID != a.PatientID


def test_reference_to_another_instance_follows_the_remap() -> None:
    ds = phi_dataset()
    out = deidentify(ds, key=KEY)
    assert out.ReferencedImageSequence[0].ReferencedSOPInstanceUID == out.SOPInstanceUID
    assert out.ReferencedImageSequence[0].ReferencedSOPClassUID == ds.SOPClassUID


def test_deidentified_file_still_validates(tmp_path: Path, dciodvfy: str) -> None:
    src = data.real("CT_small.dcm")
    out = deidentify(pydicom.dcmread(src), key=KEY)
    out.save_as(tmp_path / "deid.dcm", enforce_file_format=True)

    def errors(path: Path) -> set[str]:
        run = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True)
        return {line for line in (run.stdout + run.stderr).splitlines()
                if line.startswith("Error")}

    assert errors(tmp_path / "deid.dcm") <= errors(src)


def test_table_matches_headers() -> None:
    folder = data.dicomdir().parent / "77654033"
    table, _ = scan(folder, progress=False)
    clean = deidentify_table(table, key=KEY)
    assert not {"PatientName", "PatientBirthDate", "AccessionNumber", "InstitutionName"} \
        & set(clean.columns)
    for _, row in clean.iterrows():
        out = deidentify(pydicom.dcmread(folder / row["path"]), key=KEY)
        assert row["PatientID"] == out.PatientID
        assert row["StudyInstanceUID"] == out.StudyInstanceUID
        assert row["SOPInstanceUID"] == out.SOPInstanceUID
        assert row["StudyDate"] == out.StudyDate
        assert row["SOPClassUID"] == out.SOPClassUID
    anywhere: dict[str, str] = {}
    dates = {}
    for label, rel in table["path"].items():
        found, dates[label] = split_dates(phi_values(pydicom.dcmread(folder / rel)))
        anywhere.update(found)
    row_phi = pd.Series(dates)
    assert audit_table(clean, anywhere, row_phi=row_phi).empty
    assert not audit_table(table, anywhere).empty
    dated = audit_table(table[["path", "StudyDate"]], {}, row_phi=row_phi)
    assert len(dated) == len(table)  # each original date found in its own row
    assert clean["PatientID"].iloc[0] == pseudonym(table["PatientID"].iloc[0], KEY)


def test_profile_keywords_are_dicom_keywords() -> None:
    """Every profile keyword is a keyword of pydicom's data dictionary (PS3.6), so the
    table's tags are real (was an ``assert`` inside profile_table, which python -O strips)."""
    from pydicom.datadict import keyword_for_tag, tag_for_keyword

    table = profile_table()
    assert len(table) == len(BASIC_PROFILE)
    assert set(BASIC_PROFILE.values()) == {"X", "Z", "D", "K"}
    unknown = [k for k in BASIC_PROFILE
               if tag_for_keyword(k) is None or keyword_for_tag(tag_for_keyword(k)) != k]
    assert unknown == []
    assert "?" not in set(table["tag"])
    assert table.loc[table["keyword"] == "PatientName", "tag"].item() == "(0010,0010)"


# ----------------------------------------------- real archives (issue 14, classes 2-4)
def _dciodvfy_errors(dciodvfy: str, path: Path) -> set[str]:
    run = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True)
    return {line for line in (run.stdout + run.stderr).splitlines() if line.startswith("Error")}


def test_preamble_with_a_banner_is_zeroed(tmp_path: Path) -> None:
    """Class 2: a writer may put text in the 128-byte preamble (PS3.10 7.1)."""
    ds = phi_dataset()
    ds.preamble = b"Okafor^Chidinma MRN4471902 ".ljust(128, b"\0")
    src = save_copy(ds, tmp_path / "banner.dcm")
    assert b"Okafor" in src.read_bytes()[:128]  # the input really carries it
    out = save_copy(deidentify(pydicom.dcmread(src), key=KEY), tmp_path / "out.dcm")
    raw = out.read_bytes()
    assert raw[:128] == bytes(128) and raw[128:132] == b"DICM"
    assert not [s for s in PHI_STRINGS if s.encode() in raw]


def test_retired_text_and_local_code_meanings_are_removed(tmp_path: Path) -> None:
    """Class 2: Network ID (0008,1000, retired, AE) held a department; an unknown public
    element and a local code's meaning (free text) too."""
    ds = phi_dataset()
    ds.add_new(0x00081000, "AE", "HARBOURCARDIO")
    ds.add_new(0x00092222, "LO", "Harbourview cath lab")  # even group, not in PS3.6
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator = "CTCOR7", "99HARBOUR"
    code.CodeMeaning = "Harbourview coronary CT for Okafor"
    standard = Dataset()
    standard.CodeValue, standard.CodingSchemeDesignator = "24531-6", "LN"
    standard.CodeMeaning = "US Retroperitoneum"
    ds.ProcedureCodeSequence = [code, standard]
    out = deidentify(ds, key=KEY)
    assert 0x00081000 not in out and 0x00092222 not in out
    items = out.ProcedureCodeSequence
    assert items[0].CodeMeaning == "ANONYMIZED" and items[0].CodeValue == "CTCOR7"
    assert items[1].CodeMeaning == "US Retroperitoneum"  # a standard term identifies no one
    raw = save_copy(out, tmp_path / "out.dcm").read_bytes()
    assert b"HARBOURCARDIO" not in raw and b"Harbourview" not in raw and b"Okafor" not in raw


def test_command_group_elements_are_dropped(tmp_path: Path) -> None:
    """Class 3: a (0000,eeee) element made save_copy raise pydicom's ValueError."""
    ds = phi_dataset()
    ds.add_new(0x00000000, "UL", 0)  # Command Group Length
    ds.add_new(0x00000002, "UI", ds.SOPClassUID)  # Affected SOP Class UID
    out = deidentify(ds, key=KEY)
    assert not [e for e in out if e.tag.group == 0]
    written = save_copy(out, tmp_path / "out.dcm")
    assert pydicom.dcmread(written).PatientID == out.PatientID
    # and save_copy itself names the file instead of leaking pydicom's ValueError
    with pytest.raises(InvalidValueError, match=r"raw.dcm: cannot be written .*\(0000,eeee\)"):
        save_copy(ds, tmp_path / "raw.dcm")
    assert not (tmp_path / "raw.dcm").exists()


def test_a_failure_is_a_deidentification_error_naming_the_file() -> None:
    """Class 3: every failure is documented and names the file."""
    ds = pydicom.dcmread(data.real("CT_small.dcm"))
    # Smallest Image Pixel Value (US) of 3 bytes, as a corrupt file has it (PS3.5 6.2)
    ds[0x00280106] = RawDataElement(Tag(0x00280106), "US", 3, b"\1\2\3", 0, False, True)
    with pytest.raises(DeidentificationError, match=r"^data/real/CT_small.dcm: cannot be de-"):
        deidentify(ds, key=KEY)


def test_type_1_gets_a_dummy_type_2_is_emptied(tmp_path: Path, dciodvfy: str) -> None:
    """Class 4: Device Serial Number is Type 1 in Enhanced General Equipment (enhanced
    MR): D, not X; Operators' Name is Type 2 in RT Series: Z, not X. dciodvfy finds no
    new Error."""
    for name, keyword, value, expected in (
            ("emri_small.dcm", "DeviceSerialNumber", "SN-77120", "ANONYMIZED"),
            ("rtplan.dcm", "OperatorsName", "Quist^Henrik", "")):
        ds = pydicom.dcmread(data.real(name))
        setattr(ds, keyword, value)
        src = save_copy(ds, tmp_path / f"in_{name}")
        out = deidentify(pydicom.dcmread(src), key=KEY)
        assert keyword in out and str(out[keyword].value) == expected, name
        dst = save_copy(out, tmp_path / f"out_{name}")
        assert _dciodvfy_errors(dciodvfy, dst) <= _dciodvfy_errors(dciodvfy, src), name
        assert value.encode() not in dst.read_bytes()
