"""Archives: ``crawl.scan`` on thousands of files, a tenth of them junk.

The tree (built in a temporary folder) holds hard links to a few real instances
and, for about a tenth of the entries, what real archives hold besides: text and
PNG files, empty files, truncated DICOM, random bytes, a bare preamble, a
DICOMDIR, FIFOs, symbolic link loops (a link to its own folder, a link to
itself, two links to each other), broken links, an unreadable file and an
unreadable folder, and files that vanish between the listing and the reading.

Promises checked (``helpers.tables.crawl`` documents them):

- the crawl finishes and raises nothing;
- every entry is accounted for exactly once: the paths of ``table`` and
  ``errors`` are disjoint and together are exactly the entries of the tree
  (listed here independently, with ``os.scandir``);
- each entry lands where it should: instances in ``table``; every kind of junk
  in ``errors`` with its kind and a reason.

Symbolic link policy (the crawl's, asserted here): a link to a file is read
through (the file is an instance if its target is); a link to a folder is not
followed and is reported as ``link`` (so a loop cannot trap the crawl); a loop
or a broken link is reported as ``link``.

Unreadable entries: the test runs as root in CI, and root reads everything, so
the crawl then runs in a subprocess under ``setpriv`` without the capabilities
that bypass file permissions (see :func:`scan`); without root permissions bite
anyway. Without ``setpriv`` as root, the unreadable entries are not checked.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from readonly import without_dac_override

from helpers.paths import DATA_DIR, REPO_ROOT
from helpers.tables import crawl

REAL = DATA_DIR / "real"
#: Real files that are instances, and go to the table (plus MR_small without its
#: preamble and file meta, which the crawl reads as a non-Part-10 instance).
GOOD = ["CT_small.dcm", "MR_small.dcm", "MR_small_implicit.dcm", "MR_small_RLE.dcm",
        "rtplan.dcm", "emri_small.dcm"]
N_GOOD = 2700
N_VANISH = 12

pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="data/real is missing: run `make data`")


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (8, 8), 128).save(buf, format="PNG")
    return buf.getvalue()


def _without_file_meta(path: Path) -> bytes:
    """The bytes of a Part 10 file after its preamble and file meta group (PS3.10 7.1)."""
    from helpers.dicom import part10_bytes

    records = part10_bytes.read_elements(path, max_elements=40)
    first = next(r for r in records if r.part == "dataset")
    return path.read_bytes()[first.offset:]


class Tree:
    """The test archive: what each entry is and where it must land."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.expect: dict[str, str] = {}  # relative path -> "table" or an error kind
        self.vanish: list[str] = []

    def add(self, rel: str, data: bytes | None, expect: str, *, link_to: Path | None = None,
            hardlink: Path | None = None) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if hardlink is not None:
            os.link(hardlink, path)
        elif link_to is not None:
            path.symlink_to(link_to)
        elif data is not None:
            path.write_bytes(data)
        self.expect[rel] = expect


