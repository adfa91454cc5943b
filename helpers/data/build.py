"""Build ``data/`` and verify it against the committed manifest.

:func:`build` verifies each data group against ``data/MANIFEST.sha256`` (see
:mod:`.manifest`) and regenerates only the groups with a missing or changed file.
The generators are deterministic and use only arithmetic that IEEE 754 rounds
exactly (see :mod:`.exact`), so what they write must hash exactly as the manifest
says, on any CPU. If a machine still writes different bytes:

- a difference in the header, or a missing or extra file, always fails, naming
  the group and the files;
- a difference in Pixel Data values alone fails with ``strict=True`` (``make test``)
  and otherwise only warns (``make lab``): the files are kept, and their hashes are
  recorded in ``data/.pixel-variants.sha256`` so that later builds verify them
  without regenerating. Lessons then run, but a figure may differ in a grey level.

:func:`check_generators` regenerates groups into a scratch folder and compares,
without touching ``data/`` (``python -m helpers.data check``).

A build that generates a group and finds it byte for byte equal to the manifest records
so in ``data/.generated-here.json``, with :func:`generator_fingerprint` (the generators'
code, the installed packages, numpy's CPU dispatch): the test of the default dispatch
(``tests/unit/test_data_portable.py``) then needs not generate the group again as long
as nothing in the fingerprint changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from ..paths import DATA_DIR
from .manifest import (
    MANIFEST_NAME,
    DataError,
    Difference,
    Manifest,
    compare,
    hash_tree,
    read_manifest,
    sha256_file,
    write_manifest,
)

#: Hashes of files this machine generated whose Pixel Data alone differs from the
#: manifest (kept by a lenient build; git-ignored, like everything in data/).
VARIANTS_NAME = ".pixel-variants.sha256"
#: The groups this machine generated exactly as the manifest says, with the
#: :func:`generator_fingerprint` they were generated under (git-ignored, in data/).
GENERATED_NAME = ".generated-here.json"
#: Environment variables that change which CPU code numpy or glibc's libm runs.
DISPATCH_VARIABLES = ("NPY_DISABLE_CPU_FEATURES", "NPY_ENABLE_CPU_FEATURES", "GLIBC_TUNABLES")

__all__ = ["GENERATED_NAME", "MANIFEST_NAME", "VARIANTS_NAME", "BuildReport", "DataError",
           "build", "check_generators", "check_group", "generated_here", "generator_fingerprint",
           "group_names",
           "read_manifest", "read_variants", "sha256_file"]


def _groups() -> dict[str, tuple[Callable[..., None], int]]:
    """The data groups, in build order: name (a folder under data/) -> (generator, parts).

    A generator with more than one part takes ``part=(i, n)`` and writes its share of
    the files, so that the parts run side by side (the X-ray cohort is the longest).
    """
    from . import ct_labels, real_files, synth_ct, synth_cxr, synth_mg

    return {
        "real": (real_files.collect, 1),
        "ct_chest": (synth_ct.generate, 1),
        "ct_labels": (ct_labels.generate, 1),
        "cxr_cohort": (synth_cxr.generate, 2),
        "mg": (synth_mg.generate, 1),
    }


def group_names() -> list[str]:
    """The data groups the generators make, in build order (folders under data/)."""
    return list(_groups())


def _generate_part(name: str, staging: Path, part: int) -> float:
    """Generate one part of one group into ``staging``; return the seconds taken."""
    t0 = time.perf_counter()
    generator, parts = _groups()[name]
    if parts == 1:
        generator(staging)
    else:
        generator(staging, part=(part, parts))
    return time.perf_counter() - t0


def _generate(names: list[str],
              staging: Callable[[str], Path]) -> dict[str, tuple[Manifest, float]]:
    """Run the generators (and their parts) side by side on every core; return each
    group's manifest entries and the CPU seconds its parts took."""
    if not names:
        return {}
    groups = _groups()
    for name in names:
        shutil.rmtree(staging(name), ignore_errors=True)
    # longest first, so that the short groups fill the gaps
    jobs = sorted(((name, part) for name in names for part in range(groups[name][1])),
                  key=lambda job: -(groups[job[0]][1]))
    seconds = dict.fromkeys(names, 0.0)
    with ProcessPoolExecutor(max_workers=max(1, min(len(jobs), os.cpu_count() or 1))) as pool:
        futures = [(name, pool.submit(_generate_part, name, staging(name), part))
                   for name, part in jobs]
        for name, future in futures:
            seconds[name] += future.result()
    return {name: (hash_tree(staging(name), name), seconds[name]) for name in names}


