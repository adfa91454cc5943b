"""From stored pixel values to Hounsfield units to the 8-bit grey levels on screen.

Two steps of the DICOM grayscale pipeline (PS3.4 Annex N.2.1.1, figure N.2-1):

1. the **Modality LUT** (PS3.3 C.11.1): stored values -> modality values (for CT,
   Hounsfield units), either the linear ``Rescale Slope`` / ``Rescale Intercept``
   or a ``Modality LUT Sequence`` table -- :func:`modality_values`;
2. the **VOI LUT** (PS3.3 C.11.2): a window of modality values -> the displayed
   range; here the LINEAR window function of PS3.3 C.11.2.1.2.1 mapped to
   0..255 -- :func:`window`.

:func:`window` reproduces DCMTK's ``dcm2pnm +Ww C W`` output pixel for pixel: the
same double-precision formula, truncation toward zero, and for MONOCHROME1 the
inverted ramp computed directly (output range 255 -> 0) rather than ``255 - y``
(PS3.3 C.7.6.3.1.2: MONOCHROME1 shows the minimum value as white; the inversion
happens after the VOI LUT). pydicom's ``pydicom.pixels.processing`` is the model
for the layout of this module.
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset

from ..dicom.dicomio import pixels as _stored_pixels
from ..dicom.errors import InvalidValueError, MissingTagError, WorkbookError

__all__ = ["MONOCHROME", "modality_values", "window", "window_bounds", "is_integer_valued",
           "value_dtype", "compact", "units"]

#: The two grayscale Photometric Interpretations (PS3.3 C.7.6.3.1.2).
MONOCHROME = ("MONOCHROME1", "MONOCHROME2")

# Integer dtypes small enough to window with one table indexed by the value itself.
_SMALL_INTS = (np.dtype(np.uint8), np.dtype(np.int8), np.dtype(np.uint16), np.dtype(np.int16))
_MAX_LUT = 1 << 20  # larger integer ranges are windowed value by value


# --------------------------------------------------------------------------- modality LUT
def _lut_data(ds: Dataset, item: Dataset) -> np.ndarray:
    """The LUT Data of a Modality LUT Sequence item as integers (PS3.3 C.11.1.1.1)."""
    elem = item["LUTData"]
    if isinstance(elem.value, bytes | bytearray):  # VR OW: raw 16-bit words
        little = getattr(ds, "is_little_endian", None)
        if little is None:
            little = ds.original_encoding[1] if ds.original_encoding[1] is not None else True
        return np.frombuffer(elem.value, dtype="<u2" if little else ">u2").astype(np.int64)
    values = elem.value if isinstance(elem.value, list | tuple) else [elem.value]
    return np.asarray(values, dtype=np.int64)


def _apply_lut_sequence(stored: np.ndarray, ds: Dataset, item: Dataset) -> np.ndarray:
    """Map stored values through a Modality LUT (PS3.3 C.11.1.1.1).

    LUT Descriptor = (entries, first stored value mapped, bits per entry); 0 entries
    means 65536. Values below the first mapped value take the first entry, values
    beyond the last mapped value take the last entry.
    """
    entries, first, _bits = (int(v) for v in item.LUTDescriptor)
    entries = entries or 65536
    table = _lut_data(ds, item)[:entries]
    index = np.clip(stored.astype(np.int64) - first, 0, len(table) - 1)
    return table[index].astype(np.float64)


def _rescale(stored: np.ndarray, slope: float, intercept: float) -> np.ndarray:
    """``stored * slope + intercept`` in double precision (PS3.3 C.11.1.1.2)."""
    out = stored.astype(np.float64) * float(slope)
    out += float(intercept)
    return out


def _frame_rescales(ds: Dataset, frames: int) -> list[tuple[float, float]] | None:
    """Per-frame slope/intercept from an enhanced multi-frame header
    (Pixel Value Transformation functional group, PS3.3 C.7.6.16.2.9), or None."""
    shared = ds.get("SharedFunctionalGroupsSequence")
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")

    def from_group(group: Dataset | None) -> tuple[float, float] | None:
        if group is None or not group.get("PixelValueTransformationSequence"):
            return None
        item = group.PixelValueTransformationSequence[0]
        if "RescaleSlope" not in item or "RescaleIntercept" not in item:
            return None
        return float(item.RescaleSlope), float(item.RescaleIntercept)

    common = from_group(shared[0]) if shared else None
    result = []
    for i in range(frames):
        own = from_group(per_frame[i]) if per_frame and i < len(per_frame) else None
        result.append(own or common)
    if all(r is None for r in result):
        return None
    return [r if r is not None else (1.0, 0.0) for r in result]


def modality_values(ds: Dataset, stored: np.ndarray | None = None) -> np.ndarray:
    """The modality values of every frame: the Modality LUT applied to the stored values
    (PS3.3 C.11.1).

    For CT the result is in Hounsfield units; for other modalities it is the
    modality's own unit (or the stored values unchanged when the header has no
    Modality LUT). In order of precedence:

    - a ``Modality LUT Sequence`` (0028,3000): a table lookup;
    - an enhanced multi-frame header's Pixel Value Transformation functional group
      (per frame, or shared);
    - ``Rescale Slope`` (0028,1053) and ``Rescale Intercept`` (0028,1052):
      ``stored * slope + intercept``.

    ``stored`` may be passed when the pixels are already decoded; otherwise they
    are read with :func:`helpers.dicom.dicomio.pixels` (clear errors for missing pixel
    data or decoders). Returns a ``float64`` array of the same shape (frames first
    for multi-frame data). Raises :class:`helpers.dicom.errors.InvalidValueError` when
    these attributes hold values that are not usable numbers.
    """
    if stored is None:
        stored = _stored_pixels(ds)
    try:
        return _modality_lut(ds, np.asarray(stored))
    except WorkbookError:
        raise
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, OverflowError) as exc:
        raise InvalidValueError(
            getattr(ds, "filename", None),
            "the Modality LUT attributes (Rescale Slope/Intercept, Modality LUT Sequence, "
            f"PS3.3 C.11.1) are not usable numbers: {type(exc).__name__}: {exc}") from None


def _finite(value: object, keyword: str) -> float:
    number = float(value)  # type: ignore[arg-type]
    if not np.isfinite(number):
        raise ValueError(f"{keyword} is {value!r}")
    return number


def _modality_lut(ds: Dataset, stored: np.ndarray) -> np.ndarray:
    if ds.get("ModalityLUTSequence"):
        item = ds.ModalityLUTSequence[0]
        if "LUTDescriptor" not in item or "LUTData" not in item:
            raise MissingTagError(getattr(ds, "filename", None),
                                  "Modality LUT Sequence item lacks LUT Descriptor or LUT Data")
        return _apply_lut_sequence(stored, ds, item)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    per_frame = _frame_rescales(ds, frames) if frames > 1 else None
    if per_frame is not None and stored.ndim >= 3 and stored.shape[0] == frames:
        out = np.empty(stored.shape, dtype=np.float64)
        for i, (slope, intercept) in enumerate(per_frame):
            out[i] = _rescale(stored[i], slope, intercept)
        return out
    slope = ds.get("RescaleSlope")
    intercept = ds.get("RescaleIntercept")
    slope = 1.0 if slope is None else _finite(slope, "Rescale Slope")
    intercept = 0.0 if intercept is None else _finite(intercept, "Rescale Intercept")
    return _rescale(stored, slope, intercept)


def is_integer_valued(values: np.ndarray) -> bool:
    """True when every value is a whole number (so a lookup table can window it)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "iub":
        return True
    return bool(arr.size) and bool(np.all(np.isfinite(arr))) and bool(np.all(arr == np.trunc(arr)))


