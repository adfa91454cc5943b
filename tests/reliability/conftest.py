"""Shared fixtures of the reliability tests (see README.md in this folder)."""

from __future__ import annotations

import os
from collections import Counter

import pytest

_FUZZ_STATS: Counter[str] = Counter()


@pytest.fixture(scope="session")
def fuzz_stats() -> Counter[str]:
    """Fuzz cases run and target outcomes, summed over the session (printed at the end)."""
    return _FUZZ_STATS


def pytest_terminal_summary(terminalreporter) -> None:
    if _FUZZ_STATS["cases"]:
        calls = sum(v for k, v in _FUZZ_STATS.items() if k != "cases")
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(_FUZZ_STATS.items()) if k != "cases")
        terminalreporter.write_line(
            f"fuzz: {_FUZZ_STATS['cases']} mutated files, {calls} helper calls ({outcomes})")


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
