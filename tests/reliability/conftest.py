"""Shared helpers of the reliability tests (see README.md in this folder). The fuzzing
counter, ``fuzz_stats``, lives in ``tests/conftest.py``: under pytest-xdist only that
conftest is loaded by the controller, which adds up the workers' counts and prints them."""

from __future__ import annotations

import os


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
