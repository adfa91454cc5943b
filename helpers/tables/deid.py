"""De-identify DICOM headers and metadata tables, and audit what PHI is left.

Implements the ideas of the Basic Application Level Confidentiality Profile,
PS3.15 Annex E (section E.2 and Table E.1-1), with two of its options that
machine learning needs (PS3.15 E.3):

- *Retain Longitudinal Temporal Information with Modified Dates* (E.3.6): dates
  are not removed but shifted by a number of days that is the same for every
  file of one patient, so intervals between follow-ups survive;
- *Retain Patient Characteristics* (E.3.7): Patient's Age, Sex, Size, Weight,
  Ethnic Group, Smoking and Pregnancy Status are kept.

What :func:`deidentify` does to a copy of the dataset (the input is untouched):

- every attribute of :data:`BASIC_PROFILE` gets its action from Table E.1-1:
  ``X`` remove, ``Z`` empty value, ``D`` dummy value (Patient's Name and ID
  become a pseudonym), ``K`` keep (retained by an option); the action respects
  the attribute's type in the IOD of the file's SOP class, as the table's
  compound codes (``X/Z``, ``Z/D``, ``X/Z/D``) require: an attribute that is
  Type 1 there gets a dummy value (:data:`DUMMY`, ``D``), one that is Type 2 an
  empty value (``Z``), only a Type 3 one is removed (``X``) -- so the output
  stays as valid (dciodvfy) as the input (types from :mod:`helpers.tables.deid_iod`);
- retired and unknown (not in the data dictionary, PS3.6) public attributes
  whose VR can hold text (AE, LO, LT, PN, SH, ST, UC, UT, UN, OB) are removed:
  Table E.1-1 lists many retired attributes with action ``X`` (e.g. Network ID
  (0008,1000) could hold a department's name), and an unknown one may hold
  anything;
- code items (the Code Sequence Macro, PS3.3 Table 8.8-1) are coded
  terminology and kept, except that Code Meaning (0008,0104), free text, is
  replaced by a dummy value when the coding scheme is not a standard one of
  PS3.16 Section 8 (:data:`STANDARD_SCHEMES`): a local scheme's meaning is
  whatever the site typed (a procedure name, a department). It is Type 1 in the
  macro, hence ``D``, not ``Z``;
- command group elements (0000,eeee, PS3.7 Section 6.3) belong to a network
  message, never to a stored file (PS3.10 7.1), and are dropped;
- the 128-byte file preamble (PS3.10 7.1), free for any use and so a place some
  writers put a banner with the patient's name, is zeroed;
- every other person name (VR PN) is emptied (a dummy value where it is Type 1
  inside its item, :data:`TYPE1_NAMES`), every date (DA, DT) shifted,
  every UID (UI) that is not a standard class or transfer syntax UID is remapped
  (``U``) to a new ``2.25.`` UID (PS3.5 B.2) -- the same input gives the same
  output under one key, so references between files of a study stay consistent;
- private elements (odd groups, PS3.5 7.8) are removed, and so are overlay and
  curve groups (burned-in text lives there, Table E.1-1 ``60xx``/``50xx``);
- Patient Identity Removed (0012,0062) is set to ``YES``, De-identification
  Method (0012,0063) and its Code Sequence (0012,0064, codes from PS3.16 CID
  7050) say what was done, and Longitudinal Temporal Information Modified
  (0028,0303) is ``MODIFIED``.

Pseudonyms, date shifts and UIDs come from a keyed hash (HMAC-SHA-256) of the
original value: consistent across files and runs with the same ``key``, and
not reversible without it. Keep the key secret, or pass none to get a random
one for this Python session.

Every failure is a :class:`helpers.dicom.errors.DeidentificationError` naming the
file.

Not done (PS3.15 says so too): text burned into the pixels (Clean Pixel Data
Option, E.3.1), free text inside structured reports (Clean Structured Content,
E.3.4). :func:`audit` searches every value for the original PHI strings, so a
leftover shows up there.

dicognito (PyPI, used in the tests) does the same job with fake replacement
values; the tests check that every attribute dicognito changes is changed or
removed here too.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterator
from typing import Any

import pandas as pd
from pydicom.datadict import (
    dictionary_has_tag,
    dictionary_is_retired,
    dictionary_VR,
    tag_for_keyword,
)
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag
from pydicom.uid import UID

from ..dicom.errors import DeidentificationError, WorkbookError
from ..dicom.vr import parse_date
from .deid_iod import required_type

#: PS3.15 Table E.1-1, the attributes met in radiography, CT and MR headers, with
#: the Basic Profile action as modified by the two retained options above.
#: X remove, Z zero-length value, D dummy value (pseudonym), K keep.
BASIC_PROFILE: dict[str, str] = {
    # Patient identification (Patient module C.7.1.1)
    "PatientName": "D", "PatientID": "D", "IssuerOfPatientID": "X",
    "PatientBirthDate": "Z", "PatientBirthTime": "X", "PatientBirthName": "X",
    "PatientMotherBirthName": "X", "OtherPatientIDs": "X", "OtherPatientIDsSequence": "X",
    "OtherPatientNames": "X", "PatientAddress": "X", "PatientTelephoneNumbers": "X",
    "PatientTelecomInformation": "X", "CountryOfResidence": "X", "RegionOfResidence": "X",
    "MedicalRecordLocator": "X", "MilitaryRank": "X", "BranchOfService": "X",
    "Occupation": "X", "PatientReligiousPreference": "X", "PatientComments": "X",
    "AdditionalPatientHistory": "X", "MedicalAlerts": "X", "Allergies": "X",
    "SpecialNeeds": "X", "PatientState": "X", "ResponsiblePerson": "X",
    "ResponsibleOrganization": "X", "PatientInsurancePlanCodeSequence": "X",
    "PatientPrimaryLanguageCodeSequence": "X", "ReferencedPatientPhotoSequence": "X",
    "ReferencedPatientSequence": "X", "ReferencedPatientAliasSequence": "X",
    # Retain Patient Characteristics Option (E.3.7): kept
    "PatientAge": "K", "PatientSex": "K", "PatientSize": "K", "PatientWeight": "K",
    "EthnicGroup": "K", "SmokingStatus": "K", "PregnancyStatus": "K",
    "PatientSexNeutered": "K",
    # Study, visit and request (C.7.2.1, C.7.2.2, C.4)
    "AccessionNumber": "Z", "StudyID": "Z", "StudyDescription": "X", "StudyComments": "X",
    "ReferringPhysicianName": "Z", "ReferringPhysicianAddress": "X",
    "ReferringPhysicianTelephoneNumbers": "X", "ReferringPhysicianIdentificationSequence": "X",
    "PhysiciansOfRecord": "X", "PhysiciansOfRecordIdentificationSequence": "X",
    "NameOfPhysiciansReadingStudy": "X", "PhysiciansReadingStudyIdentificationSequence": "X",
    "RequestingPhysician": "X", "RequestingService": "X", "ReasonForStudy": "X",
    "RequestedProcedureDescription": "X", "RequestedProcedureID": "X",
    "RequestAttributesSequence": "X", "ReferencedStudySequence": "X",
    "AdmissionID": "X", "IssuerOfAdmissionID": "X", "AdmittingDiagnosesDescription": "X",
    "AdmittingDiagnosesCodeSequence": "X", "DischargeDiagnosisDescription": "X",
    "CurrentPatientLocation": "X", "VisitComments": "X", "OrderEnteredBy": "X",
    "OrderEntererLocation": "X", "OrderCallbackPhoneNumber": "X",
    "NamesOfIntendedRecipientsOfResults": "X",
    "ScheduledProcedureStepDescription": "X", "ScheduledProcedureStepID": "X",
    "ScheduledPerformingPhysicianName": "X", "ScheduledStationAETitle": "X",
    "ScheduledStationName": "X", "PerformedProcedureStepDescription": "X",
    "PerformedProcedureStepID": "X", "PerformedLocation": "X",
    "PerformedStationAETitle": "X", "PerformedStationName": "X",
    "CommentsOnThePerformedProcedureStep": "X", "ActualHumanPerformersSequence": "X",
    # Series, equipment and staff (C.7.3.1, C.7.5.1)
    "SeriesDescription": "X", "ProtocolName": "X", "OperatorsName": "X",
    "OperatorIdentificationSequence": "X", "PerformingPhysicianName": "X",
    "PerformingPhysicianIdentificationSequence": "X", "InstitutionName": "X",
    "InstitutionAddress": "X", "InstitutionalDepartmentName": "X",
    "InstitutionCodeSequence": "X", "StationName": "X", "DeviceSerialNumber": "X",
    "DetectorID": "X", "GantryID": "X", "GeneratorID": "X", "PlateID": "X",
    "PersonAddress": "X", "PersonTelephoneNumbers": "X",
    # Image and free text (C.7.6.1 and others)
    "ImageComments": "X", "FrameComments": "X", "DerivationDescription": "X",
    "AcquisitionComments": "X", "AcquisitionDeviceProcessingDescription": "X",
    "AcquisitionProtocolDescription": "X", "ContributionDescription": "X",
    "IdentifyingComments": "X", "ImagePresentationComments": "X", "TextComments": "X",
    "TextString": "X", "ContentCreatorName": "Z", "AuthorObserverSequence": "X",
    "CustodialOrganizationSequence": "X", "ModifiedAttributesSequence": "X",
    "OriginalAttributesSequence": "X", "DigitalSignaturesSequence": "X",
    "DataSetTrailingPadding": "X", "InsurancePlanIdentification": "X",
}

#: What De-identification Method (0012,0063, LO, VM 1-n) says. Only a de-identifier
#: that applies the whole of PS3.15 Table E.1-1 may claim the Basic Profile with code
#: 113100 (PS3.16 CID 7050), and the option codes 113107/113108 are options *of* that
#: profile; :data:`BASIC_PROFILE` is a subset, so no code is written. PS3.3 C.12.1 allows
#: the method in words instead: De-identification Method is Type 1C, required when
#: Patient Identity Removed is YES and the code sequence (0012,0064) is absent.
METHOD = ["Subset of PS3.15 Table E.1-1 (helpers.tables.deid)",
          "Retain Long. Modified Dates (as PS3.15 E.3.6)",
          "Retain Patient Characteristics (as PS3.15 E.3.7)"]
#: Days a date may move (always into the past): between 30 days and 10 years.
SHIFT_RANGE_DAYS = (30, 3650)

#: Dummy values (action ``D`` for a Type 1 attribute), one per VR (PS3.5 6.2).
DUMMY: dict[str, str] = {
    "AE": "ANONYMOUS", "AS": "000Y", "CS": "ANONYMOUS", "DA": "19000101", "DS": "0",
    "DT": "19000101000000", "IS": "0", "LO": "ANONYMIZED", "LT": "ANONYMIZED",
    "PN": "ANONYMIZED", "SH": "ANONYMIZED", "ST": "ANONYMIZED", "TM": "000000",
    "UC": "ANONYMIZED", "UT": "ANONYMIZED",
}
#: Person names that are Type 1 inside their sequence item, so get a dummy value rather
#: than an empty one: Person Name (0040,A123) of a PNAME content item (Document
#: Content Macro, PS3.3 Table C.17-6) and Verifying Observer Name (0040,A075,
#: SR Document General Module, PS3.3 Table C.17-2).
TYPE1_NAMES = frozenset({"PersonName", "VerifyingObserverName"})
#: VRs that can hold text: retired or unknown elements of these VRs are removed.
TEXT_VRS = frozenset({"AE", "LO", "LT", "PN", "SH", "ST", "UC", "UT", "UN", "OB"})
#: Coding scheme designators of PS3.16 Section 8 whose Code Meanings are standard
#: terms (kept); any other scheme's Code Meaning is replaced by a dummy value.
STANDARD_SCHEMES = frozenset({
    "DCM", "SCT", "SRT", "SNM3", "LN", "UCUM", "FMA", "RADLEX", "NCIt", "MDC", "ACR",
    "I10", "I9C", "ICD10", "UMLS", "RFC5646", "ISO639_1", "ISO639_2", "ISO3166_1", "NEU",
    "BARI", "UBERON", "NCBITaxon", "RXNORM", "DC", "ITIS_TSN",
})

_SESSION_KEY = secrets.token_hex(16)


# ---------------------------------------------------------------------------
# Keyed, consistent replacements


def _key(key: str | None) -> bytes:
    return (key if key is not None else _SESSION_KEY).encode()


def _digest(key: str | None, *parts: str) -> bytes:
    return hmac.new(_key(key), "\x1f".join(parts).encode(), hashlib.sha256).digest()


def pseudonym(patient: str, key: str | None = None) -> str:
    """The pseudonym that replaces a patient's ID and name: ``ANON`` and 10 hex digits."""
    return "ANON" + _digest(key, "patient", patient).hex()[:10].upper()


