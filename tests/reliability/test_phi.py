"""PHI: no committed notebook shows the synthetic patients' identities beyond an
explicit allow-list, and the de-identification lesson's de-identified outputs show none.

The PHI values are read from the generated files' headers in ``data/``
(independently of the lessons and of ``helpers.tables.deid``): for every synthetic CT
slice and chest X-ray, Patient's Name (as ``Family^Given`` and ``Given Family``),
Patient ID, Other Patient IDs, Patient's Birth Date (``YYYYMMDD`` and
``YYYY-MM-DD``) and Accession Number; for the de-identified outputs also the
Institution Name and Address, Referring Physician's Name and the original Study,
Series and SOP Instance UIDs.

Text outputs of every code cell are searched (streams, ``text/plain``,
``text/html``, ``text/markdown``; not images).

Allow-list (lessons show some PHI on purpose, to teach what it is):

- ``01_dicom_standard``: the synthetic CT patient's name and ID (the Patient
  level of the information model, and what PHI looks like);
- the de-identification lesson (``05_non_image_data``; found as the one lesson whose
  code calls ``deidentify_table``, so a renumbering cannot skip these tests):
  - every value of the *example patient*, the patient of
    ``cxr_cohort/images/00000001_000.dcm`` (the first row of the crawl table:
    parsing PN and DA, and the before/after of de-identification);
  - the Patient IDs of the first five images in file order (the crawl table's
    ``head()``);
  - the birth dates of the images whose Patient's Age is missing, not a valid AS
    value of at most 120 years, or more than a year off the age the birth and
    study dates give (the lesson computes their age from the dates).

Anything else is a failure. That lesson's de-identified outputs (the code cells
from the first call of ``deidentify_table`` up to the exercises, and every file
the lesson writes when run, in its run of ``lesson_runs.py``) must show no PHI at
all, not even the example patient's.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from pathlib import Path

import nbformat
import pydicom
import pytest
from lesson_runs import LESSONS

from helpers.paths import DATA_DIR

NOTEBOOKS = LESSONS
CT = DATA_DIR / "ct_chest"
CXR = DATA_DIR / "cxr_cohort" / "images"
EXAMPLE = "00000001_000.dcm"


def deid_lesson() -> Path:
    """The one lesson whose code de-identifies (calls ``deidentify_table``); fails, never
    skips, when there is none or more than one (a rename must not hide these tests)."""
    found = [p for p in NOTEBOOKS if any(
        c.cell_type == "code" and "deidentify_table(" in c.source
        for c in nbformat.read(p, as_version=4).cells)]
    assert len(found) == 1, f"expected one lesson calling deidentify_table, found {found}"
    return found[0]


def test_synthetic_data_is_there() -> None:
    """The tests below read the synthetic patients from data/: fail, not skip, without it."""
    assert CT.is_dir() and CXR.is_dir(), "synthetic data missing: run `make data`"


def _headers(folder: Path) -> list[tuple[str, pydicom.Dataset]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [(p.name, pydicom.dcmread(p, stop_before_pixels=True))
                for p in sorted(folder.rglob("*.dcm"))]


def _patient_values(ds: pydicom.Dataset) -> dict[str, str]:
    """value -> what it is, for the identifying values of one header."""
    out: dict[str, str] = {}
    name = str(ds.get("PatientName", "") or "")
    if name:
        family, _, rest = name.partition("^")
        given = rest.split("^")[0]
        out[name] = "PatientName"
        if given:
            out[f"{given} {family}"] = "PatientName"
    for kw in ("PatientID", "AccessionNumber", "OtherPatientIDs"):
        value = str(ds.get(kw, "") or "")
        if value:
            out[value] = kw
    for item in ds.get("OtherPatientIDsSequence", None) or []:
        if item.get("PatientID"):
            out[str(item.PatientID)] = "OtherPatientIDs"
    birth = str(ds.get("PatientBirthDate", "") or "")
    if len(birth) == 8:
        out[birth] = out[f"{birth[:4]}-{birth[4:6]}-{birth[6:]}"] = "PatientBirthDate"
    return out


def _context_values(ds: pydicom.Dataset) -> dict[str, str]:
    """More identifying values a de-identified output must not hold either."""
    out = {}
    for kw in ("InstitutionName", "InstitutionAddress", "ReferringPhysicianName",
               "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
        value = str(ds.get(kw, "") or "")
        if len(value) >= 6:
            out[value] = kw
    return out


def _header_age_usable(ds: pydicom.Dataset) -> bool:
    """Patient's Age is a valid AS value (PS3.5 6.2: nnnD/W/M/Y) of at most 120 years,
    within a year of the age the birth and study dates give."""
    m = re.fullmatch(r"(\d{3})([DWMY])", str(ds.get("PatientAge", "") or ""))
    if not m:
        return False
    years = int(m.group(1)) / {"D": 365.25, "W": 52.18, "M": 12, "Y": 1}[m.group(2)]
    try:
        birth = dt.datetime.strptime(str(ds.PatientBirthDate), "%Y%m%d")
        study = dt.datetime.strptime(str(ds.StudyDate), "%Y%m%d")
    except (AttributeError, ValueError):
        return years <= 120
    return years <= 120 and abs(years - (study - birth).days / 365.25) <= 1.0


@pytest.fixture(scope="module")
def phi() -> dict:
    ct, cxr = _headers(CT), _headers(CXR)
    patient: dict[str, str] = {}
    context: dict[str, str] = {}
    for _, ds in ct + cxr:
        patient.update(_patient_values(ds))
        context.update(_context_values(ds))
    by_name = dict(cxr)
    example = _patient_values(by_name[EXAMPLE])
    example_id = by_name[EXAMPLE].PatientID
    for _, ds in cxr:  # all values of the example patient, from all of their images
        if ds.PatientID == example_id:
            example.update(_patient_values(ds))
    head_ids = {str(ds.PatientID) for _, ds in cxr[:5]}
    ageless_births = {v for _, ds in cxr if not _header_age_usable(ds)
                      for v, kind in _patient_values(ds).items() if kind == "PatientBirthDate"}
    ct_patient = {v for v, kind in _patient_values(ct[0][1]).items()
                  if kind in ("PatientName", "PatientID")}
    allowed = {
        "01_dicom_standard.ipynb": ct_patient,
        deid_lesson().name: set(example) | head_ids | ageless_births,
    }
    return {"patient": patient, "all": {**context, **patient}, "allowed": allowed}


def _texts(cell) -> list[str]:
    out = []
    for o in cell.get("outputs", []):
        if "text" in o:
            out.append(o["text"] if isinstance(o["text"], str) else "".join(o["text"]))
        for mime in ("text/plain", "text/html", "text/markdown"):
            value = o.get("data", {}).get(mime)
            if value is not None:
                out.append(value if isinstance(value, str) else "".join(value))
    return out


def _finder(values: dict[str, str]):
    pattern = re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))
    return lambda text: set(pattern.findall(text))


def test_phi_values_were_found(phi: dict) -> None:
    kinds = set(phi["patient"].values())
    assert {"PatientName", "PatientID", "PatientBirthDate"} <= kinds
    assert len(phi["patient"]) > 300


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_outputs_show_only_allowed_phi(phi: dict, notebook: Path) -> None:
    find = _finder(phi["patient"])
    allowed = phi["allowed"].get(notebook.name, set())
    nb = nbformat.read(notebook, as_version=4)
    leaks = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for text in _texts(cell):
            for value in sorted(find(text) - allowed):
                leaks.append(f"cell {i}: {phi['patient'][value]} {value!r}")
    assert not leaks, f"{notebook.name} shows PHI outside its allow-list:\n" + "\n".join(leaks)


def _deidentified_cells(nb) -> list[tuple[int, object]]:
    """The code cells from the first ``deidentify_table`` call up to the exercises."""
    cells, inside = [], False
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and re.match(r"#+ *Exercises", cell.source):
            break
        if cell.cell_type == "code" and "deidentify_table(" in cell.source:
            inside = True
        if inside and cell.cell_type == "code":
            cells.append((i, cell))
    return cells


def test_deid_lesson_outputs_show_no_phi(phi: dict) -> None:
    lesson = deid_lesson()
    nb = nbformat.read(lesson, as_version=4)
    cells = _deidentified_cells(nb)
    assert cells, f"{lesson.name} has no cell calling deidentify_table"
    assert any(_texts(c) for _, c in cells), f"{lesson.name}'s de-identified cells show nothing"
    find = _finder(phi["all"])
    leaks = [f"cell {i}: {phi['all'][v]} {v!r}" for i, c in cells for t in _texts(c)
             for v in sorted(find(t))]
    assert not leaks, f"{lesson.name}'s de-identified outputs show PHI:\n" + "\n".join(leaks)


@pytest.mark.slow
@pytest.mark.lessons
@pytest.mark.parametrize("lesson", [deid_lesson()], ids=lambda p: p.stem)
def test_deid_lesson_written_files_hold_no_phi(phi: dict, lesson: Path, lesson_runs) -> None:
    run = lesson_runs.get(lesson)
    assert run.returncode == 0, run.stderr[-3000:]
    written = sorted(p for p in run.output.rglob("*") if p.is_file())
    assert written, f"{run.lesson.name} wrote nothing under its output folder"
    find = _finder(phi["all"])
    leaks = []
    for p in written:
        text = p.read_bytes().decode("utf-8", errors="replace")
        leaks += [f"{p.name}: {phi['all'][v]} {v!r}" for v in sorted(find(text))]
    assert not leaks, f"{run.lesson.name}'s written files hold PHI:\n" + "\n".join(leaks[:50])
