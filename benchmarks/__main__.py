"""``python -m benchmarks``: run the benchmarks and print the tables (Markdown).

Examples::

    make benchmarks                                  # everything, default repeats
    PYTHONPATH=.venv/bench-site .venv/bin/python -m benchmarks --only window --repeat 200
    PYTHONPATH=.venv/bench-site .venv/bin/python -m benchmarks --only crawl volume \\
        --files 5000 --slices 300 --output /tmp/bench.md
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import machine
from ._common import Section, render, render_goals

ORDER = ("crawl", "archive", "volume", "window", "network", "nbval")
DEFAULT_REPEAT = {"crawl": 5, "archive": 1, "volume": 5, "window": 200, "network": 3,
                  "nbval": 1}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", nargs="+", choices=ORDER, default=list(ORDER), metavar="NAME",
                   help=f"benchmarks to run, of: {', '.join(ORDER)} (default: all)")
    p.add_argument("--repeat", type=int, metavar="N",
                   help="repeats for every benchmark (overrides the defaults: "
                        + ", ".join(f"{k} {v}" for k, v in DEFAULT_REPEAT.items()) + ")")
    for name in ORDER:
        p.add_argument(f"--{name}-repeat", type=int, metavar="N",
                       help=f"repeats for the {name} benchmark (default {DEFAULT_REPEAT[name]})")
    p.add_argument("--files", type=int, default=3000, metavar="N",
                   help="files in the crawl archive (default 3000)")
    p.add_argument("--archive-files", type=int, default=100_000, metavar="N",
                   help="files in the large archive (hard links; default 100000)")
    p.add_argument("--slices", type=int, default=200, metavar="N",
                   help="slices in the volume series (default 200)")
    p.add_argument("--output", type=Path, metavar="FILE",
                   help="also write the report (Markdown) to FILE")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def repeats(name: str) -> int:
        value = getattr(args, f"{name}_repeat") or args.repeat or DEFAULT_REPEAT[name]
        if value < 1:
            raise SystemExit(f"--{name}-repeat must be at least 1")
        return value

    head = "\n".join(["## Benchmark run", "", machine.describe(), ""])
    print(head, flush=True)
    parts, sections = [head], []
    start = time.perf_counter()
    for name in ORDER:
        if name not in args.only:
            continue
        began = time.perf_counter()
        section = _run(name, repeats(name), args)
        section.notes.append(f"Benchmark wall time {time.perf_counter() - began:.0f} s; "
                             f"load average now {machine.load_now()}.")
        text = render(section)
        print(text, flush=True)
        parts.append(text)
        sections.append(section)
    goals = render_goals(sections)
    tail = f"Total {time.perf_counter() - start:.0f} s. Absolute times are indicative only " \
           "(shared machine, warm cache); the ratios compare candidates measured " \
           "in the same run."
    print(goals + "\n" + tail)
    parts += [goals, tail]
    if args.output:
        args.output.write_text("\n".join(parts) + "\n")
    return 0


def _run(name: str, repeat: int, args: argparse.Namespace) -> Section:
    if name == "crawl":
        from . import crawl

        return crawl.run(repeat, args.files)
    if name == "archive":
        from . import crawl

        return crawl.run_archive(args.archive_files)
    if name == "volume":
        from . import volume

        return volume.run(repeat, args.slices)
    if name == "window":
        from . import window

        return window.run(repeat)
    if name == "network":
        from . import network

        return network.run(repeat)
    from . import nbval

    return nbval.run(repeat)


if __name__ == "__main__":
    sys.exit(main())