def build_tree(root: Path, seed: int = 7) -> Tree:
    rng = random.Random(seed)
    tree = Tree(root)
    originals = root / ".originals"  # hard-link sources, outside the crawled folder
    originals.mkdir()
    sources = []
    for name in GOOD:
        shutil.copyfile(REAL / name, originals / name)
        sources.append(originals / name)
    bare = originals / "no_preamble.dcm"  # the data set alone: no preamble, no group 0002
    bare.write_bytes(_without_file_meta(REAL / "MR_small.dcm"))
    sources.append(bare)
    crawl_root = root / "archive"
    crawl_root.mkdir()
    tree.root = crawl_root
    for i in range(N_GOOD):
        src = sources[i % len(sources)]
        tree.add(f"patient{i % 40:02d}/study{i % 3}/{i:05d}_{src.stem}.dcm", None, "table",
                 hardlink=src)
    ct = (REAL / "CT_small.dcm").read_bytes()
    junk: list[tuple[str, bytes, str]] = []
    for i in range(80):
        junk.append((f"notes/readme{i}.txt", f"scan notes {i}\n".encode() * (i + 1),
                     "NotDicomError"))
    for i in range(40):
        junk.append((f"thumbs/thumb{i}.png", _png(), "NotDicomError"))
    for i in range(40):
        junk.append((f"incoming/empty{i}.dcm", b"", "EmptyFileError"))
    for i, cut in enumerate(rng.sample(range(400, len(ct) - 1), 60)):
        junk.append((f"incoming/cut{i}.dcm", ct[:cut], "TruncatedFileError"))
    for i in range(60):
        junk.append((f"junk/random{i}.bin", rng.randbytes(rng.randint(1, 4000)), "NotDicomError"))
    for i in range(10):
        junk.append((f"junk/preamble_only{i}.dcm", b"\0" * 128 + b"DICM", "TruncatedFileError"))
    junk.append(("incoming/DICOMDIR", (REAL / "dicomdirtests" / "DICOMDIR").read_bytes(),
                 "NotAnInstanceError"))
    junk.append(("incoming/no_meta.dcm", (REAL / "no_meta.dcm").read_bytes(), "NotDicomError"))
    junk.append(("incoming/MR_truncated.dcm", (REAL / "MR_truncated.dcm").read_bytes(),
                 "TruncatedFileError"))
    for rel, data, kind in junk:
        tree.add(rel, data, kind)
    # links
    tree.add("patient00/loop_to_root", None, "LinkNotFollowedError", link_to=Path(".."))
    tree.add("patient01/loop_to_self_folder", None, "LinkNotFollowedError", link_to=Path("."))
    tree.add("links/self", None, "LinkNotFollowedError", link_to=Path("self"))
    tree.add("links/ping", None, "LinkNotFollowedError", link_to=Path("pong"))
    tree.add("links/pong", None, "LinkNotFollowedError", link_to=Path("ping"))
    tree.add("links/broken", None, "LinkNotFollowedError", link_to=Path("no/such/file.dcm"))
    tree.add("links/to_good.dcm", None, "table", link_to=crawl_root / "patient00" / "study0"
             / "00000_CT_small.dcm")
    tree.add("links/to_junk.txt", None, "NotDicomError", link_to=Path("../notes/readme0.txt"))
    for i in range(3):
        fifo = crawl_root / "incoming" / f"pipe{i}"
        os.mkfifo(fifo)
        tree.expect[f"incoming/pipe{i}"] = "NotAFileError"
    # files that will vanish after the listing (see vanishing_walk)
    tree.vanish = sorted(rng.sample([r for r, k in tree.expect.items()
                                     if k == "table" and r.startswith("patient")], N_VANISH))
    for rel in tree.vanish:
        tree.expect[rel] = "UnreadableFileError"
    return tree


def add_unreadable(tree: Tree) -> None:
    root = tree.root
    (root / "locked").mkdir()
    shutil.copyfile(REAL / "MR_small.dcm", root / "locked" / "hidden.dcm")
    (root / "locked").chmod(0)
    tree.expect["locked/"] = "UnreadableFileError"
    shutil.copyfile(REAL / "MR_small.dcm", root / "incoming" / "no_permission.dcm")
    (root / "incoming" / "no_permission.dcm").chmod(0)
    tree.expect["incoming/no_permission.dcm"] = "UnreadableFileError"


def listing(root: Path) -> set[str]:
    """Every entry under ``root`` that is not a real folder (unreadable folders as 'name/'),
    found independently of the crawl."""
    out: set[str] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except PermissionError:
            out.add(folder.relative_to(root).as_posix() + "/")
            continue
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                stack.append(Path(e.path))
            else:
                out.add(Path(e.path).relative_to(root).as_posix())
    return out


#: Runs crawl.scan in a subprocess (see :func:`scan`): the files listed in argv[3]
#: vanish after the crawl listed them and before it reads them (its listing is a
#: generator that it exhausts before reading).
_SCAN = """
import json, pickle, sys
from pathlib import Path
from helpers.tables import crawl

root, out, vanish = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
real_walk = crawl.walk

def walk(folder):
    yield from real_walk(folder)
    for rel in vanish:
        (root / rel).unlink()

crawl.walk = walk
out.write_bytes(pickle.dumps(crawl.scan(root, progress=False)))
"""


def scan(root: Path, vanish: list[str], work: Path) -> tuple:
    """``crawl.scan(root)`` in a subprocess, without the power to read unreadable files.

    Root reads everything, so as root the subprocess runs under ``setpriv`` with the
    capabilities that bypass file permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH)
    removed from its bounding set: it is still root, but mode 000 now means no access.
    Returns ``(table, errors, unreadable_checked)``.
    """
    command = [sys.executable, "-c", _SCAN, str(root), str(work / "result.pickle"),
               json.dumps(vanish)]
    checked = True
    if os.geteuid() == 0:
        prefix = without_dac_override()
        if prefix:
            command = [*prefix, *command]
        else:
            checked = False
    proc = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    table, errors = pickle.loads((work / "result.pickle").read_bytes())
    return table, errors, checked


