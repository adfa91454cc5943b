"""``python -m helpers.data build [--update-manifest]``: build and verify data/."""

from __future__ import annotations

import argparse
import sys

from .build import DataError, build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.data", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="verify data/ against the manifest, rebuild what fails")
    b.add_argument("--update-manifest", action="store_true",
                   help="regenerate everything and rewrite data/MANIFEST.sha256")
    args = parser.parse_args(argv)
    try:
        report = build(update_manifest=args.update_manifest)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"data/ ready in {report.seconds:.1f} s "
          f"({', '.join(report.rebuilt) or 'nothing'} rebuilt)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