def date_shift_days(patient: str, key: str | None = None) -> int:
    """The number of days (negative) every date of this patient moves by."""
    low, high = SHIFT_RANGE_DAYS
    return -(low + int.from_bytes(_digest(key, "shift", patient)[:8], "big") % (high - low + 1))


def remap_uid(uid: str, key: str | None = None) -> str:
    """A new UID for ``uid``: ``2.25.`` and a 128-bit number (PS3.5 B.2), the same every time."""
    return "2.25." + str(int.from_bytes(_digest(key, "uid", str(uid))[:16], "big"))


def shift_date(value: str, days: int) -> str:
    """Shift a DA value (or the date part of a DT value) by ``days``; '' if it is not a date."""
    text = str(value).strip()
    day = parse_date(text[:8]) if len(text) >= 8 else None
    if day is None:
        return ""
    return (day + dt.timedelta(days=days)).strftime("%Y%m%d") + text[8:]


def keeps_uid(keyword: str, value: str) -> bool:
    """True for UIDs that identify no one: SOP classes, transfer syntaxes, registered UIDs."""
    return (keyword.endswith("ClassUID") or keyword == "TransferSyntaxUID"
            or UID(value).name != value)


def patient_identity(ds: Dataset) -> str:
    """What identifies the patient for pseudonyms and date shifts: Patient ID (or name)."""
    pid = str(ds.get("PatientID", "") or "").strip()
    if pid:
        return pid
    return f"{ds.get('PatientName', '')}|{ds.get('PatientBirthDate', '')}"


