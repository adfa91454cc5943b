"""The analytic chest phantom of the synthetic CT study, in patient coordinates.

Every tissue and its Hounsfield units are in one table (:data:`TISSUES`); the
anatomy is a set of shapes (ellipsoids, tubes along polylines, functions of
``x, y, z``) in LPS millimetres (+x to the patient's left, +y posterior, +z toward
the head; PS3.3 C.7.6.2.1.1), and :func:`phantom` lists them in painting order.
:mod:`.synth_ct` samples them on each slice's image grid and writes the CT Image
IODs. The arithmetic on coordinates uses only ``+ - * /`` and ``sqrt`` (correctly
rounded in IEEE 754); the rib arcs' sines and the vessel trees' random numbers come
from :mod:`.exact` and a seeded PCG64, so the phantom is the same on every CPU.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import exact

if TYPE_CHECKING:  # the pixel grid a shape is evaluated on is the geometry's
    from .synth_ct import Grid

SEED = 20240315



@dataclass(frozen=True)
class Tissue:
    """One tissue: a label index and its mean CT number in Hounsfield units."""

    index: int
    name: str
    hu: float


#: Every tissue of the phantom with its mean CT number (HU). Unenhanced CT values:
#: air -1000, lung about -850, fat about -100, muscle 40-60, blood 35-45 (so that
#: unenhanced cardiac chambers are a shade darker than the myocardium), cancellous bone
#: 200-400, cortical bone 1200-1900.
TISSUES: dict[str, Tissue] = {t.name: t for t in (
    Tissue(0, "air", -1000.0),
    Tissue(1, "lung", -850.0),        # plus a gravity gradient, see LUNG_GRADIENT
    Tissue(2, "fat", -100.0),
    Tissue(3, "skin", 30.0),
    Tissue(4, "muscle", 50.0),
    Tissue(5, "blood", 35.0),         # heart chambers and vessels, no contrast agent
    Tissue(6, "liver", 60.0),
    Tissue(7, "spleen", 48.0),
    Tissue(8, "stomach", 15.0),       # fluid content
    Tissue(9, "cord", 30.0),          # spinal canal: cord and CSF
    Tissue(10, "disc", 80.0),         # intervertebral disc
    Tissue(11, "cancellous", 220.0),  # trabecular bone and marrow
    Tissue(12, "cortical", 1600.0),   # cortical bone
    Tissue(13, "cartilage", 120.0),   # costal cartilage
    Tissue(14, "table_shell", 350.0),  # carbon-fibre skin of the scanner table
    Tissue(15, "table_foam", -900.0),  # the table's foam core
    Tissue(16, "pad", -600.0),         # the mattress on the table
    Tissue(17, "myocardium", 55.0),    # heart muscle, a little denser than unenhanced blood
)}
T = {name: t.index for name, t in TISSUES.items()}
#: Lung is denser where it is dependent (posterior, +y, in a supine patient): HU per mm.
LUNG_GRADIENT = 0.3
#: Standard deviation of the image noise, HU (after the reconstruction-kernel blur).
NOISE_SD = 15.0


Vec = tuple[float, float, float]


def cross(a: Vec, b: Vec) -> Vec:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


class Shape:
    """A region of patient space: an axis-aligned bounding box and an inside test."""

    lo: tuple[float, float, float] = (-1e4, -1e4, -1e4)
    hi: tuple[float, float, float] = (1e4, 1e4, 1e4)

    def mask(self, g: Grid) -> np.ndarray:
        """Boolean array (broadcastable to ``g.shape``): which points of ``g`` are inside."""
        raise NotImplementedError


class Fn(Shape):
    """A shape given by a function of the coordinates, inside an optional box."""

    def __init__(self, fn: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
                 lo=(-1e4, -1e4, -1e4), hi=(1e4, 1e4, 1e4)):
        self.fn, self.lo, self.hi = fn, tuple(lo), tuple(hi)

    def mask(self, g: Grid) -> np.ndarray:
        return self.fn(g.x, g.y, g.z)


def _unit(v: Sequence[float]) -> Vec:
    """``v`` scaled to length 1, rounded to 6 decimals (a fixed, machine-independent value)."""
    n = math.sqrt(sum(c * c for c in v))
    return tuple(round(c / n, 6) for c in v)


class Ellipsoid(Shape):
    """An ellipsoid; its semi-axes lie along ``axis`` and two directions square to it
    (default: along x, y, z)."""

    def __init__(self, center, semi, axis=(1.0, 0.0, 0.0), zmin=-1e4):
        self.c, self.semi, self.axis, self.zmin = tuple(center), tuple(semi), axis, zmin
        e1 = _unit(axis)
        up = (0.0, 0.0, 1.0) if abs(e1[2]) < 0.9 else (0.0, 1.0, 0.0)
        e2 = _unit(cross(up, e1))
        self.axes = (e1, e2, _unit(cross(e1, e2)))
        r = max(semi)
        self.lo = (center[0] - r, center[1] - r, max(center[2] - r, zmin))
        self.hi = (center[0] + r, center[1] + r, center[2] + r)

    def grown(self, d: float) -> Ellipsoid:
        """The same ellipsoid with every semi-axis longer by ``d`` mm."""
        return Ellipsoid(self.c, tuple(s + d for s in self.semi), self.axis, self.zmin)

    def mask(self, g: Grid) -> np.ndarray:
        dx, dy, dz = g.x - self.c[0], g.y - self.c[1], g.z - self.c[2]
        total = 0.0
        for e, s in zip(self.axes, self.semi, strict=True):
            p = (dx * e[0] + dy * e[1] + dz * e[2]) / s
            total = total + p * p
        return (total <= 1.0) & (g.z >= self.zmin)


class Tubes(Shape):
    """Union of capsules: segments ``a[k]``-``b[k]`` of radius ``r[k]`` (vessels, ribs)."""

    def __init__(self, a, b, r):
        self.a = np.asarray(a, dtype=float).reshape(-1, 3)
        self.b = np.asarray(b, dtype=float).reshape(-1, 3)
        self.r = np.broadcast_to(np.asarray(r, dtype=float), (len(self.a),)).copy()
        self.seg_lo = np.minimum(self.a, self.b) - self.r[:, None]
        self.seg_hi = np.maximum(self.a, self.b) + self.r[:, None]
        self.lo = tuple(self.seg_lo.min(axis=0)) if len(self.a) else (0.0, 0.0, 0.0)
        self.hi = tuple(self.seg_hi.max(axis=0)) if len(self.a) else (0.0, 0.0, 0.0)

    @classmethod
    def polyline(cls, points: Sequence[Sequence[float]], r: float | Sequence[float]) -> Tubes:
        """Capsules along a polyline; ``r`` is one radius or one per segment."""
        p = np.asarray(points, dtype=float)
        return cls(p[:-1], p[1:], r)

    def grown(self, d: float) -> Tubes:
        return Tubes(self.a, self.b, self.r + d)

    def mask(self, g: Grid) -> np.ndarray:
        out = np.zeros(g.shape, dtype=bool)
        windows = g.windows(self.seg_lo, self.seg_hi)
        for k in np.flatnonzero(windows[4]):
            sl, sub = g.sub(windows, k)
            a, d = self.a[k], self.b[k] - self.a[k]
            px, py, pz = sub.x - a[0], sub.y - a[1], sub.z - a[2]
            dd = float(d @ d)
            t = np.clip((px * d[0] + py * d[1] + pz * d[2]) / dd, 0.0, 1.0) if dd else 0.0
            ex, ey, ez = px - t * d[0], py - t * d[1], pz - t * d[2]
            out[sl] |= ex * ex + ey * ey + ez * ez <= self.r[k] * self.r[k]
        return out


class Union(Shape):
    """Points inside any of ``shapes``."""

    def __init__(self, shapes: Sequence[Shape]):
        self.shapes = list(shapes)
        self.lo = tuple(np.min([s.lo for s in shapes], axis=0))
        self.hi = tuple(np.max([s.hi for s in shapes], axis=0))

    def mask(self, g: Grid) -> np.ndarray:
        out = np.zeros(g.shape, dtype=bool)
        for s in self.shapes:
            hit = g.sub_box(s.lo, s.hi)
            if hit is not None:
                sl, sub = hit
                out[sl] |= np.broadcast_to(s.mask(sub), sub.shape)
        return out


class Minus(Shape):
    """Points inside ``keep`` and outside every shape of ``cut``."""

    def __init__(self, keep: Shape, cut: Sequence[Shape]):
        self.keep, self.cut = keep, Union(cut)
        self.lo, self.hi = keep.lo, keep.hi

    def mask(self, g: Grid) -> np.ndarray:
        return np.broadcast_to(self.keep.mask(g), g.shape) & ~self.cut.mask(g)


class Where(Shape):
    """Points inside ``shape`` where ``fn(x, y, z)`` is true."""

    def __init__(self, shape: Shape, fn: Callable[..., np.ndarray]):
        self.shape, self.fn = shape, fn
        self.lo, self.hi = shape.lo, shape.hi

    def mask(self, g: Grid) -> np.ndarray:
        return self.shape.mask(g) & self.fn(g.x, g.y, g.z)


# ---- the torso: the body outline and its layers, an elliptic cylinder varying along z ----

#: Torso outline along z (mm): half width, and half depth; the back lies on the table at
#: y = BACK_Y, so the anterior surface is at BACK_Y - 2 * half depth.
TORSO_Z = [10.0, -40.0, -100.0, -160.0, -220.0, -300.0]
TORSO_HALF_WIDTH = [145.0, 158.0, 166.0, 170.0, 170.0, 168.0]
TORSO_HALF_DEPTH = [95.0, 105.0, 112.0, 118.0, 120.0, 120.0]
BACK_Y = 115.0


def torso(lateral: float = 0.0, anterior: float = 0.0, posterior: float = 0.0,
          p_back: int = 3, cone: bool = False) -> Fn:
    """The body outline moved inward by the given depths (mm): a layer boundary.

    The front half is an ellipse; the back half is a superellipse of integer power
    ``p_back`` (3: flattened where the patient lies on the table). With ``cone``, the
    lateral inset grows toward the top as :func:`cone_inset` says (the rib cage narrows
    to the first ribs while the shoulders stay wide).
    """

    def fn(x, y, z):
        a = np.interp(z, TORSO_Z[::-1], TORSO_HALF_WIDTH[::-1]) - lateral
        if cone:
            a = a - cone_inset(z)
        depth = np.interp(z, TORSO_Z[::-1], TORSO_HALF_DEPTH[::-1])
        front, back = BACK_Y - 2.0 * depth + anterior, BACK_Y - posterior
        cy, b = (front + back) / 2.0, (back - front) / 2.0
        u, v = np.abs(x / a), np.abs((y - cy) / b)
        ellipse = u * u + v * v <= 1.0
        if p_back == 2:
            return ellipse
        power = u.copy() if p_back == 1 else u * u
        vp = v * v
        for _ in range(p_back - 2):
            power, vp = power * u, vp * v
        return np.where(y < cy, ellipse, power + vp <= 1.0)

    return Fn(fn)


#: Layers of the chest wall: inset of each boundary from the skin (lateral, anterior,
#: posterior) in mm.
FAT_INSET = (2.0, 2.0, 2.0)
MUSCLE_INSET = (18.0, 12.0, 10.0)
CAVITY_INSET = (30.0, 20.0, 28.0)   # inside the ribs: the thoracic cavity


def cone_inset(z):
    """Extra lateral inset (mm) of the rib cage above z = -90: the thoracic inlet is narrow."""
    return 0.7 * np.maximum(z + 90.0, 0.0)


def cavity(extra: float = 0.0) -> Fn:
    """The thoracic cavity (inside the rib cage), shrunk by ``extra`` mm."""
    lat, ant, post = CAVITY_INSET
    return torso(lat + extra, ant + extra, post + extra, p_back=2, cone=True)


def dome(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """z (mm) of the diaphragm's upper surface: two domes, the right (over the liver)
    higher than the left, both curving down to the sides and more to the back."""
    right = -190.0 - 0.005 * (x + 65.0) * (x + 65.0)
    left = -200.0 - 0.005 * (x - 65.0) * (x - 65.0)
    back = np.maximum(y + 10.0, 0.0)
    front = np.minimum(y + 10.0, 0.0)
    return np.maximum(right, left) - 0.0035 * back * back - 0.002 * front * front


# ---- mediastinum ----

#: The heart: its long axis points to the apex, left, forward and down.
HEART = Ellipsoid(center=(16.0, -35.0, -160.0), semi=(64.0, 48.0, 47.0), axis=(0.7, -0.5, -0.5))
AORTA = Tubes.polyline([(5, -30, -140), (0, -40, -110), (-2, -38, -80), (2, -36, -68),
                        (12, -28, -60), (26, -8, -58), (32, 18, -64), (30, 34, -80),
                        (28, 36, -120), (22, 38, -180), (12, 40, -230), (6, 40, -300)],
                       [15, 15, 15, 15, 14, 14, 13, 12, 12, 12, 12])
ARCH_BRANCHES = Union([
    Tubes.polyline([(5, -32, -66), (-12, -34, -30), (-22, -30, 20)], 7),   # brachiocephalic
    Tubes.polyline([(15, -24, -60), (16, -24, -20), (22, -22, 20)], 5),    # left carotid
    Tubes.polyline([(26, -4, -60), (38, 0, -30), (70, -5, 15)], 6),        # left subclavian
])
VEINS = Union([
    Tubes.polyline([(-30, -28, -140), (-30, -32, -80), (-30, -35, -50)], 9),  # SVC
    Tubes.polyline([(-30, -35, -50), (-42, -40, 10)], 7),                     # right brachio.
    Tubes.polyline([(-30, -35, -50), (0, -52, -42), (30, -52, -32), (65, -50, -20)], 6),
])
PULMONARY_ARTERY = Union([
    Tubes.polyline([(28, -58, -145), (28, -50, -118), (20, -28, -108)], 13),  # trunk
    Tubes.polyline([(20, -28, -108), (48, -8, -108), (62, 4, -114)], 10),     # left
    Tubes.polyline([(20, -28, -108), (0, -18, -113), (-35, -10, -116), (-52, -6, -120)], 10),
])
PULMONARY_VEINS = Union([
    Tubes.polyline([(10, -10, -150), (-30, -5, -138), (-55, 0, -135)], 7),
    Tubes.polyline([(10, -10, -155), (-35, 5, -160), (-55, 10, -165)], 7),
    Tubes.polyline([(30, -10, -145), (55, 5, -135), (68, 10, -132)], 7),
    Tubes.polyline([(30, -10, -152), (55, 12, -158), (68, 18, -162)], 7),
])
#: The four chambers inside the heart (blood), each an ellipsoid along the heart's long
#: axis; what is left of the heart between them is myocardium (septum, ventricular walls).
LEFT_VENTRICLE = Ellipsoid(center=(32.0, -32.0, -170.0), semi=(36.0, 17.0, 17.0),
                           axis=(0.7, -0.5, -0.5))
RIGHT_VENTRICLE = Ellipsoid(center=(4.0, -62.0, -170.0), semi=(34.0, 9.0, 24.0),
                            axis=(0.7, -0.5, -0.5))
LEFT_ATRIUM = Ellipsoid(center=(14.0, -10.0, -140.0), semi=(22.0, 12.0, 14.0))
RIGHT_ATRIUM = Ellipsoid(center=(-24.0, -32.0, -156.0), semi=(16.0, 18.0, 22.0))
CHAMBERS = Union([LEFT_VENTRICLE, RIGHT_VENTRICLE, LEFT_ATRIUM, RIGHT_ATRIUM])
IVC = Tubes.polyline([(-22, 22, -300), (-20, 12, -215), (-14, -12, -185)], 11.0)
TRACHEA = Tubes.polyline([(0, -12, 30), (0, -6, -50), (0, 0, -95)], 9.0)
BRONCHI = Union([
    Tubes.polyline([(0, 0, -95), (-25, 3, -105), (-48, 5, -116)], 7.0),
    Tubes.polyline([(0, 0, -95), (30, 5, -110), (52, 8, -125)], 6.0),
])
AIRWAY_WALL = 1.8
ESOPHAGUS = Tubes.polyline([(10, 20, 30), (12, 22, -100), (18, 25, -180), (35, 12, -222),
                            (55, -8, -236)], 7.0)

# ---- spine, sternum, ribs, shoulder girdle ----

SPINE_Y = 52.0          # centre of the vertebral bodies
CANAL_Y, CANAL_RADIUS = 80.0, 8.0
#: Vertebral levels from the neck down: the top z (mm) of each level (its disc), each
#: level taller and its body wider than the one above, as thoracic vertebrae grow
#: toward the lumbar spine.
N_LEVELS = 16
LEVEL_TOPS = np.array([40.0 - sum(20.0 + 1.0 * j for j in range(k)) for k in range(N_LEVELS)])
LEVEL_RADIUS = np.array([13.0 + 0.45 * k for k in range(N_LEVELS)])
LEVEL_DISC = np.array([4.0 + 0.12 * k for k in range(N_LEVELS)])
CORTEX = 2.0            # cortical shell thickness, mm
RIB_RADIUS = 4.5


def _level(z: np.ndarray) -> np.ndarray:
    """Index of the vertebral level that holds z (the last level whose top is >= z)."""
    k = np.searchsorted(-LEVEL_TOPS, -np.asarray(z), side="right") - 1
    return np.clip(k, 0, N_LEVELS - 1)


def _period(z: np.ndarray) -> np.ndarray:
    """Position (mm) within the vertebral level, 0 at the top of its disc."""
    return LEVEL_TOPS[_level(z)] - z


def vertebral_body(inset: float) -> Fn:
    r_max = float(LEVEL_RADIUS.max()) - inset

    def fn(x, y, z):
        r = LEVEL_RADIUS[_level(z)] - inset
        return x * x + (y - SPINE_Y) * (y - SPINE_Y) <= r * r

    return Fn(fn, (-r_max, SPINE_Y - r_max, -1e4), (r_max, SPINE_Y + r_max, 1e4))


def posterior_elements(x, y, z):
    """Pedicles, laminae, transverse and spinous processes (cortical bone) of each level."""
    p = _period(z)
    ring = (x * x + (y - CANAL_Y) * (y - CANAL_Y) <= (CANAL_RADIUS + 5.0) ** 2) & (p > 3.0)
    pedicle = (np.abs(x) >= 6.0) & (np.abs(x) <= 12.0) & (y > SPINE_Y) & (y < CANAL_Y) & (p > 6.0)
    ax = np.abs(x)
    transverse = ((ax < 34.0) & (np.abs(y - 78.0 - 0.35 * ax) < 4.0) & (p > 8.0)
                  & (p < 18.0))
    spinous = (np.abs(x) < 4.0) & (y > CANAL_Y) & (y < 104.0 - 0.6 * p) & (p > 4.0)
    return ring | pedicle | transverse | spinous


def disc(x, y, z):
    return _period(z) < LEVEL_DISC[_level(z)]


def rib_path(k: int, side: int, n: int = 24) -> np.ndarray:
    """Centre line of rib ``k`` (1-12) on ``side`` (-1 right, +1 left): ``n`` + 1 points.

    A rib leaves the transverse process at the back, runs round the outside of the
    thoracic cavity and descends toward the front, where (ribs 1-10) it continues as
    costal cartilage (see :func:`ribs`).
    """
    z_back = -8.0 - 21.0 * (k - 1)
    theta0 = 0.28
    theta1 = 2.95 if k <= 7 else (2.45 if k <= 10 else 1.7)
    drop = 80.0 + 4.0 * k
    lat, ant, post = CAVITY_INSET
    pts = []
    for i in range(n + 1):
        th = theta0 + (theta1 - theta0) * i / n
        z = z_back - drop * (th - theta0) / math.pi
        a = (float(np.interp(z, TORSO_Z[::-1], TORSO_HALF_WIDTH[::-1])) - lat
             - float(cone_inset(z)) + RIB_RADIUS + 1.0)
        depth = float(np.interp(z, TORSO_Z[::-1], TORSO_HALF_DEPTH[::-1]))
        front, back = BACK_Y - 2 * depth + ant - RIB_RADIUS, BACK_Y - post + RIB_RADIUS
        cy, b = (front + back) / 2, (back - front) / 2
        pts.append((side * a * float(exact.sin(th)), cy + b * float(exact.cos(th)), z))
    return np.round(np.array(pts), 3)


def ribs(radius: float, cartilage: bool) -> Tubes:
    """All 24 ribs as capsules of ``radius``: the bony part, or only the costal cartilage."""
    a, b = [], []
    for k in range(1, 13):
        for side in (-1, 1):
            p = rib_path(k, side)
            n_bone = len(p) - 1 if k > 10 else int(0.8 * (len(p) - 1))
            seg = range(n_bone, len(p) - 1) if cartilage else range(n_bone)
            a += [p[i] for i in seg]
            b += [p[i + 1] for i in seg]
    return Tubes(a, b, radius)


STERNUM_Z = [-22.0, -45.0, -60.0, -180.0, -200.0]
STERNUM_HALF_WIDTH = [26.0, 20.0, 14.0, 14.0, 6.0]


def sternum(inset: float) -> Fn:
    """Manubrium and body of the sternum: a flat elliptic cylinder behind the front wall."""

    def fn(x, y, z):
        a = np.interp(z, STERNUM_Z[::-1], STERNUM_HALF_WIDTH[::-1]) - inset
        depth = np.interp(z, TORSO_Z[::-1], TORSO_HALF_DEPTH[::-1])
        cy = BACK_Y - 2.0 * depth + CAVITY_INSET[1] - 6.0
        b = 6.0 - inset
        u, v = x / a, (y - cy) / b
        return (u * u + v * v <= 1.0) & (z <= STERNUM_Z[0]) & (z >= STERNUM_Z[-1])

    return Fn(fn, (-30, -200, STERNUM_Z[-1]), (30, 0, STERNUM_Z[0]))


CLAVICLES = [Tubes.polyline([(s * 18, -76, -28), (s * 70, -80, -20), (s * 120, -64, -8),
                             (s * 140, -40, 0)], 7.0) for s in (-1, 1)]


def scapula(side: int) -> Fn:
    """A scapular blade: a thin plate behind the posterolateral ribs, tapering downward."""

    def fn(x, y, z):
        t = np.clip((-30.0 - z) / 120.0, 0.0, 1.0)      # 0 at the top, 1 at the tip
        x0, y0 = side * (62.0 + 20.0 * t), 100.0 - 4.0 * t
        x1, y1 = side * (132.0 - 45.0 * t), 72.0 + 12.0 * t
        dx, dy = x1 - x0, y1 - y0
        s = np.clip(((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
        ex, ey = x - x0 - s * dx, y - y0 - s * dy
        return (ex * ex + ey * ey <= 2.6 * 2.6) & (z <= -30.0) & (z >= -150.0)

    lo, hi = (-140, 60, -150), (140, 110, -30)
    return Fn(fn, lo, hi)


# ---- lungs and their vessels ----

def liver_section(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The liver's outline in an axial plane: an ellipse centred right of the midline whose
    long axis points to the left lobe's tip, in front of the stomach. Below z = -225 mm it
    shrinks toward its right lower tip, so that its lower surface is curved, not a cut."""
    below = np.maximum(-225.0 - z, 0.0)
    s = 1.0 - 0.0075 * below                  # the ellipse's scale, 1 at the top
    shift = 0.45 * below                      # and it moves to the right (-x) as it narrows
    dx, dy = x + 60.0 + shift, y + 10.0
    p, q = (dx * 0.85 - dy * 0.53) / (140.0 * s), (dx * 0.53 + dy * 0.85) / (95.0 * s)
    return (p * p + q * q <= 1.0) & (s > 0.2)


