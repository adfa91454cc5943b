"""The data build: verified against the committed manifest, idempotent, self-healing."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers.data.build import (
    MANIFEST_NAME,
    VARIANTS_NAME,
    DataError,
    build,
    check_generators,
    generated_here,
    read_manifest,
)
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


def test_a_group_generated_exactly_is_recorded_under_this_machines_fingerprint(
        data_copy: Path, monkeypatch):
    """What lets the portability test skip regenerating: recorded only for a group the
    build generated exactly as the manifest says, and void once the dispatch, the
    manifest or the record change."""
    assert generated_here(data_copy) == []
    build(groups=["real"], data_dir=data_copy, log=lambda _: None)
    assert generated_here(data_copy) == ["real"]
    monkeypatch.setenv("NPY_DISABLE_CPU_FEATURES", "AVX2")  # another dispatch
    assert generated_here(data_copy) == []
    monkeypatch.delenv("NPY_DISABLE_CPU_FEATURES")
    _tamper(data_copy, "real/CT_small.dcm", header=True)  # another manifest
    assert generated_here(data_copy) == []


def test_a_group_that_differs_is_not_recorded(data_copy: Path):
    _tamper(data_copy, "real/CT_small.dcm", header=False)
    with pytest.raises(DataError):
        build(groups=["real"], data_dir=data_copy, strict=True, log=lambda _: None)
    assert generated_here(data_copy) == []
    build(groups=["real"], data_dir=data_copy, log=lambda _: None)  # lenient: kept, warned
    assert generated_here(data_copy) == []


def test_missing_file_is_rebuilt(data_copy: Path):
    build(groups=["real"], data_dir=data_copy, log=lambda _: None)
    (data_copy / "real" / "MR_small.dcm").unlink()
    assert build(groups=["real"], data_dir=data_copy, log=lambda _: None).rebuilt == ["real"]
    assert (data_copy / "real" / "MR_small.dcm").is_file()


def _tamper(data_dir: Path, rel: str, *, header: bool) -> None:
    """Make the manifest expect other bytes for ``rel``: its file hash, and optionally
    its header hash, as if this machine's generator wrote something else."""
    manifest = data_dir / MANIFEST_NAME
    lines = manifest.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.endswith(f"  {rel}") and (header or not line.startswith("# header ")):
            prefix = "# header " if line.startswith("# header ") else ""
            lines[i] = f"{prefix}{'0' * 64}  {rel}"
    manifest.write_text("\n".join(lines) + "\n")


def test_header_difference_fails_loudly_naming_group_and_file(data_copy: Path):
    """A generator whose header bytes differ from the manifest must not pass silently."""
    _tamper(data_copy, "real/CT_small.dcm", header=True)
    with pytest.raises(DataError, match=r"'real'.*1 file differ in their header "
                                        r"\(real/CT_small.dcm\)"):
        build(groups=["real"], data_dir=data_copy, log=lambda _: None)


def test_pixel_only_difference_warns_in_a_lenient_build_and_fails_a_strict_one(data_copy: Path):
    """make lab (lenient) goes on with a warning; make test (strict) fails; verify()
    and later lenient builds accept the recorded variant without regenerating."""
    _tamper(data_copy, "real/CT_small.dcm", header=False)
    with pytest.raises(DataError, match=r"1 file differ in Pixel Data values only "
                                        r"\(real/CT_small.dcm\)"):
        build(groups=["real"], data_dir=data_copy, strict=True, log=lambda _: None)
    said: list[str] = []
    report = build(groups=["real"], data_dir=data_copy, log=said.append)
    assert report.actions == {"real": "rebuilt"}
    assert [d.pixels_only for d in report.pixel_differences] == [["real/CT_small.dcm"]]
    assert any(m.startswith("warning:") and "real/CT_small.dcm" in m for m in said), said
    assert (data_copy / "real" / "CT_small.dcm").is_file()
    variants = (data_copy / VARIANTS_NAME).read_text()
    assert variants.endswith("  real/CT_small.dcm\n")
    said.clear()
    again = build(groups=["real"], data_dir=data_copy, log=said.append)
    assert again.actions == {"real": "verified"}
    assert any(m.startswith("warning:") for m in said), said
    with pytest.raises(DataError):
        build(groups=["real"], data_dir=data_copy, strict=True, log=lambda _: None)


def test_check_command_reports_without_touching_data(data_copy: Path):
    _tamper(data_copy, "real/MR_small.dcm", header=False)
    said: list[str] = []
    diffs = check_generators(["real"], data_dir=data_copy, log=said.append)
    assert [(d.group, d.pixels_only, d.header) for d in diffs] == [
        ("real", ["real/MR_small.dcm"], [])]
    assert not (data_copy / "real").exists()
    assert "differ in Pixel Data values only (real/MR_small.dcm)" in said[0]


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


def test_a_corpus_file_the_manifest_does_not_list_forces_a_rebuild() -> None:
    """A file left in data/corpus by an older corpus (one the manifest dropped) would be
    counted by every crawl: the build treats it as a reason to rebuild, like a changed one."""
    from helpers.data import corpus

    expected = corpus.read_manifest()
    folder = corpus.corpus_dir()
    assert corpus._bad(expected, folder) == []
    dropped = sorted(expected)[0]
    fewer = {rel: digest for rel, digest in expected.items() if rel != dropped}
    assert corpus._bad(fewer, folder) == [dropped]


def test_the_fingerprint_does_not_depend_on_the_repository_being_on_sys_path(monkeypatch):
    """pytest puts the repository root on sys.path, where pip's editable install left an
    egg-info: the generators' fingerprint must stay the one the build recorded, or the
    portability test regenerates every group it could have skipped."""
    import sys

    from helpers.data.build import generator_fingerprint

    if not list(REPO_ROOT.glob("*.egg-info")):
        pytest.skip("no egg-info at the repository root (not an editable install)")
    outside = [p for p in sys.path if p and Path(p).resolve() != REPO_ROOT]
    monkeypatch.setattr(sys, "path", outside)
    alone = generator_fingerprint()
    monkeypatch.setattr(sys, "path", [str(REPO_ROOT), *outside])
    assert generator_fingerprint() == alone