# ---------------------------------------------------------------------------
# De-identifying a dataset


def _action(elem: DataElement, sop_class: str | None = None) -> str | None:
    """The action for ``elem``; ``sop_class`` (top level only) adapts X and Z to the type
    the attribute has in that SOP class's IOD (Type 1: D, Type 2: Z)."""
    tag = elem.tag
    if tag.is_private or tag.group == 0x0000:
        return "X"
    if (tag.group & 0xFF00) in (0x5000, 0x6000):
        # Table E.1-1 removes Overlay Data and Comments (60xx,3000/4000); the rest of the
        # Overlay Plane module (PS3.3 C.9.2) goes too, or the module would be incomplete
        return "X"
    action = BASIC_PROFILE.get(elem.keyword)
    if action is None and tag.element != 0x0000 and elem.VR in TEXT_VRS and (
            not dictionary_has_tag(tag) or dictionary_is_retired(tag)):
        return "X"  # retired or unknown, and able to hold text
    if action in ("X", "Z") and sop_class:
        required = required_type(elem.keyword, sop_class)
        if required == 1:
            return "D"
        if required == 2:
            return "Z"
    return action


def _dummy(elem: DataElement) -> None:
    """Give ``elem`` a dummy value consistent with its VR (action D)."""
    if elem.VR == "SQ":
        return  # a required sequence is kept; its items are cleaned like any other
    elem.value = DUMMY.get(elem.VR, "")