def lung(side: int, envelope: Shape) -> Minus:
    """One lung: the cavity on one side, above the diaphragm, below a rounded apex,
    minus the mediastinum (``envelope``)."""
    inner = cavity(extra=1.5)

    def fn(x, y, z):
        zz = np.clip((z + 80.0) / 60.0, 0.0, None)      # apex at z = -20
        u, v = (x - side * 55.0) / 78.0, (y - 15.0) / 88.0
        apex = u * u + v * v <= 1.0 - zz * zz
        return inner.fn(x, y, z) & (side * x > 0) & (z > dome(x, y)) & apex

    lo = (-200.0, -200.0, -300.0) if side < 0 else (0.0, -200.0, -300.0)
    hi = (0.0, 200.0, -20.0) if side < 0 else (200.0, 200.0, -20.0)
    return Minus(Fn(fn, lo, hi), [envelope])


def vessel_tree(rng: np.random.Generator, root: Sequence[float],
                directions: Sequence[Sequence[float]], radius: float, length: float,
                depth: int) -> Tubes:
    """A branching tree of capsules from ``root``.

    Each branch splits in two; a child is shorter and thinner than its parent and
    turned from it by a seeded random amount, with a pull away from the root so
    that the tree fans out through the lung.
    """
    a, b, r = [], [], []
    root = np.asarray(root, dtype=float)

    def unit(v):
        return v / math.sqrt(float(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]))

    def grow(p, d, rad, ln, level):
        q = np.round(p + d * ln, 3)
        a.append(p), b.append(q), r.append(rad)
        if level == depth:
            return
        out = unit(q - root)
        for _ in range(2):
            jitter = 0.6 * exact.standard_normal(rng, 3)
            grow(q, unit(d + jitter + 0.35 * out), rad * 0.76, ln * 0.82, level + 1)

    for d in directions:
        grow(root, unit(np.asarray(d, dtype=float)), radius, length, 0)
    return Tubes(a, b, r)


