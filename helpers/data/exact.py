"""Elementary functions that give the same bits on every CPU, for the data generators.

numpy dispatches ``exp``, ``sin``, ``cos``, ``hypot``, ``power`` and its FFTs to
SIMD code chosen per CPU at import time (baseline SSE, AVX2, AVX-512, NEON on
arm64), and those implementations may differ in the last bit; glibc's libm does
the same with FMA variants. One bit is enough to move a stored pixel value across a
rounding boundary, and then the files hash differently on another laptop.

Everything here is built from operations that IEEE 754 (section 5.4) requires to
be correctly rounded, so that every conforming machine computes the same result:
``+ - * /`` and ``sqrt`` on float64, plus exact operations (``rint``, ``floor``,
``abs``, comparisons, scaling by a power of two with ``ldexp``). Each numpy ufunc
applies one such operation per element, so no fused multiply-add can merge two
roundings into one, whatever the vector width. Sums go through :func:`math.fsum`,
which is correctly rounded too (numpy's pairwise ``sum`` is deterministic, but its
order is an implementation detail). Random numbers come from integers (numpy's
PCG64 bit stream is the same on every platform by design), never from
``standard_normal``, whose ziggurat calls libm's ``exp``/``log`` in its tails.

The functions are accurate to about 1e-15 relative, far finer than the 12-bit
pixel values they feed; what matters is that they are reproducible.
"""

from __future__ import annotations

import math

import numpy as np

#: ln 2 split so that ``k * LN2_HI`` is exact for |k| < 2**11 (Cody and Waite).
LN2_HI = 0.693145751953125
LN2_LO = 1.4286068203094173e-06
INV_LN2 = 1.4426950408889634
TWO_PI_HI = 6.28125
TWO_PI_LO = 0.0019353071795864769
INV_TWO_PI = 0.15915494309189535
#: Arguments of :func:`exp` are clipped here: results stay normal floats, so that
#: ``ldexp`` only changes the exponent.
EXP_LIMIT = 700.0

_EXP_TAYLOR = [1.0 / math.factorial(n) for n in range(14)]        # |r| <= ln2/2
_ATANH_ODD = [1.0 / (2 * n + 1) for n in range(12)]                # |s| <= 0.172
_COS_TAYLOR = [(-1.0) ** n / math.factorial(2 * n) for n in range(16)]  # |y| <= pi


def _horner(coefficients: list[float], x: np.ndarray) -> np.ndarray:
    """sum c[n] x**n, by Horner's rule: one multiply and one add per coefficient."""
    out = np.full_like(x, coefficients[-1])
    for c in reversed(coefficients[:-1]):
        np.multiply(out, x, out=out)
        np.add(out, c, out=out)
    return out


def _exp_taylor(x: np.ndarray) -> np.ndarray:
    """e**x for |x| <= 700 by x = k ln2 + r, |r| <= ln2/2, and the Taylor series of
    e**r to r**13 (used once, to build the table of :func:`exp`)."""
    k = np.rint(x * INV_LN2)
    r = (x - k * LN2_HI) - k * LN2_LO
    return np.ldexp(_horner(_EXP_TAYLOR, r), k.astype(np.int32))


#: 2**(j/32), j = 0..31, computed with the series above (not by libm).
_EXP_TABLE = _exp_taylor(np.arange(32) * (LN2_HI / 32) + np.arange(32) * (LN2_LO / 32))
_EXP_SHORT = _EXP_TAYLOR[:7]                                      # |r| <= ln2/64


def exp(x: np.ndarray | float) -> np.ndarray:
    """e**x, for arguments clipped to +-700 (relative error about 1e-15).

    x = (32 m + j) ln2/32 + r with |r| <= ln2/64 (Tang's method): e**x is
    2**m * 2**(j/32) * e**r, with 2**(j/32) from a table and e**r from its Taylor
    series to r**6 (error below 4e-18).
    """
    x = np.minimum(np.maximum(np.asarray(x, dtype=np.float64), -EXP_LIMIT), EXP_LIMIT)
    k = np.rint(x * (32.0 * INV_LN2))
    r = x - k * (LN2_HI / 32)
    r -= k * (LN2_LO / 32)
    ki = k.astype(np.int32)
    j = ki & 31
    p = _horner(_EXP_SHORT, r)
    p *= _EXP_TABLE[j]
    ki -= j
    ki >>= 5
    return np.ldexp(p, ki)