def _is_local_code(ds: Dataset) -> bool:
    scheme = str(ds.get("CodingSchemeDesignator", "") or "").strip()
    return "CodeMeaning" in ds and scheme not in STANDARD_SCHEMES


def _clean(ds: Dataset, shift: int, key: str | None, sop_class: str | None = None) -> None:
    """De-identify ``ds`` in place; ``sop_class`` is given for the top-level dataset."""
    if _is_local_code(ds) and ds.CodeMeaning:
        ds.CodeMeaning = DUMMY["LO"]
    for elem in list(ds):
        action = _action(elem, sop_class)
        if action == "X":
            del ds[elem.tag]
        elif action == "Z":
            elem.value = [] if elem.VR == "SQ" else ""
        elif action == "D" and elem.keyword not in ("PatientName", "PatientID"):
            if elem.VR == "SQ":
                for item in elem.value:
                    _clean(item, shift, key)
            else:
                _dummy(elem)
        elif action in ("K", "D"):
            continue
        elif elem.VR == "SQ":
            for item in elem.value:
                _clean(item, shift, key)
        elif elem.VR == "PN":
            elem.value = DUMMY["PN"] if elem.keyword in TYPE1_NAMES and elem.value else ""
        elif elem.VR in ("DA", "DT") and elem.value:
            values = elem.value if elem.VM > 1 else [elem.value]
            shifted = [shift_date(v, shift) for v in values]
            elem.value = shifted if elem.VM > 1 else shifted[0]
        elif elem.VR == "UI" and elem.value:
            _remap_element(elem, key)


