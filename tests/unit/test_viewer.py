"""Both viewers, checked without a browser.

The slider viewer (:class:`WindowLevelViewer`, the latency peer): the PNG it sends
must be the image DCMTK renders for the same window (dcm2pnm +Ww), and the controls
must drive it. The anywidget :class:`Viewer`: the buffers it sends must give back
exactly the modality values, its synced state must stay consistent, and its static
picture must be the window of the data. (tests/browser/ checks the pixels the
browser draws.)"""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.pixels import apply_modality_lut

from helpers import data
from helpers.image import viewer as viewer_module
from helpers.image.pixels import modality_values, window
from helpers.image.viewer import (
    CUSTOM,
    Viewer,
    WindowLevelViewer,
    encode_png,
    measure_updates,
    show,
)


def png_pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as im:
        assert im.format == "PNG" and im.mode == "L"  # 8-bit greyscale, lossless
        return np.asarray(im).copy()


def test_encode_png_is_lossless():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, size=(37, 91), dtype=np.uint8)
    assert np.array_equal(png_pixels(encode_png(img)), img)
    with pytest.raises(ValueError, match="2D"):
        encode_png(np.zeros((2, 2, 3), np.uint8))


@pytest.mark.parametrize("name", ["693_UNCI.dcm", "CT_small.dcm"])
def test_picture_equals_dcm2pnm_as_the_window_changes(name, dcmtk_window):
    path = data.real(name)
    viewer = WindowLevelViewer(pydicom.dcmread(path))
    for center, width in [(viewer.center, viewer.width), (-600, 1500), (40, 1), (1000, 2)]:
        viewer.set_window(center, width)
        assert np.array_equal(png_pixels(viewer.image.value), dcmtk_window(path, center, width)[0])
        assert f"C={center:g} W={width:g}" in viewer.status.value


def test_large_monochrome1_radiograph_is_decimated_not_interpolated(dcmtk_window):
    path = data.real("RG1_UNCI.dcm")
    viewer = WindowLevelViewer(pydicom.dcmread(path))
    assert viewer.photometric == "MONOCHROME1" and viewer.stride == 2
    assert "white→black" in viewer.status.value and "shown 1:2" in viewer.status.value
    viewer.set_window(12000, 9000)
    expected = dcmtk_window(path, 12000, 9000)[0][::2, ::2]
    assert np.array_equal(png_pixels(viewer.image.value), expected)


def test_header_window_and_presets_drive_the_sliders():
    ds = pydicom.dcmread(data.real("693_UNCI.dcm"))
    viewer = WindowLevelViewer(ds)
    # starts on the header's window (0028,1050)/(0028,1051)
    assert (viewer.center, viewer.width) == (float(ds.WindowCenter), float(ds.WindowWidth))
    assert viewer.preset_picker.value.startswith("header")
    viewer.preset_picker.value = "bone"
    assert (viewer.center, viewer.width) == (400, 1800)
    hu = apply_modality_lut(ds.pixel_array, ds)
    assert np.array_equal(png_pixels(viewer.image.value), window(hu, 400, 1800))
    viewer.width_slider.value = 1000  # a drag: no preset matches any more
    assert viewer.preset_picker.value == CUSTOM
    assert np.array_equal(png_pixels(viewer.image.value), window(hu, 400, 1000))
    viewer.set_window(-600, 1500)  # values of a preset select it
    assert viewer.preset_picker.value == "lung"
    # a browser slider echoes values with floating-point noise: still the lung preset
    viewer.width_slider.value = 1499.9999999999998
    assert viewer.preset_picker.value == "lung" and viewer.width == 1500
    assert np.array_equal(png_pixels(viewer.image.value), window(hu, -600, 1500))


def test_plain_array_and_errors():
    arr = np.arange(100 * 120, dtype=np.float64).reshape(100, 120) - 3000
    viewer = WindowLevelViewer(arr, center=0, width=2000, pixel_mm=(2.0, 1.0))
    assert np.array_equal(png_pixels(viewer.image.value), window(arr, 0, 2000))
    # pixels twice as tall as wide: the picture is shown twice as tall as its row count says
    assert viewer.image.layout.height == "512px" and viewer.image.layout.width == "307px"
    for make in (WindowLevelViewer, show):
        with pytest.raises(ValueError, match="2D image or a 3D stack"):
            make(np.zeros((2, 2, 2, 2)))
        with pytest.raises(ValueError, match="grayscale"):
            make(pydicom.dcmread(data.real("SC_rgb.dcm")))
        with pytest.raises(TypeError, match="opens no file"):
            make(data.real("CT_small.dcm"))


def test_multiframe_dataset_has_a_frame_slider():
    ds = pydicom.dcmread(data.real("emri_small.dcm"))
    viewer = WindowLevelViewer(ds, center=500, width=1000)
    assert viewer.index_slider.max == 9
    viewer.index_slider.value = 3
    assert np.array_equal(png_pixels(viewer.image.value),
                          window(apply_modality_lut(ds.pixel_array, ds)[3], 500, 1000))


def volume_or_skip():
    from helpers.image.volume import load_series

    try:
        return load_series(data.ct_series("axial"))
    except data.DataError as exc:
        pytest.skip(str(exc))


def test_volume_planes_and_slices():
    vol = volume_or_skip()
    viewer = WindowLevelViewer(vol, preset="lung")
    assert viewer.preset_picker.value == "lung"
    for plane in ("axial", "coronal", "sagittal"):
        viewer.plane_picker.value = plane
        assert viewer.index_slider.max == vol.n_planes(plane) - 1
        viewer.index_slider.value = 7
        p = vol.plane(plane, 7)
        assert np.array_equal(png_pixels(viewer.image.value), window(p.image, -600, 1500))
        assert f"{plane} 8/{vol.n_planes(plane)}" in viewer.status.value
        # the on-screen proportions are the physical ones
        w_px = int(viewer.image.layout.width.removesuffix("px"))
        h_px = int(viewer.image.layout.height.removesuffix("px"))
        height_mm, width_mm = p.extent_mm
        assert h_px / w_px == pytest.approx(height_mm / width_mm, rel=0.01)


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
    assert meta["units"] == "" and "HU" not in viewer.status_text()
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
    assert viewer.status_text().startswith(f"coronal 6/{vol.n_planes('coronal')} · C=-600")
    viewer.invert = True
    assert np.array_equal(viewer.render(),
                          window(vol.plane("coronal", 5).image, -600, 1500, "MONOCHROME1"))
    import traitlets

    with pytest.raises(traitlets.TraitError, match="outside"):
        viewer.slice = vol.n_planes("coronal")
    with pytest.raises(traitlets.TraitError, match="width"):
        viewer.width = 0.5
    assert measure_updates(viewer, n=3) < 1.0 and (viewer.center, viewer.width) == (-600, 1500)


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
    assert viewer._meta["edges"]["frame"] == ["A", "P", "R", "L"]  # axial, IOP 1,0,0,0,1,0
    cr = show(pydicom.dcmread(data.real("RG1_UNCI.dcm")))
    assert cr._meta["edges"]["frame"] == ["H", "F", "R", "L"]  # Patient Orientation L\F
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
