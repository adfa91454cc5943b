"""Labels stored as DICOM, read into masks on an image's voxel grid.

Two label objects are read here, each placed by geometry, never by file or frame order:

- **Segmentation (SEG)**, PS3.3 A.51 and C.8.20: a multi-frame image whose frames
  are masks, each frame of one segment (Segment Identification Sequence in its
  Per-frame Functional Groups, the Segmentation Functional Groups of C.8.20.3) and at
  one place (Plane Position
  (Patient), C.7.6.16.2.3, on the plane of the Plane Orientation Sequence). A
  BINARY segmentation stores one bit per pixel, a FRACTIONAL one a byte read as a
  fraction of Maximum Fractional Value (0062,000E) (C.8.20.2): a probability or
  an occupancy. The file is read with highdicom; frames are put into the image's
  slices by their positions, and the Derivation Image Sequence's source instance
  (Referenced SOP Instance UID of each frame's Source Image Sequence) must be the
  image slice found there.
- **RT Structure Set (RTSTRUCT)**, PS3.3 A.19 and C.8.8.6: regions of interest as
  closed planar polygons, Contour Data (3006,0050) being x, y, z triplets in the
  patient coordinate system (mm, LPS). They are rasterised onto the image's grid:
  a voxel belongs to a region when its *centre* (the point Image Position (Patient)
  and Pixel Spacing place, C.7.6.2.1.1) is inside the region's contours on that
  slice by the even-odd rule: a ray from the centre crosses the contours an odd
  number of times, so a contour inside another is a hole (the combination of
  CLOSEDPLANAR_XOR contours, C.8.8.6.1; what RT systems do for CLOSED_PLANAR ones).
  The test is matplotlib's ``Path.contains_points`` (a ray-crossing test); a centre
  exactly on an edge is decided by that test's half-open rule (consistently, but
  either way is right), and the tests check the masks against scikit-image's
  ``draw.polygon``, an independent scan-line implementation.

Every label is checked against its image: the same Frame of Reference UID (C.7.4.1),
referenced SOP Instance UIDs that are the image's slices at the label's position,
the same orientation and pixel spacing, and positions on the image's grid within the
tolerances :func:`helpers.image.volume.load_series` uses. A mismatch raises
:class:`LabelMismatchError` naming the label file and the image file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import highdicom as hd
import numpy as np
import pandas as pd
from matplotlib.path import Path as PolygonPath
from pydicom.dataset import Dataset

from ..dicom.dicomio import read
from ..dicom.errors import WorkbookError
from ..paths import shown
from .stack import (
    GRID_WARN_FRACTION,
    IN_PLANE_WARN_FRACTION,
    ORIENTATION_TOLERANCE,
    PIXEL_SPACING_TOLERANCE,
)
from .volume import Volume

__all__ = ["LabelMismatchError", "NotALabelError", "Labels", "Segment", "cielab_to_rgb",
           "segments", "seg_frames", "read_seg", "rois", "read_rtstruct", "inside_polygon"]

PathLike = str | os.PathLike[str]
SEG_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4"
RTSTRUCT_STORAGE = "1.2.840.10008.5.1.4.1.1.481.3"


class LabelMismatchError(WorkbookError, ValueError):
    """A label object (SEG, RTSTRUCT) that does not fit the image it is read onto:
    another Frame of Reference (PS3.3 C.7.4.1), a referenced instance that is not the
    image's slice at that place, another orientation, pixel spacing or grid, or a
    position between slices. The message names the label file and the image file."""


class NotALabelError(WorkbookError, ValueError):
    """A file that is not the label object asked for (a SEG read as RTSTRUCT, a CT...)."""


# ---- colours -----------------------------------------------------------------------------

#: The D65 white point (PS3.3 C.10.7.1.1 says CIELab relative to D65), CIE XYZ.
D65 = (0.95047, 1.0, 1.08883)
#: CIE XYZ (D65) to linear sRGB (IEC 61966-2-1).
XYZ_TO_LINEAR_SRGB = np.array([[3.2404542, -1.5371385, -0.4985314],
                               [-0.9692660, 1.8760108, 0.0415560],
                               [0.0556434, -0.2040259, 1.0572252]])


def cielab_to_rgb(value: tuple[int, int, int] | list[int]) -> tuple[int, int, int]:
    """sRGB (0-255) of a Recommended Display CIELab Value (0062,000D).

    PS3.3 C.10.7.1.1: the three values are L*, a*, b* scaled to 0-65535: L* from
    0-100 and a*, b* from -128-127 (so ``L = v0 * 100 / 65535``, ``a = v1 * 255 /
    65535 - 128``), relative to the D65 illuminant. Then CIE L*a*b* to XYZ (CIE 15),
    XYZ to linear sRGB and the sRGB transfer curve (IEC 61966-2-1).
    """
    lab = np.asarray(value, dtype=float)
    L, a, b = lab[0] * 100.0 / 65535.0, lab[1] * 255.0 / 65535.0 - 128.0, \
        lab[2] * 255.0 / 65535.0 - 128.0
    fy = (L + 16.0) / 116.0
    f = np.array([fy + a / 500.0, fy, fy - b / 200.0])
    delta = 6.0 / 29.0
    xyz = np.where(f > delta, f ** 3, 3 * delta ** 2 * (f - 4.0 / 29.0)) * np.array(D65)
    linear = np.clip(XYZ_TO_LINEAR_SRGB @ xyz, 0.0, 1.0)
    srgb = np.where(linear <= 0.0031308, 12.92 * linear,
                    1.055 * linear ** (1 / 2.4) - 0.055)
    return tuple(int(v) for v in np.rint(srgb * 255.0))  # type: ignore[return-value]


# ---- what was read -------------------------------------------------------------------------

@dataclass(frozen=True)
class Segment:
    """One segment (PS3.3 C.8.20.2, Segment Sequence item) or one RT ROI."""

    number: int
    label: str
    category: str
    type: str
    algorithm_type: str
    rgb: tuple[int, int, int]


@dataclass
class Labels:
    """Masks on a :class:`~helpers.image.volume.Volume`'s grid, one per segment or ROI.

    ``masks[label]`` has the volume's shape ``[slice, row, column]``: ``bool`` for a
    BINARY SEG and an RTSTRUCT, ``float`` in 0-1 for a FRACTIONAL SEG. ``segments``
    describes each (same order). ``source`` is the label file.
    """

    masks: dict[str, np.ndarray]
    segments: list[Segment]
    source: Path
    kind: str
    skipped: int = 0
    notes: list[str] = field(default_factory=list)

    def label_map(self) -> np.ndarray:
        """One array: each voxel the number of the last segment that holds it (0: none);
        fractional masks count where they are at least 0.5."""
        out = np.zeros(next(iter(self.masks.values())).shape, dtype=np.uint8)
        for s in self.segments:
            out[self.masks[s.label] >= 0.5] = s.number
        return out

    def volume_ml(self, label: str, volume: Volume) -> float:
        """The volume of one mask in millilitres: voxels x voxel volume (mm3) / 1000."""
        col, row, sl = volume.spacing
        return float(np.sum(self.masks[label], dtype=float)) * col * row * sl / 1000.0


# ---- the image side -------------------------------------------------------------------------

@dataclass(frozen=True)
class _Image:
    """What a label is checked against: the volume's slices' UIDs and geometry."""

    volume: Volume
    uids: list[str]
    frame_of_reference: str
    root: Path | None

    def name(self, k: int) -> str:
        return shown(self.volume.paths[k], self.root)

    @property
    def inverse(self) -> np.ndarray:
        return np.linalg.inv(self.volume.affine)


def _image(volume: Volume, root: PathLike | None) -> _Image:
    uids, frames = [], set()
    for p in volume.paths:
        ds = read(p, stop_before_pixels=True, decode_all=False,
                  specific_tags=["SOPInstanceUID", "FrameOfReferenceUID"])
        uids.append(str(ds.SOPInstanceUID))
        frames.add(str(ds.get("FrameOfReferenceUID", "")))
    if len(frames) != 1:
        raise LabelMismatchError(volume.paths[0], "the image's slices do not share one Frame of "
                                 "Reference UID (PS3.3 C.7.4.1)", root=root)
    return _Image(volume, uids, frames.pop(), Path(root) if root is not None else None)


def _mismatch(label: Path, image: _Image, k: int, problem: str,
              root: PathLike | None) -> LabelMismatchError:
    return LabelMismatchError(label, f"{problem} (image: {image.name(k)})", root=root)


def _check_frame_of_reference(path: Path, uid: str, image: _Image, root: PathLike | None) -> None:
    if uid != image.frame_of_reference:
        raise _mismatch(path, image, 0, f"Frame of Reference UID {uid} is not the image's "
                        f"{image.frame_of_reference}: the label was drawn in another "
                        "patient coordinate system (PS3.3 C.7.4.1)", root)


def _slice_of(path: Path, points_mm: np.ndarray, image: _Image, root: PathLike | None,
              what: str) -> tuple[int, np.ndarray]:
    """The image slice a planar set of points lies on, and their (column, row)
    indices: slice index within :data:`GRID_WARN_FRACTION` of a whole number, as
    load_series accepts a slice off the regular grid."""
    ijk = (image.inverse @ np.c_[points_mm, np.ones(len(points_mm))].T)[:3].T
    s = ijk[:, 2]
    k = int(np.rint(s.mean()))
    if np.max(np.abs(s - k)) > GRID_WARN_FRACTION or not 0 <= k < image.volume.shape[0]:
        where = f"{s.min():.2f}" if np.ptp(s) < 1e-6 else f"{s.min():.2f} to {s.max():.2f}"
        nearest = min(max(k, 0), image.volume.shape[0] - 1)
        raise _mismatch(path, image, nearest, f"{what} lies at slice index {where} of the "
                        f"image ({image.volume.shape[0]} slices): not on a slice of its grid",
                        root)
    return k, ijk[:, :2]


def _check_reference(path: Path, referenced: str | None, k: int, image: _Image,
                     root: PathLike | None, what: str) -> None:
    if referenced is None or referenced == image.uids[k]:
        return
    if referenced in image.uids:
        other = image.uids.index(referenced)
        raise _mismatch(path, image, k, f"{what} references {image.name(other)} but lies on "
                        f"slice {k}", root)
    raise _mismatch(path, image, k, f"{what} references SOP Instance {referenced}, which is "
                    "not a slice of the image", root)


# ---- SEG -----------------------------------------------------------------------------------

def _read_seg(path: PathLike) -> hd.seg.Segmentation:
    p = Path(path)
    ds = read(p, decode_all=False)   # thousands of functional-group items: decoded on use
    if str(ds.SOPClassUID) != SEG_STORAGE:
        raise NotALabelError(p, f"is a {ds.SOPClassUID.name}, not a Segmentation "
                             "(PS3.3 A.51)")
    return hd.seg.Segmentation.from_dataset(ds, copy=False)


def segments(path: PathLike) -> pd.DataFrame:
    """One row per segment of a SEG (PS3.3 C.8.20.2): number, label, category, type,
    algorithm type, the Recommended Display CIELab Value and its sRGB colour."""
    return _segment_table(_read_seg(path))


def _segment_table(seg: hd.seg.Segmentation) -> pd.DataFrame:
    rows = []
    for number in seg.get_segment_numbers():
        d = seg.get_segment_description(number)
        lab = d.get("RecommendedDisplayCIELabValue")
        rows.append({
            "number": number, "label": d.segment_label,
            "category": d.segmented_property_category.meaning,
            "type": d.segmented_property_type.meaning,
            "algorithm_type": d.algorithm_type.value,
            "algorithm": d.SegmentAlgorithmName if "SegmentAlgorithmName" in d else "",
            "cielab": tuple(int(v) for v in lab) if lab is not None else None,
            "rgb": cielab_to_rgb(lab) if lab is not None else None,
        })
    table = pd.DataFrame(rows)
    table.attrs["segmentation_type"] = seg.segmentation_type.value
    return table


def seg_frames(path: PathLike) -> pd.DataFrame:
    """One row per frame of a SEG: its segment, Image Position (Patient) of the frame
    (Plane Position Sequence, PS3.3 C.7.6.16.2.3) and the source image it was derived
    from (Derivation Image Sequence, C.7.6.16.2.6), in frame order."""
    ds = read(Path(path), stop_before_pixels=True, decode_all=False)
    rows = []
    for i, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
        position = _shared_or_frame(ds, "PlanePositionSequence", i).ImagePositionPatient
        source = None
        for derivation in item.get("DerivationImageSequence", []):
            for src in derivation.get("SourceImageSequence", []):
                source = str(src.ReferencedSOPInstanceUID)
        rows.append({"frame": i + 1,
                     "segment": int(_shared_or_frame(ds, "SegmentIdentificationSequence", i)
                                    .ReferencedSegmentNumber),
                     "x": float(position[0]), "y": float(position[1]), "z": float(position[2]),
                     "source_uid": source})
    return pd.DataFrame(rows)


def _shared_or_frame(ds: Dataset, keyword: str, frame: int) -> Dataset | None:
    per = ds.PerFrameFunctionalGroupsSequence[frame]
    if keyword in per:
        return per[keyword][0]
    shared = ds.get("SharedFunctionalGroupsSequence")
    if shared and keyword in shared[0]:
        return shared[0][keyword][0]
    return None


def read_seg(path: PathLike, volume: Volume, *, root: PathLike | None = None) -> Labels:
    """The segments of a SEG as masks on ``volume``'s grid (see the module's doc).

    Each frame goes to the slice its Plane Position (Patient) lies on, and must
    reference that slice (Derivation Image Sequence) when it references one.
    Raises :class:`LabelMismatchError` (naming the SEG and the image file) when the
    Frame of Reference, orientation, pixel spacing or size differs, or a frame lies
    off the image's grid; :class:`NotALabelError` for a file that is not a SEG.
    ``root``: the folder files are named relative to in messages.
    """
    p = Path(path)
    seg = _read_seg(p)
    image = _image(volume, root)
    _check_frame_of_reference(p, str(seg.FrameOfReferenceUID), image, root)
    if (int(seg.Rows), int(seg.Columns)) != volume.shape[1:]:
        raise _mismatch(p, image, 0, f"frames are {seg.Rows}x{seg.Columns} pixels, the image "
                        f"{volume.shape[1]}x{volume.shape[2]}: another grid (resample first)",
                        root)
    direction = volume.direction
    col_spacing, row_spacing, _ = volume.spacing
    fractional = seg.segmentation_type.value == "FRACTIONAL"
    scale = float(seg.MaximumFractionalValue) if fractional else 1.0
    table = _segment_table(seg)
    masks = {r.label: np.zeros(volume.shape, dtype=float if fractional else bool)
             for r in table.itertuples()}
    label_of = dict(zip(table.number, table.label, strict=True))
    stored = seg.get_stored_frames()
    for i in range(int(seg.NumberOfFrames)):
        orientation = _shared_or_frame(seg, "PlaneOrientationSequence", i)
        measures = _shared_or_frame(seg, "PixelMeasuresSequence", i)
        iop = np.array([float(v) for v in orientation.ImageOrientationPatient])
        if np.max(np.abs(iop - np.r_[direction[:, 0], direction[:, 1]])) > ORIENTATION_TOLERANCE:
            raise _mismatch(p, image, 0, f"frame {i + 1}'s Image Orientation (Patient) "
                            f"{list(np.round(iop, 4))} is not the image's", root)
        spacing = np.array([float(v) for v in measures.PixelSpacing])
        if np.max(np.abs(spacing / np.array([row_spacing, col_spacing]) - 1)) \
                > PIXEL_SPACING_TOLERANCE:
            raise _mismatch(p, image, 0, f"frame {i + 1}'s Pixel Spacing {list(spacing)} is not "
                            f"the image's {[row_spacing, col_spacing]}", root)
        item = seg.PerFrameFunctionalGroupsSequence[i]
        position = np.array([float(v) for v in _shared_or_frame(
            seg, "PlanePositionSequence", i).ImagePositionPatient])
        k, in_plane = _slice_of(p, position[None, :], image, root, f"frame {i + 1}")
        if np.max(np.abs(in_plane)) > IN_PLANE_WARN_FRACTION:
            raise _mismatch(p, image, k, f"frame {i + 1} is shifted {in_plane[0]} pixels "
                            "within the slice plane from the image's grid", root)
        source = None
        for derivation in item.get("DerivationImageSequence", []):
            for src in derivation.get("SourceImageSequence", []):
                source = str(src.ReferencedSOPInstanceUID)
        _check_reference(p, source, k, image, root, f"frame {i + 1}")
        identification = _shared_or_frame(seg, "SegmentIdentificationSequence", i)
        label = label_of[int(identification.ReferencedSegmentNumber)]
        frame = stored[i]
        if fractional:
            masks[label][k] = np.maximum(masks[label][k], frame / scale)
        else:
            masks[label][k] |= frame.astype(bool)
    segs = [Segment(r.number, r.label, r.category, r.type, r.algorithm_type,
                    r.rgb if r.rgb is not None else (255, 0, 0)) for r in table.itertuples()]
    return Labels(masks, segs, p, f"SEG {seg.segmentation_type.value}")


# ---- RTSTRUCT ------------------------------------------------------------------------------

def _read_rtstruct(path: PathLike) -> Dataset:
    p = Path(path)
    # Contour Data is parsed below from its text, many times faster than pydicom's
    # per-value DS objects; every other element the reader uses is decoded on access
    ds = read(p, decode_all=False)
    if str(ds.SOPClassUID) != RTSTRUCT_STORAGE:
        raise NotALabelError(p, f"is a {ds.SOPClassUID.name}, not an RT Structure Set "
                             "(PS3.3 A.19)")
    return ds


def _contour_points(path: Path, contour: Dataset) -> np.ndarray:
    """Contour Data (3006,0050) of one contour as an (n, 3) array of mm (PS3.3 C.8.8.6)."""
    element = contour.get_item(0x30060050)
    if element is None:
        return np.empty((0, 3))
    value = element.value
    try:
        if isinstance(value, bytes):
            text = value.decode("ascii").strip(" \x00")
            numbers = np.array(text.split("\\"), dtype=float) if text else np.empty(0)
        else:
            numbers = np.asarray(value, dtype=float).ravel()
        return numbers.reshape(-1, 3)
    except (ValueError, UnicodeDecodeError):
        raise NotALabelError(path, "Contour Data (3006,0050) is not a list of x, y, z "
                             "decimal strings (PS3.3 C.8.8.6)") from None


def rois(path: PathLike) -> pd.DataFrame:
    """One row per ROI of an RT Structure Set: number, name, display colour (ROI Display
    Color, RGB, PS3.3 C.8.8.6), interpreted type (C.8.8.8), how many contours and on
    how many distinct planes, and the mean of each coordinate over all contour points
    (a rough centre: LPS mm, so the smallest ``y`` is the most anterior)."""
    p = Path(path)
    return _roi_table(p, _read_rtstruct(p))[0]


_Contours = dict[int, list[tuple[Dataset, np.ndarray]]]


def _roi_table(p: Path, ds: Dataset) -> tuple[pd.DataFrame, _Contours]:
    """The ROI table, and each ROI's contours with their points."""
    names = {int(r.ROINumber): str(r.ROIName) for r in ds.StructureSetROISequence}
    kinds = {int(o.ReferencedROINumber): str(o.get("RTROIInterpretedType", ""))
             for o in ds.get("RTROIObservationsSequence", [])}
    rows, contours = [], {}
    for rc in ds.ROIContourSequence:
        number = int(rc.ReferencedROINumber)
        items = [(c, _contour_points(p, c)) for c in rc.get("ContourSequence", [])]
        contours[number] = items
        points = [q for _, q in items if len(q)]
        allp = np.vstack(points) if points else np.empty((0, 3))
        rows.append({"number": number, "name": names.get(number, ""),
                     "rgb": tuple(int(v) for v in rc.get("ROIDisplayColor", [255, 0, 0])),
                     "type": kinds.get(number, ""), "contours": len(items),
                     "planes": len({round(float(q[0, 2]), 3) for q in points}),
                     "x": allp[:, 0].mean() if len(allp) else np.nan,
                     "y": allp[:, 1].mean() if len(allp) else np.nan,
                     "z": allp[:, 2].mean() if len(allp) else np.nan})
    return pd.DataFrame(rows), contours