def _remap_element(elem: DataElement, key: str | None) -> None:
    values = list(elem.value) if elem.VM > 1 else [elem.value]
    new = [v if keeps_uid(elem.keyword, str(v)) else remap_uid(str(v), key) for v in values]
    elem.value = new if elem.VM > 1 else new[0]


def deidentify(ds: Dataset, *, key: str | None = None) -> Dataset:
    """Return a de-identified copy of ``ds`` (see the module docstring); ``ds`` is untouched.

    ``key``: the secret behind pseudonyms, date shifts and new UIDs; the same key
    gives the same results for the same input (files of one study stay
    consistent). Without one, a random key is used for this Python session.
    """
    try:
        return _deidentify(ds, key)
    except WorkbookError:
        raise
    except Exception as exc:  # a value pydicom cannot convert, a broken sequence...
        raise DeidentificationError(getattr(ds, "filename", None),
                                    f"cannot be de-identified: {type(exc).__name__}: {exc}") \
            from None


def _deidentify(ds: Dataset, key: str | None) -> Dataset:
    out = copy.deepcopy(ds)
    identity = patient_identity(ds)
    shift = date_shift_days(identity, key)
    if getattr(out, "preamble", None) is not None:
        out.preamble = b"\0" * 128  # PS3.10 7.1: free for any use, so possibly PHI
    meta = getattr(out, "file_meta", None)
    if meta is not None:
        for elem in meta:
            if elem.VR == "UI" and elem.value:
                _remap_element(elem, key)
    _clean(out, shift, key, str(ds.get("SOPClassUID", "") or ""))
    alias = pseudonym(identity, key)
    for keyword in ("PatientID", "PatientName", "PatientIdentityRemoved", "DeidentificationMethod",
                    "DeidentificationMethodCodeSequence",
                    "LongitudinalTemporalInformationModified"):
        if keyword in out:  # set again below with the dictionary's VR, whatever the file said
            del out[keyword]
    out.PatientID = alias
    out.PatientName = alias
    out.PatientIdentityRemoved = "YES"
    out.DeidentificationMethod = METHOD  # in words, no CID 7050 code: see METHOD
    out.LongitudinalTemporalInformationModified = "MODIFIED"
    return out


