"""Malformed input: real DICOM files, mutated, through every public helper.

Each mutation family below is a hypothesis property: for every mutated file,
every target in ``fuzz_targets.TARGETS`` (reading, pixels, ``modality_values``,
``window``, the byte-level walker, ``crawl.scan``, ``organize_folder``,
``load_series``, ...) either succeeds or raises a documented
:class:`helpers.dicom.errors.WorkbookError` naming the file and the problem, without
chaining a library traceback; within ``FUZZ_TIMEOUT`` seconds per target (no
hang) and within a 1.5 GB address-space cap (no unbounded allocation for a huge
declared length). See ``fuzzing.py`` and ``fuzz_worker.py``.

How many cases (``HYPOTHESIS_PROFILE``, or ``FUZZ_EXAMPLES`` per family):

- ``ci`` (default): :data:`CI_EXAMPLES` per family, derandomized (the same cases
  every run), about a minute on two cores;
- ``deep``: :data:`DEEP_EXAMPLES` per family, randomized (new cases each run).

``FUZZ_SURVEY=/tmp/survey.jsonl`` records every failing case to that file
instead of failing, to see all the distinct bugs at once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fuzzing import Harness, Mutation, Seed, bugs, load_seed, put_int, replace_value, report
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.tag import Tag

from helpers.paths import DATA_DIR

CI_EXAMPLES = 200
DEEP_EXAMPLES = 3000
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", DEEP_EXAMPLES if PROFILE == "deep" else
                              CI_EXAMPLES))
SURVEY = os.environ.get("FUZZ_SURVEY")

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=PROFILE != "deep",
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
    print_blob=False,
)

#: Small real files (data/real) of different encodings and kinds.
SEED_NAMES = [
    "CT_small.dcm",           # explicit VR LE, 16-bit CT, a sequence
    "MR_small.dcm",           # explicit VR LE MR
    "MR_small_implicit.dcm",  # implicit VR LE
    "MR_small_bigendian.dcm",  # explicit VR big endian (retired)
    "MR_small_RLE.dcm",       # encapsulated RLE fragments
    "emri_small.dcm",         # multi-frame
    "rtplan.dcm",             # no pixel data, deep sequences
]


def _seeds() -> list[Seed]:
    found = [DATA_DIR / "real" / n for n in SEED_NAMES]
    axial = DATA_DIR / "ct_chest" / "axial"
    if axial.is_dir():  # one slice of the synthetic CT, when the data is built
        found += sorted(axial.glob("*.dcm"))[:1]
    return [load_seed(p) for p in found if p.is_file()]


SEEDS = _seeds()
pytestmark = pytest.mark.skipif(not SEEDS, reason="data/real is missing: run `make data`")
seeds = st.sampled_from(SEEDS or [Seed("none", b"", ())])

#: Interesting 32-bit and 16-bit lengths: zero, odd, off by one, undefined, huge.
HUGE = [0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFF0, 0x7FFFFFFF, 0x80000000, 0x10000000, 0x01000000]
SMALL = [0, 1, 2, 3, 0xFFFF, 0xFFFE, 0x8000]
VRS = [b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO", b"LT",
       b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST",
       b"SV", b"TM", b"UC", b"UI", b"UL", b"UN", b"UR", b"US", b"UT", b"UV",
       b"\0\0", b"  ", b"ZZ", b"ob", b"\xff\xff"]
UIDS = [
    "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.201",
    "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.100", "1.2.3.4", "", "not a uid",
    "1.2.840.10008.1.2.1" + "9" * 50,
]
#: Header values a lying file may hold, for the tags the pixel helpers depend on.
IMAGE_TAGS = {
    0x00280010: "Rows", 0x00280011: "Columns", 0x00280100: "BitsAllocated",
    0x00280101: "BitsStored", 0x00280102: "HighBit", 0x00280103: "PixelRepresentation",
    0x00280002: "SamplesPerPixel", 0x00280008: "NumberOfFrames", 0x00280004: "Photometric",
    0x00281052: "RescaleIntercept", 0x00281053: "RescaleSlope", 0x00281050: "WindowCenter",
    0x00281051: "WindowWidth", 0x00280030: "PixelSpacing", 0x00200032: "ImagePosition",
    0x00200037: "ImageOrientation", 0x00280006: "PlanarConfiguration",
    0x00080018: "SOPInstanceUID", 0x0020000E: "SeriesInstanceUID", 0x00080016: "SOPClassUID",
    0x00100010: "PatientName", 0x00100030: "PatientBirthDate", 0x00180050: "SliceThickness",
}
TEXT_VALUES = [b"", b"0", b"-1", b"1e999", b"nan", b"inf", b"abc", b"\\\\\\", b"1\\2\\3",
               b"99999999999999999999", b"-0.0", b"\xff\xfe\x00", b"1.2.3", b"MONOCHROME3",
               b"RGB", b"YBR_FULL_422", b"PALETTE COLOR", b"0\\0\\0\\0\\0\\0"]
US_VALUES = [0, 1, 2, 3, 7, 8, 9, 12, 15, 16, 17, 24, 31, 32, 33, 64, 0x7FFF, 0x8000, 0xFFFF]


def _fields(seed: Seed, predicate=lambda f: True) -> list:
    return [f for f in seed.fields if predicate(f)] or list(seed.fields)


@st.composite
def truncations(draw) -> Mutation:
    """Cut the file anywhere: in the preamble, the file meta, an element header, a value."""
    seed = draw(seeds)
    size = len(seed.data)
    near_fields = [f.offset + d for f in seed.fields for d in (0, 1, 4, 6, 8, f.header)]
    at = draw(st.one_of(st.integers(0, size - 1),
                        st.sampled_from([0, 1, 127, 128, 131, 132, 133, *near_fields]),
                        st.integers(max(size - 64, 0), size - 1)))
    at = min(max(at, 0), size - 1)
    return Mutation(seed.name, f"truncated to {at} bytes", seed.data[:at])


@st.composite
def flips(draw, region: str) -> Mutation:
    """XOR one to eight bytes of one region with random non-zero bytes."""
    seed = draw(seeds)
    data = bytearray(seed.data)
    if region == "preamble":
        lo, hi = 0, 132
    elif region == "meta":
        meta = [f for f in seed.fields if f.part == "meta"]
        lo, hi = 132, max(f.value_at + f.length for f in meta)
    elif region == "pixels":
        lo, hi = seed.pixel_range or (132, len(data))
    else:  # anywhere
        lo, hi = 0, len(data)
    hi = max(hi, lo + 1)
    n = draw(st.integers(1, 8))
    where = draw(st.lists(st.integers(lo, hi - 1), min_size=n, max_size=n))
    masks = draw(st.lists(st.integers(1, 255), min_size=n, max_size=n))
    for i, m in zip(where, masks, strict=True):
        data[i] ^= m
    return Mutation(seed.name, f"{region}: bytes {where} xor {masks}", bytes(data))


@st.composite
def lengths(draw, huge_only: bool = False) -> Mutation:
    """Rewrite one element's (or item's) declared length."""
    seed = draw(seeds)
    f = draw(st.sampled_from(_fields(seed)))
    limit = 1 << (8 * f.length_size)
    if huge_only:
        choices = [v for v in HUGE if v < limit] or [0xFFFF, 0xFFFE]
        value = draw(st.sampled_from(choices))
    else:
        value = draw(st.one_of(
            st.sampled_from([v for v in SMALL + HUGE if v < limit]),
            st.sampled_from([f.length + d for d in (-3, -2, -1, 1, 2, 3, len(seed.data))]),
            st.integers(0, limit - 1)))
    data = bytearray(seed.data)
    put_int(data, f.length_at, f.length_size, value, f.little)
    return Mutation(seed.name, f"length of {Tag(f.tag)} at byte {f.offset}: {f.length} -> "
                               f"{value % limit:#x}", bytes(data))


@st.composite
def vrs(draw) -> Mutation:
    """Replace one explicit VR by another VR (changing the header layout) or junk."""
    seed = draw(seeds)
    explicit = [f for f in seed.fields if f.explicit and f.vr]
    f = draw(st.sampled_from(explicit or list(seed.fields)))
    vr = draw(st.sampled_from(VRS))
    data = bytearray(seed.data)
    data[f.offset + 4:f.offset + 6] = vr
    return Mutation(seed.name, f"VR of {Tag(f.tag)} at byte {f.offset}: {f.vr} -> {vr!r}",
                    bytes(data))


@st.composite
def transfer_syntaxes(draw) -> Mutation:
    """Declare another transfer syntax in (0002,0010), with or without fixing (0002,0000)."""
    seed = draw(seeds)
    f = seed.find(0x00020010)
    uid = draw(st.sampled_from(UIDS))
    fix = draw(st.booleans())
    data = replace_value(seed, f, uid.encode(), fix) if f else seed.data
    return Mutation(seed.name, f"transfer syntax -> {uid!r}" + ("" if fix else
                               " (group length not updated)"), data)


@st.composite
def header_values(draw) -> Mutation:
    """Make one image-related header value lie: Rows, Bits, frames, slope, geometry, UIDs."""
    seed = draw(seeds)
    candidates = [f for f in seed.fields if f.tag in IMAGE_TAGS and f.depth == 0]
    f = draw(st.sampled_from(candidates or list(seed.fields)))
    if f.vr in ("US", "SS") and f.length == 2:
        value = draw(st.sampled_from(US_VALUES)).to_bytes(2, "little" if f.little else "big")
    else:
        value = draw(st.one_of(st.sampled_from(TEXT_VALUES),
                               st.binary(min_size=0, max_size=24)))
    data = replace_value(seed, f, value, True)
    return Mutation(seed.name, f"{IMAGE_TAGS.get(f.tag, str(Tag(f.tag)))} -> {value!r}", data)


def _check(harness: Harness, mutation: Mutation) -> None:
    outcomes = harness.run(mutation)
    found = bugs(outcomes)
    if not found:
        return
    if SURVEY:
        with open(SURVEY, "a") as fh:
            for o in found:
                fh.write(json.dumps({"case": str(mutation), "target": o.target,
                                     "outcome": o.outcome, "detail": o.detail}) + "\n")
        return
    raise AssertionError(report(mutation, outcomes))


@pytest.fixture(scope="module")
def harness(tmp_path_factory, fuzz_stats):
    h = Harness(Path(tmp_path_factory.mktemp("fuzz")))
    h.start()
    yield h
    h.close()
    fuzz_stats["cases"] += h.cases
    fuzz_stats.update(h.stats)


#: The mutation families (README: Fuzzing), one hypothesis property each.
FAMILIES = {
    "truncated anywhere": truncations(),
    "flipped preamble": flips("preamble"),
    "flipped file meta": flips("meta"),
    "wrong element lengths": lengths(),
    "huge declared lengths": lengths(huge_only=True),
    "wrong VRs": vrs(),
    "flipped pixel data": flips("pixels"),
    "wrong transfer syntax": transfer_syntaxes(),
    "lying header values": header_values(),
    "flipped anywhere": flips("anywhere"),
}


@FUZZ
@pytest.mark.parametrize("family", FAMILIES)
@given(data=st.data())
def test_mutated_files(harness, family, data):
    """EXAMPLES mutated files of one family through every target (see _check)."""
    _check(harness, data.draw(FAMILIES[family], label=family))


# --------------------------------------------------------------------------- the harness itself
@pytest.mark.parametrize("target, outcome", [
    ("ok", "ok"), ("documented", "documented"), ("undocumented", "bug"), ("unnamed", "bug"),
    ("no problem", "bug"), ("chained", "bug"), ("panic", "bug"), ("hang", "hang"),
    ("crash", "crash"), ("huge allocation", "bug"),
])
def test_harness_catches(tmp_path: Path, target: str, outcome: str) -> None:
    """The harness reports each kind of failure (so the fuzz tests can fail)."""
    harness = Harness(tmp_path, timeout=5, targets_module="fuzz_selftest_targets", workers=1)
    try:
        case = tmp_path / "case"
        case.mkdir()
        path = case / "x.dcm"
        path.write_bytes(b"junk")
        (result,) = harness.run_file(path, [target])
    finally:
        harness.close()
    assert result.target == target
    assert result.outcome == outcome, result.detail


# --------------------------------------------------------------------------- regressions
def _seed(name: str) -> Seed:
    return next(s for s in SEEDS if s.name == name)


def _flip(name: str, where: list[int], masks: list[int]) -> Mutation:
    data = bytearray(_seed(name).data)
    for i, m in zip(where, masks, strict=True):
        data[i] ^= m
    return Mutation(name, f"bytes {where} xor {masks}", bytes(data))


def _value(name: str, tag: int, value: bytes) -> Mutation:
    seed = _seed(name)
    return Mutation(name, f"{Tag(tag)} -> {value!r}",
                    replace_value(seed, seed.find(tag), value, True))


def _vr(name: str, tag: int, vr: bytes) -> Mutation:
    seed = _seed(name)
    f = seed.find(tag)
    data = bytearray(seed.data)
    data[f.offset + 4:f.offset + 6] = vr
    return Mutation(name, f"VR of {Tag(tag)} -> {vr!r}", bytes(data))


#: Failures the fuzz tests found, fixed since; each must stay fixed.
REGRESSIONS = {
    "RLE decoder panic (pyo3 PanicException escaped dicomio.pixels)":
        lambda: _flip("MR_small_RLE.dcm", [1544, 2168], [1, 148]),
    "empty Transfer Syntax UID (AttributeError in dicomio.pixels)":
        lambda: _value("MR_small_implicit.dcm", 0x00020010, b""),
    "Transfer Syntax UID that is not one (ValueError in dicomio.pixels)":
        lambda: _value("MR_small.dcm", 0x00020010, b"not a uid"),
    "Transfer Syntax UID with VR PN (AttributeError in dicomio.pixels)":
        lambda: _vr("MR_small.dcm", 0x00020010, b"PN"),
    "text Rescale Intercept (ValueError in pixels.modality_values)":
        lambda: _value("CT_small.dcm", 0x00281052, b"PALETTE COLOR"),
    "one number in Image Position (TypeError in volume.load_series)":
        lambda: _value("MR_small.dcm", 0x00200032, b"-0.0"),
    "Columns with VR AE (ValueError in volume.load_series)":
        lambda: _vr("MR_small_RLE.dcm", 0x00280011, b"AE"),
    "Rows with VR SL (text in an Int64 column: ArrowInvalid ended the whole crawl.scan)":
        lambda: _vr("emri_small.dcm", 0x00280010, b"SL"),
    "De-identification Method with VR IS (ValueError when deid sets it)":
        lambda: _vr("emri_small.dcm", 0x00120063, b"IS"),
    "unknown VR (NotImplementedError in deid and organize_folder)":
        lambda: _vr("CT_small.dcm", 0x00201041, b"ZZ"),
    "cut inside Pixel Data (crawl: 'invalid' and a bare ValueError from read_header)":
        lambda: Mutation("CT_small.dcm", "truncated to 20000 bytes",
                         _seed("CT_small.dcm").data[:20000]),
}


@pytest.mark.parametrize("name", ["MR_small_implicit.dcm", "CT_small.dcm"])
def test_read_refuses_an_element_longer_than_the_file(name: str, tmp_path: Path) -> None:
    """Found by reading the fuzz outcomes: pydicom reads a value whose declared length runs
    past the end of the file up to the end, and returns a dataset silently missing every
    later element. dicomio.read says so instead."""
    from helpers.dicom import dicomio
    from helpers.dicom.errors import TruncatedFileError

    seed = _seed(name)
    f = seed.find(0x00080018)  # SOP Instance UID, early in the data set
    data = bytearray(seed.data)
    put_int(data, f.length_at, f.length_size, (1 << (8 * f.length_size)) - 16, f.little)
    path = tmp_path / name
    path.write_bytes(bytes(data))
    with pytest.raises(TruncatedFileError,
                       match=rf"^{name}: truncated: data element \(0008,0018\)"):
        dicomio.read(path)


@pytest.mark.parametrize("case", sorted(REGRESSIONS))
def test_regression(harness, case: str) -> None:
    _check(harness, REGRESSIONS[case]())


@pytest.mark.parametrize("name", ["MR_small_implicit.dcm", "MR_small_bigendian.dcm"])
def test_walker_small_max_value_bytes_keeps_the_encoding(name: str) -> None:
    """Found while building the seeds: with ``max_value_bytes`` shorter than the Transfer
    Syntax UID the walker read an implicit or big endian file as explicit little endian."""
    from helpers.dicom import part10_bytes

    path = DATA_DIR / "real" / name
    short = part10_bytes.read_elements(path, stop_at_pixel_data=False, max_value_bytes=0)
    full = part10_bytes.read_elements(path, stop_at_pixel_data=False)
    assert [(r.offset, r.tag, r.vr, r.length) for r in short] == \
        [(r.offset, r.tag, r.vr, r.length) for r in full]
