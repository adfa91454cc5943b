"""Read DICOM files and their pixels with clear errors; write copies and files safely.

Thin wrappers over :func:`pydicom.dcmread` and ``Dataset.pixel_array`` that turn
the library's exceptions into :mod:`helpers.dicom.errors` messages naming the file and
the problem, and a writer that never replaces an existing file.

References: PS3.10 section 7 (the Part 10 file: preamble, ``DICM``, file meta
group), PS3.5 section 8 and Annex A (encapsulated pixel data and transfer
syntaxes).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pydicom
from pydicom import uid
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID

from ..paths import shown
from .errors import (
    InvalidValueError,
    MissingDecoderError,
    NoPixelDataError,
    NotDicomError,
    OverwriteError,
    PixelDecodeError,
    TruncatedFileError,
)
from .header import check_complete
from .reading import (
    NO_DATA_SET,
    NO_FILE_META,
    check_file,
    past_the_end,
    reading,
)

PathLike = str | os.PathLike[str]

_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
_SHORT_PIXELS = re.compile(r"less than expected \((\d+) vs (\d+) bytes\)")


#: The pip packages that decode each compressed transfer syntax here: pylibjpeg with its
#: libjpeg, openjpeg or rle backend, the plugins requirements.txt pins (PS3.5 A.4 lists
#: the encapsulated transfer syntaxes). A syntax not listed has no pinned decoder.
DECODER_PACKAGES: dict[str, str] = {
    **dict.fromkeys([uid.JPEGBaseline8Bit, uid.JPEGExtended12Bit, uid.JPEGLossless,
                     uid.JPEGLosslessSV1, uid.JPEGLSLossless, uid.JPEGLSNearLossless],
                    "pylibjpeg pylibjpeg-libjpeg"),
    **dict.fromkeys([uid.JPEG2000Lossless, uid.JPEG2000, uid.HTJ2KLossless,
                     uid.HTJ2KLosslessRPCL, uid.HTJ2K], "pylibjpeg pylibjpeg-openjpeg"),
    uid.RLELossless: "pylibjpeg pylibjpeg-rle",
}


def decoder_package(transfer_syntax: str) -> str | None:
    """What to ``pip install`` to decode ``transfer_syntax`` here (:data:`DECODER_PACKAGES`),
    when pydicom has no decoder available for it; None when one is available, or when
    no pinned plugin decodes it."""
    from pydicom.pixels import get_decoder

    try:
        decoder = get_decoder(UID(str(transfer_syntax)))
    except NotImplementedError:
        return DECODER_PACKAGES.get(str(transfer_syntax))
    if decoder.is_available:
        return None
    return DECODER_PACKAGES.get(str(transfer_syntax))


def read(
    path: PathLike,
    *,
    stop_before_pixels: bool = False,
    force: bool = False,
    specific_tags: Sequence[object] | None = None,
    decode_all: bool = True,
) -> Dataset:
    """Read a DICOM file with :func:`pydicom.dcmread`, with errors a learner understands.

    Every element's value is decoded here (pydicom otherwise decodes on first
    access), so that a value the file cannot hold -- an unknown VR, a length
    that is not a multiple of the VR's size (PS3.5 6.2) -- fails now, naming the
    element, instead of later deep inside whatever helper touches it.
    ``decode_all=False`` skips that step, for hot paths whose callers turn every
    error of the few elements they use into a documented one themselves (it
    makes a read of a CT slice about 3x faster).

    A whole read (not ``stop_before_pixels``, no ``specific_tags``) also checks
    that the data set ends where the file ends: zero padding and Data Set Trailing
    Padding (FFFC,FFFC) after it are accepted (PS3.10 7.2), other bytes refused.

    Errors are those of :mod:`helpers.dicom.reading`, worded as every reader words
    them: :class:`NotDicomError`, :class:`EmptyFileError`,
    :class:`TruncatedFileError`, :class:`NotAFileError`, :class:`UnreadableFileError`.
    """
    p = Path(path)
    size = check_file(p)
    whole = not stop_before_pixels and specific_tags is None
    with reading(p):
        try:
            ds = pydicom.dcmread(
                p, stop_before_pixels=stop_before_pixels, force=force,
                specific_tags=specific_tags)
        except InvalidDicomError:  # without force: pydicom checks for the DICM prefix only
            raise NotDicomError(p, NO_FILE_META) from None
        if len(ds) == 0 and not specific_tags:
            raise TruncatedFileError(p, NO_DATA_SET)
        check_complete(ds, p, size, pixel_data=whole, trailing_bytes=whole)
        if decode_all:
            _decode_all(ds)
        return ds


def _decode_all(ds: Dataset) -> None:
    """Decode every element of the file meta and the dataset, sequences included
    (an element pydicom cannot convert raises here, inside :func:`reading`)."""
    for dataset in (getattr(ds, "file_meta", None), ds):
        if dataset is not None:
            _decode(dataset)


def _decode(ds: Dataset) -> None:
    for tag in list(ds.keys()):
        elem = ds[tag]
        if elem.VR == "SQ" and elem.value:
            for item in elem.value:
                _decode(item)


def has_pixels(ds: Dataset) -> bool:
    """True when the dataset holds an image (Pixel Data, Float or Double Float Pixel Data)."""
    return any(k in ds for k in _PIXEL_KEYWORDS)


def pixels(ds: Dataset, path: PathLike | None = None) -> np.ndarray:
    """Return ``ds.pixel_array`` (stored values, all frames), with clear errors.

    ``path`` names the file in messages (defaults to ``ds.filename``).
    Raises :class:`NoPixelDataError`, :class:`MissingDecoderError` (saying which
    package to install), :class:`TruncatedFileError` or :class:`PixelDecodeError`.
    """
    where = path if path is not None else getattr(ds, "filename", None)
    if not has_pixels(ds):
        sop = getattr(ds.get("SOPClassUID"), "name", None) or ds.get("SOPClassUID", "unknown")
        raise NoPixelDataError(where, f"holds no pixel data (SOP class: {sop})")
    tsyntax = _transfer_syntax(ds, where)
    if tsyntax is not None and tsyntax.is_compressed:
        from pydicom.pixels.decoders.base import get_decoder

        try:
            decoder = get_decoder(tsyntax)
        except NotImplementedError:
            raise MissingDecoderError(
                where, f"no decoder exists for transfer syntax {tsyntax.name} ({tsyntax})"
            ) from None
        if not decoder.is_available:
            package = decoder_package(tsyntax)
            known = "; ".join(decoder.missing_dependencies)
            if package:
                raise MissingDecoderError(
                    where, f"pixel data is compressed as {tsyntax.name} and no decoder plugin "
                           f"for it is installed (pydicom: {known}): pip install {package}")
            raise MissingDecoderError(
                where, f"pixel data is compressed as {tsyntax.name}: no plugin the workbook "
                       f"installs decodes it; pydicom knows: {known}")
    try:
        return ds.pixel_array
    except (ValueError, EOFError) as exc:
        text = str(exc)
        short = _SHORT_PIXELS.search(text)
        if short:  # pydicom: "... less than expected (256 vs 512 bytes)"
            raise TruncatedFileError(where, past_the_end(0x7FE00010, int(short.group(2)),
                                                         int(short.group(1)))) from None
        if "shorter" in text or "truncat" in text.lower() or "expected" in text.lower():
            raise TruncatedFileError(where, f"truncated: Pixel Data is shorter than the header "
                                            f"says (PS3.5 7.1.1): {text}") from None
        raise PixelDecodeError(where, f"pixel data cannot be decoded: {text}") from None
    except AttributeError as exc:
        raise PixelDecodeError(where, f"pixel data cannot be decoded, a tag is missing: {exc}") \
            from None
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # also a decoder plugin's Rust panic (pyo3 PanicException)
        raise PixelDecodeError(
            where, f"pixel data cannot be decoded: {type(exc).__name__}: {exc}"
        ) from None


def _transfer_syntax(ds: Dataset, where: PathLike | None) -> UID | None:
    """The file meta Transfer Syntax UID (PS3.10 7.1), checked to be a known transfer syntax."""
    meta = getattr(ds, "file_meta", None)
    try:
        value = meta.get("TransferSyntaxUID") if meta is not None else None
    except Exception as exc:  # a value pydicom cannot convert
        raise PixelDecodeError(where, f"the Transfer Syntax UID (0002,0010) cannot be read: "
                                      f"{type(exc).__name__}: {exc}") from None
    if value is None:
        return None
    uid = UID(str(value).strip("\0 "))
    try:
        uid.is_compressed  # noqa: B018 (raises for a UID that is not a transfer syntax)
    except ValueError:
        raise PixelDecodeError(
            where, f"the Transfer Syntax UID (0002,0010) {str(value)!r} is not a known transfer "
                   "syntax (PS3.5 section 10, PS3.6 table A-1), so the pixel data cannot be "
                   "interpreted") from None
    return uid


def save_copy(ds: Dataset, path: PathLike, *, overwrite: bool = False) -> Path:
    """Write ``ds`` to a new file at ``path`` and return the path.

    The workbook's one writer rule (:func:`write_bytes`, also the table writers' in
    :mod:`helpers.tables.write`): a write never replaces an existing file --
    :class:`OverwriteError` -- unless ``overwrite=True`` says so (a lesson that re-runs
    overwrites its own earlier output explicitly); and it always refuses to write over the
    file ``ds`` was read from, so a source file is never replaced, whatever ``overwrite``
    says. A dataset pydicom cannot write as a Part 10 file (PS3.10 7.1: e.g. one
    holding command group elements (0000,eeee)) raises :class:`InvalidValueError`
    naming the file, and leaves no partial copy (it is encoded before anything is
    written).
    """
    p = Path(path)
    source = getattr(ds, "filename", None)
    if isinstance(source, str | os.PathLike) and (
        Path(source).resolve() == p.resolve()
        or (p.exists() and Path(source).exists() and os.path.samefile(source, p))  # hard link
    ):
        raise OverwriteError(p, "is the file this dataset was read from; write a copy elsewhere")
    buffer = io.BytesIO()
    try:
        ds.save_as(buffer, enforce_file_format=True)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # pydicom refuses the dataset: say which, and why
        origin = f" (read from {shown(source)})" if isinstance(source, str | os.PathLike) else ""
        raise InvalidValueError(p, f"cannot be written{origin}: {type(exc).__name__}: {exc}") \
            from None
    return write_bytes(p, buffer.getvalue(), overwrite=overwrite)


def write_bytes(path: PathLike, data: bytes, *, overwrite: bool = False) -> Path:
    """The workbook's one writer rule, for any file: an existing ``path`` ->
    :class:`OverwriteError` unless ``overwrite=True``; no file -> created exclusively
    (never truncating one that appeared meanwhile). :func:`save_copy` and the table
    writers (:mod:`helpers.tables.write`) write through it."""
    p = Path(path)
    if p.exists() and not overwrite:
        raise OverwriteError(p, "already exists; choose a new name or pass overwrite=True")
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "wb" if overwrite else "xb") as fh:
        fh.write(data)
    return p
