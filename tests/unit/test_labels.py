"""helpers.image.labels against the phantom's truth and independent readers.

References: the phantom's painted organs (helpers.data.ct_labels.organ_maps, the
generator's truth, which the reader never sees); highdicom's own placement of SEG
frames by their source references (get_pixels_by_source_instance); highdicom's CIELab
conversion; scikit-image's draw.polygon (a scan-line rasteriser, independent of
matplotlib) for the RTSTRUCT inside test.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from functools import cache

import highdicom as hd
import numpy as np
import pydicom
import pytest
from skimage.draw import polygon as sk_polygon

from helpers import data
from helpers.data.ct_labels import edge_loops, organ_maps
from helpers.data.ct_phantom import ORGANS
from helpers.image.labels import (
    LabelMismatchError,
    NotALabelError,
    cielab_to_rgb,
    inside_polygon,
    read_rtstruct,
    read_seg,
    rois,
    seg_frames,
    segments,
)
from helpers.image.volume import load_series


@cache
def ct():
    return load_series(data.ct_series("axial"))


@cache
def truth_on_volume() -> np.ndarray:
    """The generator's organ map, its slices reordered to the volume's (by z)."""
    truth = organ_maps()                           # slice k = Instance Number k + 1
    z = [float(pydicom.dcmread(p, stop_before_pixels=True).ImagePositionPatient[2])
         for p in ct().paths]
    instance = [int(pydicom.dcmread(p, stop_before_pixels=True).InstanceNumber) - 1
                for p in ct().paths]
    assert z == sorted(z)
    return truth[instance]


@cache
def seg_labels():
    return read_seg(data.ct_label_file("seg"), ct())


def test_seg_masks_equal_the_phantom_truth_voxel_for_voxel():
    labels, truth = seg_labels(), truth_on_volume()
    for organ in ORGANS:
        assert np.array_equal(labels.masks[organ.name], truth == organ.number), organ.name
    assert labels.masks["lungs"].sum() > 1_000_000   # not trivially empty


def test_seg_placement_equals_highdicoms_placement_by_source_instance():
    uids = [str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID) for p in ct().paths]
    seg = hd.seg.segread(data.ct_label_file("seg"))
    reference = seg.get_pixels_by_source_instance(uids, segment_numbers=[1, 2, 3, 4, 5])
    for organ in ORGANS:
        assert np.array_equal(seg_labels().masks[organ.name],
                              reference[..., organ.number - 1].astype(bool))


def test_segment_table_codes_and_colours():
    table = segments(data.ct_label_file("seg")).set_index("label")
    for organ in ORGANS:
        row = table.loc[organ.name]
        assert row["rgb"] == organ.rgb          # the colour the CIELab value was made from
        assert row["type"] == pydicom.sr.codedict.codes.SCT.__getattr__(organ.code).meaning
        assert row["category"] == "Anatomical Structure"
    real = segments(pydicom.data.get_testdata_file("liver.dcm", download=False))
    assert real.loc[0, "label"] == "Liver" and real.loc[0, "type"] == "Liver"


@pytest.mark.parametrize("value", [(0, 0, 0), (65535, 32896, 32896), (41661, 41167, 40792),
                                   (30000, 50000, 10000), (50000, 20000, 60000)])
def test_cielab_to_rgb_equals_highdicom(value):
    assert cielab_to_rgb(value) == hd.color.CIELabColor.from_dicom_value(value).to_rgb(clip=True)


def test_seg_frames_in_frame_order_are_not_in_volume_order():
    frames = seg_frames(data.ct_label_file("seg"))
    lungs = frames[frames.segment == 1]
    assert list(lungs.z) == sorted(lungs.z, reverse=True)   # head first: frame order
    z = lungs.iloc[0].z
    k = int(round((z - ct().origin[2]) / ct().spacing[2]))
    assert seg_labels().masks["lungs"][k].any() and k > ct().shape[0] // 2


@pytest.mark.slow
def test_rtstruct_masks_equal_the_phantom_truth():
    labels, truth = read_rtstruct(data.ct_label_file("rtstruct"), ct()), truth_on_volume()
    for organ in ORGANS:
        assert np.array_equal(labels.masks[organ.name], truth == organ.number), organ.name


def test_rtstruct_roi_table():
    table = rois(data.ct_label_file("rtstruct")).set_index("name")
    assert list(table.index) == [o.name for o in ORGANS]
    assert table.loc["heart", "rgb"] == ORGANS[1].rgb
    assert table.loc["vertebrae", "y"] > table.loc["heart", "y"]   # spine behind the heart


def _skimage_mask(xy: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    rr, cc = sk_polygon(xy[:, 1], xy[:, 0], shape)
    out = np.zeros(shape, bool)
    out[rr, cc] = True
    return out


def test_inside_polygon_equals_skimage_on_the_real_structure_set():
    """dicompyler-core's contours on its CT slice: every pixel centre decided alike,
    except centres within 1e-9 pixel of an edge (either answer is right there)."""
    breast = load_series([data.corpus_file("dicompyler-core/ct.0.dcm")])
    inverse = np.linalg.inv(breast.affine)
    ds = pydicom.dcmread(data.corpus_file("dicompyler-core/rtss.dcm"))
    compared = 0
    for rc in ds.ROIContourSequence:
        for c in rc.get("ContourSequence", []):
            pts = np.array(c.ContourData, float).reshape(-1, 3)
            xy = (inverse @ np.c_[pts, np.ones(len(pts))].T)[:2].T
            ours, theirs = inside_polygon(xy, breast.shape[1:]), _skimage_mask(xy, breast.shape[1:])
            differ = np.argwhere(ours != theirs)
            assert len(differ) <= 4, len(differ)
            compared += 1
    assert compared > 400


def test_inside_polygon_equals_skimage_on_random_polygons():
    rng = np.random.default_rng(7)
    for _ in range(50):
        n = int(rng.integers(3, 12))
        xy = rng.uniform(-3, 40, size=(n, 2)) + 0.37   # off the pixel centres
        assert np.array_equal(inside_polygon(xy, (36, 36)), _skimage_mask(xy, (36, 36)))


def test_edge_loops_rasterise_back_to_the_mask():
    """The generator's pixel-edge contours, filled by scikit-image (even-odd over loops),
    give back random masks with holes and diagonal touches."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        mask = rng.random((24, 30)) < 0.45
        filled = np.zeros_like(mask)
        for loop in edge_loops(mask):
            xy = np.array(loop, float)[:, ::-1] - 0.5      # corners -> (column, row) units
            filled ^= _skimage_mask(xy, mask.shape)
        assert np.array_equal(filled, mask)


