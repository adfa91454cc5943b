"""The environment check in lesson 0: package versions, pixel decoders, data.

Compressed pixel data (PS3.5 section 8.2 and Annex A.4) needs a decoder plugin;
:func:`decoders` asks pydicom which transfer syntaxes this machine can decode and
with which plugin.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata

import pandas as pd

#: The packages a learner's environment needs, as requirements.txt pins them, in the order
#: lesson 0 shows them, with what each is for (``nbval``, a test tool, is left out).
USES = {
    "pydicom": "reading and writing DICOM",
    "pydicom-data": "real DICOM files (lessons 0-3)",
    "pylibjpeg": "compressed pixel data",
    "pylibjpeg-libjpeg": "JPEG, JPEG-LS decoding",
    "pylibjpeg-openjpeg": "JPEG 2000 decoding",
    "pylibjpeg-rle": "RLE decoding",
    "numpy": "pixel arrays",
    "pandas": "tables",
    "pyarrow": "Parquet tables",
    "matplotlib": "pictures",
    "Pillow": "image files",
    "tqdm": "progress bars",
    "dask": "parallel crawl (lesson 5)",
    "distributed": "parallel crawl (lesson 5)",
    "duckdb": "SQL on Parquet (lesson 6)",
    "SimpleITK": "volumes, resampling",
    "highdicom": "SEG and SR (lesson 7)",
    "nibabel": "NIfTI export (lesson 7)",
    "idc-index-data": "Imaging Data Commons index (lesson 6)",
    "jupyterlab": "the notebooks",
    "ipywidgets": "viewers",
    "anywidget": "viewers",
    "ipykernel": "the notebooks' Python",
    "pynetdicom": "DIMSE networking (lesson 8)",
    "sqlalchemy": "the qrscp archive (lesson 8)",
    "dicomweb-client": "DICOMweb (lesson 8)",
}
PACKAGES = list(USES)

#: The compressed transfer syntaxes the lessons meet (PS3.5 Annex A.4, PS3.6 Table A-1).
COMPRESSED_SYNTAXES = [
    "1.2.840.10008.1.2.5",       # RLE Lossless
    "1.2.840.10008.1.2.4.50",    # JPEG Baseline (Process 1)
    "1.2.840.10008.1.2.4.51",    # JPEG Extended (Process 2 & 4)
    "1.2.840.10008.1.2.4.57",    # JPEG Lossless, Non-Hierarchical (Process 14)
    "1.2.840.10008.1.2.4.70",    # JPEG Lossless, First-Order Prediction (SV1)
    "1.2.840.10008.1.2.4.80",    # JPEG-LS Lossless
    "1.2.840.10008.1.2.4.81",    # JPEG-LS Lossy (Near-Lossless)
    "1.2.840.10008.1.2.4.90",    # JPEG 2000 (Lossless Only)
    "1.2.840.10008.1.2.4.91",    # JPEG 2000
    "1.2.840.10008.1.2.4.201",   # HTJ2K Lossless
]


def python_version() -> str:
    """``major.minor`` of the running Python (the workbook needs 3.11+)."""
    return ".".join(platform.python_version_tuple()[:2])


def package_versions(packages: list[str] = PACKAGES) -> pd.DataFrame:
    """A table of the required packages, their installed versions ('missing' if absent)
    and what the workbook uses each for."""
    rows = []
    for name in packages:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "missing"
        rows.append({"package": name, "version": version, "used for": USES.get(name, "")})
    return pd.DataFrame(rows)


def decoders(syntaxes: list[str] = COMPRESSED_SYNTAXES) -> pd.DataFrame:
    """For each compressed transfer syntax: can pydicom decode it here, and with which plugins."""
    from pydicom.pixels.decoders.base import get_decoder
    from pydicom.uid import UID

    rows = []
    for uid in syntaxes:
        decoder = get_decoder(UID(uid))
        rows.append({
            "transfer syntax": UID(uid).name,
            "UID": uid,
            "decodable": decoder.is_available,
            "plugins": ", ".join(sorted(decoder.available_plugins)) or "none",
        })
    return pd.DataFrame(rows)


def check() -> list[str]:
    """Problems with this environment, as sentences; an empty list means all is well."""
    problems = []
    if sys.version_info < (3, 11):  # noqa: UP036 (a learner may run an older kernel)
        problems.append(f"Python {python_version()} is too old: the workbook needs 3.11+")
    versions = package_versions()
    for name in versions.loc[versions.version == "missing", "package"]:
        problems.append(f"{name} is not installed: run `make lab` (or pip install {name})")
    table = decoders()
    for name in table.loc[~table.decodable, "transfer syntax"]:
        problems.append(f"no decoder for {name}: pip install pylibjpeg-libjpeg "
                        "pylibjpeg-openjpeg pylibjpeg-rle")
    return problems
