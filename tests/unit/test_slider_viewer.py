"""The slider viewer, the benchmark peer (``benchmarks/slider_viewer.py``).

A peer that drew the wrong picture would make the latency comparison meaningless, so
its PNG must be the image DCMTK renders for the same window (dcm2pnm +Ww), and its
controls must drive it."""

from __future__ import annotations

import io
import sys

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.pixels import apply_modality_lut

from helpers import data
from helpers.image.pixels import window
from helpers.image.viewer import show
from helpers.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT))  # benchmarks/ is not an installed package
from benchmarks.slider_viewer import (  # noqa: E402
    CUSTOM,
    WindowLevelViewer,
    encode_png,
    measure_updates,
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
    assert viewer.preset_picker.value == "lung = header: LUNG"
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




def test_measure_updates_restores_the_window():
    vol = volume_or_skip()
    viewer = show(vol, preset="lung")
    assert measure_updates(viewer, n=3) < 1.0 and (viewer.center, viewer.width) == (-600, 1500)
