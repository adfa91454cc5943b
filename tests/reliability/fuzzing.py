"""Fuzzing machinery: seed files, their byte layout, mutations, and the worker harness.

- :class:`Seed`: a small real DICOM file and where its elements sit (offsets of
  tags, VRs, length fields and values, found once with
  :func:`helpers.dicom.part10_bytes.read_elements` on the pristine file; the reader is
  only used to aim the mutations here).
- :class:`Mutation`: a description and the mutated bytes; the hypothesis
  strategies in ``test_fuzz.py`` build them.
- :class:`Harness`: a worker process (``fuzz_worker.py``) with a memory cap that
  runs every target on a mutated file; each target gets ``timeout`` seconds,
  a target that takes longer is killed and reported as a hang, a worker that
  dies (segfault, abort) is reported as a crash.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

#: Address space the worker may add after its imports (bytes): far more than any
#: of the small seed files needs, far less than a "huge declared length" asks for.
MEMORY_LIMIT = 1536 * 1024 * 1024
#: Seconds one target may take on one file (generous: CI shares two cores).
TIMEOUT = float(os.environ.get("FUZZ_TIMEOUT", "30"))

WORKER = Path(__file__).with_name("fuzz_worker.py")


# --------------------------------------------------------------------------- seeds
@dataclass(frozen=True)
class Field:
    """One element of a seed file, as byte offsets."""

    offset: int        # tag
    tag: int
    vr: str            # "" for items and delimiters
    explicit: bool
    header: int        # header length (8 or 12)
    length: int        # declared value length
    length_at: int     # offset of the length field
    length_size: int   # 2 or 4 bytes
    little: bool       # byte order of this element
    depth: int
    part: str          # "meta" or "dataset"

    @property
    def value_at(self) -> int:
        return self.offset + self.header


@dataclass(frozen=True)
class Seed:
    name: str
    data: bytes
    fields: tuple[Field, ...]

    def find(self, tag: int) -> Field | None:
        return next((f for f in self.fields if f.tag == tag), None)

    @property
    def pixel_range(self) -> tuple[int, int] | None:
        """Byte range of the pixel data value (native) or of its fragments."""
        px = next((f for f in self.fields if f.tag == 0x7FE00010 and f.depth == 0), None)
        if px is None:
            return None
        end = len(self.data) if px.length == 0xFFFFFFFF else px.value_at + px.length
        return px.value_at, min(end, len(self.data))


def load_seed(path: Path) -> Seed:
    """Read ``path`` and locate its elements (the seed must be a valid file)."""
    from helpers.dicom import part10_bytes

    records = part10_bytes.read_elements(path, stop_at_pixel_data=False, max_value_bytes=256)
    uid = part10_bytes.transfer_syntax(records)
    big_endian = uid == "1.2.840.10008.1.2.2"
    fields = []
    for r in records:
        little = r.part == "meta" or not big_endian
        if not r.vr:  # item or delimiter: tag + 4-byte length
            at, size = r.offset + 4, 4
        elif not r.explicit_vr:
            at, size = r.offset + 4, 4
        elif r.header_length == 12:
            at, size = r.offset + 8, 4
        else:
            at, size = r.offset + 6, 2
        fields.append(Field(r.offset, r.tag, r.vr, r.explicit_vr, r.header_length, r.length,
                            at, size, little, r.depth, r.part))
    return Seed(path.name, path.read_bytes(), tuple(fields))


# --------------------------------------------------------------------------- mutations
@dataclass(frozen=True)
class Mutation:
    seed: str
    what: str
    data: bytes = field(repr=False)

    def __str__(self) -> str:
        return f"{self.seed}: {self.what} ({len(self.data)} bytes)"


def put_int(data: bytearray, at: int, size: int, value: int, little: bool) -> None:
    data[at:at + size] = (value % (1 << (8 * size))).to_bytes(size, "little" if little else "big")


def replace_value(seed: Seed, f: Field, value: bytes, fix_group_length: bool) -> bytes:
    """Replace an element's value (any length; its length field follows) in the seed."""
    if len(value) % 2:
        value += b"\0" if f.vr == "UI" else b" "
    data = bytearray(seed.data)
    end = f.value_at + f.length
    data[f.value_at:end] = value
    put_int(data, f.length_at, f.length_size, len(value), f.little)
    delta = len(value) - f.length
    gl = seed.find(0x00020000)
    if fix_group_length and f.part == "meta" and gl is not None and delta:
        old = int.from_bytes(seed.data[gl.value_at:gl.value_at + 4], "little")
        put_int(data, gl.value_at, 4, old + delta, True)
    return bytes(data)


