"""Deterministic UIDs for generated data (PS3.5 section 9 and Annex B).

Generated files must hash the same on every machine, so their UIDs cannot be
random. :func:`uid` derives a UID under the ``2.25`` root (PS3.5 B.2: a UUID
written as a decimal integer) from a stable description of the object, e.g.
``uid("ct_chest", "series", 1)``.
"""

from __future__ import annotations

from pydicom.uid import generate_uid

#: Implementation Class UID written into every generated file's meta group
#: (PS3.10 section 7.1, (0002,0012)).
IMPLEMENTATION_CLASS_UID = "2.25.281017839446526542330462358296416185601"
IMPLEMENTATION_VERSION_NAME = "DICOMWORKBOOK1"


def uid(*parts: object) -> str:
    """Return the same valid UID (at most 64 characters) for the same ``parts``."""
    return generate_uid(prefix=None, entropy_srcs=["dicom-workbook", *map(str, parts)])
