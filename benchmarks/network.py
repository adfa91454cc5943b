"""Benchmark: transfer throughput of a retrieve, C-GET and WADO-RS against one archive.

The synthetic CT's axial series (80 slices of 512 x 512, uncompressed) is stored once in
Orthanc (started by :func:`helpers.network.servers.orthanc`, as lesson 8 does) and in
pynetdicom's qrscp. Candidates, each writing the whole series into a new empty folder
on the same disk:

- copying the 80 files (``shutil.copyfile``): the peer, what the bytes cost without a
  network protocol;
- :func:`helpers.network.dimse.get` of the series from Orthanc (DIMSE C-GET over one
  association on 127.0.0.1);
- :func:`helpers.network.dicomweb.retrieve_series` from Orthanc (WADO-RS,
  ``multipart/related; type="application/dicom"`` over HTTP on 127.0.0.1);
- :func:`helpers.network.dimse.get` from qrscp (the lesson's default archive).

Orthanc's traffic passes through the relays that keep it on 127.0.0.1
(:mod:`helpers.network.isolation`), as in the lesson, so their cost is in its figures.

Time: median wall seconds over interleaved repeats (:func:`._common.interleaved`); the
folders are emptied outside the clock. Figures: files, MB written, MB/s; ratios are a
protocol's time over the copy's. Where Orthanc is not installed, only qrscp and the copy
run.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pydicom

from helpers.paths import DATA_DIR

from ._common import Row, Section, interleaved

COPY = "copy the files (shutil.copyfile)"
CGET_ORTHANC = "C-GET from Orthanc"
WADO_ORTHANC = "WADO-RS from Orthanc"
CGET_QRSCP = "C-GET from qrscp"


def run(repeat: int) -> Section:
    from helpers.network import dicomweb, dimse, servers

    files = sorted((DATA_DIR / "ct_chest" / "axial").glob("*.dcm"))
    first = pydicom.dcmread(files[0], stop_before_pixels=True)
    keys = {"StudyInstanceUID": first.StudyInstanceUID,
            "SeriesInstanceUID": first.SeriesInstanceUID}
    size = sum(f.stat().st_size for f in files)
    section = Section("Retrieve throughput: C-GET and WADO-RS vs copying the files")
    section.notes.append(f"{len(files)} files, {size / 1e6:.1f} MB (the CT's axial series, "
                         "uncompressed); every candidate writes them into a new folder.")
    scratch = Path(tempfile.mkdtemp(prefix="bench-network-"))
    counter = iter(range(10**6))

    def fresh() -> Path:
        return scratch / str(next(counter))

    def copy() -> None:
        target = fresh()
        target.mkdir()
        for f in files:
            shutil.copyfile(f, target / f.name)

    written: dict[str, int] = {}
    with servers.qrscp() as qr:
        dimse.store(qr, files)
        candidates = {COPY: copy}

        def cget_qr() -> None:
            table = dimse.get(qr, "SERIES", keys, fresh())
            written[CGET_QRSCP] = int(table["bytes"].sum())

        candidates[CGET_QRSCP] = cget_qr
        orthanc = servers.orthanc() if servers.orthanc_installed() else None
        try:
            if orthanc is not None:
                web = orthanc.__enter__()
                dimse.store(web, files)

                def cget_orthanc() -> None:
                    table = dimse.get(web, "SERIES", keys, fresh())
                    written[CGET_ORTHANC] = int(table["bytes"].sum())

                def wado_orthanc() -> None:
                    table = dicomweb.retrieve_series(web, keys["StudyInstanceUID"],
                                                     keys["SeriesInstanceUID"], fresh())
                    written[WADO_ORTHANC] = int(table["bytes"].sum())

                candidates[CGET_ORTHANC] = cget_orthanc
                candidates[WADO_ORTHANC] = wado_orthanc
            else:
                section.notes.append("Orthanc is not installed: no WADO-RS, C-GET from qrscp "
                                     "only (apt-get install orthanc orthanc-dicomweb).")
            times = interleaved(candidates, repeat)
        finally:
            if orthanc is not None:
                orthanc.__exit__(None, None, None)
            shutil.rmtree(scratch, ignore_errors=True)
    written[COPY] = size
    for name, (wall, _cpu) in times.items():
        row = Row(name, wall, None)
        row.extra = {"files": str(len(files)), "MB": f"{written[name] / 1e6:.1f}",
                     "MB/s": f"{written[name] / 1e6 / row.median:.0f}"}
        section.rows.append(row)
    copy_median = section.row(COPY).median
    for name in (CGET_ORTHANC, WADO_ORTHANC, CGET_QRSCP):
        if name in times:
            section.ratios.append((f"{name} / copy", section.row(name).median / copy_median))
    return section
