"""The data build: verified against the committed manifest, idempotent, self-healing."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers.data.build import MANIFEST_NAME, DataError, build, read_manifest
from helpers.paths import DATA_DIR, REPO_ROOT


@pytest.fixture()
def data_copy(tmp_path: Path) -> Path:
    """An empty data folder holding only the committed manifest."""
    shutil.copy(DATA_DIR / MANIFEST_NAME, tmp_path / MANIFEST_NAME)
    return tmp_path


def test_manifest_is_sha256sum_format_and_matches_data():
    """`sha256sum -c` (coreutils, not our code) accepts the manifest for the built data."""
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum (coreutils) is not installed")
    result = subprocess.run(["sha256sum", "--quiet", "-c", MANIFEST_NAME], cwd=DATA_DIR,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_build_real_group_twice_then_heal_a_corrupted_file(data_copy: Path):
    first = build(groups=["real"], data_dir=data_copy, log=lambda _: None)
    assert first.actions == {"real": "rebuilt"}
    second = build(groups=["real"], data_dir=data_copy, log=lambda _: None)
    assert second.actions == {"real": "verified"}

    victim = data_copy / "real" / "CT_small.dcm"
    expected = read_manifest(data_copy).files["real/CT_small.dcm"]
    victim.write_bytes(victim.read_bytes()[:-10] + b"corrupted!")
    assert hashlib.sha256(victim.read_bytes()).hexdigest() != expected
    healed = build(groups=["real"], data_dir=data_copy, log=lambda _: None)
    assert healed.actions == {"real": "rebuilt"}
    assert hashlib.sha256(victim.read_bytes()).hexdigest() == expected


def test_missing_file_is_rebuilt(data_copy: Path):
    build(groups=["real"], data_dir=data_copy, log=lambda _: None)
    (data_copy / "real" / "MR_small.dcm").unlink()
    assert build(groups=["real"], data_dir=data_copy, log=lambda _: None).rebuilt == ["real"]
    assert (data_copy / "real" / "MR_small.dcm").is_file()


def test_wrong_manifest_entry_fails_loudly(data_copy: Path):
    """A generator whose output differs from the manifest must not pass silently."""
    manifest = data_copy / MANIFEST_NAME
    lines = manifest.read_text().splitlines()
    i = next(i for i, line in enumerate(lines) if line.endswith("  real/CT_small.dcm"))
    lines[i] = "0" * 64 + "  real/CT_small.dcm"
    manifest.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="differ"):
        build(groups=["real"], data_dir=data_copy, log=lambda _: None)


def test_unknown_group_and_missing_manifest(tmp_path: Path):
    with pytest.raises(DataError, match="manifest is missing"):
        build(data_dir=tmp_path, log=lambda _: None)
    shutil.copy(DATA_DIR / MANIFEST_NAME, tmp_path / MANIFEST_NAME)
    with pytest.raises(DataError, match="unknown data group"):
        build(groups=["nonsense"], data_dir=tmp_path, log=lambda _: None)


def test_data_folder_is_ignored_but_manifest_is_tracked():
    ignored = subprocess.run(["git", "check-ignore", "-q", "data/real/CT_small.dcm"],
                             cwd=REPO_ROOT)
    tracked = subprocess.run(["git", "check-ignore", "-q", f"data/{MANIFEST_NAME}"],
                             cwd=REPO_ROOT)
    assert ignored.returncode == 0 and tracked.returncode == 1
