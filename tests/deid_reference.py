"""The independent references the de-identification tests share: dicognito's choices,
and a flat view of a dataset (sequences included) to compare them with ours."""

from __future__ import annotations

import copy
from collections.abc import Iterator

from dicognito.anonymizer import Anonymizer
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.uid import UID


def elements(ds: Dataset, prefix: str = "") -> Iterator[tuple[str, DataElement]]:
    """``(path, element)`` for every element, sequences flattened (``Seq[0].Keyword``)."""
    for elem in ds:
        path = prefix + (elem.keyword or str(elem.tag))
        yield path, elem
        if elem.VR == "SQ":
            for i, item in enumerate(elem.value):
                yield from elements(item, f"{path}[{i}].")


def values(ds: Dataset) -> dict[str, object]:
    """``{path: value}`` of every element (a sequence's value is its item count)."""
    return {path: len(e.value) if e.VR == "SQ" else e.value for path, e in elements(ds)}


def missed_changes(ds: Dataset, ours: Dataset) -> list[str]:
    """Paths whose value dicognito replaces but ``ours`` (our output for ``ds``) keeps.

    Times of day are left out (the Modified Dates option shifts whole days) and so are
    registered UIDs such as coding scheme UIDs (they identify a standard, not a person).
    """
    theirs = copy.deepcopy(ds)
    Anonymizer(seed="fixed").anonymize(theirs)
    kept, original, changed = values(ours), values(ds), values(theirs)
    vrs = {p: e.VR for p, e in elements(ds)}
    missed = []
    for path, value in original.items():
        if changed.get(path, object()) == value or vrs[path] == "TM":
            continue
        if vrs[path] == "UI" and UID(str(value)).name != str(value):
            continue
        if path in kept and kept[path] == value and value not in ("", None):
            missed.append(path)
    return missed
