"""Pixels of a synthetic chest radiograph, drawn from simple shapes.

The picture is built as a map of *attenuation* ``a`` (0 = direct exposure, shown
black in MONOCHROME2; 1 = nothing reaches the detector, shown white): soft tissue
as an elliptical trunk, lungs lucent, mediastinum and heart shadow, spine,
clavicles and ribs dense, diaphragm domes over the bright abdomen, vascular lung
markings, and outside the collimator's field the unexposed plate (bright). The
findings of the NIH labels change it where a radiologist would see them (wider
heart shadow for Cardiomegaly, an opaque lung base with a meniscus for Effusion,
round opacities for Nodule and Mass, a lucent rim without markings for
Pneumothorax, patchy opacity for Infiltration, Pneumonia, Consolidation,
hyperlucent, larger lungs for Emphysema, and so on), so pixel statistics differ
by finding. Then blur, seeded noise, and the linear map to 12-bit stored values
(PS3.3 C.7.6.3: Bits Stored 12 in 16 allocated, unsigned). For
MONOCHROME1 (PS3.3 C.7.6.3.1.2) the stored values are inverted, so that a
correct display looks the same.

Every value that reaches a stored pixel is computed in float64 with the functions
of :mod:`.exact` (``exp``, ``cos``, ``hypot``, a separable Gaussian blur, Box-Muller
noise), which use only IEEE 754's correctly rounded operations, so the images are
byte-identical on every CPU (see ``data/README.md``).

Coordinates: ``u`` across the thorax (0 at the midline, +-1 near the ribs'
inner edge, positive toward image right = the patient's left on a frontal
view), ``v`` down (0 at the lung apices, about 1 at the costophrenic angles).
"""

from __future__ import annotations

import math

import numpy as np

from . import exact

MAX_STORED = 4095  # 12 bits stored (PS3.3 C.7.6.3.1)
#: stored value = OFFSET + GAIN * attenuation (MONOCHROME2), before clipping.
OFFSET, GAIN = 150.0, 3700.0
#: The heart's long axis, 28 degrees from the horizontal, in radians.
TILT = 28.0 * math.pi / 180.0


def _sig(x: np.ndarray, eps: float) -> np.ndarray:
    """Smooth step 0 -> 1 at x = 0 with width ``eps``."""
    return exact.sigmoid(x / eps)


def _sq(x: np.ndarray) -> np.ndarray:
    """x * x (one correctly rounded multiply; never ``pow``)."""
    return x * x


def _gauss(x: np.ndarray) -> np.ndarray:
    """exp(-x**2)."""
    return exact.gauss(x)


