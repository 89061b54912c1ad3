"""`skeleton info`: what an annotation pickle holds (counts, splits, shapes, dtypes).

Exit codes: 0 described, 1 not an annotation pickle (or corrupt), 2 refused as unsafe (or a
usage error such as a missing file).
"""

from __future__ import annotations

import argparse
import os
import sys

from skeleton.core.errors import UsageError
from skeleton.release.describe import NotAnnotations, describe

EXIT_OK = 0
EXIT_INVALID = 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "info",
        help="summarise an annotation pickle (loaded safely)",
        description="Load FILE.pkl with the restricted unpickler and summarise it: annotation "
        "count, splits, keys, keypoint shapes and dtypes, frame counts, labels and image shapes. "
        "Exit 0 described, 1 not a valid annotation pickle (the first problem is shown; "
        "`skeleton validate` lists all), 2 refused as unsafe.",
    )
    p.add_argument("pickle", metavar="FILE.pkl", help="a combined pickle or a list of annotations")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from skeleton.core.safeload import CorruptPickleError
    from skeleton.core.validate import InvalidAnnotations, load_valid

    if os.path.isdir(args.pickle):
        raise UsageError(f"{args.pickle} is a folder: give a .pkl file")
    try:
        data = load_valid(args.pickle)  # summaries only of what the format checks accept
    except FileNotFoundError:
        raise UsageError(f"{args.pickle}: no such file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {args.pickle}: {exc.strerror or exc}") from exc
    except (CorruptPickleError, InvalidAnnotations) as exc:
        print(f"skeleton info: {exc}", file=sys.stderr)
        return EXIT_INVALID
    try:
        lines = describe(data)
    except NotAnnotations as exc:
        print(f"skeleton info: {args.pickle}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    print(f"{args.pickle}")
    for line in lines:
        print(line)
    return EXIT_OK