def generator_fingerprint() -> str:
    """SHA-256 of what decides the bytes the generators write on this machine: their
    source (``helpers/data`` and ``helpers/paths.py``), every installed distribution and
    its version, the Python version and machine, the CPU code numpy dispatches to
    (``numpy.lib.introspect.opt_func_info``) and the variables that change dispatch."""
    from numpy.lib.introspect import opt_func_info

    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for source in sorted([*here.glob("*.py"), here.parent / "paths.py"]):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    # a set: a folder on sys.path that holds an egg-info (the repository root, under
    # pytest) lists the editable package a second time
    packages = sorted({f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions()})
    dispatch = sorted({t["current"] for f in opt_func_info().values() for t in f.values()})
    context = {"packages": packages, "python": sys.version, "machine": platform.machine(),
               "dispatch": dispatch,
               "variables": {v: os.environ.get(v) for v in DISPATCH_VARIABLES}}
    digest.update(json.dumps(context, sort_keys=True).encode())
    return digest.hexdigest()


def _group_stamp(manifest: Manifest, name: str) -> str:
    """The fingerprint of this machine and the group's manifest entries, together."""
    entries = json.dumps(sorted(manifest.group(name).files.items())).encode()
    return hashlib.sha256(generator_fingerprint().encode() + entries).hexdigest()


def generated_here(data_dir: Path = DATA_DIR) -> list[str]:
    """The groups a build generated on this machine exactly as the manifest says, under
    the same :func:`generator_fingerprint` as now (see the module)."""
    path = data_dir / GENERATED_NAME
    if not path.is_file():
        return []
    recorded = json.loads(path.read_text())
    manifest = read_manifest(data_dir)
    return [name for name in _groups() if recorded.get(name) == _group_stamp(manifest, name)]


def _record_generated(names: list[str], manifest: Manifest, data_dir: Path) -> None:
    path = data_dir / GENERATED_NAME
    recorded = json.loads(path.read_text()) if path.is_file() else {}
    recorded.update({name: _group_stamp(manifest, name) for name in names})
    path.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")


def read_variants(data_dir: Path = DATA_DIR) -> dict[str, str]:
    """The pixel variants a lenient build kept on this machine: ``{path: sha256}``."""
    path = data_dir / VARIANTS_NAME
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        digest, sep, rel = line.partition("  ")
        if sep:
            out[rel] = digest
    return out


def _write_variants(variants: dict[str, str], data_dir: Path) -> None:
    path = data_dir / VARIANTS_NAME
    if not variants:
        path.unlink(missing_ok=True)
        return
    path.write_text("".join(f"{d}  {r}\n" for r, d in sorted(variants.items())))


def check_group(expected: dict[str, str], data_dir: Path = DATA_DIR,
                accepted: dict[str, str] | None = None) -> list[str]:
    """Return the manifest paths that are missing or whose hash differs.

    ``accepted``: other hashes allowed per path (this machine's pixel variants).
    """
    accepted = accepted or {}
    bad = []
    for rel, digest in expected.items():
        p = data_dir / rel
        if not p.is_file() or sha256_file(p) not in (digest, accepted.get(rel)):
            bad.append(rel)
    return bad


@dataclass
class BuildReport:
    """What :func:`build` did: per group, 'verified' or 'rebuilt', the time taken, and
    the groups whose Pixel Data differs from the manifest (lenient builds only)."""

    actions: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    pixel_differences: list[Difference] = field(default_factory=list)

    @property
    def rebuilt(self) -> list[str]:
        return [g for g, a in self.actions.items() if a != "verified"]


