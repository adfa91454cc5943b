"""Repository-wide pytest hooks.

Lesson 8's DICOMweb cells (tagged ``needs-orthanc``) need Orthanc; where it is not
installed, nbval skips them with a message saying how to install it, as the tests that
need dcmtk or chromium skip (CI installs it, so there they run).
"""

from __future__ import annotations

import pytest

ORTHANC_TAG = "needs-orthanc"


def pytest_collection_modifyitems(config, items):
    from helpers.network.servers import ORTHANC_INSTALL, orthanc_installed

    if orthanc_installed():
        return
    skip = pytest.mark.skip(reason=f"Orthanc is not installed: {ORTHANC_INSTALL}")
    for item in items:
        cell = getattr(item, "cell", None)
        if cell is not None and ORTHANC_TAG in cell.get("metadata", {}).get("tags", []):
            item.add_marker(skip)