def lung_vessels(seed: int) -> Tubes:
    """Pulmonary arteries and veins in both lungs, fanning out from the hila."""
    rng = np.random.default_rng(seed)
    trees = []
    for side, hilum in ((-1, (-50.0, -4.0, -118.0)), (1, (58.0, 2.0, -116.0))):
        s = float(side)
        arteries = [(0.2 * s, 0.2, 1.0), (0.6 * s, -0.6, 0.7), (0.7 * s, 0.5, 0.7),
                    (0.9 * s, 0.0, 0.3), (0.6 * s, -0.9, -0.2), (0.9 * s, -0.4, -0.5),
                    (0.3 * s, 0.7, -1.0), (0.8 * s, 0.3, -0.8), (0.2 * s, 0.2, -1.0),
                    (0.5 * s, -0.2, -1.0)]
        trees.append(vessel_tree(rng, hilum, arteries, 4.5, 30.0, 7))
        vein_root = (hilum[0] * 0.8, hilum[1] - 5.0, hilum[2] - 28.0)
        veins = [(0.7 * s, 0.4, -0.9), (0.9 * s, -0.4, -0.4), (0.8 * s, 0.5, 0.0),
                 (0.5 * s, -0.6, 0.8), (0.4 * s, 0.6, 0.9), (0.3 * s, 0.8, -0.5)]
        trees.append(vessel_tree(rng, vein_root, veins, 4.0, 28.0, 7))
    return Tubes(np.concatenate([t.a for t in trees]), np.concatenate([t.b for t in trees]),
                 np.concatenate([t.r for t in trees]))


