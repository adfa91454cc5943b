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

A right answer can be written many ways: ``(mask).sum()`` is an ``np.int64``,
``window()`` returns a one-element array, a VR may come as ``' ds'``, a shape as a
list of floats, a date shift as a ``timedelta``. The ``as_...`` functions below turn
every reasonable form into one, in this one place, so that every check accepts them
alike; :func:`rounded_from` spots a right value rounded too far ("close: keep more
decimals"). :func:`expects` records on each check the answer it expects
(:class:`Expected`), which ``tests/unit/test_copyable_answers.py`` looks for in the
outputs a learner has seen before the exercise: no answer may be copied from them.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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


@dataclass(frozen=True)
class Expected:
    """The answer a check expects, as a copyable value.

    ``value`` is the right answer (a number, text, a tuple, a set of names), or None
    when no single value is the answer (a range of windows, a function, a file to write,
    a letter among printed options), with ``why_none`` saying so. ``near`` is a regular
    expression that must occur shortly before ``value`` on the same line of output for
    it to count as shown there: it tells a common number (0, 1, 40) printed as this
    answer from the same number printed for something else.
    """

    value: object
    near: str | None = None
    why_none: str = ""


def expects(truth: Callable[..., Expected]) -> Callable[[Callable[..., Feedback]],
                                                         Callable[..., Feedback]]:
    """Record ``truth`` (taking the check's arguments after the answer) as the check's
    ``expected``: what the check would call right, for the copyable-answer test."""

    def mark(fn: Callable[..., Feedback]) -> Callable[..., Feedback]:
        fn.expected = truth  # type: ignore[attr-defined]
        return fn

    return mark


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
    answer (``...`` or ``None``) gets :func:`not_answered` without running the check, and
    any other answer reaches the check through :func:`plain`, so numpy scalars and 0-d or
    one-element numeric arrays arrive as the Python number they hold."""

    @functools.wraps(fn)
    def wrapper(answer: object, *args: object, **kwargs: object) -> Feedback:
        if is_placeholder(answer):
            return not_answered()
        return fn(plain(answer), *args, **kwargs)

    return wrapper


# ---------------------------------------------------------------------------
# Normalising answers: every reasonable way of writing a right answer reaches a check
# in one form. Checks call these instead of testing types themselves.


def plain(answer: object) -> object:
    """The answer with numpy's wrappers taken off: a numpy scalar (``np.int64(3)``) or a
    0-d or one-element numeric array (``array([193])``, as ``window()`` returns) becomes
    the Python number it holds; everything else is returned unchanged."""
    if isinstance(answer, np.generic):
        return answer.item()
    if isinstance(answer, np.ndarray) and answer.size == 1 and answer.dtype.kind in "biuf":
        return answer.reshape(()).item()
    return answer


def as_number(answer: object) -> float | None:
    """The answer as a finite float: an int, float, numpy scalar, 0-d or one-element
    array, pydicom's DS/IS values, or numeric text (surrounding whitespace ignored);
    None when it is not one (``True``/``False`` are not numbers here)."""
    answer = plain(answer)
    if isinstance(answer, bool):
        return None
    if isinstance(answer, str):
        answer = answer.strip()
    try:
        value = float(answer)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    return value if math.isfinite(value) else None


def as_count(answer: object) -> int | None:
    """The answer as a whole number: any :func:`as_number` form whose value is integral
    (``320``, ``np.int64(320)``, ``320.0``, ``array([320])``); None otherwise."""
    value = as_number(answer)
    if value is None or value != int(value):
        return None
    return int(value)


def as_days(answer: object) -> int | None:
    """A number of days: a :class:`datetime.timedelta`, ``numpy.timedelta64`` or pandas
    ``Timedelta`` of whole days, or any :func:`as_count` form; None otherwise."""
    answer = plain(answer)
    if isinstance(answer, np.timedelta64):
        answer = answer.astype("timedelta64[s]").item()
    if isinstance(answer, dt.timedelta):  # pandas.Timedelta is a subclass
        seconds = answer.total_seconds()
        return int(seconds // 86400) if seconds % 86400 == 0 else None
    return as_count(answer)


def as_text(answer: object, *, case: str | None = None) -> str | None:
    """Text with surrounding whitespace removed: a ``str`` (numpy's too) or a path's
    name; ``case="upper"``/``"lower"`` also folds the letter case, for answers where
    case carries no meaning (a VR, a keyword, a letter). None for anything else."""
    answer = plain(answer)
    if isinstance(answer, os.PathLike):
        answer = os.fspath(answer)
    if not isinstance(answer, str):
        return None
    text = str(answer).strip()
    if case == "upper":
        return text.upper()
    if case == "lower":
        return text.lower()
    return text


def as_choice(answer: object, options: Iterable[str]) -> str | None:
    """One of ``options`` (letters of a multiple-choice question) from ``'a'``, ``' A'``,
    ``'(a)'``, ``'a)'`` or ``'a.'``; None when the answer names none of them."""
    text = as_text(answer, case="lower")
    if text is None:
        return None
    text = text.strip("().:[] ")
    return text if text in set(options) else None


def as_path(answer: object) -> Path | None:
    """A path from a ``str`` (whitespace around it ignored) or any ``os.PathLike``, or
    from a dataset pydicom read or wrote (its ``filename``); None otherwise."""
    answer = plain(answer)
    filename = getattr(answer, "filename", None)
    if not isinstance(answer, str | os.PathLike) and isinstance(filename, str | os.PathLike):
        answer = filename
    if isinstance(answer, str) and answer.strip():
        return Path(answer.strip())
    if isinstance(answer, os.PathLike):
        return Path(answer)
    return None


def as_sequence(answer: object) -> list[object] | None:
    """The items of a list, tuple, numpy array (any shape: flattened), pandas Series or
    Index, or pydicom MultiValue, each through :func:`plain`; None for anything else
    (a string or a set is not an ordered sequence)."""
    if isinstance(answer, str | bytes | dict) or not hasattr(answer, "__len__"):
        return None
    if isinstance(answer, np.ndarray):
        return [plain(v) for v in answer.ravel().tolist()]
    if isinstance(answer, tuple | list) or type(answer).__name__ in (
            "MultiValue", "Series", "Index", "Size"):
        return [plain(v) for v in list(answer)]  # type: ignore[call-overload]
    return None


def as_counts(answer: object, n: int | None = None) -> tuple[int, ...] | None:
    """A tuple of whole numbers (a shape, a pixel's samples) from any :func:`as_sequence`
    form whose items are :func:`as_count` forms (``(15.0, 10, 10)`` included); with
    ``n``, only when there are exactly ``n`` of them."""
    items = as_sequence(answer)
    if items is None or (n is not None and len(items) != n):
        return None
    values = [None if isinstance(v, str) else as_count(v) for v in items]
    return None if any(v is None for v in values) else tuple(values)  # type: ignore[arg-type]


def as_numbers(answer: object, n: int | None = None) -> tuple[float, ...] | None:
    """Like :func:`as_counts`, for any finite numbers."""
    items = as_sequence(answer)
    if items is None or (n is not None and len(items) != n):
        return None
    values = [None if isinstance(v, str) else as_number(v) for v in items]
    return None if any(v is None for v in values) else tuple(values)  # type: ignore[arg-type]


def as_names(answer: object) -> set[str] | None:
    """A set of names (keywords, findings) from a set, list, tuple, array, pandas Series
    or Index or dict keys of strings, each stripped; None for a single string or
    anything that is not a collection of strings."""
    if isinstance(answer, str | bytes) or not hasattr(answer, "__iter__"):
        return None
    if isinstance(answer, np.ndarray):
        answer = answer.ravel().tolist()
    names = set()
    for item in answer:  # type: ignore[union-attr]
        item = plain(item)
        if isinstance(item, int) and not isinstance(item, bool):
            names.add(item)  # a tag as a number: the check decides
            continue
        if not isinstance(item, str):
            return None
        names.add(item.strip())
    return names


def as_mapping(answer: object) -> dict[str, object] | None:
    """A dict from any mapping (a pandas Series too), keys as stripped lower-case text
    and values through :func:`plain`; extra keys are kept, for the check to ignore."""
    if hasattr(answer, "to_dict") and not isinstance(answer, dict):
        answer = answer.to_dict()  # type: ignore[union-attr]
    if not isinstance(answer, Mapping):
        return None
    return {str(k).strip().lower(): plain(v) for k, v in answer.items()}


def decimals_given(value: float) -> int:
    """How many decimals the learner wrote: ``0.7`` -> 1, ``0.69`` -> 2, ``193.0`` -> 0."""
    text = repr(float(value))
    if "e" in text:
        return 17
    fraction = text.split(".")[1].rstrip("0") if "." in text else ""
    return len(fraction)


def rounded_from(value: float, truth: float, *, whole: bool = True) -> bool:
    """True when ``value`` is ``truth`` rounded (to the decimals the learner wrote, at
    most 4), but not ``truth`` itself: the answer of someone who copied a shown, rounded
    number or rounded too early. ``whole=False`` leaves out rounding to a whole number
    (for a count, a whole number is the answer's form, not a rounding)."""
    if math.isclose(value, truth, rel_tol=1e-9, abs_tol=1e-12):
        return False
    places = decimals_given(value)
    if places > 4 or (places == 0 and not whole):
        return False
    return math.isclose(value, round(truth, places), rel_tol=1e-9, abs_tol=1e-9) or (
        abs(value - truth) <= 0.5 * 10 ** -places + 1e-12)


def close_more_decimals(value: float, truth: float) -> Feedback:
    """The near-miss hint of :func:`rounded_from`."""
    return wrong(f"close: {value:g} is the right value rounded; keep more decimals "
                 "(compute it, do not copy a rounded number).")


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
