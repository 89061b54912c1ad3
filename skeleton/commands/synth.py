"""`skeleton synth-ntu`: synthetic NTU-format raw skeleton files."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synth-ntu",
        help="write synthetic NTU RGB+D .skeleton files (tests, demo, benchmarks)",
        description="One- and two-person actions with the noise real files have: empty frames, "
        "ghost and object bodies, id switches, 3-5 bodies, CRLF and LF endings.",
    )
    p.add_argument("out_dir", metavar="OUT_DIR", help="folder to write the files into")
    p.add_argument("--samples", type=int, required=True, metavar="N", help="how many files")
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="S",
        help="random seed: same seed, same files (default: %(default)s)",
    )
    p.add_argument(
        "--ntu120",
        action="store_true",
        help="draw names from NTU120 (S001-S032, A001-A120) (default: NTU60's S001-S017, "
        "A001-A060)",
    )
    p.add_argument(
        "--frames",
        type=int,
        nargs=2,
        default=(50, 130),
        metavar=("MIN", "MAX"),
        help="frame count range per file (default: 50 130)",
    )
    p.set_defaults(func=run, output_folders={"out_dir": "OUT_DIR"})


def run(args: argparse.Namespace) -> int:
    from skeleton.ntu.synth import write_synthetic

    paths = write_synthetic(args.out_dir, args.samples, args.seed, args.ntu120, tuple(args.frames))
    print(f"{args.out_dir}: {len(paths)} synthetic .skeleton files", file=sys.stderr)
    return 0