# ---------------------------------------------------------------------------
# Finding PHI


def element_paths(ds: Dataset, prefix: str = "") -> Iterator[tuple[str, DataElement]]:
    """pydicom's ``Dataset.iterall()`` (every element, sequence items depth first, in the
    same order) with each element's path, e.g. ``OtherPatientIDsSequence[0].PatientID``
    (a private or unknown tag as ``(0009,0010)``).

    ``iterall`` gives no path, and the path is what :func:`audit` reports (its ``where``
    column) and how a top-level element is told from one inside a sequence.
    """
    for elem in ds:
        where = f"{prefix}{elem.keyword or str(elem.tag)}"
        yield where, elem
        if elem.VR == "SQ":
            for i, item in enumerate(elem.value):
                yield from element_paths(item, f"{where}[{i}].")


def _top(where: str) -> bool:
    """True for a path of :func:`element_paths` naming an element of the top-level dataset."""
    return "." not in where and "[" not in where


def _texts(elem: DataElement) -> list[str]:
    """The element's value(s) as text (bytes decoded as Latin-1), for searching."""
    value = elem.value
    if value is None or elem.VR == "SQ":
        return []
    if isinstance(value, bytes):
        return [value.decode("latin-1")] if elem.VR in ("UN", "OB", "UT", "LT", "ST") else []
    if elem.VM > 1 and not isinstance(value, str):
        return [str(v) for v in value]
    return [str(value)]


def _name_parts(value: str) -> list[str]:
    parts = [value]
    for group in value.split("="):
        parts += [p for p in group.split("^") if len(p.strip()) >= 3]
    return parts


def phi_values(ds: Dataset) -> dict[str, str]:
    """The identifying values in an original header: ``{value: keyword it came from}``.

    Person names (whole and each component), the values of every attribute that
    :data:`BASIC_PROFILE` removes, empties or replaces (addresses split at
    ``^``), dates, and UIDs that :func:`deidentify` remaps. Private elements are
    skipped (they are removed whole, and :func:`audit` flags any that is left). Values shorter than
    4 characters (3 for name parts) are left out: they would match everywhere.
    """
    found: dict[str, str] = {}

    def add(text: str, keyword: str, minimum: int = 4) -> None:
        text = text.strip()
        if len(text) >= minimum and text not in found:
            found[text] = keyword

    elements = list(element_paths(ds))
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        elements += list(element_paths(meta, "file_meta."))
    sop_class = str(ds.get("SOPClassUID", "") or "")
    for where, elem in elements:
        if elem.tag.is_private:  # removed whole; their values are mostly numbers
            continue
        keyword = elem.keyword or str(elem.tag)
        action = _action(elem, sop_class if _top(where) else None)
        for text in _texts(elem):
            if elem.VR == "PN":
                for part in _name_parts(text):
                    add(part, keyword, 3)
            elif action in ("X", "Z", "D") and elem.VR not in ("SQ", "OB", "OW", "UN"):
                add(text, keyword)
                for part in text.split("^"):
                    add(part, keyword)
            elif elem.VR in ("DA", "DT"):
                add(text, keyword)
            elif elem.VR == "UI" and not keeps_uid(elem.keyword, text):
                add(text, keyword)
    return found


class PhiSearch:
    """Find original PHI values inside text, fast enough for every cell of a table.

    Matching ignores case. A value without digits (a name part, an institution)
    must stand as whole words, so the name part ``Per`` does not match inside
    ``helpers``; a value with digits (an ID, a date, a UID) matches anywhere, so a
    date is found inside a date-time. Values are indexed by their first three
    characters, so the cost grows with the length of the text searched, not with
    the number of values.
    """

    def __init__(self, phi: dict[str, str]) -> None:
        self._index: dict[str, list[tuple[str, str, str]]] = {}
        for value, source in phi.items():
            low = value.lower()
            if len(low) >= 3:
                self._index.setdefault(low[:3], []).append((low, value, source))

    @staticmethod
    def _letter(text: str, i: int) -> bool:
        return 0 <= i < len(text) and text[i].isalpha()

    def find(self, text: str) -> list[tuple[str, str]]:
        """``(original value, where it came from)`` for every PHI value found in ``text``."""
        low = text.lower()
        found = []
        for i in range(len(low) - 2):
            for needle, value, source in self._index.get(low[i:i + 3], ()):
                if not low.startswith(needle, i):
                    continue
                if not any(c.isdigit() for c in needle) and (
                        self._letter(low, i - 1) or self._letter(low, i + len(needle))):
                    continue
                found.append((value, source))
        return found


