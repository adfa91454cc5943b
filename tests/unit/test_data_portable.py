"""The generated data hash the same whichever SIMD code numpy dispatches.

numpy picks an implementation of many ufuncs (``exp``, ``sin``, ``hypot``, FFTs,
float32 arithmetic, ...) per CPU at import time, and glibc's libm picks FMA or SSE2
variants of ``exp``/``log``/``sin``/``cos`` the same way. A generator whose pixels
went through such code would write other bytes on another laptop. This test runs
every generator in a subprocess twice, once with the default dispatch and once with
every CPU feature numpy found above its baseline disabled (``NPY_DISABLE_CPU_FEATURES``,
plus glibc's FMA/AVX2/AVX-512 variants turned off by ``GLIBC_TUNABLES``), and
requires both outputs to match the committed manifest byte for byte.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import numpy as np
import pytest

from helpers.paths import REPO_ROOT

SIMD = np.show_config(mode="dicts")["SIMD Extensions"]
ABOVE_BASELINE: list[str] = list(SIMD.get("found", []))

#: glibc's ifunc variants of libm on x86-64 (FMA, AVX2, AVX-512) switched off.
GLIBC_BASELINE = "glibc.cpu.hwcaps=-AVX512F,-AVX2,-FMA,-FMA4"


def _env(level: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("NPY_DISABLE_CPU_FEATURES", "NPY_ENABLE_CPU_FEATURES", "GLIBC_TUNABLES")}
    if level == "baseline":
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(ABOVE_BASELINE)
        if platform.machine() == "x86_64" and sys.platform == "linux":
            env["GLIBC_TUNABLES"] = GLIBC_BASELINE
    return env


def _run(args: list[str], level: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=REPO_ROOT, env=_env(level),
                          capture_output=True, text=True, timeout=timeout)


def test_the_baseline_level_really_disables_the_features():
    """Guard for the test below: the subprocess must run with no feature above baseline."""
    if not ABOVE_BASELINE:
        pytest.skip("this CPU has no SIMD feature above numpy's baseline: both runs are one")
    code = ("import numpy as np, json; "
            "from numpy.lib.introspect import opt_func_info; "
            "print(json.dumps(sorted({t['current'] for f in opt_func_info().values() "
            "for t in f.values()})))")
    default = _run(["-c", code], "default", 60)
    baseline = _run(["-c", code], "baseline", 60)
    assert default.returncode == baseline.returncode == 0, default.stderr + baseline.stderr
    assert default.stdout != baseline.stdout, "disabling the features changed no dispatch"
    for feature in ABOVE_BASELINE:
        assert feature not in baseline.stdout, baseline.stdout


@pytest.mark.parametrize("level", ["default", "baseline"])
def test_every_generator_writes_the_manifest_bytes(level: str):
    """``python -m helpers.data check`` regenerates every group in a scratch folder and
    compares it with data/MANIFEST.sha256 (file hashes, and header hashes to say
    whether only pixel values differ)."""
    result = _run(["-m", "helpers.data", "check"], level, 900)
    assert result.returncode == 0, (
        f"with numpy's {level} dispatch the generators wrote other bytes:\n"
        + result.stdout + result.stderr)
