"""Real DICOM files shipped by pydicom and pydicom-data, collected for the lessons.

The files come from PyPI packages, so no lesson needs the internet: each is found
with ``pydicom.data.get_testdata_file(name, download=False)`` and copied into
``data/real/``, where the manifest checks its SHA-256. (Never call
the plural pattern-matching variant: it tries the network for every match.)
"""

from __future__ import annotations

import shutil
from pathlib import Path

#: name -> what it shows. Kept in one place so lessons and tests agree.
REAL_FILES: dict[str, str] = {
    "CT_small.dcm": "CT, 128x128, explicit VR little endian",
    "MR_small.dcm": "MR, 64x64, explicit VR little endian",
    "MR_small_implicit.dcm": "the same MR, implicit VR little endian",
    "MR_small_bigendian.dcm": "the same MR, explicit VR big endian (retired)",
    "MR_small_RLE.dcm": "the same MR, RLE lossless",
    "MR_small_jpeg_ls_lossless.dcm": "the same MR, JPEG-LS lossless",
    "MR_small_jp2klossless.dcm": "the same MR, JPEG 2000 lossless",
    "JPEG-lossy.dcm": "JPEG extended 12-bit that pylibjpeg and Pillow cannot decode (GDCM can)",
    "JPGExtended.dcm": "JPEG extended (process 2 and 4), 12-bit, decodable with pylibjpeg",
    "JPEG2000.dcm": "JPEG 2000",
    "JPEG-LL.dcm": "JPEG lossless, process 14",
    "693_UNCI.dcm": "693_J2KR's slice, implicit VR, decompressed from lossy JPEG 2000 "
                    "(Lossy Image Compression 01)",
    "693_J2KR.dcm": "a head CT slice 512x512, JPEG 2000 lossless: the original pixels",
    "RG1_UNCI.dcm": "real chest CR, MONOCHROME1, decompressed from lossy JPEG 2000 "
                    "(Lossy Image Compression 01)",
    "MR2_UNCI.dcm": "MR with a non-integer rescale slope",
    "emri_small.dcm": "multi-frame MR (10 frames)",
    "emri_small_RLE.dcm": "the same multi-frame MR, RLE",
    "SC_rgb.dcm": "secondary capture, RGB",
    "SC_rgb_rle.dcm": "secondary capture, RGB, RLE",
    "SC_rgb_jpeg_gdcm.dcm": "secondary capture, RGB, JPEG lossless (SV1)",
    "SC_rgb_jpeg_dcmtk.dcm": "secondary capture, YBR_FULL, JPEG baseline (lossy)",
    "SC_ybr_full_uncompressed.dcm": "secondary capture, YBR_FULL uncompressed",
    "US1_UNCI.dcm": "ultrasound, RGB",
    "US1_J2KR.dcm": "ultrasound, YBR_RCT, JPEG 2000 lossless (not pixel-equal to US1_UNCI)",
    "examples_palette.dcm": "palette colour",
    "mlut_18.dcm": "modality LUT sequence",
    "vlut_04.dcm": "VOI LUT sequence",
    "rtplan.dcm": "RT plan (no pixel data)",
    "rtstruct.dcm": "RT structure set (no pixel data)",
    "rtdose.dcm": "RT dose, multi-frame",
    "test-SR.dcm": "structured report (no pixel data)",
    "waveform_ecg.dcm": "ECG waveform (no pixel data)",
    "no_meta.dcm": "CT_small's dataset without preamble or file meta, after one stray byte: "
                   "not DICOM, even with force=True (lesson 2)",
    "MR_truncated.dcm": "truncated pixel data",
}

#: A real multi-patient, multi-series tree with its DICOMDIR (PS3.10 section 8).
DICOMDIR_TREE = "dicomdirtests"


def _source(name: str) -> Path:
    from pydicom.data import get_testdata_file

    found = get_testdata_file(name, download=False)
    if found is None:
        raise FileNotFoundError(
            f"{name}: not found in pydicom or pydicom-data; is pydicom-data installed "
            "(pip install -r requirements.txt)?"
        )
    return Path(found)


def collect(out_dir: Path) -> None:
    """Copy every real file (and the DICOMDIR tree) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in REAL_FILES:
        shutil.copyfile(_source(name), out_dir / name)
    tree = _source(f"{DICOMDIR_TREE}/DICOMDIR").parent
    shutil.copytree(tree, out_dir / DICOMDIR_TREE, copy_function=shutil.copyfile)
