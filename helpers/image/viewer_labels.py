"""Label masks as a coloured overlay in the viewer: what it sends and draws (the still
pictures with matplotlib are :mod:`helpers.image.overlay`'s).

A :class:`helpers.image.labels.Labels` (segments of a SEG, PS3.3 C.8.20, or ROIs of an
RT Structure Set, PS3.3 C.8.8.6) holds one mask per segment on a Volume's grid. For
the viewer they are packed into one integer volume in the viewer's canonical order
(:attr:`helpers.image.volume.Volume.canonical`), one *bit* per segment (bit ``n`` set:
the voxel belongs to segment ``n``), so overlapping segments stay apart and the
browser receives one buffer: uint8 for up to 8 segments, uint16 for 16, uint32 for 32.
A FRACTIONAL SEG's mask counts where it is at least 0.5 (as
:meth:`helpers.image.labels.Labels.label_map`).

Each segment is drawn in its Recommended Display CIELab Value turned to sRGB (PS3.3
C.10.7.1.1, :func:`helpers.image.labels.cielab_to_rgb`), SEG segments filled, RTSTRUCT
ROIs as contours (the pixels of the rasterised mask with a 4-neighbour outside it, or
on the plane's edge). The blend, per channel, with integer opacity ``A = floor(255 *
opacity + 0.5)``, in segment order (a later segment over an earlier one)::

    out = (under * (255 - A) + colour * A + 127) // 255

Integers only, so the browser (``viewer.js``) computes exactly the same picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # read-only use: the viewer need not import highdicom to start
    from .labels import Labels
    from .volume import Volume

__all__ = ["OverlaySegment", "pack", "outline", "blend", "compose", "MAX_SEGMENTS"]

#: Segments one viewer overlays: one bit each of a uint32.
MAX_SEGMENTS = 32


@dataclass(frozen=True)
class OverlaySegment:
    """One segment as the viewer draws it: bit ``bit`` of the packed volume."""

    name: str
    number: int
    rgb: tuple[int, int, int]
    style: str  # "fill" (SEG) or "contour" (RTSTRUCT)
    bit: int
    source: str  # the label file's name


def _canonical(volume: Volume, array: np.ndarray) -> np.ndarray:
    """``array`` (on ``volume.array``'s grid) in the order of ``volume.canonical``."""
    order, flips = volume._axes  # noqa: SLF001 - our own class, the one ordering rule
    view = np.transpose(array, order)
    for axis, flip in enumerate(flips):
        if flip:
            view = np.flip(view, axis)
    return view


def pack(labels: Labels | list[Labels], volume: Volume) -> tuple[np.ndarray,
                                                                  list[OverlaySegment]]:
    """The packed canonical bit volume and the segments of one or more ``Labels`` read
    onto ``volume``. Raises ``ValueError`` for masks of another shape than the volume's
    or more than :data:`MAX_SEGMENTS` segments."""
    items = [labels] if not isinstance(labels, list | tuple) else list(labels)
    segments: list[OverlaySegment] = []
    pairs = []
    for item in items:
        for seg in item.segments:
            mask = np.asarray(item.masks[seg.label])
            if mask.shape != volume.array.shape:
                raise ValueError(f"{item.source.name}: the mask of {seg.label!r} has shape "
                                 f"{mask.shape}, the volume {volume.array.shape}: read the "
                                 "labels onto this volume (helpers.image.labels)")
            style = "contour" if item.kind == "RTSTRUCT" else "fill"
            segments.append(OverlaySegment(seg.label, seg.number, tuple(seg.rgb), style,
                                           len(segments), item.source.name))
            pairs.append(mask)
    if len(segments) > MAX_SEGMENTS:
        raise ValueError(f"the viewer overlays at most {MAX_SEGMENTS} segments, got "
                         f"{len(segments)}: pass fewer (read_rtstruct(..., names=[...]))")
    dtype = np.uint8 if len(segments) <= 8 else np.uint16 if len(segments) <= 16 else np.uint32
    bits = np.zeros(volume.array.shape, dtype=dtype)
    for seg, mask in zip(segments, pairs, strict=True):
        inside = mask >= 0.5 if mask.dtype.kind == "f" else mask.astype(bool)
        bits[inside] |= dtype(1 << seg.bit)
    return np.ascontiguousarray(_canonical(volume, bits)), segments


def outline(mask: np.ndarray) -> np.ndarray:
    """The contour of a 2D mask: its pixels with a 4-neighbour outside it (the plane's
    edge counts as outside)."""
    m = np.pad(np.asarray(mask, dtype=bool), 1, constant_values=False)
    inner = m[1:-1, 1:-1] & m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:]
    return m[1:-1, 1:-1] & ~inner


def blend(rgb: np.ndarray, where: np.ndarray, colour: tuple[int, int, int],
          opacity: float) -> None:
    """Blend ``colour`` into ``rgb`` (uint8, rows x cols x 3) where ``where``, in place,
    by the module's integer rule."""
    a = int(np.floor(255 * float(opacity) + 0.5))  # round half up, as Math.round
    under = rgb[where].astype(np.int32)
    rgb[where] = ((under * (255 - a) + np.asarray(colour, np.int32) * a + 127) // 255
                  ).astype(np.uint8)


def compose(grey: np.ndarray, bits: np.ndarray, segments: list[OverlaySegment],
            shown: list[dict]) -> np.ndarray:
    """The RGB picture of one plane: the 8-bit ``grey`` picture with each visible segment
    (``shown[n]``: ``{"visible": bool, "opacity": float}``) blended where its bit is set
    in the plane's packed ``bits`` (filled, or its :func:`outline`)."""
    rgb = np.repeat(np.asarray(grey, np.uint8)[..., None], 3, axis=2)
    for seg, style in zip(segments, shown, strict=True):
        if not style.get("visible", True):
            continue
        mask = (bits & (1 << seg.bit)) != 0
        if seg.style == "contour":
            mask = outline(mask)
        blend(rgb, mask, seg.rgb, style.get("opacity", 1.0))
    return rgb
