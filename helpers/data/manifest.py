"""The committed manifest of ``data/``: what every generated file must hash to.

``data/MANIFEST.sha256`` holds two kinds of line:

- ``<sha256>  <group/path>``: the SHA-256 of every byte of every file, in the
  format of coreutils ``sha256sum`` (``cd data && sha256sum -c MANIFEST.sha256``
  checks it without any of the workbook's code; ``sha256sum`` skips the ``#`` lines);
- ``# header <sha256>  <group/path>``: for each DICOM file, the SHA-256 of the
  bytes before its Pixel Data element (7FE0,0010) (PS3.5 section 7.1; the
  preamble, file meta information (PS3.10 section 7.1) and every data element up
  to the pixels). It tells a difference in the pixel values alone apart from a
  difference in the header.

See ``data/README.md`` for what the manifest guarantees.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.errors import InvalidDicomError

from ..paths import DATA_DIR, shown

MANIFEST_NAME = "MANIFEST.sha256"
HEADER_PREFIX = "# header "


class DataError(RuntimeError):
    """The data folder is missing, stale, or cannot be rebuilt as the manifest says."""


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def header_sha256(content: bytes) -> str | None:
    """Hex SHA-256 of the bytes of a DICOM file before its Pixel Data element.

    ``None`` if ``content`` is not a DICOM file (PS3.10 section 7.1: no ``DICM``
    after the 128-byte preamble). A file without Pixel Data hashes whole.
    """
    if len(content) < 132 or content[128:132] != b"DICM":
        return None
    fh = io.BytesIO(content)
    try:
        pydicom.dcmread(fh, stop_before_pixels=True)
    except (InvalidDicomError, ValueError, EOFError):
        return None
    return hashlib.sha256(content[:fh.tell()]).hexdigest()  # pydicom stops at the tag


@dataclass
class Manifest:
    """Every file's SHA-256, and the header SHA-256 of each DICOM file."""

    files: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def group(self, name: str) -> Manifest:
        """The entries of one data group (a top-level folder of ``data/``)."""
        return Manifest(
            {r: d for r, d in self.files.items() if r.startswith(name + "/")},
            {r: d for r, d in self.headers.items() if r.startswith(name + "/")},
        )

    def update(self, other: Manifest) -> None:
        self.files.update(other.files)
        self.headers.update(other.headers)


def hash_tree(folder: Path, prefix: str) -> Manifest:
    """The manifest entries for every file under ``folder``, named ``prefix/relative``."""
    out = Manifest()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            rel = f"{prefix}/{p.relative_to(folder).as_posix()}"
            content = p.read_bytes()  # read once for both hashes
            out.files[rel] = hashlib.sha256(content).hexdigest()
            if (h := header_sha256(content)) is not None:
                out.headers[rel] = h
    return out


def read_manifest(data_dir: Path = DATA_DIR) -> Manifest:
    """Parse ``data_dir/MANIFEST.sha256``."""
    path = data_dir / MANIFEST_NAME
    if not path.exists():
        raise DataError(f"{path.name}: the manifest is missing from {shown(data_dir)}/")
    out = Manifest()
    for n, line in enumerate(path.read_text().splitlines(), 1):
        target = out.files
        if line.startswith(HEADER_PREFIX):
            line, target = line[len(HEADER_PREFIX):], out.headers
        elif not line.strip() or line.startswith("#"):
            continue
        digest, sep, rel = line.partition("  ")
        if not sep or len(digest) != 64:
            raise DataError(f"{path.name} line {n}: expected '<sha256>  <path>', got {line!r}")
        target[rel] = digest
    return out


def write_manifest(manifest: Manifest, data_dir: Path) -> None:
    """Write the manifest: the ``sha256sum`` lines, then the header lines."""
    lines = [f"{d}  {r}" for r, d in sorted(manifest.files.items())]
    lines += [f"{HEADER_PREFIX}{d}  {r}" for r, d in sorted(manifest.headers.items())]
    (data_dir / MANIFEST_NAME).write_text("\n".join(lines) + "\n")


@dataclass
class Difference:
    """How a group's files differ from the manifest."""

    group: str
    missing: list[str] = field(default_factory=list)      # in the manifest, not written
    unexpected: list[str] = field(default_factory=list)   # written, not in the manifest
    header: list[str] = field(default_factory=list)       # bytes before Pixel Data differ
    pixels_only: list[str] = field(default_factory=list)  # only the Pixel Data differs

    @property
    def only_pixels(self) -> bool:
        """True when every difference lies in Pixel Data values."""
        return bool(self.pixels_only) and not (self.missing or self.unexpected or self.header)

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.header or self.pixels_only)

    def describe(self, limit: int = 5) -> str:
        """One paragraph naming the group, the kind of difference and the files."""
        parts = []
        for label, files in (("differ in their header", self.header),
                             ("differ in Pixel Data values only", self.pixels_only),
                             ("are missing", self.missing),
                             ("were not expected", self.unexpected)):
            if files:
                more = f" and {len(files) - limit} more" if len(files) > limit else ""
                parts.append(f"{len(files)} {'file' if len(files) == 1 else 'files'} {label} "
                             f"({', '.join(files[:limit])}{more})")
        return f"data group {self.group!r}: " + "; ".join(parts)


def compare(expected: Manifest, actual: Manifest, group: str) -> Difference:
    """Compare what a generator wrote (``actual``) with the manifest (``expected``)."""
    diff = Difference(group)
    diff.missing = sorted(set(expected.files) - set(actual.files))
    diff.unexpected = sorted(set(actual.files) - set(expected.files))
    for rel in sorted(set(expected.files) & set(actual.files)):
        if expected.files[rel] == actual.files[rel]:
            continue
        want, got = expected.headers.get(rel), actual.headers.get(rel)
        if want is not None and want == got:
            diff.pixels_only.append(rel)
        else:
            diff.header.append(rel)
    return diff
