"""Crawl a folder of DICOM files into a table of header fields, and a table of failures.

:func:`scan` walks a folder (:func:`helpers.dicom.walk.walk`: every entry once,
no link followed that could loop) and reads every file's header
(:func:`helpers.dicom.header.read_header`, pixel data never loaded) into one row
per DICOM instance. Every entry that is not a readable instance lands in a
second table with the reason in words and a ``kind`` that is the name of the
:class:`~helpers.dicom.errors.WorkbookError` subclass it raised, so nothing is lost
silently and nothing stops the crawl.

The files are read in batches on Dask: the local processes scheduler by default
(one process per CPU; :func:`_start_method` says how they start), or any
``dask.distributed.Client`` (a ``LocalCluster``, or a cluster whose workers see
the same folder). :func:`helpers.tables.write.write_parquet` stores the table as
partitioned Parquet, which DuckDB or pandas query without loading it all. Nothing is
ever written into the crawled folder: files are opened read-only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..dicom.errors import ERROR_COLUMNS, NotDicomError, WorkbookError
from ..dicom.header import (
    DICOMDIR_SOP_CLASS,
    EXTRA_COLUMNS,
    FIELDS,
    GEOMETRY_FIELDS,
    HIERARCHY_FIELDS,
    INT_FIELDS,
    read_header,
)
from ..dicom.walk import walk

if TYPE_CHECKING:  # imported lazily: worker processes need neither
    import pandas as pd
    from distributed import Client

__all__ = ["DICOMDIR_SOP_CLASS", "ERROR_COLUMNS", "EXTRA_COLUMNS", "FIELDS", "GEOMETRY_FIELDS",
           "HIERARCHY_FIELDS", "read_header", "scan", "scan_files"]

#: Files read by one task: large enough that scheduling costs little per file,
#: small enough that the progress bar moves and both cores stay busy.
BATCH = 64
#: Up to this many files are read in this process: starting worker processes costs
#: more than it saves below it (one series on 2 cores: 80 slices 0.17 s in a loop
#: against 0.37 s through processes; 200 slices 0.75 s against 0.68 s).
IN_PROCESS_MAX = 200


def _read_batch(root: str, rels: Sequence[str], read: Callable[[str], dict]
                ) -> list[tuple]:
    """Read several files with ``read`` (:func:`read_header` with the crawl's options;
    one Dask task); ``(rel, row, "", "")`` or ``(rel, None, kind, problem)`` for each.
    Never raises for one file."""
    out: list[tuple] = []
    for rel in rels:
        try:
            out.append((rel, read(os.path.join(root, rel)), "", ""))
        except WorkbookError as exc:
            out.append((rel, None, exc.kind, exc.problem))
        except Exception as exc:  # a bug, not a file problem: still one row, never a stop
            out.append((rel, None, type(exc).__name__, f"{type(exc).__name__}: {exc}"))
    return out


class _Progress:
    """A tqdm bar that leaves no frozen text behind: ``leave=False`` in a terminal;
    in a notebook the bar is shown with a display id and replaced, at the end, by
    a one-line summary (so a saved notebook shows the summary, not a bar)."""

    def __init__(self, total: int, enabled: bool) -> None:
        from tqdm.auto import tqdm
        from tqdm.notebook import tqdm as notebook_tqdm

        self.total, self.handle = total, None
        notebook = enabled and issubclass(tqdm, notebook_tqdm)
        self.bar = tqdm(total=total, unit="file", desc="headers", leave=False,
                        disable=not enabled, **({"display": False} if notebook else {}))
        if notebook:
            from IPython.display import display

            self.handle = display(self.bar.container, display_id=True)

    def update(self, n: int) -> None:
        self.bar.update(n)

    def close(self, rows: int, errors: int) -> None:
        self.bar.close()
        if self.handle is not None:
            from IPython.display import Pretty

            self.handle.update(Pretty(
                f"headers: {self.total} files read: {rows} "
                f"{'instance' if rows == 1 else 'instances'}, {errors} "
                f"{'other entry' if errors == 1 else 'other entries'} (see the errors table)"))


def _start_method() -> str:
    """How Dask's processes scheduler starts its workers here.

    A script (``__main__`` is a file) gets ``fork``: ``spawn`` and ``forkserver``
    would run the script again in every worker, and fail unless its code sits
    under ``if __name__ == "__main__":``. A notebook kernel or the REPL (no main
    file, but threads of its own, which ``fork`` copies badly) gets
    ``forkserver``, whose server imports the crawl and pydicom once per session.
    ``spawn`` (Dask's default) where neither exists.
    """
    import multiprocessing as mp

    methods = mp.get_all_start_methods()
    if getattr(sys.modules.get("__main__"), "__file__", None) and "fork" in methods:
        return "fork"
    if "forkserver" in methods:
        mp.get_context("forkserver").set_forkserver_preload([__name__, "pydicom"])
        return "forkserver"
    return "spawn"


def _run_local(root: str, batches: list[list[str]], read: Callable[[str], dict],
               bar: _Progress) -> list[list[tuple]]:
    """Batches on Dask's local processes scheduler (in this process for a few files)."""
    if sum(map(len, batches)) <= IN_PROCESS_MAX or len(batches) <= 1:
        results = [_read_batch(root, b, read) for b in batches]
        bar.update(sum(map(len, batches)))
        return results
    import dask
    from dask.callbacks import Callback

    tasks = [dask.delayed(_read_batch, pure=False)(root, b, read) for b in batches]

    def posttask(key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        if isinstance(result, list):
            bar.update(len(result))

    with Callback(posttask=posttask), dask.config.set(
            {"multiprocessing.context": _start_method()}):
        # chunksize=1: each task is already a batch of files; Dask's default of 6 tasks
        # per submission would hand one process 6 batches at once, and leave the
        # other idle at the end
        return list(dask.compute(*tasks, scheduler="processes", chunksize=1))


def _run_client(client: Client, root: str, batches: list[list[str]],
                read: Callable[[str], dict], bar: _Progress) -> list[list[tuple]]:
    """Batches as futures on a ``dask.distributed`` cluster, collected as they finish."""
    from distributed import as_completed

    n = len(batches)
    futures = client.map(_read_batch, [root] * n, batches, [read] * n, pure=False)
    results = []
    for future in as_completed(futures):
        result = future.result()
        results.append(result)
        bar.update(len(result))
    return results


def scan(
    folder: str | os.PathLike[str],
    *,
    client: Client | None = None,
    progress: bool = True,
    fields: Sequence[str] = FIELDS,
    raw_text: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Crawl ``folder`` recursively: ``(table, errors)``, two DataFrames sorted by path.

    ``table`` has one row per DICOM instance: ``path`` (relative to ``folder``,
    with ``/``), the header ``fields`` (default :data:`FIELDS`; text as the file
    holds it; Rows, Columns, Bits as integers), and ``TransferSyntaxUID``,
    ``transfer_syntax`` (its name), ``sop_class`` (the SOP Class name),
    ``has_pixels``, ``part10`` (False for a data set without preamble and file
    meta) and ``file_size`` in bytes.

    ``errors`` has one row per entry that is not a readable instance: ``path``
    (relative to ``folder``), ``kind``, the name of the
    :class:`~helpers.dicom.errors.WorkbookError` subclass that says what is wrong
    (``NotDicomError``, ``EmptyFileError``, ``TruncatedFileError``,
    ``NotAnInstanceError``, ``MissingTagError``, ``UnreadableFileError``,
    ``LinkNotFollowedError``, ``NotAFileError``), and ``error``, the reason in
    words. Every entry under ``folder`` lands in exactly one of the two tables.

    Batches of :data:`BATCH` files are read on Dask's local processes scheduler
    (in this process up to :data:`IN_PROCESS_MAX` files), or on ``client`` (a
    ``dask.distributed.Client``) when given; its workers must see ``folder`` at the
    same path. ``progress`` shows a progress bar.
    ``raw_text`` is passed to :func:`helpers.dicom.header.read_header`: ``False``
    converts every field with pydicom (same tables, about 1.5x the time; see
    ``benchmarks/README.md``).

    Both tables record the folder crawled in ``attrs["root"]`` (as given), which
    pandas keeps through filtering: :func:`helpers.image.volume.load_series` finds the
    files of one series' rows there.
    """
    root = Path(folder)
    if not root.is_dir():
        raise NotDicomError(root, "is not a folder; scan() crawls a folder of files")
    to_read: list[str] = []
    failed: list[dict[str, str]] = []
    for rel, error in walk(root):
        if error is None:
            to_read.append(rel)
        else:
            failed.append({"path": rel, "kind": error.kind, "error": error.problem})
    return _crawl(root, to_read, failed, client=client, progress=progress, fields=fields,
                  raw_text=raw_text)


def scan_files(
    files: Iterable[str | os.PathLike[str]],
    *,
    client: Client | None = None,
    progress: bool = True,
    fields: Sequence[str] = FIELDS,
    raw_text: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`scan` for a list of files: ``(table, errors)`` as :func:`scan` gives them,
    ``path`` relative to the files' common folder, which ``attrs["root"]`` records."""
    paths = [Path(os.path.abspath(p)) for p in files]
    if not paths:
        raise NotDicomError(None, "no files given")
    root = Path(os.path.commonpath([str(p.parent) for p in paths]))
    rels = sorted({p.relative_to(root).as_posix() for p in paths})
    return _crawl(root, rels, [], client=client, progress=progress, fields=fields,
                  raw_text=raw_text)


def _crawl(root: Path, to_read: list[str], failed: list[dict[str, str]], *,
           client: Client | None, progress: bool, fields: Sequence[str], raw_text: bool
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read ``to_read`` (paths relative to ``root``) into the two tables; ``failed``
    holds the entries already known not to be readable."""
    import pandas as pd

    fields = tuple(fields)
    read = partial(read_header, fields=fields, raw_text=raw_text)
    to_read = sorted(to_read)
    batches = [to_read[i:i + BATCH] for i in range(0, len(to_read), BATCH)]

    bar = _Progress(len(to_read) + len(failed), progress)
    bar.update(len(failed))
    rows: list[dict[str, Any]] = []
    try:
        if client is None:
            results = _run_local(str(root), batches, read, bar)
        else:
            results = _run_client(client, str(root), batches, read, bar)
        for batch in results:
            for rel, row, kind, problem in batch:
                if row is None:
                    failed.append({"path": rel, "kind": kind, "error": problem})
                else:
                    rows.append({"path": rel, **row})
    finally:
        bar.close(len(rows), len(failed))

    table = pd.DataFrame(rows, columns=["path", *fields, *EXTRA_COLUMNS])
    # the byte counts among the columns read_header adds (EXTRA_COLUMNS) are integers too
    counts = [c for c in ("file_size", "trailing_padding") if c in EXTRA_COLUMNS]
    for name in [f for f in fields if f in INT_FIELDS] + counts:
        table[name] = table[name].astype("Int64")
    table["has_pixels"] = table["has_pixels"].astype("bool")
    table["part10"] = table["part10"].astype("bool")
    table = table.sort_values("path", ignore_index=True)
    errors = pd.DataFrame(failed, columns=list(ERROR_COLUMNS))
    errors = errors.sort_values("path", ignore_index=True)
    table.attrs["root"] = errors.attrs["root"] = str(root)
    return table, errors