def audit(ds: Dataset, phi: dict[str, str] | None = None) -> pd.DataFrame:
    """List every element of ``ds`` that still holds PHI; an empty table means none is left.

    Checks, on the dataset, its file meta and inside every sequence:

    - the rules of PS3.15 Table E.1-1 as :data:`BASIC_PROFILE` states them
      (``X`` attributes absent, ``Z`` attributes empty), no private elements,
      no person name other than the pseudonym, Patient Identity Removed ``YES``;
    - when ``phi`` is given (:func:`phi_values` of the original), that no value
      contains any original identifying value (case-insensitive; values without
      digits as whole words, so the name part ``Per`` does not match ``helpers``).

    Columns: ``where`` (a path like ``OtherPatientIDsSequence[0].PatientID``),
    ``keyword``, ``value`` and ``problem``.
    """
    findings: list[dict[str, Any]] = []

    def flag(where: str, elem: DataElement | None, value: str, problem: str) -> None:
        findings.append({"where": where, "keyword": elem.keyword if elem is not None else "",
                         "value": value[:60], "problem": problem})

    pid = str(ds.get("PatientID", "") or "")
    search = PhiSearch(phi or {})
    elements = list(element_paths(ds))
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        elements += list(element_paths(meta, "file_meta."))
    sop_class = str(ds.get("SOPClassUID", "") or "")
    for where, elem in elements:
        texts = _texts(elem)
        shown = "\\".join(texts)
        action = _action(elem, sop_class if _top(where) else None)
        present = elem.VR == "SQ" and len(elem.value) > 0 or any(t.strip() for t in texts)
        if elem.tag.is_private:
            flag(where, elem, shown, "private element (may hold anything)")
        elif action == "X":
            flag(where, elem, shown, "should be removed (PS3.15 Table E.1-1: X)")
        elif action == "Z" and present:
            flag(where, elem, shown, "should be empty (PS3.15 Table E.1-1: Z)")
        elif elem.VR == "PN" and present and shown.strip() != DUMMY["PN"] and not (
                elem.keyword == "PatientName" and shown.strip() == pid):
            flag(where, elem, shown, "a person's name")
        for text in texts:
            for original, source in search.find(text):
                flag(where, elem, shown, f"holds the original {source} value {original!r}")
    preamble = getattr(ds, "preamble", None)
    if preamble and any(preamble):
        flag("preamble", None, preamble[:60].decode("latin-1"),
             "the 128-byte preamble is not zeroed (PS3.10 7.1)")
    if str(ds.get("PatientIdentityRemoved", "")).upper() != "YES":
        flag("PatientIdentityRemoved", None, str(ds.get("PatientIdentityRemoved", "")),
             "Patient Identity Removed (0012,0062) is not YES")
    table = pd.DataFrame(findings, columns=["where", "keyword", "value", "problem"])
    if table.empty:
        return table
    return table.drop_duplicates().sort_values(["where", "problem"], ignore_index=True)


# ---------------------------------------------------------------------------
# Tables


def _vr(column: str) -> str | None:
    tag = tag_for_keyword(column)
    return dictionary_VR(tag) if tag is not None else None


