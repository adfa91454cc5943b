"""The anywidget viewer, checked without a browser.

The buffers it sends must give back exactly the modality values, its planes must be
:meth:`helpers.image.volume.Volume.plane`'s, its synced state must stay consistent,
its preset menu must label and merge the header's windows, and its static picture
must be the window of the data. (tests/browser/ checks the pixels the browser draws.)"""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
import traitlets
from pydicom.pixels import apply_modality_lut

from helpers import data
from helpers.image import viewer as viewer_module
from helpers.image.pixels import modality_values, window
from helpers.image.viewer import Viewer, show


def volume_or_skip():
    from helpers.image.volume import load_series

    try:
        return load_series(data.ct_series("axial"))
    except data.DataError as exc:
        pytest.skip(str(exc))


# ------------------------------------------------------------------ the anywidget viewer
def sent(viewer: Viewer, request: dict) -> list[tuple[dict, bytes]]:
    """What the viewer sends to the browser in answer to ``request``."""
    out: list[tuple[dict, bytes]] = []
    viewer.send = lambda content, buffers=None: out.append((content, bytes(buffers[0])))
    viewer._on_msg(viewer, request, [])
    return out


def test_volume_goes_to_the_browser_once_as_int16_slabs():
    vol = volume_or_skip()
    viewer = show(vol, preset="mediastinum")
    meta = viewer._meta
    assert meta["dtype"] == "int16" and (meta["slope"], meta["intercept"]) == (1.0, 0.0)
    assert meta["whole"] and meta["shape"] == list(vol.canonical.shape)
    n = meta["slab_slices"]
    slabs = -(-vol.shape[0] // n)
    got = sent(viewer, {"type": "need", "slabs": list(range(slabs))})
    assert [c["id"] for c, _ in got] == list(range(slabs))
    back = np.concatenate([np.frombuffer(b, "<i2") for _, b in got])
    assert np.array_equal(back.reshape(vol.canonical.shape), vol.canonical)
    assert viewer.bytes_sent == vol.array.nbytes  # 2 bytes per voxel, nothing else
    assert sent(viewer, {"type": "need", "slabs": [slabs, -1]}) == []  # out of range: ignored


def test_over_budget_volume_gets_planes_cut_by_python(monkeypatch):
    vol = volume_or_skip()
    monkeypatch.setattr(viewer_module, "BUDGET_BYTES", vol.array.nbytes // 4)
    viewer = show(vol)
    assert not viewer._meta["whole"]
    for plane, index in [("coronal", 100), ("sagittal", 300)]:
        ((content, raw),) = sent(viewer, {"type": "plane", "plane": plane, "index": index})
        assert content == {"type": "plane", "plane": plane, "index": index}
        image = vol.plane(plane, index).image
        assert np.array_equal(np.frombuffer(raw, "<i2").reshape(image.shape), image)


def test_values_that_are_not_whole_go_as_stored_ints_with_slope_and_intercept():
    ds = pydicom.dcmread(data.real("MR2_UNCI.dcm"))
    viewer = show(ds)
    meta = viewer._meta
    assert meta["dtype"] == "int16" and meta["slope"] == float(ds.RescaleSlope) != 1
    ((_, raw),) = sent(viewer, {"type": "need", "slabs": [0]})
    stored = np.frombuffer(raw, "<i2").astype(np.float64).reshape(ds.Rows, ds.Columns)
    # the browser's arithmetic: stored * slope, then + intercept, in double precision
    assert np.array_equal(stored * meta["slope"] + meta["intercept"], modality_values(ds))
    assert meta["units"] == "" and "HU" not in viewer.summary()
    assert "lung" not in viewer.presets  # CT presets only for CT


def test_synced_state_stays_consistent():
    vol = volume_or_skip()
    viewer = show(vol, preset="lung")
    i, j, k = viewer.crosshair
    assert (viewer.plane, viewer.slice) == ("axial", k) == ("axial", vol.shape[0] // 2)
    viewer.plane = "coronal"
    assert viewer.slice == j
    viewer.slice = 5
    assert viewer.crosshair == [i, 5, k]
    assert np.array_equal(viewer.render(), window(vol.plane("coronal", 5).image, -600, 1500))
    assert viewer.summary().startswith(f"coronal 6/{vol.n_planes('coronal')} · C=-600")
    viewer.invert = True
    assert np.array_equal(viewer.render(),
                          window(vol.plane("coronal", 5).image, -600, 1500, "MONOCHROME1"))


    with pytest.raises(traitlets.TraitError, match="outside"):
        viewer.slice = vol.n_planes("coronal")
    with pytest.raises(traitlets.TraitError, match="width"):
        viewer.width = 0.5
    with pytest.raises(traitlets.TraitError, match="outside"):
        viewer.crosshair = [0, 0, vol.shape[0]]
    with pytest.raises(traitlets.TraitError, match="plane"):
        viewer.plane = "frame"


def test_canonical_affine_points_at_the_same_voxel():
    from helpers.image.volume import load_series

    vol = load_series(data.ct_series("coronal"))
    viewer = show(vol)
    affine = np.array(viewer._meta["affine"])
    can = vol.canonical
    rng = np.random.default_rng(1)
    for _ in range(20):
        k, j, i = (int(rng.integers(0, n)) for n in can.shape)
        lps = affine @ [i, j, k, 1]
        col, row, sl, _ = np.linalg.solve(vol.affine, lps)
        idx = np.rint([sl, row, col]).astype(int)
        assert np.allclose([sl, row, col], idx, atol=1e-6)
        assert vol.array[tuple(idx)] == can[k, j, i]


def test_static_picture_and_orientation_letters():
    import base64

    ds = pydicom.dcmread(data.real("693_UNCI.dcm"))
    viewer = show(ds)
    data_bundle, _ = viewer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data_bundle
    from PIL import Image

    png = Image.open(io.BytesIO(base64.b64decode(data_bundle["image/png"])))
    picture = np.asarray(png.convert("RGB"))
    hu = apply_modality_lut(ds.pixel_array, ds)
    expected = window(hu, float(ds.WindowCenter), float(ds.WindowWidth))
    # the 512 x 512 slice at 1:1 over a caption; the letters sit within 24 px of the edges
    assert picture.shape[1] == 512 and picture.shape[0] > 512
    inner = (slice(24, 512 - 24), slice(24, 512 - 24))
    for channel in range(3):
        assert np.array_equal(picture[:512][inner][..., channel], expected[inner])
    # the orientation letters are drawn in the margin: orange, not grey
    margin = picture[:24, 200:312]
    assert np.any((margin[..., 0] > 200) & (margin[..., 2] < 100))
    # axial, IOP 1,0,0,0,1,0
    assert viewer._meta["planes"]["frame"]["edges"] == ["A", "P", "R", "L"]
    cr = show(pydicom.dcmread(data.real("RG1_UNCI.dcm")))
    assert cr._meta["planes"]["frame"]["edges"] == ["H", "F", "R", "L"]  # Patient Orientation L\F
    assert cr.photometric == "MONOCHROME1" and cr._meta["affine"] is None
    assert viewer_module._letters(np.array([0.9, 0.43, 0.0])) == "LP"
    assert viewer_module._letters(np.array([0.0, -1.0, 0.0])) == "A"


def test_saved_notebook_keeps_the_picture_not_the_dead_widget():
    import nbformat

    from helpers.lessons.notebooks import WIDGET_VIEW, static_widgets

    viewer = show(np.arange(64, dtype=np.int16).reshape(8, 8), center=32, width=64)
    data_bundle, _ = viewer._repr_mimebundle_()
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("show(...)")
    cell.outputs = [nbformat.v4.new_output("display_data", data=data_bundle),
                    nbformat.v4.new_output("display_data", data={WIDGET_VIEW: {}})]
    nb.cells = [cell]
    assert static_widgets(nb) == 2
    assert set(cell.outputs[0]["data"]) == {"image/png"}
    assert len(cell.outputs) == 1  # a widget without a picture has nothing to show unrun


def test_planes_are_the_volumes_planes_in_python_and_in_the_contract():
    """Orientation is decided once (PLANE_AXES): the cut Python sends and the values it
    renders are Volume.plane's, and the browser gets the same axes in _meta."""
    vol = volume_or_skip()
    viewer = show(vol)
    for name in ("axial", "coronal", "sagittal"):
        for index in (0, 7, vol.n_planes(name) - 1):
            plane = vol.plane(name, index)
            assert np.array_equal(viewer.values(name, index), plane.image)
            assert viewer._data.pixel_mm(name) == plane.pixel_mm
            ((_, raw),) = sent(viewer, {"type": "plane", "plane": name, "index": index}) \
                if name != "axial" else [({}, plane.image.astype("<i2").tobytes())]
            assert np.array_equal(np.frombuffer(raw, "<i2").reshape(plane.image.shape),
                                  plane.image)
        axes = viewer._meta["planes"][name]
        assert axes["edges"] == list(vol.plane(name, 0).edges)
        # a display pixel (col, row) names the canonical voxel the plane shows there
        plane = vol.plane(name, 7)
        rows, cols = plane.image.shape
        for row, col in [(0, 0), (rows - 1, cols - 1), (rows // 3, cols // 2)]:
            point = [0, 0, 0]
            point[axes["axis"]] = 7
            point[axes["col"]] = col
            point[axes["row"]] = rows - 1 - row if axes["row_flip"] else row
            i, j, k = point
            assert vol.canonical[k, j, i] == plane.image[row, col]


def test_slice_is_the_crosshair_along_the_planes_normal():
    vol = volume_or_skip()
    viewer = show(vol, plane="sagittal", index=100)
    assert viewer.crosshair[0] == 100 == viewer.slice
    assert "slice" not in viewer.trait_names()  # one fact: the crosshair
    viewer.plane = "axial"
    assert viewer.slice == viewer.crosshair[2]


def test_no_trait_shadows_the_widgets_layout():
    import ipywidgets

    viewer = show(np.zeros((4, 5), np.int16), layout="one")
    assert isinstance(viewer.layout, ipywidgets.Layout)
    viewer.layout.width = "300px"  # the standard widget layout works
    assert viewer.arrangement == "one"
    assert show(volume_or_skip()).arrangement == "three"


def test_header_windows_are_labelled_and_merged_with_the_presets():
    vol = volume_or_skip()
    header = pydicom.dcmread(vol.paths[0], stop_before_pixels=True)
    pairs = list(zip(header.WindowCenter, header.WindowWidth,
                     header.WindowCenterWidthExplanation, strict=True))
    viewer = show(vol)
    menu = viewer.presets
    offered = [(p.center, p.width) for p in menu.values()]
    assert len(offered) == len(set(offered))  # each window once
    for c, w, label in pairs:  # every header window, under its (0028,1055) explanation
        (key,) = [k for k, p in menu.items() if (p.center, p.width) == (float(c), float(w))]
        assert f"header: {label}" in key.split(" = ")
    assert "lung = header: LUNG" in menu  # the scanner's lung window is the lung preset
    assert menu["header: MEDIASTINUM"].width != menu["mediastinum"].width  # two kept apart
    assert list(menu)[0] == "header: MEDIASTINUM"  # the header's first window comes first
    assert (viewer.center, viewer.width) == (float(pairs[0][0]), float(pairs[0][1]))
    assert (show(vol, preset="lung").center, show(vol, preset="LUNG").width) == (-600, 1500)


def test_slider_ranges_follow_the_data():
    ds = pydicom.dcmread(data.real("693_J2KR.dcm"))
    hu = modality_values(ds)
    meta = show(ds)._meta
    assert meta["value_range"] == [hu.min(), hu.max()]
    assert meta["stored_range"] == [int(hu.min()), int(hu.max())]


def test_overlay_labels_and_where_the_spacing_comes_from():
    """The ruler's millimetres: Pixel Spacing (in the patient, PS3.3 C.7.6.2.1.1) for CT,
    Imager Pixel Spacing (at the detector, PS3.3 10.7.1.3) for a projection radiograph,
    none (pixels) for a bare array."""
    ct = pydicom.dcmread(data.real("693_UNCI.dcm"))
    meta = show(ct)._meta
    assert meta["spacing_kind"] == "PixelSpacing"
    assert meta["spacing"][1:] == [float(v) for v in ct.PixelSpacing]
    assert meta["thickness"] == float(ct.SliceThickness)
    assert str(ct.PatientID) in meta["patient"] and meta["series"] == ct.SeriesDescription
    cxr_path = next(p for p in sorted(data.cohort_images().rglob("*.dcm")))
    cxr = pydicom.dcmread(cxr_path)
    # the synthetic radiographs repeat Imager Pixel Spacing as Pixel Spacing: not calibrated
    assert cxr.PixelSpacing == cxr.ImagerPixelSpacing
    meta = show(cxr)._meta
    assert meta["spacing_kind"] == "ImagerPixelSpacing"
    assert meta["spacing"][1:] == [float(v) for v in cxr.ImagerPixelSpacing]
    assert show(np.zeros((3, 3), np.int16))._meta["spacing_kind"] == ""


# ------------------------------------------------------------------ VOI functions and tables
def test_header_voi_function_and_voi_lut_table_are_offered_and_rendered(tmp_path):
    """A header window keeps the header's VOI LUT Function (PS3.3 C.11.2.1.3), and a VOI
    LUT Sequence item (C.11.2.1.1) is a preset next to the windows; render() then
    equals pydicom's apply_voi_lut (the table) scaled to 8 bits as DCMTK does, and a
    window set from Python leaves the table. (The browser's canvas: tests/browser.)"""
    from pydicom.pixels import apply_voi_lut
    from test_voi import build, ramp

    curve = np.round(4095 * np.linspace(0, 1, 3000) ** 0.5).astype(np.uint16)
    ds = pydicom.dcmread(build(tmp_path / "t.dcm", ramp(0, 4096), "MONOCHROME1",
                               luts=[(3000, 500, 12, curve, "OW")], VOILUTFunction="SIGMOID",
                               WindowCenter=2000, WindowWidth=1000))
    v = Viewer(ds)
    assert list(v.presets)[:2] == ["header: window 1", "header: table 1"]
    assert (v.voi_function, v.voi_lut) == ("SIGMOID", -1)
    values = modality_values(ds)
    assert np.array_equal(v.render(), window(values, 2000, 1000, "MONOCHROME1", "SIGMOID"))
    meta_lut = v._meta["presets"][1]
    assert (meta_lut["lut"], meta_lut["center"]) == (0, None)
    v.voi_lut = 0
    v.invert = True  # MONOCHROME2: the grey level is the top 8 of the table's 12 bits
    table = apply_voi_lut(values, ds).astype(np.int64)  # pydicom: the LUT's output, 0..4095
    assert np.array_equal(v.render(), (table >> 4).astype(np.uint8))
    assert "VOI LUT header: table 1" in v.summary()
    v.set_window(100, 10)
    assert v.voi_lut == -1 and v.voi_function == "SIGMOID"
    with pytest.raises(traitlets.TraitError):
        v.voi_lut = 1
    only_table = Viewer(ds, preset="header: table 1")
    assert only_table.voi_lut == 0


# ------------------------------------------------------------------ the label overlay
def test_label_overlay_packs_one_bit_per_segment_and_composes_the_documented_blend():
    """Two overlapping segments (a SEG's, filled; an RTSTRUCT's, a contour) on a small
    volume: the packed bits are each mask in the viewer's canonical order (checked
    against Volume.canonical of the mask itself), the static picture's pixels are the
    documented blend (written out here), and the overlay only changes masked pixels."""
    from pathlib import Path

    from helpers.image.labels import Labels, Segment
    from helpers.image.volume import Volume

    values = np.arange(4 * 6 * 5, dtype=np.int16).reshape(4, 6, 5) * 10
    affine = np.diag([0.8, 0.8, 2.0, 1.0])
    affine[:3, 1] = [0, -0.8, 0]  # rows run anterior: canonical order flips them
    vol = Volume(values, affine, units="HU")
    a = np.zeros(values.shape, dtype=bool)
    a[1:3, 1:5, 1:4] = True
    b = np.zeros(values.shape, dtype=bool)
    b[2, 0:4, 0:4] = True
    seg = Labels({"a": a}, [Segment(1, "a", "", "", "", (250, 0, 0))], Path("s.dcm"), "SEG")
    rois = Labels({"b": b}, [Segment(7, "b", "", "", "", (0, 0, 240))], Path("r.dcm"),
                  "RTSTRUCT")
    v = Viewer(vol, labels=[seg, rois], center=100, width=400)
    assert v._meta["labels"]["dtype"] == "uint8"
    assert [(g.name, g.style, g.bit) for g in v.segments] == [("a", "fill", 0),
                                                               ("b", "contour", 1)]
    from dataclasses import replace

    for mask, bit in ((a, 0), (b, 1)):
        assert np.array_equal((v._bits >> bit) & 1, replace(vol, array=mask).canonical)

    grey = v.render("axial")
    k = v.slice
    plane_a = replace(vol, array=a).plane("axial", k).image
    plane_b = replace(vol, array=b).plane("axial", k).image
    edge_b = plane_b.copy()  # contour: a 4-neighbour outside (or the plane's edge)
    inner = np.zeros_like(plane_b)
    inner[1:-1, 1:-1] = (plane_b[1:-1, 1:-1] & plane_b[:-2, 1:-1] & plane_b[2:, 1:-1]
                         & plane_b[1:-1, :-2] & plane_b[1:-1, 2:])
    edge_b &= ~inner
    expected = np.repeat(grey[..., None], 3, axis=2).astype(int)
    for where, rgb, alpha in ((plane_a, (250, 0, 0), 128), (edge_b, (0, 0, 240), 255)):
        expected[where] = (expected[where] * (255 - alpha) + np.array(rgb) * alpha + 127) // 255
    assert np.array_equal(v.render_rgb("axial"), expected)
    untouched = ~(plane_a | edge_b)
    assert np.array_equal(v.render_rgb("axial")[untouched][:, 0], grey[untouched])

    # the static picture (a notebook without its kernel) shows the overlay: the blue
    # contour is there, and absent from the same viewer without labels
    from PIL import Image

    def bluish(viewer: Viewer) -> int:
        sheet = np.asarray(Image.open(io.BytesIO(viewer.preview_png())).convert("RGB"))
        return int(np.sum(sheet[..., 2].astype(int) > sheet[..., 0].astype(int) + 60))

    assert bluish(v) > 0
    assert bluish(Viewer(vol, center=100, width=400)) == 0

    v.style_segment("a", visible=False)
    v.style_segment("b", opacity=0.3)
    assert v.segment_styles == [{"visible": False, "opacity": 0.5},
                                {"visible": True, "opacity": 0.3}]
    with pytest.raises(KeyError):
        v.style_segment("c", visible=True)
    with pytest.raises(TypeError, match="Volume"):
        Viewer(values, labels=seg)
    sent_labels = sent(v, {"type": "labels"})
    assert sent_labels[0][0] == {"type": "labels"} and sent_labels[0][1] == v._bits.tobytes()