def value_dtype(values: np.ndarray) -> np.dtype:
    """The one place that decides how modality values are kept: ``int16`` when every
    value is a whole number within -32768..32767 (CT with integer slope and
    intercept), else ``int32`` when whole and within 32 bits, else ``float64``.

    :func:`helpers.image.volume.load_series` stores a volume in this dtype and the viewer
    sends it to the browser as it is (PS3.3 C.11.1: the Modality LUT output)."""
    arr = np.asarray(values)
    if arr.size == 0 or not is_integer_valued(arr):
        return np.dtype(np.float64)
    lo, hi = arr.min(), arr.max()
    for dtype in (np.int16, np.int32):
        info = np.iinfo(dtype)
        if info.min <= lo and hi <= info.max:
            return np.dtype(dtype)
    return np.dtype(np.float64)


def compact(values: np.ndarray) -> np.ndarray:
    """``values`` in :func:`value_dtype` (a copy only when the dtype changes)."""
    arr = np.asarray(values)
    return arr.astype(value_dtype(arr), copy=False)


def units(ds: Dataset) -> str:
    """The unit of the modality values: ``"HU"`` for CT only (PS3.3 C.8.2.1), else
    Rescale Type (0028,1054) when the header names one other than ``US``
    (unspecified), else ``""``."""
    if str(ds.get("Modality", "")).upper() == "CT":
        return "HU"
    kind = str(ds.get("RescaleType", "") or "").strip()
    return "" if kind.upper() in ("", "US") else kind