# --------------------------------------------------------------------------- harness
@dataclass
class Outcome:
    target: str
    outcome: str   # ok, documented, bug, hang, crash
    detail: str


class _Worker:
    """One worker process (``fuzz_worker.py``) and its line-buffered JSON protocol."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER), str(harness.memory_limit)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=harness.env, cwd=harness.workdir)
        self.buffer = b""
        hello = self.line(120)
        if hello is None or "ready" not in hello:
            self.close()
            raise RuntimeError(f"fuzz worker did not start: {hello}")
        self.targets: list[str] = hello["ready"]
        self.current: str | None = None
        self.results: list[Outcome] = []
        self.deadline = 0.0

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream:
                stream.close()

    def line(self, timeout: float) -> dict | None:
        """The next JSON line, or None on timeout; ``{"dead": status}`` if the worker died."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return {"dead": self.proc.wait()}
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def send(self, path: Path, targets: list[str]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps({"path": str(path), "targets": targets}) + "\n")
                              .encode())
        self.proc.stdin.flush()
        self.current, self.results = None, []

    def receive(self) -> tuple[list[Outcome], bool]:
        """Collect one case's outcomes; the bool says whether the worker must be replaced."""
        timeout = self.harness.timeout
        while True:
            msg = self.line(timeout)
            if msg is None or "dead" in msg:
                kind = "hang" if msg is None else "crash"
                detail = (f"no answer within {timeout:.0f} s" if msg is None
                          else f"worker died (exit status {msg['dead']})")
                self.results.append(Outcome(self.current or "?", kind, detail))
                return self.results, True
            if "start" in msg:
                self.current = msg["start"]
            elif "target" in msg:
                self.results.append(Outcome(msg["target"], msg["outcome"], msg["detail"]))
                self.current = None
            elif msg.get("done"):
                return self.results, False


class Harness:
    """Runs the targets on one file at a time in capped, timed worker processes.

    The targets are shared out between ``workers`` processes (default 2, or
    ``FUZZ_WORKERS``) that work on the same file at once.
    """

    def __init__(self, workdir: Path, timeout: float = TIMEOUT,
                 memory_limit: int = MEMORY_LIMIT, targets_module: str | None = None,
                 workers: int | None = None) -> None:
        self.workdir = workdir
        self.timeout = timeout
        self.memory_limit = memory_limit
        self.n_workers = workers or int(os.environ.get("FUZZ_WORKERS", "2"))
        self.env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                        PYTHONDONTWRITEBYTECODE="1")
        if targets_module:
            self.env["FUZZ_TARGETS"] = targets_module
        self.workers: list[_Worker | None] = [None] * self.n_workers
        self.targets: list[str] = []
        self.stats: Counter[str] = Counter()
        self.cases = 0

    def start(self) -> None:
        for i in range(self.n_workers):
            if self.workers[i] is None:
                self.workers[i] = _Worker(self)
        self.targets = self.workers[0].targets  # type: ignore[union-attr]

    def close(self) -> None:
        for i, w in enumerate(self.workers):
            if w is not None:
                w.close()
                self.workers[i] = None

    def run_file(self, path: Path, targets: list[str] | None = None) -> list[Outcome]:
        """Run ``targets`` (default all) on ``path``; one :class:`Outcome` per target."""
        self.start()
        wanted = targets or self.targets
        shares = [wanted[i::self.n_workers] for i in range(self.n_workers)]
        busy = [(i, w) for i, (w, share) in enumerate(zip(self.workers, shares, strict=True))
                if share]
        for (i, w) in busy:
            w.send(path, shares[i])  # type: ignore[union-attr]
        results: list[Outcome] = []
        for i, w in busy:
            outcomes, broken = w.receive()  # type: ignore[union-attr]
            results += outcomes
            if broken:
                w.close()  # type: ignore[union-attr]
                self.workers[i] = None
        order = {name: k for k, name in enumerate(wanted)}
        results.sort(key=lambda o: order.get(o.target, len(order)))
        self.cases += 1
        for r in results:
            self.stats[r.outcome] += 1
        return results

    def run(self, mutation: Mutation) -> list[Outcome]:
        """Write the mutated file alone in a folder and run every target on it."""
        case = self.workdir / "case"
        if case.exists():
            shutil.rmtree(case)
        case.mkdir()
        path = case / mutation.seed
        path.write_bytes(mutation.data)
        return self.run_file(path)


def bugs(outcomes: list[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if o.outcome not in ("ok", "documented")]


def report(mutation: Mutation, outcomes: list[Outcome]) -> str:
    lines = [f"mutated file: {mutation}"]
    for o in bugs(outcomes):
        lines.append(f"--- {o.target}: {o.outcome}\n{o.detail}")
    return "\n".join(lines)
