"""From stored pixel values to Hounsfield units to the 8-bit grey levels on screen.

Two steps of the DICOM grayscale pipeline (PS3.4 Annex N.2.1.1, figure N.2-1):

1. the **Modality LUT** (PS3.3 C.11.1): stored values -> modality values (for CT,
   Hounsfield units), either the linear ``Rescale Slope`` / ``Rescale Intercept``
   or a ``Modality LUT Sequence`` table -- :func:`modality_values`;
2. the **VOI LUT** (PS3.3 C.11.2): modality values -> the displayed range 0..255,
   either a window with a VOI LUT Function -- LINEAR (C.11.2.1.2.1), LINEAR_EXACT
   (C.11.2.1.3.2) or SIGMOID (C.11.2.1.3.1) -- :func:`window`, or a VOI LUT
   Sequence table (C.11.2.1.1) -- :class:`VoiLut`. :func:`header_vois` lists what
   the header offers.

:func:`window` reproduces DCMTK's ``dcm2pnm`` output pixel for pixel (``+Ww C W``
for LINEAR, with ``+Wfs`` for SIGMOID; ``+Wl n`` for a table): the same
double-precision formulas, truncation toward zero, and for MONOCHROME1 the falling
curve computed directly (output range 255 -> 0) rather than ``255 - y``
(PS3.3 C.7.6.3.1.2: MONOCHROME1 shows the minimum value as white; the inversion
happens after the VOI LUT). DCMTK 3.6.7 has no LINEAR_EXACT; that function follows
the standard's formula, checked against pydicom's ``apply_windowing``. pydicom's
``pydicom.pixels.processing`` is the model for the layout of this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset

from ..dicom.dicomio import pixels as _stored_pixels
from ..dicom.errors import InvalidValueError, MissingTagError, WorkbookError

__all__ = ["MONOCHROME", "VOI_FUNCTIONS", "modality_values", "window", "window_bounds",
           "voi_function", "VoiLut", "voi_lut", "HeaderVoi", "header_vois", "is_integer_valued",
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
    """Apply the Modality LUT to the stored values of every frame (PS3.3 C.11.1).

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
#: The VOI LUT Functions (0028,1056) of PS3.3 C.11.2.1.3; an absent one means LINEAR.
VOI_FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")


def voi_function(ds: Dataset) -> str:
    """The header's VOI LUT Function (0028,1056), upper case; ``"LINEAR"`` when absent
    or empty (PS3.3 C.11.2.1.3: LINEAR is the default). Raises
    :class:`InvalidValueError` for a value PS3.3 does not define."""
    value = str(ds.get("VOILUTFunction", "") or "").strip().upper() or "LINEAR"
    if value not in VOI_FUNCTIONS:
        raise InvalidValueError(getattr(ds, "filename", None),
                                f"VOI LUT Function (0028,1056) is {value!r}; PS3.3 C.11.2.1.3 "
                                f"defines only {', '.join(VOI_FUNCTIONS)}")
    return value


def window_bounds(center: float, width: float, function: str = "LINEAR") -> tuple[float, float]:
    """The two thresholds of a window (PS3.3 C.11.2.1.2.1 LINEAR, C.11.2.1.3.2 LINEAR_EXACT).

    Values ``<= low`` display as the minimum output, values ``> high`` as the
    maximum; in between the output rises linearly. LINEAR has a half-unit shift:
    ``low = c - 0.5 - (w - 1) / 2`` and ``high = c - 0.5 + (w - 1) / 2``;
    LINEAR_EXACT has none: ``c - w / 2`` and ``c + w / 2``. SIGMOID has no
    thresholds (it never reaches either end); its bounds are returned as
    LINEAR_EXACT's, the range where it changes most.
    """
    c, w = float(center), float(width)
    if function.upper() == "LINEAR":
        return c - 0.5 - (w - 1) / 2, c - 0.5 + (w - 1) / 2
    return c - w / 2, c + w / 2


def _check(center: float, width: float, photometric: str, function: str) -> tuple[float, float]:
    c, w = float(center), float(width)
    if not np.isfinite(c) or not np.isfinite(w):
        raise ValueError(f"window center and width must be finite numbers, got {c!r} and {w!r}")
    if function not in VOI_FUNCTIONS:
        raise ValueError(f"VOI LUT Function {function!r} is not one of {', '.join(VOI_FUNCTIONS)} "
                         "(PS3.3 C.11.2.1.3)")
    if function == "LINEAR" and w < 1:
        raise ValueError(f"window width must be >= 1 for the LINEAR VOI function "
                         f"(PS3.3 C.11.2.1.2.1), got {w!r}")
    if w <= 0:
        raise ValueError(f"window width must be > 0 for the {function} VOI function "
                         f"(PS3.3 C.11.2.1.3), got {w!r}")
    if photometric not in MONOCHROME:
        raise ValueError(f"windowing needs a grayscale image (MONOCHROME1 or MONOCHROME2), "
                         f"got photometric interpretation {photometric!r}")
    return c, w


