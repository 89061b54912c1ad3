"""`skeleton validate FILE.pkl`: safe load + format checks of an annotation pickle.

Exit codes: 0 valid, 1 invalid (one line per problem, capped), 2 refused as unsafe (or a usage
error such as a missing file).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_UNSAFE = 2


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "validate",
        help="check an annotation pickle (safe loader, format checks)",
        description=(
            "Load FILE.pkl with a restricted unpickler (builtin containers/scalars and numpy "
            "arrays only) and check the MMAction2/PYSKL annotation format. Exit 0 valid, "
            "1 invalid (one line per problem), 2 refused as unsafe."
        ),
    )
    p.add_argument("pickle", metavar="FILE.pkl", help="the annotation pickle to check")
    p.add_argument(
        "--max-problems",
        type=int,
        default=50,
        metavar="N",
        help="print at most N problems, then a count of the rest (default: %(default)s)",
    )
    p.add_argument(
        "--num-classes",
        type=int,
        metavar="N",
        help="labels must also be below N (e.g. 60 for NTU60, 120 for NTU120)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from skeleton.core.errors import UsageError
    from skeleton.core.safeload import UnsafePickleError
    from skeleton.core.validate import iter_lines, validate_file

    if os.path.isdir(args.pickle):
        raise UsageError(f"{args.pickle} is a folder: give a .pkl file")
    try:
        report = validate_file(args.pickle, args.num_classes)
    except UnsafePickleError as exc:
        print(f"skeleton validate: {exc}", file=sys.stderr)
        return EXIT_UNSAFE
    except OSError as exc:
        raise UsageError(f"cannot read {args.pickle}: {exc.strerror or exc}") from exc
    for line in iter_lines(report, args.pickle, max(args.max_problems, 0)):
        print(line)
    return EXIT_VALID if report.ok else EXIT_INVALID