def log(x: np.ndarray | float) -> np.ndarray:
    """Natural logarithm of positive numbers.

    x = m 2**e with m in [sqrt(1/2), sqrt(2)) (``frexp`` is exact), and
    log m = 2 atanh(s), s = (m - 1)/(m + 1), by its series to s**23.
    """
    m, e = np.frexp(np.asarray(x, dtype=np.float64))
    low = m < math.sqrt(0.5)
    m = np.where(low, m * 2.0, m)
    e = np.where(low, e - 1, e).astype(np.float64)
    s = (m - 1.0) / (m + 1.0)
    log_m = 2.0 * (s * _horner(_ATANH_ODD, s * s))
    return e * LN2_HI + (e * LN2_LO + log_m)


def cos(x: np.ndarray | float) -> np.ndarray:
    """cos x: reduced to [-pi, pi] by whole turns, then its Taylor series to y**30."""
    x = np.asarray(x, dtype=np.float64)
    n = np.rint(x * INV_TWO_PI)
    y = (x - n * TWO_PI_HI) - n * TWO_PI_LO
    return _horner(_COS_TAYLOR, y * y)


def sin(x: np.ndarray | float) -> np.ndarray:
    """sin x = cos(x - pi/2)."""
    return cos(np.asarray(x, dtype=np.float64) - math.pi / 2)


def hypot(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """sqrt(a**2 + b**2) (no overflow guard: the generators' values are small)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.sqrt(a * a + b * b)


#: Beyond this, 1 / (1 + e**-x) rounds to 1.0 in float64 (e**-37 < 2**-53).
SIGMOID_SATURATION = 37.0


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    """1 / (1 + e**-x); exactly 1.0 above +37 and 0.0 below -37 (where the true value
    is below 1e-16), so that only the thin transition needs :func:`exp`."""
    x = np.asarray(x, dtype=np.float64)
    out = np.where(x > 0, 1.0, 0.0)
    near = np.abs(x) < SIGMOID_SATURATION
    out[near] = 1.0 / (1.0 + exp(-x[near]))
    return out


def gauss(x: np.ndarray | float) -> np.ndarray:
    """e**(-x**2); exactly 0.0 where x**2 > 745 (the true value is below 1e-323)."""
    x = np.asarray(x, dtype=np.float64)
    sq = x * x
    out = np.zeros_like(sq)
    near = sq < 745.0
    out[near] = exp(-sq[near])
    return out


def gaussian_kernel(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """Weights of a sampled Gaussian of standard deviation ``sigma`` (pixels), summing
    to 1, reaching ``truncate`` sigmas each side."""
    radius = max(1, int(math.ceil(truncate * sigma)))
    t = np.arange(-radius, radius + 1, dtype=np.float64) / sigma
    w = exp(-0.5 * (t * t))
    return w / math.fsum(w)


def _convolve_axis(img: np.ndarray, kernel: np.ndarray, axis: int) -> np.ndarray:
    """Correlate along one axis with a symmetric kernel, edges mirrored; the taps are
    added in a fixed order."""
    radius = kernel.size // 2
    pad = [(0, 0)] * img.ndim
    pad[axis] = (radius, radius)
    p = np.pad(img, pad, mode="symmetric")
    n = img.shape[axis]
    out = np.zeros_like(img)
    term = np.empty_like(img)
    for i, w in enumerate(kernel):
        window = p[i:i + n] if axis == 0 else p[:, i:i + n]
        np.multiply(window, w, out=term)
        np.add(out, term, out=out)
    return out


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur (sigma in pixels) in float64, edges mirrored.

    A fixed sequence of multiplies and adds: no FFT, whose SIMD code differs by CPU.
    """
    return convolve_separable(img, gaussian_kernel(sigma))


def convolve_separable(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Correlate a 2D image with ``kernel`` along rows, then columns (edges mirrored)."""
    return _convolve_axis(_convolve_axis(np.asarray(img, dtype=np.float64), kernel, 0),
                          kernel, 1)


def uniform(rng: np.random.Generator, low: float, high: float,
            size: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Uniform on [low, high): ``rng.random`` (53 random bits times 2**-53, exact)
    mapped by one multiply and one add (numpy's own ``uniform`` does that in C,
    where a compiler may fuse them)."""
    return low + (high - low) * np.asarray(rng.random(size))


def standard_normal(rng: np.random.Generator,
                    size: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Standard normal numbers by the Box-Muller transform,
    sqrt(-2 log u1) cos(2 pi u2), from :func:`log` and :func:`cos` above."""
    u1 = 1.0 - np.asarray(rng.random(size))      # (0, 1]
    u2 = np.asarray(rng.random(size))
    return np.sqrt(-2.0 * log(u1)) * cos((2.0 * math.pi) * u2)


def normal(rng: np.random.Generator, mean: float, sd: float) -> float:
    """One normal number (a Python float)."""
    return float(mean + sd * standard_normal(rng))