# --------------------------------------------------------------------------- VOI window
def window_bounds(center: float, width: float) -> tuple[float, float]:
    """The two thresholds of the LINEAR VOI function (PS3.3 C.11.2.1.2.1).

    Values ``<= low`` display as the minimum output, values ``> high`` as the
    maximum; in between the output rises linearly. Note the half-unit shift:
    ``low = c - 0.5 - (w - 1) / 2`` and ``high = c - 0.5 + (w - 1) / 2``.
    """
    c, w = float(center), float(width)
    return c - 0.5 - (w - 1) / 2, c - 0.5 + (w - 1) / 2


def _check(center: float, width: float, photometric: str) -> tuple[float, float]:
    c, w = float(center), float(width)
    if not np.isfinite(c) or not np.isfinite(w):
        raise ValueError(f"window center and width must be finite numbers, got {c!r} and {w!r}")
    if w < 1:
        raise ValueError(f"window width must be >= 1 for the LINEAR VOI function "
                         f"(PS3.3 C.11.2.1.2.1), got {w!r}")
    if photometric not in MONOCHROME:
        raise ValueError(f"windowing needs a grayscale image (MONOCHROME1 or MONOCHROME2), "
                         f"got photometric interpretation {photometric!r}")
    return c, w


def _ramp(x: np.ndarray, c: float, w: float, photometric: str) -> np.ndarray:
    """The LINEAR VOI function on float64 ``x``, as DCMTK computes it, as uint8.

    With output range ``low -> high`` (0 -> 255, or 255 -> 0 for MONOCHROME1):
    ``y = high - ((c - 0.5) / (w - 1) + 0.5) * (high - low) + x * (high - low) / (w - 1)``,
    which is the standard's ``((x - (c - 0.5)) / (w - 1) + 0.5) * (ymax - ymin) + ymin``
    rearranged, then truncated toward zero.
    """
    low, high = (255.0, 0.0) if photometric == "MONOCHROME1" else (0.0, 255.0)
    left, right = window_bounds(c, w)
    w1 = w - 1
    if w1 == 0:  # width 1: a threshold at c - 0.5
        return np.where(x <= left, low, high).astype(np.uint8)
    outrange = high - low
    offset = high - ((c - 0.5) / w1 + 0.5) * outrange
    gradient = outrange / w1
    y = x * gradient
    y += offset
    np.clip(y, 0.0, 255.0, out=y)
    out = y.astype(np.uint8)  # truncation toward zero, as DCMTK's cast
    out[x <= left] = int(low)
    out[x > right] = int(high)
    return out


def window(
    values: np.ndarray,
    center: float,
    width: float,
    photometric: str = "MONOCHROME2",
) -> np.ndarray:
    """Apply a window (PS3.3 C.11.2.1.2.1, LINEAR) and return 8-bit grey levels.

    ``values`` are modality values (Hounsfield units for CT: see :func:`modality_values`),
    any shape. The result is a ``uint8`` array of the same shape:

    - ``x <= c - 0.5 - (w - 1) / 2``  -> 0 (black),
    - ``x >  c - 0.5 + (w - 1) / 2``  -> 255 (white),
    - otherwise ``((x - (c - 0.5)) / (w - 1) + 0.5) * 255``, truncated toward zero.

    For ``MONOCHROME1`` (minimum = white) the ramp runs from 255 down to 0.
    Equal to DCMTK ``dcm2pnm +Ww c w`` for integer-valued input.

    Integer arrays are windowed through a lookup table over their value range
    (fast: one table of at most 65536 entries, then one indexing pass).
    """
    c, w = _check(center, width, photometric)
    arr = np.asarray(values)
    if arr.dtype.kind == "b":
        arr = arr.astype(np.uint8)
    if arr.dtype.kind in "iu" and arr.size:
        if arr.dtype in _SMALL_INTS:
            # One table over the dtype's whole range, laid out so that negative
            # values index it from the end (numpy wraps negative indices).
            bits = arr.dtype.itemsize * 8
            domain = np.arange(1 << bits, dtype=np.int64)
            if arr.dtype.kind == "i":
                domain[domain >= 1 << (bits - 1)] -= 1 << bits
            lut = _ramp(domain.astype(np.float64), c, w, photometric)
            return lut[arr]
        lo, hi = int(arr.min()), int(arr.max())
        if hi - lo < _MAX_LUT:
            lut = _ramp(np.arange(lo, hi + 1, dtype=np.float64), c, w, photometric)
            return lut[arr - lo]
    return _ramp(np.asarray(arr, dtype=np.float64), c, w, photometric)
