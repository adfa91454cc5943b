"""Self-checking exercises: the feedback object every lesson's checks return.

A lesson's exercise cell ends with a call such as ``check_tag_group(answer)``;
the check returns a :class:`Feedback` that says right or wrong and, when wrong,
why. Checks for each lesson live in ``helpers.checks.lessonN``. In the notebook
the feedback shows as one line::

    ✅ Right: (0028,0010) is Rows, in group 0028 (Image Pixel module).
    ❌ Not yet: you gave a string; give the tag as an integer like 0x00280010.

Solutions sit below each exercise in a collapsed cell and are checked with
``assert check_...(solution)`` so CI proves every worked solution is right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer: ``ok`` and a sentence a learner can act on."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return f"{'✅ Right' if self.ok else '❌ Not yet'}: {self.message}"

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        return f"**{'✅ Right' if self.ok else '❌ Not yet'}:** {self.message}"


def right(message: str) -> Feedback:
    """A correct answer, with what makes it correct."""
    return Feedback(True, message)


def wrong(message: str) -> Feedback:
    """A wrong or missing answer, with why and a hint."""
    return Feedback(False, message)


def not_answered() -> Feedback:
    """The answer is still the placeholder ``...`` or ``None``."""
    return Feedback(False, "no answer yet: replace the `...` with your answer and run the cell.")


def is_placeholder(answer: object) -> bool:
    """True for the placeholders an exercise cell starts with (``...`` or ``None``)."""
    return answer is None or answer is Ellipsis


def as_number(answer: object) -> float | None:
    """The answer as a finite float (from an int, float, numpy scalar or numeric text),
    or None when it is not one (``True``/``False`` are not numbers here)."""
    if isinstance(answer, bool):
        return None
    try:
        value = float(answer)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