def _output_range(photometric: str) -> tuple[float, float]:
    """``(ymin, ymax)`` as DCMTK orders them: 0 -> 255, or 255 -> 0 for MONOCHROME1
    (PS3.3 C.7.6.3.1.2: the minimum value is shown white). The falling curve is
    computed directly, not as ``255 - rising``: the two truncate differently."""
    return (255.0, 0.0) if photometric == "MONOCHROME1" else (0.0, 255.0)


def _linear(x: np.ndarray, c: float, w: float, photometric: str) -> np.ndarray:
    """LINEAR (PS3.3 C.11.2.1.2.1) on float64 ``x``, as DCMTK computes it, as uint8.

    ``y = high - ((c - 0.5) / (w - 1) + 0.5) * (high - low) + x * (high - low) / (w - 1)``,
    the standard's ``((x - (c - 0.5)) / (w - 1) + 0.5) * (ymax - ymin) + ymin``
    rearranged as DCMTK's ``dimoopxt.h`` evaluates it, then truncated toward zero.
    """
    low, high = _output_range(photometric)
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


def _linear_exact(x: np.ndarray, c: float, w: float, photometric: str) -> np.ndarray:
    """LINEAR_EXACT (PS3.3 C.11.2.1.3.2) on float64 ``x``, as uint8:
    ``x <= c - w/2`` -> ymin, ``x > c + w/2`` -> ymax, else
    ``((x - c) / w + 0.5) * (ymax - ymin) + ymin``. DCMTK 3.6.7 does not implement
    this function (it warns and applies LINEAR), so the arithmetic is the
    standard's formula as written (pydicom's ``apply_windowing`` evaluates it in
    the same order), truncated toward zero like DCMTK's LINEAR, with the falling
    curve computed directly for MONOCHROME1."""
    low, high = _output_range(photometric)
    left, right = window_bounds(c, w, "LINEAR_EXACT")
    y = (x - c) / w
    y += 0.5
    y *= high - low
    y += low
    np.clip(y, 0.0, 255.0, out=y)
    out = y.astype(np.uint8)
    out[x <= left] = int(low)
    out[x > right] = int(high)
    return out


def _sigmoid(x: np.ndarray, c: float, w: float, photometric: str) -> np.ndarray:
    """SIGMOID (PS3.3 C.11.2.1.3.1) on float64 ``x``, as uint8:
    ``y = (ymax - ymin) / (1 + exp(-4 (x - c) / w)) + ymin``, truncated toward zero.
    This is DCMTK's ``dcm2pnm`` arithmetic (``dimoopxt.h``, measured equal on every
    value of a 16-bit range): the same double-precision expression, with
    ``(ymin, ymax) = (255, 0)`` for MONOCHROME1, i.e. ``trunc(255 - 255 / (1 + e))``."""
    low, high = _output_range(photometric)
    with np.errstate(over="ignore"):  # exp overflows to inf far below c: y -> ymin
        y = (high - low) / (1.0 + np.exp(-4.0 * (x - c) / w)) + low
    np.clip(y, 0.0, 255.0, out=y)
    return y.astype(np.uint8)


_CURVES = {"LINEAR": _linear, "LINEAR_EXACT": _linear_exact, "SIGMOID": _sigmoid}


def _through_table(arr: np.ndarray, curve) -> np.ndarray:  # noqa: ANN001 (a float -> uint8 map)
    """``curve(arr)`` for any array; integer arrays through one table over their range
    (one table of at most 65536 entries, then one indexing pass)."""
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
            return curve(domain.astype(np.float64))[arr]
        lo, hi = int(arr.min()), int(arr.max())
        if hi - lo < _MAX_LUT:
            return curve(np.arange(lo, hi + 1, dtype=np.float64))[arr - lo]
    return curve(np.asarray(arr, dtype=np.float64))


