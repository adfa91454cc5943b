"""The independent references the de-identification tests share: dicognito's choices,
compared with ours element by element (paths from helpers.tables.deid.element_paths,
which test_deid checks against pydicom's Dataset.iterall)."""

from __future__ import annotations

import copy

from dicognito.anonymizer import Anonymizer
from pydicom.dataset import Dataset
from pydicom.uid import UID

from helpers.tables.deid import element_paths


def values(ds: Dataset) -> dict[str, object]:
    """``{path: value}`` of every element (a sequence's value is its item count)."""
    return {path: len(e.value) if e.VR == "SQ" else e.value for path, e in element_paths(ds)}


def missed_changes(ds: Dataset, ours: Dataset) -> list[str]:
    """Paths whose value dicognito replaces but ``ours`` (our output for ``ds``) keeps.

    Times of day are left out (the Modified Dates option shifts whole days) and so are
    registered UIDs such as coding scheme UIDs (they identify a standard, not a person).
    """
    theirs = copy.deepcopy(ds)
    Anonymizer(seed="fixed").anonymize(theirs)
    kept, original, changed = values(ours), values(ds), values(theirs)
    vrs = {p: e.VR for p, e in element_paths(ds)}
    missed = []
    for path, value in original.items():
        if changed.get(path, object()) == value or vrs[path] == "TM":
            continue
        if vrs[path] == "UI" and UID(str(value)).name != str(value):
            continue
        if path in kept and kept[path] == value and value not in ("", None):
            missed.append(path)
    return missed
