"""Every generated file in data/ passes dicom3tools' dciodvfy with no Error.

dciodvfy (David Clunie's IOD validator) checks each file against the IOD its SOP
class names (PS3.3) and the encoding rules of PS3.5; it is independent of pydicom
and of the workbook's generators.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from helpers.data.build import read_manifest
from helpers.paths import DATA_DIR, shown

GENERATED_GROUPS = ("ct_chest", "ct_labels", "cxr_cohort")


def generated_files() -> list[Path]:
    return [DATA_DIR / rel for rel in sorted(read_manifest().files)
            if rel.split("/", 1)[0] in GENERATED_GROUPS and rel.endswith(".dcm")]


def errors_of(dciodvfy: str, path: Path) -> list[str]:
    result = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True, timeout=60)
    lines = (result.stdout + result.stderr).splitlines()
    return [f"{shown(path)}: {line}" for line in lines if line.startswith("Error")]


def test_generated_groups_are_in_the_manifest():
    groups = {rel.split("/", 1)[0] for rel in read_manifest().files}
    assert set(GENERATED_GROUPS) <= groups


@pytest.mark.parametrize("group", GENERATED_GROUPS)
def test_every_generated_file_passes_dciodvfy(dciodvfy, group):
    files = [p for p in generated_files() if p.relative_to(DATA_DIR).parts[0] == group]
    assert files, f"no generated DICOM files for {group}: run make data"
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