@pytest.fixture
def archive():
    base = Path(tempfile.mkdtemp(prefix="archive-"))
    tree = build_tree(base)
    yield tree
    for dirpath, dirnames, _ in os.walk(base):
        for d in dirnames:
            Path(dirpath, d).chmod(0o755)
    shutil.rmtree(base)


def _check_accounted(table, errors, all_entries: set[str]) -> None:
    tpaths, epaths = list(table["path"]), list(errors["path"])
    assert len(tpaths) == len(set(tpaths)), "a path appears twice in the table"
    assert len(epaths) == len(set(epaths)), "a path appears twice in the errors"
    assert not set(tpaths) & set(epaths), "a path is both an instance and an error"
    assert set(tpaths) | set(epaths) == all_entries
    assert errors["error"].map(lambda s: bool(str(s).strip())).all(), "an error without reason"


def test_thousands_of_files_with_junk(archive: Tree, tmp_path: Path) -> None:
    tree = archive
    add_unreadable(tree)
    # the tree is what it was built to be (listed independently, as the crawl's user
    # would see it: an unreadable folder is one entry)
    found = {("locked/" if rel.startswith("locked/") else rel) for rel in listing(tree.root)}
    assert found == set(tree.expect)
    started = time.perf_counter()
    table, errors, unreadable_checked = scan(tree.root, tree.vanish, tmp_path)
    seconds = time.perf_counter() - started

    total = len(tree.expect)
    junk = sum(1 for k in tree.expect.values() if k != "table")
    assert total >= 3000 and junk >= total // 10
    _check_accounted(table, errors, set(tree.expect))

    kinds = dict(zip(errors["path"], errors["kind"], strict=True))
    reasons = dict(zip(errors["path"], errors["error"], strict=True))
    unreadable = {"locked/", "incoming/no_permission.dcm"}
    wrong = {rel: (want, kinds.get(rel, "table")) for rel, want in tree.expect.items()
             if kinds.get(rel, "table") != want
             and (unreadable_checked or rel not in unreadable)}
    assert not wrong, (f"{len(wrong)} entries in the wrong place (path: (expected, got)), "
                       f"e.g. {dict(sorted(wrong.items())[:8])}")
    for rel in tree.vanish:
        assert "removed after it was listed" in reasons[rel], reasons[rel]
    if unreadable_checked:
        assert "permission denied" in reasons["incoming/no_permission.dcm"]
    assert "loop" in reasons["links/self"] and "loop" in reasons["links/ping"]
    assert "not followed" in reasons["patient00/loop_to_root"]
    # a link to an instance is read through, and listed under the link's own path
    rows = table.set_index("path")
    assert rows.loc["links/to_good.dcm", "Modality"] == "CT"
    bare = [rel for rel in rows.index if rel.endswith("_no_preamble.dcm")]
    assert bare and not rows.loc[bare, "part10"].any()
    print(f"crawl.scan: {total} entries ({junk} junk) in {seconds:.1f} s; unreadable entries "
          f"{'checked' if unreadable_checked else 'not checked (root without setpriv)'}")


def test_files_vanishing_while_the_crawl_reads(tmp_path: Path) -> None:
    """A thread deletes files while scan runs (timing not controlled): the crawl
    finishes, lists no path twice, and reports every file that was not deleted."""
    root = tmp_path / "busy"
    src = tmp_path / "MR_small.dcm"
    shutil.copyfile(REAL / "MR_small.dcm", src)
    names = [f"f{i:04d}.dcm" for i in range(600)]
    for i, name in enumerate(names):
        (root / f"d{i % 6}").mkdir(parents=True, exist_ok=True)
        os.link(src, root / f"d{i % 6}" / name)
    rels = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.dcm"))
    doomed = set(random.Random(3).sample(rels, 150))
    stop = threading.Event()

    def delete() -> None:
        for rel in sorted(doomed):
            if stop.is_set():
                return
            (root / rel).unlink()
            time.sleep(0.001)

    thread = threading.Thread(target=delete)
    thread.start()
    try:
        table, errors = crawl.scan(root, progress=False)
    finally:
        stop.set()
        thread.join()
    seen = list(table["path"]) + list(errors["path"])
    assert len(seen) == len(set(seen))
    assert set(seen) <= set(rels)
    assert set(rels) - doomed <= set(seen), "a file that was never deleted is missing"
    vanished = errors[errors["path"].isin(doomed)]
    assert vanished["error"].str.contains("removed after it was listed").all(), vanished
    assert set(table["path"]).isdisjoint(set(errors["path"]))