def _ellipse(u, v, cu, cv, ru, rv, eps=0.04):
    """Soft mask of the ellipse centred (cu, cv) with radii (ru, rv)."""
    return _sig(1.0 - exact.hypot((u - cu) / ru, (v - cv) / rv), eps)


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur (sigma in pixels), edges mirrored."""
    return exact.gaussian_blur(img, sigma)


def _texture(rng: np.random.Generator, shape, sigma: float) -> np.ndarray:
    """Smooth random field with zero mean and unit standard deviation."""
    # white noise of unit variance blurred by the separable kernel k has standard
    # deviation sum(k**2) (sqrt(sum k**2) per axis): divide by it, no reduction needed
    k = exact.gaussian_kernel(sigma)
    return exact.convolve_separable(exact.standard_normal(rng, shape), k) / math.fsum(k * k)


def render(*, rows: int, columns: int, spacing: float, labels: list[str], view: str,
           ctr: float, seed: int, female: bool = False, age_years: float = 45.0,
           photometric: str = "MONOCHROME2") -> np.ndarray:
    """Return the stored pixel values (``uint16``, 12 bits used) of one radiograph.

    ``view`` is a View Position (PS3.3 C.8.1.1: ``PA``, ``AP``, ``LL``, ``RL``);
    ``ctr`` the cardiothoracic ratio to draw; ``labels`` NIH finding names.
    """
    rng = np.random.default_rng(seed)
    # body size in mm: adults about 29 cm across the thorax, children smaller
    scale = 1.0 if age_years >= 16 else 0.55 + 0.03 * age_years
    scale *= (0.94 if female else 1.0) * exact.normal(rng, 1.0, 0.04)
    half_width = 132.0 * scale                       # mm from midline to u = 1
    height = 245.0 * scale                           # mm from apex (v = 0) to v = 1
    field_h = rows * spacing
    top = field_h * (0.17 if age_years >= 16 else 0.5 - 0.33 * scale) + exact.normal(rng, 0, 8)
    shift = exact.normal(rng, 0, 6)
    x = (np.arange(columns) - columns / 2 + 0.5) * spacing - shift
    y = (np.arange(rows) + 0.5) * spacing
    u = (x / half_width)[None, :].repeat(rows, 0)
    v = ((y - top) / height)[:, None].repeat(columns, 1)
    if view in ("LL", "RL"):
        a = _lateral(u, v, rng, labels, ctr)
    else:
        a = _frontal(u, v, rng, labels, ctr, female, view)
    # collimation: the plate outside the field is unexposed (bright)
    m = exact.uniform(rng, 0.02, 0.07, 4) + (0.0 if age_years >= 16 else 0.3 * (1 - scale))
    r0, r1 = int(m[0] * rows), rows - int(m[1] * rows)
    c0, c1 = int(m[2] * columns), columns - int(m[3] * columns)
    inside = np.zeros((rows, columns), bool)
    inside[r0:r1, c0:c1] = True
    a = np.where(inside, a, 0.93 - 0.04 * (1 - v.clip(0, 1)))
    a = _blur(a, 0.7 * 1.68 / spacing)
    noise = exact.standard_normal(rng, a.shape)
    a = a + 0.010 * noise + 0.006 * _texture(rng, a.shape, 1.2)
    stored = np.clip(np.rint(OFFSET + GAIN * a), 0, MAX_STORED).astype(np.uint16)
    if photometric == "MONOCHROME1":
        stored = (MAX_STORED - stored).astype(np.uint16)
    return stored


def _frontal(u, v, rng, labels, ctr, female, view):
    au = np.abs(u)
    # trunk: neck on top widening into the shoulders; thickness like an ellipse
    w = 0.36 + 0.86 * _sig(v + 0.22, 0.06) + 0.10 * _sig(v - 0.2, 0.2)
    thick = np.sqrt(np.clip(1 - _sq(u / w), 0, 1))
    a = 0.04 + 0.40 * thick
    # diaphragm domes (the patient's right, image left, is higher); emphysema flattens
    emph = "Emphysema" in labels
    dome_c = 0.86 + (0.10 if emph else 0.0)
    curv = 0.10 if emph else 0.20
    right_up = -0.04 * _sig(-u, 0.05)
    dome = dome_c + right_up + curv * _sq((au - 0.52) / 0.42)
    lung_l = _lung(u, v, dome, +1, emph)
    lung_r = _lung(u, v, dome, -1, emph)
    # heart: a third right of the midline, two thirds left; width = ctr x thorax width
    hw = ctr * 1.84 * (1.08 if view == "AP" else 1.0)  # AP magnifies the heart
    # an ellipse whose long axis runs from the right atrium down to the apex on the left
    cu, cv = hw / 6 + 0.03, 0.76 + (0.04 if emph else 0.0)
    cos_t, sin_t = float(exact.cos(TILT)), float(exact.sin(TILT))
    du, dv = u - cu, (v - cv) * 0.9
    along, across = du * cos_t + dv * sin_t, -du * sin_t + dv * cos_t
    heart = _sig(1.0 - exact.hypot(along / (hw / 2 * 1.05), across / 0.27), 0.06)
    # mediastinum, a little wider on the left at the aortic arch
    arch = 0.035 * _gauss((v - 0.27) / 0.07) * (u > 0)
    media = _sig(0.13 + 0.04 * v + arch - au, 0.03) * _sig(v + 0.3, 0.05)
    lungs = (lung_l + lung_r) * (1 - heart) * (1 - media)
    lucency = 0.34 + (0.06 if emph else 0.0)
    a = a - lucency * lungs * thick
    # abdomen below the domes, stomach gas under the left dome
    below = _sig(v - dome - 0.02, 0.02) * thick
    a = a + 0.10 * below
    heart = heart * (1 - below)
    a = a - 0.08 * _ellipse(u, v, 0.45, dome_c + 0.2, 0.16, 0.07) * (u > 0)
    a = a + 0.18 * heart * thick + 0.12 * media
    a = a - 0.05 * _sig(0.025 - au, 0.008) * _sig(0.38 - v, 0.03) * _sig(v + 0.3, 0.05)
    # spine: vertebral bodies with discs, seen through the mediastinum
    vert = 0.5 + 0.5 * exact.cos(2 * math.pi * v / 0.085)
    a = a + (0.06 + 0.03 * vert) * _sig(0.085 - au, 0.015) * _sig(v + 0.35, 0.05)
    # ribs (posterior arcs) and clavicles
    s = v + 0.10 * au - 0.30 * _sq(au) + 0.04           # 0 at the first rib's centre line
    k = np.clip(np.rint(s / 0.085), 0, 9)              # the nearest of ten ribs
    d = np.abs(s - 0.085 * k) / (0.022 + 0.004 * k)
    ribs = (exact.exp(-((d * d) * (d * d))) * _sig(0.98 + 0.04 * k - au, 0.04)
            * _sig(au - 0.07, 0.02))
    a = a + 0.075 * ribs * thick * (1 - 0.7 * np.maximum(heart, media))
    clav = v - (-0.07 - 0.10 * (au - 0.1) + 0.12 * _sq(au - 0.1))
    a = a + 0.14 * _gauss(clav / 0.03) * _sig(au - 0.08, 0.02) * _sig(0.95 - au, 0.04)
    # humeral heads at the shoulders
    a = a + 0.12 * _ellipse(au, v, 1.28, -0.12, 0.13, 0.10)
    if female:
        a = a + 0.05 * (_ellipse(u, v, -0.5, 0.92, 0.38, 0.22, 0.1)
                        + _ellipse(u, v, 0.5, 0.92, 0.38, 0.22, 0.1))
    # vascular markings fading from the hila toward the periphery
    hilum = exact.exp(-exact.hypot(au - 0.28, v - 0.45) / 0.35)
    markings = _gauss(_texture(rng, u.shape, 2.5) / 0.15) * (0.3 + hilum)
    mark_w = 0.10 * (0.4 if emph else 1.0)
    if view == "AP":  # the scapulae project over the lungs
        a = a + 0.04 * (_ellipse(u, v, -0.8, 0.25, 0.22, 0.3)
                        + _ellipse(u, v, 0.8, 0.25, 0.22, 0.3))
    free = (1 - heart) * (1 - media)
    found, clear = _findings(u, v, rng, labels, lung_l * free, lung_r * free, dome, thick)
    lungs = (lung_l + lung_r) * (1 - heart)
    return a + found + (mark_w * markings * (1 - clear) + 0.06 * hilum) * lungs


def _lung(u, v, dome, side, emph):
    """Soft mask of one lung: side +1 image right (patient's left), -1 image left."""
    grow = 1.05 if emph else 1.0
    cu = side * 0.52
    # rounded apex, lateral wall, medial edge at the mediastinum; bottom at the dome
    shape = _ellipse(u, v, cu, 0.58, 0.42 * grow, 0.62 * grow, 0.05)
    return shape * _sig(dome - v, 0.015) * _sig(side * u - 0.11, 0.02)


def _blob_in(u, v, rng, lung, r_u, r_v, zone=(0.2, 0.85)):
    """A soft ellipse centred at a random point of ``lung`` (a mask), at depth zone."""
    idx = np.flatnonzero((lung > 0.9) & (v > zone[0]) & (v < zone[1]))
    if idx.size == 0:
        idx = np.flatnonzero(lung > 0.5)
    k = idx[int(rng.integers(idx.size))]
    cu, cv = u.flat[k], v.flat[k]
    return _ellipse(u, v, cu, cv, r_u, r_v, 0.08)


def _findings(u, v, rng, labels, lung_l, lung_r, dome, thick):
    """Attenuation added (or taken away) by the NIH findings, and where markings vanish."""
    out, clear = np.zeros_like(u), np.zeros_like(u)
    both = lung_l + lung_r
    side = lung_l if rng.random() < 0.5 else lung_r

    def pick():
        return lung_l if rng.random() < 0.5 else lung_r

    if "Effusion" in labels:  # opaque base, meniscus rising laterally, angle blunted
        for lung, sgn in ((lung_l, 1), (lung_r, -1)):
            if lung is side or rng.random() < 0.35:
                level = (dome - float(exact.uniform(rng, 0.12, 0.3))
                         - 0.18 * np.clip(sgn * u - 0.5, 0, 1))
                fluid = _sig(v - level, 0.03) * _sig(sgn * u - 0.1, 0.03) * _sig(
                    1.0 - np.abs(u - sgn * 0.52) / 0.46, 0.05) * _sig(dome + 0.08 - v, 0.03)
                out += 0.30 * fluid * thick * (0.3 + 0.7 * lung)
    if "Atelectasis" in labels:
        out += 0.13 * _blob_in(u, v, rng, pick(), 0.25, 0.06, (0.55, 0.85)) * both
    if "Infiltration" in labels:
        patch = _blob_in(u, v, rng, pick(), 0.35, 0.3) * both
        out += 0.12 * patch * (0.5 + 0.5 * _texture(rng, u.shape, 4.0)).clip(0, 2)
    if "Pneumonia" in labels:
        patch = _blob_in(u, v, rng, pick(), 0.3, 0.22, (0.4, 0.85)) * both
        out += 0.12 * patch * (0.6 + 0.5 * _texture(rng, u.shape, 3.0).clip(-1, 2))
    if "Consolidation" in labels:
        out += 0.20 * _blob_in(u, v, rng, pick(), 0.28, 0.2) * both
    if "Edema" in labels:  # bilateral perihilar (bat-wing) haze
        out += 0.12 * _gauss((np.abs(u) - 0.3) / 0.25) * _gauss((v - 0.5) / 0.3) * both
    if "Nodule" in labels:
        out += 0.17 * _blob_in(u, v, rng, pick(), 0.05, 0.035, (0.15, 0.8))
    if "Mass" in labels:
        out += 0.22 * _blob_in(u, v, rng, pick(), 0.16, 0.11, (0.15, 0.75))
    if "Fibrosis" in labels:  # reticular pattern, upper and peripheral zones
        net = np.abs(_texture(rng, u.shape, 1.0)) < 0.35
        out += 0.06 * net * both * _sig(0.55 - v, 0.15)
    if "Pleural_Thickening" in labels:
        lung = pick()
        blurred = _blur(lung, 2.0)
        edge = lung * (1 - (blurred * blurred) * (blurred * blurred))
        out += 0.10 * edge / (edge.max() + 1e-9) * _sig(np.abs(u) - 0.5, 0.05)
    if "Pneumothorax" in labels:  # lucent rim without markings, visceral pleural line
        sgn = 1 if rng.random() < 0.5 else -1
        lung = lung_l if sgn == 1 else lung_r
        depth = float(exact.uniform(rng, 0.12, 0.25))
        inner = _ellipse(u, v, sgn * 0.5, 0.6, 0.42 - depth, 0.62 - depth, 0.02)
        rim = lung * (1 - inner) * _sig(0.75 - v, 0.08)
        out -= 0.10 * rim * thick
        clear = np.maximum(clear, rim)
        out += 0.07 * _gauss((exact.hypot((u - sgn * 0.5) / (0.42 - depth),
                                          (v - 0.6) / (0.62 - depth)) - 1) / 0.02) * lung
    if "Hernia" in labels:  # hiatal hernia: retrocardiac round shadow with an air-fluid level
        hern = _ellipse(u, v, 0.06, 0.82, 0.12, 0.09, 0.04)
        out += 0.08 * hern * np.where(v > 0.80, 1.0, -0.6)
    return out, clear


def _lateral(u, v, rng, labels, ctr):
    """A lateral view: anterior to the image left, spine to the right, arms raised."""
    w = 0.75 + 0.25 * _sig(v + 0.1, 0.1)
    thick = np.sqrt(np.clip(1 - _sq(u / w), 0, 1))
    a = 0.06 + 0.55 * thick
    dome = 0.82 + 0.25 * _sq((u - 0.05) / 0.7)
    lung = _ellipse(u, v, 0.02, 0.5, 0.66, 0.6, 0.05) * _sig(dome - v, 0.015)
    heart = _ellipse(u, v, -0.30, 0.70, 0.28 + 0.4 * (ctr - 0.44), 0.28, 0.25)
    a = a - 0.26 * lung * (1 - 0.8 * heart) * thick
    a = a + 0.10 * _sig(v - dome, 0.02) * thick
    # vertebral bodies (posterior) and the sternum (anterior)
    vert = np.sqrt(np.sqrt(0.5 + 0.5 * exact.cos(2 * math.pi * v / 0.09)))  # flattened tops
    a = a + 0.14 * vert * _sig(0.12 - np.abs(u - 0.62), 0.02) * _sig(v + 0.4, 0.05)
    a = a + 0.08 * _sig(0.05 - np.abs(u + 0.72 + 0.1 * v), 0.015) * _sig(0.7 - v, 0.05)
    # the arms, raised, over the upper chest
    a = a + 0.10 * _ellipse(u, v, -0.2, -0.25, 0.55, 0.25, 0.1)
    markings = _gauss(_texture(rng, u.shape, 3.0) / 0.12)
    a = a + 0.03 * markings * lung * (1 - heart)
    opaque = [f for f in ("Effusion", "Consolidation", "Pneumonia", "Mass", "Atelectasis")
              if f in labels]
    if opaque:
        a = a + 0.18 * _blob_in(u, v, rng, lung, 0.25, 0.15, (0.55, 0.95)) * lung
    return a