def window(
    values: np.ndarray,
    center: float,
    width: float,
    photometric: str = "MONOCHROME2",
    function: str = "LINEAR",
) -> np.ndarray:
    """Apply a window with a VOI LUT Function (PS3.3 C.11.2.1.2, C.11.2.1.3) and
    return 8-bit grey levels.

    ``values`` are modality values (Hounsfield units for CT: see :func:`modality_values`),
    any shape; ``function`` is the header's VOI LUT Function (0028,1056)
    (:func:`voi_function`): LINEAR (the default), LINEAR_EXACT or SIGMOID. The
    result is a ``uint8`` array of the same shape. For LINEAR:

    - ``x <= c - 0.5 - (w - 1) / 2``  -> 0 (black),
    - ``x >  c - 0.5 + (w - 1) / 2``  -> 255 (white),
    - otherwise ``((x - (c - 0.5)) / (w - 1) + 0.5) * 255``, truncated toward zero;

    LINEAR_EXACT drops the half-unit shifts (``(x - c) / w + 0.5``, thresholds
    ``c -/+ w/2``, width > 0); SIGMOID is ``255 / (1 + exp(-4 (x - c) / w))``
    (width > 0). For ``MONOCHROME1`` (minimum = white) each curve runs from 255
    down to 0, computed directly. Equal to DCMTK ``dcm2pnm +Ww c w`` (LINEAR) and
    ``dcm2pnm +Ww c w +Wfs`` (SIGMOID) for integer-valued input; DCMTK keeps its
    modality values in an integer type, so for non-integer values it equals
    ``window(np.trunc(values), ...)``.
    """
    function = str(function).strip().upper() or "LINEAR"
    c, w = _check(center, width, photometric, function)
    curve = _CURVES[function]
    return _through_table(np.asarray(values), lambda x: curve(x, c, w, photometric))


# --------------------------------------------------------------------------- VOI LUT table
@dataclass(frozen=True)
class VoiLut:
    """One item of a VOI LUT Sequence (0028,3010; PS3.3 C.11.2.1.1): a table applied to
    modality values instead of a window.

    LUT Descriptor (0028,3002) = (entries, first input value mapped, bits per entry):
    0 entries means 65536; the first value mapped is signed (SS) when the image's
    Pixel Representation is 1. Input values below the first value mapped take the
    first entry; values past the last mapped value take the last entry.
    """

    first_mapped: int
    bits: int
    table: np.ndarray  #: the LUT Data (0028,3006) as integers, ``entries`` long
    explanation: str = ""

    def values(self, x: np.ndarray) -> np.ndarray:
        """The LUT output for modality values ``x`` (integers: non-integers are
        truncated toward zero, as DCMTK's integer intermediate image does). Equal to
        pydicom's ``apply_voi_lut``."""
        arr = np.asarray(x)
        if arr.dtype.kind == "f":
            arr = np.trunc(arr)
        index = np.clip(arr.astype(np.int64) - self.first_mapped, 0, len(self.table) - 1)
        return self.table[index]

    def grey_table(self, photometric: str = "MONOCHROME2") -> np.ndarray:
        """The 8-bit grey level of every table entry, for a viewer:
        ``grey = grey_table()[clip(x - first_mapped, 0, entries - 1)]``.

        The LUT's output range 0 .. 2^bits - 1 is spread over the grey scale as
        DCMTK 3.6.7's ``dcm2pnm +Wl n`` does (measured equal on 8-, 10-, 12- and
        16-bit tables, MONOCHROME1 and 2): ``trunc(low + v * (high - low + 1) / 2^bits)``
        with ``(low, high) = (0, 255)``, or ``(255, 0)`` for MONOCHROME1 -- for
        MONOCHROME2 that is ``v >> (bits - 8)``, the top 8 bits of each entry.
        """
        if photometric not in MONOCHROME:
            raise ValueError(f"a VOI LUT needs a grayscale image (MONOCHROME1 or MONOCHROME2), "
                             f"got photometric interpretation {photometric!r}")
        low, high = _output_range(photometric)
        y = low + self.table.astype(np.float64) * ((high - low + 1) / float(1 << self.bits))
        return np.clip(y, 0.0, 255.0).astype(np.uint8)

    def apply(self, x: np.ndarray, photometric: str = "MONOCHROME2") -> np.ndarray:
        """8-bit grey levels for modality values ``x``: the table, then
        :meth:`grey_table`'s scaling. Equal to ``dcm2pnm +Wl n``."""
        arr = np.asarray(x)
        if arr.dtype.kind == "f":
            arr = np.trunc(arr)
        index = np.clip(arr.astype(np.int64) - self.first_mapped, 0, len(self.table) - 1)
        return self.grey_table(photometric)[index]