def deidentify_table(table: pd.DataFrame, *, key: str | None = None,
                     patient_column: str = "PatientID") -> pd.DataFrame:
    """De-identify a metadata table whose columns are DICOM keywords, as :func:`deidentify` does.

    Columns named by a keyword get the header's treatment: ``X`` and ``Z``
    attributes and person names are dropped; ``PatientID`` becomes the
    pseudonym; dates are shifted per patient; UIDs remapped (the same key gives
    the same values as the de-identified headers). Other columns are kept.
    """
    out = table.copy()
    identity = out[patient_column].astype("string").fillna("")
    shifts = identity.map(lambda p: date_shift_days(p, key))
    drop = []
    for column in out.columns:
        keyword = column
        vr = _vr(keyword)
        action = BASIC_PROFILE.get(keyword)
        if column == patient_column:
            continue
        if action in ("X", "Z") or (vr == "PN" and keyword != patient_column):
            drop.append(column)
        elif vr in ("DA", "DT"):
            out[column] = [shift_date(v, s) if isinstance(v, str) and v else v
                           for v, s in zip(out[column], shifts, strict=True)]
        elif vr == "UI":
            out[column] = [remap_uid(v, key) if isinstance(v, str) and v
                           and not keeps_uid(keyword, v) else v for v in out[column]]
    out[patient_column] = [pseudonym(p, key) for p in identity]
    return out.drop(columns=drop)


def split_dates(phi: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Split :func:`phi_values` into ``(identifying anywhere, dates)``.

    A name or an ID identifies a patient wherever it appears. A date identifies
    only next to its patient: after shifting, one patient's new date may well be
    another patient's real date, which reveals nothing. So a table audit searches
    dates only in the row they came from (``row_phi`` of :func:`audit_table`).
    """
    dates = {v: k for v, k in phi.items() if _vr(k) in ("DA", "DT")}
    return {v: k for v, k in phi.items() if v not in dates}, dates


def audit_table(table: pd.DataFrame, phi: dict[str, str], *,
                row_phi: pd.Series | None = None) -> pd.DataFrame:
    """Every cell of ``table`` holding an original PHI value, searched as :func:`audit` does.

    ``phi`` is searched in every cell; ``row_phi`` (aligned with the table's
    index, one ``{value: source}`` dict per row) only in its own row, for values
    such as dates that identify only together with their patient (see
    :func:`split_dates`). A column named by a person-name keyword is a finding
    too. Columns: ``row`` (the index label), ``column``, ``value``, ``problem``;
    an empty table means no original identifying value is left.
    """
    search = PhiSearch(phi)
    own = ({label: PhiSearch(values) for label, values in row_phi.items()}
           if row_phi is not None else {})
    findings = []
    for column in table.columns:
        for label, cell in table[column].items():
            if cell is None or (isinstance(cell, float) and pd.isna(cell)):
                continue
            text = str(cell)
            hits = search.find(text) + (own[label].find(text) if label in own else [])
            for original, source in hits:
                findings.append({"row": label, "column": column, "value": text[:60],
                                 "problem": f"holds the original {source} value {original!r}"})
    for column in table.columns:
        if _vr(str(column)) == "PN":
            findings.append({"row": "", "column": column, "value": "",
                             "problem": "a column of person names"})
    return pd.DataFrame(findings, columns=["row", "column", "value", "problem"])


def basic_profile_keywords(action: str | None = None) -> list[str]:
    """Keywords of :data:`BASIC_PROFILE`, optionally only those with one action, sorted."""
    return sorted(k for k, a in BASIC_PROFILE.items() if action is None or a == action)


def _tag_text(keyword: str) -> str:
    tag = tag_for_keyword(keyword)
    return str(Tag(tag)) if tag is not None else "?"


def profile_table() -> pd.DataFrame:
    """:data:`BASIC_PROFILE` as a table (tag, keyword, action), sorted by tag, for the lesson."""
    names = {"X": "remove", "Z": "empty", "D": "pseudonym", "K": "keep (option)"}
    rows = [{"tag": _tag_text(k), "keyword": k, "action": f"{a} ({names[a]})"}
            for k, a in BASIC_PROFILE.items()]
    return pd.DataFrame(rows).sort_values("tag", ignore_index=True)
