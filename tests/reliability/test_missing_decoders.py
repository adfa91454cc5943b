"""Missing decoders: compressed pixel data without its plugin gives a clear message.

The decoder plugins are not uninstalled from ``.venv``: a subprocess of the same
Python hides them with an import hook (a ``sys.meta_path`` finder that refuses
``pylibjpeg``, ``libjpeg``, ``openjpeg``, ``rle``, ``PIL``, ``gdcm`` and
``jpeg_ls``) before pydicom looks for them, which is what pydicom sees on a
machine where they were never installed. In that subprocess pydicom must agree
that no decoder is available (so the test cannot pass by accident), and
``helpers.dicom.dicomio.pixels`` / ``helpers.image.pixels.modality_values`` must raise
:class:`helpers.dicom.errors.MissingDecoderError` naming the file and the package to
``pip install``. The same files decode in the normal environment.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from helpers.dicom import dicomio
from helpers.paths import DATA_DIR, REPO_ROOT, shown

#: file -> (transfer syntax UID, package the message must name). Files in data/real,
#: except JPEG baseline, which only pydicom's own test files have (found offline).
CASES = {
    "MR_small_jp2klossless.dcm": ("1.2.840.10008.1.2.4.90", "pylibjpeg pylibjpeg-openjpeg"),
    "JPEG2000.dcm": ("1.2.840.10008.1.2.4.91", "pylibjpeg pylibjpeg-openjpeg"),
    "MR_small_jpeg_ls_lossless.dcm": ("1.2.840.10008.1.2.4.80", "pylibjpeg pylibjpeg-libjpeg"),
    "SC_rgb_jpeg_dcmtk.dcm": ("1.2.840.10008.1.2.4.50", "pylibjpeg pylibjpeg-libjpeg"),
    "JPGExtended.dcm": ("1.2.840.10008.1.2.4.51", "pylibjpeg pylibjpeg-libjpeg"),
    "JPEG-LL.dcm": ("1.2.840.10008.1.2.4.70", "pylibjpeg pylibjpeg-libjpeg"),
}


def _path(name: str) -> Path:
    local = DATA_DIR / "real" / name
    if local.is_file():
        return local
    found = get_testdata_file(name, download=False)
    if found is None:
        pytest.skip(f"{name} is not installed (pydicom's test files)")
    return Path(found)

HIDDEN = ["pylibjpeg", "libjpeg", "openjpeg", "rle", "PIL", "gdcm", "jpeg_ls"]

_PROBE = textwrap.dedent("""
    import json, sys

    HIDDEN = set(sys.argv[1].split(","))

    class HideDecoders:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in HIDDEN:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, HideDecoders())

    from pydicom.pixels.decoders.base import get_decoder

    from helpers.dicom import dicomio
    from helpers.image import pixels
    from helpers.dicom.errors import WorkbookError

    out = {}
    for path in sys.argv[2:]:
        ds = dicomio.read(path)
        row = {"syntax": str(ds.file_meta.TransferSyntaxUID),
               "available": get_decoder(ds.file_meta.TransferSyntaxUID).is_available}
        for label, call in (("pixels", lambda: dicomio.pixels(ds)),
                            ("modality_values",
                             lambda: pixels.modality_values(dicomio.read(path)))):
            try:
                call()
                row[label] = ["decoded", ""]
            except WorkbookError as exc:
                row[label] = [type(exc).__name__, str(exc)]
            except BaseException as exc:
                row[label] = ["undocumented " + type(exc).__name__, str(exc)]
        out[path] = row
    print(json.dumps(out))
""")

pytestmark = pytest.mark.skipif(not (DATA_DIR / "real").is_dir(),
                                reason="data/real is missing: run `make data`")


@pytest.fixture(scope="module")
def hidden() -> dict:
    """What the helpers say about each compressed file when the plugins are hidden."""
    paths = {name: str(_path(name)) for name in [*CASES, "MR_small_RLE.dcm"]}
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, ",".join(HIDDEN), *paths.values()],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return {name: out[path] for name, path in paths.items()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_missing_plugin_names_file_and_package(hidden: dict, name: str) -> None:
    syntax, package = CASES[name]
    row = hidden[name]
    assert row["syntax"] == syntax
    assert row["available"] is False, "the hook did not hide the decoder from pydicom"
    for call in ("pixels", "modality_values"):
        kind, message = row[call]
        assert kind == "MissingDecoderError", f"{call}: {kind}: {message}"
        assert message.startswith(f"{shown(_path(name))}: "), message
        assert message.endswith(f"pip install {package}"), message


def test_every_package_named_is_pinned() -> None:
    """The packages the messages name are the ones requirements.txt pins."""
    pins = {line.split("==")[0].strip().lower()
            for line in (REPO_ROOT / "requirements.txt").read_text().splitlines()
            if "==" in line and not line.lstrip().startswith("#")}
    named = {name for packages in dicomio.DECODER_PACKAGES.values() for name in packages.split()}
    assert named <= pins, named - pins


def test_rle_needs_no_plugin(hidden: dict) -> None:
    """pydicom's own RLE decoder (numpy only) still works without pylibjpeg-rle."""
    row = hidden["MR_small_RLE.dcm"]
    assert row["available"] is True
    assert row["pixels"][0] == "decoded", row["pixels"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_files_decode_with_the_plugins(name: str) -> None:
    """Control: with the plugins installed the same files decode, so the hook made
    the difference."""
    arr = dicomio.pixels(dicomio.read(_path(name)))
    assert arr.size > 0
