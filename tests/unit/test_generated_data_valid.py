"""Every generated file in data/ passes dicom3tools' dciodvfy with no Error.

dciodvfy (David Clunie's IOD validator) checks each file against the IOD its SOP
class names (PS3.3) and the encoding rules of PS3.5; it is independent of pydicom
and of the workbook's generators. It runs once per file of data/, the bytes the
generators write (test_data_portable): the generators' own tests do not run it again.
The files are checked in parts (a series, or 50 X-ray images) so a failure says where.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from helpers.data.build import read_manifest
from helpers.paths import DATA_DIR, shown

GENERATED_GROUPS = ("ct_chest", "ct_labels", "cxr_cohort", "mg")
PART = 50  # files per test in a flat folder


def generated_files() -> list[Path]:
    return [DATA_DIR / rel for rel in sorted(read_manifest().files)
            if rel.split("/", 1)[0] in GENERATED_GROUPS and rel.endswith(".dcm")]


def errors_of(dciodvfy: str, path: Path) -> list[str]:
    result = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True, timeout=60)
    lines = (result.stdout + result.stderr).splitlines()
    return [f"{shown(path)}: {line}" for line in lines if "Error" in line]


def test_generated_groups_are_in_the_manifest():
    groups = {rel.split("/", 1)[0] for rel in read_manifest().files}
    assert set(GENERATED_GROUPS) <= groups


def parts() -> dict[str, list[Path]]:
    """The generated files by folder (a CT series, the X-ray images), in parts of PART."""
    by_folder: dict[str, list[Path]] = {}
    for p in generated_files():
        by_folder.setdefault(p.parent.relative_to(DATA_DIR).as_posix(), []).append(p)
    return {f"{folder}[{k // PART}]": files[k:k + PART]
            for folder, files in by_folder.items() for k in range(0, len(files), PART)}


def _parts_or_none() -> dict[str, list[Path]]:
    try:
        return parts()
    except (OSError, ValueError):  # no manifest: the tests below fail, naming it
        return {}


PARTS = _parts_or_none()


def test_every_generated_group_has_files():
    """Guard for the parametrised test: every generated group is split into parts."""
    assert {name.split("/", 1)[0].split("[", 1)[0] for name in PARTS} == set(GENERATED_GROUPS)
    assert sum(map(len, PARTS.values())) == len(generated_files())


@pytest.mark.parametrize("part", sorted(PARTS))
def test_every_generated_file_passes_dciodvfy(dciodvfy, part):
    files = PARTS[part]
    assert files and all(f.is_file() for f in files), f"{part}: files missing: run make data"
    with ThreadPoolExecutor(max_workers=4) as pool:
        errors = [e for errs in pool.map(lambda p: errors_of(dciodvfy, p), files) for e in errs]
    assert errors == [], f"{len(errors)} dciodvfy errors, first ones:\n" + "\n".join(errors[:20])


def test_dciodvfy_does_catch_an_invalid_file(dciodvfy, tmp_path):
    """The check can fail: a CT slice with a required attribute removed is reported."""
    import pydicom

    ds = pydicom.dcmread(generated_files()[0])
    del ds.Rows
    broken = tmp_path / "broken.dcm"
    ds.save_as(broken)
    assert errors_of(dciodvfy, broken), "dciodvfy did not report a missing Rows"