def test_fractional_seg_reads_as_fractions(tmp_path):
    breast = load_series([data.corpus_file("dicompyler-core/ct.0.dcm")])
    source = pydicom.dcmread(breast.paths[0])
    fractions = np.tile(np.linspace(0.0, 1.0, 512), (512, 1))[None, :, :]
    seg = hd.seg.Segmentation(
        source_images=[source], pixel_array=fractions,
        segmentation_type=hd.seg.SegmentationTypeValues.FRACTIONAL,
        segment_descriptions=[hd.seg.SegmentDescription(
            1, "ramp", pydicom.sr.codedict.codes.SCT.Tissue,
            pydicom.sr.codedict.codes.SCT.Tissue, "MANUAL")],
        series_instance_uid=hd.UID(), series_number=9, sop_instance_uid=hd.UID(),
        instance_number=1, manufacturer="test", manufacturer_model_name="test",
        software_versions="1", device_serial_number="1")
    seg.save_as(tmp_path / "fractional.dcm")
    labels = read_seg(tmp_path / "fractional.dcm", breast)
    assert labels.kind == "SEG FRACTIONAL"
    assert np.allclose(labels.masks["ramp"][0], np.round(fractions[0] * 255) / 255)


# ---- mismatches -------------------------------------------------------------------------

