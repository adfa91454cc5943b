"""Still pictures of label masks over an image: a coloured overlay with matplotlib.

Each mask is painted in its segment's colour (the SEG's Recommended Display CIELab
Value converted to sRGB, or the RTSTRUCT's ROI Display Color) at a given opacity over
the windowed image, on the same display plane :meth:`Volume.plane` cuts (axial seen
from the feet, coronal from the front), so the overlay lies exactly on its voxels.
``contours=True`` draws each mask's outline instead, the way RT systems show
structures.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from matplotlib.axes import Axes

from .labels import Labels
from .volume import Volume

__all__ = ["mask_plane", "overlay_rgba", "show_labels"]


def mask_plane(volume: Volume, mask: np.ndarray, name: str = "axial",
               index: int | None = None) -> np.ndarray:
    """The 2D cut of ``mask`` (on ``volume``'s grid) that ``volume.plane(name, index)``
    shows, in the same display orientation."""
    return replace(volume, array=np.asarray(mask, dtype=np.float32)).plane(name, index).image


def overlay_rgba(masks: dict[str, np.ndarray], colours: dict[str, tuple[int, int, int]],
                 alpha: float = 0.45) -> np.ndarray:
    """An RGBA image (floats 0-1): each 2D mask in its colour at opacity ``alpha``
    (times its value, for fractional masks), later masks over earlier ones."""
    shape = next(iter(masks.values())).shape
    out = np.zeros((*shape, 4))
    for label, mask in masks.items():
        weight = np.clip(np.asarray(mask, dtype=float), 0.0, 1.0)
        inside = weight > 0
        out[inside, :3] = np.asarray(colours[label], dtype=float) / 255.0
        out[inside, 3] = alpha * weight[inside]
    return out


def show_labels(ax: Axes, volume: Volume, labels: Labels, name: str = "axial",
                index: int | None = None, *, window: tuple[float, float] = (40.0, 400.0),
                alpha: float = 0.45, contours: bool = False, only: list[str] | None = None
                ) -> None:
    """Draw ``volume``'s plane in a window (centre, width) with ``labels`` over it."""
    plane = volume.plane(name, index)
    low, high = window[0] - window[1] / 2, window[0] + window[1] / 2
    rows, cols = plane.image.shape
    extent = (0, cols * plane.pixel_mm[1], rows * plane.pixel_mm[0], 0)
    ax.imshow(plane.image, cmap="gray", vmin=low, vmax=high, extent=extent,
              interpolation="nearest")
    chosen = [s for s in labels.segments if only is None or s.label in only]
    cuts = {s.label: mask_plane(volume, labels.masks[s.label], name, index) for s in chosen}
    colours = {s.label: s.rgb for s in chosen}
    if contours:
        # pixel centres in mm, in the image's coordinates (rows downwards, as imshow puts them)
        xs = (np.arange(cols) + 0.5) * plane.pixel_mm[1]
        ys = (np.arange(rows) + 0.5) * plane.pixel_mm[0]
        for label, cut in cuts.items():
            if cut.any():
                ax.contour(xs, ys, cut, levels=[0.5],
                           colors=[np.asarray(colours[label]) / 255.0], linewidths=1.2)
    else:
        ax.imshow(overlay_rgba(cuts, colours, alpha), extent=extent, interpolation="nearest")
    ax.set_title(f"{plane.name} {plane.index}")
    ax.set_axis_off()
