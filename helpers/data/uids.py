"""Deterministic UIDs for generated data (PS3.5 section 9 and Annex B).

Generated files must hash the same on every machine, so their UIDs cannot be
random. :func:`uid` derives a UID under the ``2.25`` root (PS3.5 B.2: a UUID
written as a decimal integer) from a stable description of the object, e.g.
``uid("ct_chest", "series", 1)``.
"""

from __future__ import annotations

import uuid

#: Namespace of the workbook's name-based UUIDs (RFC 4122 section 4.3, version 5).
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://example.org/dicom-workbook")

#: Implementation Class UID written into every generated file's meta group
#: (PS3.10 section 7.1, (0002,0012)).
IMPLEMENTATION_CLASS_UID = "2.25.281017839446526542330462358296416185601"
IMPLEMENTATION_VERSION_NAME = "DICOMWORKBOOK1"


def uid(*parts: object) -> str:
    """Return the same valid UID (at most 64 characters) for the same ``parts``."""
    # (pydicom's generate_uid(prefix=None, entropy_srcs=...) ignores entropy_srcs and
    # returns a random UUID, so the name-based UUID is made here.)
    name = "/".join(map(str, parts))
    return f"2.25.{uuid.uuid5(_NAMESPACE, name).int}"