def build(
    *,
    update_manifest: bool = False,
    strict: bool = False,
    groups: list[str] | None = None,
    data_dir: Path = DATA_DIR,
    log: Callable[[str], None] = print,
) -> BuildReport:
    """Verify every data group against the manifest and rebuild the ones that fail.

    With ``update_manifest=True`` every group is regenerated and the manifest is
    rewritten from what the generators wrote (use after changing a generator).
    ``groups`` limits the work to some groups (all by default). ``strict``: a
    difference in Pixel Data values alone is an error too (see the module's doc).
    Raises :class:`DataError` naming the group and files that differ.
    """
    start = time.perf_counter()
    manifest = Manifest() if update_manifest else read_manifest(data_dir)
    variants = {} if (strict or update_manifest) else read_variants(data_dir)
    new_manifest = Manifest()
    report = BuildReport()
    selected = {n: g for n, g in _groups().items() if groups is None or n in groups}
    if groups is not None and (unknown := set(groups) - set(selected)):
        raise DataError(f"unknown data group(s): {', '.join(sorted(unknown))}")
    if update_manifest and groups is not None:
        raise DataError("--update-manifest regenerates every group; do not limit groups")
    to_build: list[str] = []
    exact: list[str] = []  # groups generated here byte for byte as the manifest says
    for name in selected:
        expected = manifest.group(name).files
        if not update_manifest:
            if not expected:
                raise DataError(
                    f"{MANIFEST_NAME}: no entries for data group {name!r}; "
                    "run `make manifest` after adding a generator"
                )
            bad = check_group(expected, data_dir, variants)
            if not bad:
                kept = sorted(r for r in expected if r in variants)
                if kept:
                    log(f"warning: {name}: {len(kept)} files kept whose Pixel Data differs "
                        f"from {MANIFEST_NAME} (first: {kept[0]}); `make test` will fail")
                log(f"{name}: {len(expected)} files verified")
                report.actions[name] = "verified"
                continue
            log(f"{name}: {len(bad)} of {len(expected)} files missing or changed "
                f"(first: {bad[0]}); rebuilding")
        to_build.append(name)

    results = _generate(to_build, lambda name: data_dir / f".{name}.building")
    for name in to_build:
        actual, seconds = results[name]
        staging = data_dir / f".{name}.building"
        if not update_manifest:
            diff = compare(manifest.group(name), actual, name)
            if diff and (strict or not diff.only_pixels):
                shutil.rmtree(staging, ignore_errors=True)
                raise DataError(
                    f"the generator wrote files that differ from {MANIFEST_NAME}: "
                    f"{diff.describe()}. Are the pinned package versions installed "
                    "(make venv)? If they are, please report it with the output of "
                    "`python -m helpers.data check`."
                )
            if not diff:
                exact.append(name)
            for rel in list(variants):
                if rel.startswith(name + "/"):
                    del variants[rel]
            if diff:
                variants.update({r: actual.files[r] for r in diff.pixels_only})
                report.pixel_differences.append(diff)
                log(f"warning: {diff.describe()}. The headers match {MANIFEST_NAME}; "
                    "the files are kept so the lessons can run, but a figure may differ "
                    "in a grey level, and `make test` will fail. Please report it with "
                    "the output of `python -m helpers.data check`.")
        target = data_dir / name
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        new_manifest.update(actual)
        report.actions[name] = "rebuilt"
        log(f"{name}: {len(actual.files)} files written ({seconds:.1f} s of generator time)")
    if update_manifest:
        write_manifest(new_manifest, data_dir)
        exact = list(to_build)
    if exact:
        _record_generated(exact, read_manifest(data_dir), data_dir)
    if update_manifest:
        log(f"{MANIFEST_NAME}: {len(new_manifest.files)} files "
            f"({len(new_manifest.headers)} with a header hash) written")
    elif not strict:
        _write_variants(variants, data_dir)
    report.seconds = time.perf_counter() - start
    return report


def check_generators(groups: list[str] | None = None, data_dir: Path = DATA_DIR,
                     log: Callable[[str], None] = print) -> list[Difference]:
    """Regenerate ``groups`` (all by default) in a scratch folder and compare them with
    the manifest; ``data/`` is not touched. Returns the groups that differ."""
    manifest = read_manifest(data_dir)
    names = [n for n in _groups() if groups is None or n in groups]
    if groups is not None and (unknown := set(groups) - set(names)):
        raise DataError(f"unknown data group(s): {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="workbook-data-check-") as scratch:
        results = _generate(names, lambda name: Path(scratch) / name)
    out = []
    for name in names:
        actual, seconds = results[name]
        diff = compare(manifest.group(name), actual, name)
        log(f"{name}: {len(actual.files)} files generated ({seconds:.1f} s of generator time), "
            + (diff.describe() if diff else f"all match {MANIFEST_NAME}"))
        if diff:
            out.append(diff)
    return out
