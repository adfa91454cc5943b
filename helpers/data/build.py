"""Build ``data/`` and verify it against the committed manifest.

``data/MANIFEST.sha256`` lists every file of every data group with its SHA-256,
in the format of ``sha256sum`` (so ``cd data && sha256sum -c MANIFEST.sha256``
checks it too). :func:`build` verifies each group and regenerates only the groups
with a missing or changed file; the generators are deterministic, so what they
write must hash exactly as the manifest says, or the build fails loudly.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..paths import DATA_DIR, shown

MANIFEST_NAME = "MANIFEST.sha256"


class DataError(RuntimeError):
    """The data folder is missing, stale, or cannot be rebuilt as the manifest says."""


def _groups() -> dict[str, Callable[[Path], None]]:
    """The data groups, in build order: name (a folder under data/) -> generator."""
    from . import real_files, synth_ct, synth_cxr

    return {
        "real": real_files.collect,
        "ct_chest": synth_ct.generate,
        "cxr_cohort": synth_cxr.generate,
    }


def _generate_group(name: str, data_dir: Path) -> tuple[dict[str, str], float]:
    """Generate one group into its staging folder; return its hashes and the seconds taken."""
    t0 = time.perf_counter()
    staging = data_dir / f".{name}.building"
    shutil.rmtree(staging, ignore_errors=True)
    _groups()[name](staging)
    return hash_tree(staging, name), time.perf_counter() - t0


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def hash_tree(folder: Path, prefix: str) -> dict[str, str]:
    """``{prefix/relative/path: sha256}`` for every file under ``folder``."""
    return {
        f"{prefix}/{p.relative_to(folder).as_posix()}": sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def read_manifest(data_dir: Path = DATA_DIR) -> dict[str, str]:
    """Parse the manifest into ``{relative path: sha256}``."""
    path = data_dir / MANIFEST_NAME
    if not path.exists():
        raise DataError(f"{path.name}: the manifest is missing from {shown(data_dir)}/")
    entries = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        digest, sep, rel = line.partition("  ")
        if not sep or len(digest) != 64:
            raise DataError(f"{path.name} line {n}: expected '<sha256>  <path>', got {line!r}")
        entries[rel] = digest
    return entries


def write_manifest(entries: dict[str, str], data_dir: Path = DATA_DIR) -> None:
    lines = [f"{digest}  {rel}" for rel, digest in sorted(entries.items())]
    (data_dir / MANIFEST_NAME).write_text("\n".join(lines) + "\n")


def check_group(expected: dict[str, str], data_dir: Path = DATA_DIR) -> list[str]:
    """Return the manifest paths that are missing or whose hash differs."""
    bad = []
    for rel, digest in expected.items():
        p = data_dir / rel
        if not p.is_file() or sha256_file(p) != digest:
            bad.append(rel)
    return bad


@dataclass
class BuildReport:
    """What :func:`build` did: per group, 'verified' or 'rebuilt', and the time taken."""

    actions: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rebuilt(self) -> list[str]:
        return [g for g, a in self.actions.items() if a != "verified"]


def build(
    *,
    update_manifest: bool = False,
    groups: list[str] | None = None,
    data_dir: Path = DATA_DIR,
    log: Callable[[str], None] = print,
) -> BuildReport:
    """Verify every data group against the manifest and rebuild the ones that fail.

    With ``update_manifest=True`` every group is regenerated and the manifest is
    rewritten from what the generators wrote (use after changing a generator).
    ``groups`` limits the work to some groups (all by default).
    """
    start = time.perf_counter()
    manifest = {} if update_manifest else read_manifest(data_dir)
    new_manifest: dict[str, str] = {}
    report = BuildReport()
    selected = {n: g for n, g in _groups().items() if groups is None or n in groups}
    if groups is not None and (unknown := set(groups) - set(selected)):
        raise DataError(f"unknown data group(s): {', '.join(sorted(unknown))}")
    if update_manifest and groups is not None:
        raise DataError("--update-manifest regenerates every group; do not limit groups")
    to_build: list[str] = []
    for name in selected:
        expected = {r: d for r, d in manifest.items() if r.startswith(name + "/")}
        if not update_manifest:
            if not expected:
                raise DataError(
                    f"{MANIFEST_NAME}: no entries for data group {name!r}; "
                    "run `make manifest` after adding a generator"
                )
            bad = check_group(expected, data_dir)
            if not bad:
                log(f"{name}: {len(expected)} files verified")
                report.actions[name] = "verified"
                continue
            log(f"{name}: {len(bad)} of {len(expected)} files missing or changed "
                f"(first: {bad[0]}); rebuilding")
        to_build.append(name)

    # The generators are independent and CPU-bound: run them side by side.
    with ProcessPoolExecutor(max_workers=max(1, min(len(to_build), os.cpu_count() or 1))) \
            as pool:
        jobs = {name: pool.submit(_generate_group, name, data_dir) for name in to_build}
        results = {name: job.result() for name, job in jobs.items()}

    for name in to_build:
        actual, seconds = results[name]
        expected = {r: d for r, d in manifest.items() if r.startswith(name + "/")}
        staging = data_dir / f".{name}.building"
        if not update_manifest and actual != expected:
            wrong = sorted(set(actual.items()) ^ set(expected.items()))
            shutil.rmtree(staging, ignore_errors=True)
            raise DataError(
                f"data group {name!r}: the generator wrote files that differ from "
                f"{MANIFEST_NAME} ({len(wrong)} entries differ, first: {wrong[0][0]}). "
                "Are the pinned package versions installed (make venv)?"
            )
        target = data_dir / name
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        new_manifest.update(actual)
        report.actions[name] = "rebuilt"
        log(f"{name}: {len(actual)} files written in {seconds:.1f} s")
    if update_manifest:
        write_manifest(new_manifest, data_dir)
        log(f"{MANIFEST_NAME}: {len(new_manifest)} entries written")
    report.seconds = time.perf_counter() - start
    return report