# ---- the scanner table (outside the patient) ----

def _table_top(x):
    return BACK_Y + 9.0 - 0.0005 * x * x


def table_layer(y0: float, y1: float, half_width: float = 250.0) -> Fn:
    """The band between ``y0`` and ``y1`` mm below the curved table top."""

    def fn(x, y, z):
        d = y - _table_top(x)
        return (d >= y0) & (d < y1) & (np.abs(x) < half_width)

    return Fn(fn, (-half_width, 80.0, -1e4), (half_width, 200.0, 1e4))


@dataclass(frozen=True)
class Paint:
    """One step of the painter's algorithm: give ``shape`` the label ``tissue``
    (only where the label so far is one of ``only``, when given). ``organ`` names the
    organ of :data:`ORGANS` the painted pixels belong to afterwards (``None``: none;
    a later step without an organ takes its pixels out of the organ it paints over)."""

    shape: Shape
    tissue: str
    only: tuple[str, ...] | None = None
    organ: str | None = None


@dataclass(frozen=True)
class Organ:
    """One organ of the phantom's truth, as the label files describe it.

    ``code`` is the SNOMED CT concept of Segmented Property Type (PS3.16 CID 7166
    family, in pydicom's code dictionary: ``codes.SCT.<keyword>``); ``cielab`` the
    Recommended Display CIELab Value (PS3.3 C.10.7.1.1) as DICOM stores it (L* a* b*
    scaled to 0-65535), written as integers so that no colour arithmetic runs while
    the data are generated; ``rgb`` the sRGB colour it was made from (3D Slicer's
    generic anatomy colours), for the tests.
    """

    number: int
    name: str
    code: str
    cielab: tuple[int, int, int]
    rgb: tuple[int, int, int]