def inside_polygon(polygon_xy: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Pixels of a ``shape`` (rows, columns) grid whose centre ``(column, row)`` is
    inside the closed polygon ``polygon_xy`` (vertices as (column, row) in pixel
    index units), by matplotlib's ray-crossing test (even-odd)."""
    out = np.zeros(shape, dtype=bool)
    if len(polygon_xy) < 3:
        return out
    lo = np.maximum(np.floor(polygon_xy.min(axis=0)).astype(int), 0)
    hi = np.minimum(np.ceil(polygon_xy.max(axis=0)).astype(int) + 1, [shape[1], shape[0]])
    if np.any(hi <= lo):
        return out
    cols, rows = np.meshgrid(np.arange(lo[0], hi[0]), np.arange(lo[1], hi[1]))
    path = PolygonPath(np.vstack([polygon_xy, polygon_xy[:1]]), closed=True)
    hit = path.contains_points(np.c_[cols.ravel(), rows.ravel()]).reshape(cols.shape)
    out[lo[1]:hi[1], lo[0]:hi[0]] = hit
    return out


def read_rtstruct(path: PathLike, volume: Volume, *, names: list[str] | None = None,
                  partial: bool = False, root: PathLike | None = None) -> Labels:
    """The ROIs of an RT Structure Set rasterised onto ``volume``'s grid (see the
    module's doc for the inside rule). ``names``: only these ROIs (all by default).

    Each contour must lie on one slice of the volume (within the load_series
    tolerance) and reference that slice's SOP Instance UID when it references one.
    ``partial=True`` skips the contours that lie outside the volume's slices (a
    structure set drawn on a longer series than the one loaded) and counts them in
    :attr:`Labels.skipped`; by default they are an error. Raises
    :class:`LabelMismatchError` naming both files, :class:`NotALabelError` for a
    file that is not an RTSTRUCT.
    """
    p = Path(path)
    ds = _read_rtstruct(p)
    image = _image(volume, root)
    for ref in ds.get("ReferencedFrameOfReferenceSequence", []):
        _check_frame_of_reference(p, str(ref.FrameOfReferenceUID), image, root)
    table, contours = _roi_table(p, ds)
    wanted = table if names is None else table[table.name.isin(names)]
    if names is not None and len(wanted) != len(set(names)):
        missing = sorted(set(names) - set(table.name))
        raise NotALabelError(p, f"has no ROI named {missing}; it has {list(table.name)}")
    masks, segs, skipped = {}, [], 0
    n_slices = volume.shape[0]
    for r in wanted.itertuples():
        mask = np.zeros(volume.shape, dtype=bool)
        for j, (contour, pts) in enumerate(contours[r.number]):
            what = f"ROI {r.name!r} contour {j + 1}"
            if str(contour.get("ContourGeometricType", "")) not in ("CLOSED_PLANAR",
                                                                    "CLOSEDPLANAR_XOR"):
                continue   # points and open polylines enclose no voxel
            if partial:
                s = (image.inverse @ np.r_[pts[0], 1.0])[2]
                if not -GRID_WARN_FRACTION <= s <= n_slices - 1 + GRID_WARN_FRACTION:
                    skipped += 1
                    continue
            k, xy = _slice_of(p, pts, image, root, what)
            refs = [str(i.ReferencedSOPInstanceUID)
                    for i in contour.get("ContourImageSequence", [])]
            _check_reference(p, refs[0] if refs else None, k, image, root, what)
            mask[k] ^= inside_polygon(xy, volume.shape[1:])
        masks[r.name] = mask
        segs.append(Segment(r.number, r.name, "", r.type, "", r.rgb))
    return Labels(masks, segs, p, "RTSTRUCT", skipped=skipped)
