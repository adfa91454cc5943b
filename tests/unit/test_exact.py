"""helpers.data.exact against numpy's and Python's own functions (the references),
and the rule it exists for: the X-ray renderer calls no CPU-dispatched math."""

from __future__ import annotations

import ast
import inspect
import math

import numpy as np
import pytest

from helpers.data import ct_labels, ct_phantom, cxr_render, exact, synth_ct


def test_exp_log_cos_sin_hypot_match_numpy():
    x = np.linspace(-60.0, 60.0, 200_001)
    assert np.max(np.abs(exact.exp(x) / np.exp(x) - 1)) < 1e-15
    t = np.linspace(-50.0, 50.0, 200_001)
    assert np.max(np.abs(exact.cos(t) - np.cos(t))) < 2e-15
    assert np.max(np.abs(exact.sin(t) - np.sin(t))) < 2e-14
    y = np.exp(np.linspace(-40.0, 40.0, 200_001))
    assert np.max(np.abs(exact.log(y) - np.log(y))) < 1e-15 * 40
    a, b = np.meshgrid(np.linspace(-3, 3, 301), np.linspace(-2, 5, 301))
    assert np.allclose(exact.hypot(a, b), np.hypot(a, b), rtol=1e-15, atol=0)
    assert exact.exp(1e6) == pytest.approx(math.exp(exact.EXP_LIMIT), rel=1e-14)


def test_gaussian_kernel_and_blur_match_references():
    k = exact.gaussian_kernel(1.7)
    t = np.arange(-(k.size // 2), k.size // 2 + 1)
    reference = np.exp(-0.5 * (t / 1.7) ** 2)
    assert np.allclose(k, reference / reference.sum(), rtol=1e-14)
    # a blur keeps the mean of a constant image and spreads a point into the kernel
    assert np.allclose(exact.gaussian_blur(np.full((20, 30), 3.0), 2.0), 3.0, rtol=1e-14)
    point = np.zeros((41, 41))
    point[20, 20] = 1.0
    blurred = exact.gaussian_blur(point, 2.0)
    k2 = exact.gaussian_kernel(2.0)
    r = k2.size // 2
    assert np.allclose(blurred[20 - r:21 + r, 20 - r:21 + r], np.outer(k2, k2), rtol=1e-13)
    assert blurred.sum() == pytest.approx(1.0, rel=1e-14)


def test_standard_normal_is_normal():
    z = exact.standard_normal(np.random.default_rng(3), 400_000)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    # tail probability beyond 2 sigma: 4.55 %
    assert abs(np.mean(np.abs(z) > 2) - math.erfc(2 / math.sqrt(2))) < 0.002
    u = exact.uniform(np.random.default_rng(3), 2.0, 5.0, 10_000)
    assert u.min() >= 2.0 and u.max() < 5.0


#: numpy functions whose result depends on the CPU's SIMD code or on libm.
DISPATCHED = {"exp", "expm1", "log", "log1p", "log2", "log10", "sin", "cos", "tan", "arcsin",
              "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh", "hypot", "power",
              "float_power", "deg2rad", "radians", "fft", "float32", "mean", "std", "var"}
RNG_FLOATS = {"normal", "standard_normal", "uniform", "exponential", "gamma"}


def _forbidden_calls(source: str, allow_square: bool = False) -> list[str]:
    """Calls of CPU-dispatched math in ``source``. Powers of an integer literal
    (``2**12``) are Python integers, exact. ``allow_square``: ``x ** 2`` is fine
    (numpy squares by one multiply; libm's pow returns an exactly representable
    result exactly)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            base = node.value.id if isinstance(node.value, ast.Name) else ""
            if (base == "np" and node.attr in DISPATCHED) or (
                    base == "rng" and node.attr in RNG_FLOATS) or node.attr in ("mean", "std"):
                found.append(f"line {node.lineno}: {base}.{node.attr}")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            square = isinstance(node.right, ast.Constant) and node.right.value == 2
            integer = isinstance(node.left, ast.Constant) and type(node.left.value) is int
            if not (integer or (allow_square and square)):
                found.append(f"line {node.lineno}: ** (pow)")
    return found


def test_the_generators_use_only_exact_arithmetic():
    assert _forbidden_calls(inspect.getsource(cxr_render)) == []
    assert _forbidden_calls(inspect.getsource(synth_ct), allow_square=True) == []
    assert _forbidden_calls(inspect.getsource(ct_phantom), allow_square=True) == []
    assert _forbidden_calls(inspect.getsource(ct_labels)) == []


def test_the_rule_catches_each_kind_of_dispatched_call():
    src = ("import numpy as np\n"
           "def f(x, rng):\n    return np.exp(x) + x ** 3 + rng.normal() + x.mean()\n")
    assert len(_forbidden_calls(src)) == 4
    assert len(_forbidden_calls(src + "y = x ** 2\n", allow_square=True)) == 4
