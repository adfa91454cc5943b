"""Self-checking exercises: the feedback object every lesson's checks return.

A lesson's exercise cell ends with a call such as ``check_tag_group(answer)``;
the check returns a :class:`Feedback` that says right or wrong and, when wrong,
why. Checks for each lesson live in ``helpers.lessons.checks.lessonN``. In the notebook
the feedback shows as one line, its verdict in coloured bold text (no emoji, which
machines without an emoji font draw as empty boxes)::

    Right: (0028,0010) is Rows, in group 0028 (Image Pixel module).
    Not yet: you gave a string; give the tag as an integer like 0x00280010.

Worked solutions live only in the collapsed ``<details>`` block under each exercise;
``tests/unit/test_lesson_solutions.py`` runs each one in its lesson and asserts that
its check says right. A check starts with :func:`check`, which answers the placeholder
``...`` before the check's own code runs.
"""

from __future__ import annotations

import functools
import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

_CODE = re.compile(r"`([^`]+)`")


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer: ``ok`` and a sentence a learner can act on."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    @property
    def verdict(self) -> str:
        return "Right" if self.ok else "Not yet"

    def __str__(self) -> str:
        return f"{self.verdict}: {self.message}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.ok else "#b35900"
        text = _CODE.sub(r"<code>\1</code>", html.escape(self.message))
        return f'<p><b style="color:{colour}">{self.verdict}:</b> {text}</p>'


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


def check(fn: Callable[..., Feedback]) -> Callable[..., Feedback]:
    """Decorator for a check whose first argument is the learner's answer: a placeholder
    answer (``...`` or ``None``) gets :func:`not_answered` without running the check."""

    @functools.wraps(fn)
    def wrapper(answer: object, *args: object, **kwargs: object) -> Feedback:
        if is_placeholder(answer):
            return not_answered()
        return fn(answer, *args, **kwargs)

    return wrapper


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


def exact_grey(x: float, center: float, width: float) -> int:
    """The 8-bit grey of modality value ``x`` in a window, as PS3.3 C.11.2.1.2.1 defines
    it, evaluated in exact fractions and truncated (the checks' independent reference
    for :func:`helpers.image.pixels.window`, which works in double precision)."""
    from fractions import Fraction

    xf, c, w, half = Fraction(x), Fraction(center), Fraction(width), Fraction(1, 2)
    if xf <= c - half - (w - 1) / 2:
        return 0
    if xf > c - half + (w - 1) / 2:
        return 255
    y = ((xf - (c - half)) / (w - 1) + half) * 255
    return y.numerator // y.denominator