def voi_lut(ds: Dataset, index: int = 0) -> VoiLut:
    """Item ``index`` of the header's VOI LUT Sequence (0028,3010) as a :class:`VoiLut`.

    Raises :class:`MissingTagError` when there is no such item or it lacks LUT
    Descriptor or LUT Data, and :class:`InvalidValueError` when the descriptor is not
    three numbers with at most 16 bits per entry (PS3.3 C.11.2.1.1.1)."""
    where = getattr(ds, "filename", None)
    items = ds.get("VOILUTSequence") or []
    if index >= len(items):
        raise MissingTagError(where, f"the VOI LUT Sequence (0028,3010) has no item {index + 1}")
    item = items[index]
    if "LUTDescriptor" not in item or "LUTData" not in item:
        raise MissingTagError(where, "a VOI LUT Sequence item lacks LUT Descriptor (0028,3002) "
                                     "or LUT Data (0028,3006) (PS3.3 C.11.2.1.1)")
    try:
        entries, first, bits = (int(v) for v in item.LUTDescriptor)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(where, "the VOI LUT Descriptor (0028,3002) is not three numbers "
                                       f"(PS3.3 C.11.2.1.1.1): {exc}") from None
    if not 1 <= bits <= 16:
        raise InvalidValueError(where, f"the VOI LUT Descriptor says {bits} bits per entry; "
                                       "PS3.3 C.11.2.1.1.1 allows 8 to 16 (LUT Data holds 16-bit "
                                       "words)")
    entries = entries or 65536
    if int(ds.get("PixelRepresentation", 0) or 0) == 1 and first >= 1 << 15:
        first -= 1 << 16  # the second value is SS for signed images (PS3.3 C.11.2.1.1.1)
    table = _lut_data(ds, item)[:entries]
    if len(table) == 0:
        raise InvalidValueError(where, "the VOI LUT Data (0028,3006) is empty")
    explanation = str(item.get("LUTExplanation", "") or "").strip()
    return VoiLut(first, bits, table, explanation)


# --------------------------------------------------------------------------- what the header offers
@dataclass(frozen=True)
class HeaderVoi:
    """A VOI transformation the header offers (PS3.3 C.11.2): a window (center, width
    and the header's VOI LUT Function) or a VOI LUT Sequence item (``lut``)."""

    name: str          #: the explanation the header gives, else "window n" / "VOI LUT n"
    kind: str          #: "window" or "lut"
    center: float | None = None
    width: float | None = None
    function: str = "LINEAR"
    lut: VoiLut | None = None

    def apply(self, values: np.ndarray, photometric: str = "MONOCHROME2") -> np.ndarray:
        """8-bit grey levels, as DCMTK ``dcm2pnm +Wi n`` (a window) or ``+Wl n`` (a LUT)."""
        if self.lut is not None:
            return self.lut.apply(values, photometric)
        return window(values, self.center, self.width, photometric, self.function)  # type: ignore[arg-type]


def _as_list(value: object) -> list:
    if value is None:
        return []
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return list(value)  # type: ignore[arg-type]
    return [value]


def header_vois(ds: Dataset) -> list[HeaderVoi]:
    """Every VOI transformation the header offers, windows first (PS3.3 C.11.2.1.2:
    Window Center (0028,1050) / Width (0028,1051), one pair per value, named by
    Window Center & Width Explanation (0028,1055), all with the VOI LUT Function
    (0028,1056)), then each VOI LUT Sequence (0028,3010) item named by its LUT
    Explanation (0028,3003).

    Window pairs that are not finite numbers, or whose width the function does not
    allow (LINEAR: >= 1; LINEAR_EXACT, SIGMOID: > 0), are skipped, as DCMTK skips them.
    A VOI LUT item that cannot be read raises (:func:`voi_lut`).
    """
    function = voi_function(ds)
    centers = _as_list(ds.get("WindowCenter"))
    widths = _as_list(ds.get("WindowWidth"))
    labels = _as_list(ds.get("WindowCenterWidthExplanation"))
    found: list[HeaderVoi] = []
    for i, (c, w) in enumerate(zip(centers, widths, strict=False)):
        try:
            center, width = float(c), float(w)
        except (TypeError, ValueError):
            continue
        if not (np.isfinite(center) and np.isfinite(width)):
            continue
        if width < 1 if function == "LINEAR" else width <= 0:
            continue
        label = str(labels[i]).strip() if i < len(labels) else ""
        found.append(HeaderVoi(label or f"window {i + 1}", "window", center, width, function))
    for i in range(len(ds.get("VOILUTSequence") or [])):
        lut = voi_lut(ds, i)
        found.append(HeaderVoi(lut.explanation or f"VOI LUT {i + 1}", "lut", lut=lut))
    return found