def test_seg_on_another_grid_names_both_files():
    with pytest.raises(LabelMismatchError) as info:
        read_seg(data.ct_label_file("seg"), load_series(data.ct_series("coronal")))
    message = str(info.value)
    assert "ct_labels/seg/SEG000001.dcm" in message and "ct_chest/coronal/" in message


def _edited_seg(tmp_path, edit) -> str:
    ds = pydicom.dcmread(data.ct_label_file("seg"))
    edit(ds)
    path = tmp_path / "edited_seg.dcm"
    ds.save_as(path)
    return path


def test_seg_in_another_frame_of_reference(tmp_path):
    path = _edited_seg(tmp_path, lambda ds: setattr(ds, "FrameOfReferenceUID", "1.2.3.4"))
    with pytest.raises(LabelMismatchError, match="Frame of Reference UID 1.2.3.4"):
        read_seg(path, ct())


def test_seg_frame_referencing_another_slice(tmp_path):
    def swap(ds):
        item = ds.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0]
        other = ds.PerFrameFunctionalGroupsSequence[5].DerivationImageSequence[0]
        item.SourceImageSequence[0].ReferencedSOPInstanceUID = \
            other.SourceImageSequence[0].ReferencedSOPInstanceUID
    with pytest.raises(LabelMismatchError, match="frame 1 references data/ct_chest/axial/"):
        read_seg(_edited_seg(tmp_path, swap), ct())


def test_seg_frame_between_slices(tmp_path):
    def move(ds):
        position = ds.PerFrameFunctionalGroupsSequence[0].PlanePositionSequence[0]
        x, y, z = (float(v) for v in position.ImagePositionPatient)
        position.ImagePositionPatient = [x, y, z + 1.5]
    with pytest.raises(LabelMismatchError, match="not on a slice of its grid"):
        read_seg(_edited_seg(tmp_path, move), ct())


def test_rtstruct_in_another_frame_of_reference_names_both_files():
    with pytest.raises(LabelMismatchError) as info:
        read_rtstruct(data.corpus_file("dicompyler-core/rtss.dcm"), ct())
    assert "rtss.dcm" in str(info.value) and "ct_chest/axial/" in str(info.value)


def test_rtstruct_contour_off_the_volume_needs_partial():
    breast = load_series([data.corpus_file("dicompyler-core/ct.0.dcm")])
    with pytest.raises(LabelMismatchError, match="not on a slice"):
        read_rtstruct(data.corpus_file("dicompyler-core/rtss.dcm"), breast)
    assert read_rtstruct(data.corpus_file("dicompyler-core/rtss.dcm"), breast,
                         partial=True).skipped > 0


def test_not_a_label_file(tmp_path):
    with pytest.raises(NotALabelError, match="not a Segmentation"):
        read_seg(ct().paths[0], ct())
    with pytest.raises(NotALabelError, match="not an RT Structure Set"):
        read_rtstruct(data.ct_label_file("seg"), ct())
    copy = tmp_path / "rs.dcm"
    shutil.copyfile(data.ct_label_file("rtstruct"), copy)
    with pytest.raises(NotALabelError, match="no ROI named"):
        read_rtstruct(copy, ct(), names=["spleen"])


def test_volume_ml_uses_the_voxel_volume():
    labels = seg_labels()
    voxels = int(labels.masks["liver"].sum())
    assert labels.volume_ml("liver", ct()) == pytest.approx(voxels * 0.7 * 0.7 * 3.0 / 1000)
    assert labels.volume_ml("liver", replace(ct(), affine=ct().affine * [[2], [1], [1], [1]])) \
        == pytest.approx(2 * voxels * 0.7 * 0.7 * 3.0 / 1000)