#: The organs whose truth the label files (SEG, RTSTRUCT) carry, numbered as segments.
ORGANS: tuple[Organ, ...] = (
    Organ(1, "lungs", "Lung", (45909, 35127, 36684), (197, 165, 145)),
    Organ(2, "heart", "Heart", (37349, 42016, 40959), (206, 110, 84)),
    Organ(3, "liver", "Liver", (41661, 41167, 40792), (221, 130, 101)),
    Organ(4, "vertebrae", "Vertebra", (56638, 32899, 42533), (241, 214, 145)),
    Organ(5, "aorta", "Aorta", (37352, 45282, 42259), (224, 97, 76)),
)


def phantom(seed: int = SEED) -> list[Paint]:
    """The chest phantom as an ordered list of paint steps (later steps win)."""
    heart = Where(HEART, lambda x, y, z: z > dome(x, y))
    envelope = Union([           # the mediastinum, which the lungs wrap around
        HEART.grown(7.0), AORTA.grown(4.0), *(t.grown(3.0) for t in ARCH_BRANCHES.shapes),
        VEINS.shapes[0].grown(4.0), VEINS.shapes[1].grown(3.0), VEINS.shapes[2].grown(3.0),
        PULMONARY_ARTERY.shapes[0].grown(4.0), TRACHEA.grown(AIRWAY_WALL + 3.0),
        ESOPHAGUS.grown(4.0),
        Fn(lambda x, y, z: x * x + (y - SPINE_Y - 6.0) ** 2 <= 26.0 ** 2,
           (-26, SPINE_Y - 20, -1e4), (26, SPINE_Y + 32, 1e4)),
        Fn(lambda x, y, z: (np.abs(x) < 9.0) & (y < 0.0), (-9, -200, -1e4), (9, 0, 1e4)),
    ])
    cav = cavity()
    canal = Fn(lambda x, y, z: x * x + (y - CANAL_Y) ** 2 <= CANAL_RADIUS ** 2,
               (-CANAL_RADIUS, CANAL_Y - CANAL_RADIUS, -1e4),
               (CANAL_RADIUS, CANAL_Y + CANAL_RADIUS, 1e4))
    paraspinal = Fn(lambda x, y, z: ((np.abs(x) - 34.0) / 30.0) ** 2 + ((y - 92.0) / 20.0) ** 2
                    <= 1.0, (-64, 72, -1e4), (64, 112, 1e4))
    stomach = Ellipsoid((72.0, -12.0, -250.0), (58.0, 46.0, 52.0), axis=(0.8, -0.6, 0.0))
    return [
        # the scanner table and its mattress
        Paint(table_layer(-8.0, 0.0), "pad"),
        Paint(table_layer(0.0, 3.0), "table_shell"),
        Paint(table_layer(3.0, 24.0, 245.0), "table_foam"),
        Paint(table_layer(24.0, 27.0), "table_shell"),
        Paint(Fn(lambda x, y, z: (np.abs(x) < 110.0) & (y > 165.0) & (y < 171.0),
                 (-110, 165, -1e4), (110, 171, 1e4)), "table_shell"),
        # chest wall: skin, subcutaneous fat, muscle, paraspinal muscles, shoulder girdle
        Paint(torso(), "skin"),
        Paint(torso(*FAT_INSET), "fat"),
        Paint(torso(*MUSCLE_INSET), "muscle"),
        Paint(paraspinal, "muscle"),
        Paint(scapula(-1), "cortical"), Paint(scapula(1), "cortical"),
        *(Paint(c, "cortical") for c in CLAVICLES),
        *(Paint(c.grown(-CORTEX), "cancellous") for c in CLAVICLES),
        # thoracic cavity: mediastinal fat; below the diaphragm, the upper abdomen
        Paint(cav, "fat"),
        Paint(Where(cav, lambda x, y, z: z <= dome(x, y)), "muscle"),        # diaphragm
        Paint(Where(cav, lambda x, y, z: z < dome(x, y) - 5.0), "fat"),
        Paint(Where(cav, lambda x, y, z: (z < dome(x, y) - 5.0) & liver_section(x, y, z)),
              "liver", organ="liver"),
        Paint(Ellipsoid((95.0, 45.0, -255.0), (55.0, 28.0, 48.0), axis=(0.6, 0.8, 0.0)), "spleen",
              only=("fat",)),
        Paint(stomach, "stomach", only=("fat", "liver")),   # it indents the left lobe
        Paint(Where(stomach.grown(-3.0), lambda x, y, z: y < -44.0), "air", only=("stomach",)),
        Paint(IVC, "blood"),
        # lungs
        Paint(lung(-1, envelope), "lung", organ="lungs"),
        Paint(lung(1, envelope), "lung", organ="lungs"),
        # heart in its pericardial sac, great vessels, airways, oesophagus
        Paint(heart.shape.grown(4.5), "skin", only=("fat",)),    # pericardium
        Paint(heart.shape.grown(3.5), "fat", only=("skin",)),    # epicardial fat
        Paint(heart, "myocardium", organ="heart"),
        Paint(CHAMBERS, "blood", only=("myocardium",), organ="heart"),
        Paint(AORTA, "blood", organ="aorta"), Paint(ARCH_BRANCHES, "blood"), Paint(VEINS, "blood"),
        Paint(PULMONARY_ARTERY, "blood"), Paint(PULMONARY_VEINS, "blood"),
        Paint(ESOPHAGUS, "muscle"), Paint(ESOPHAGUS.grown(-5.5), "air"),
        Paint(TRACHEA.grown(AIRWAY_WALL), "skin"), Paint(TRACHEA, "air"),
        *(Paint(b.grown(AIRWAY_WALL), "skin") for b in BRONCHI.shapes),
        Paint(BRONCHI, "air"),
        Paint(lung_vessels(seed), "blood", only=("lung",), organ="lungs"),
        # spine: vertebral bodies with discs, posterior elements, canal
        Paint(vertebral_body(0.0), "cortical", organ="vertebrae"),
        Paint(vertebral_body(CORTEX), "cancellous", organ="vertebrae"),
        Paint(Where(vertebral_body(0.0), disc), "disc"),
        Paint(Fn(posterior_elements, (-36, SPINE_Y, -1e4), (36, 110, 1e4)), "cortical",
              organ="vertebrae"),
        Paint(canal, "cord"),
        # ribs, costal cartilage, sternum
        Paint(ribs(RIB_RADIUS, cartilage=False), "cortical"),
        Paint(ribs(RIB_RADIUS - CORTEX, cartilage=False), "cancellous"),
        Paint(ribs(RIB_RADIUS, cartilage=True), "cartilage"),
        Paint(sternum(0.0), "cortical"),
        Paint(sternum(CORTEX), "cancellous"),
    ]
