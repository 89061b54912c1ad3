"""`skeleton convert {split,merge,babel}`: reshape annotation pickles (restricted loader)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNSAFE = 2


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def register(subparsers: Any) -> None:
    from skeleton.release.convert import DEFAULT_MAX_OUTPUT_RATIO

    p = subparsers.add_parser(
        "convert",
        help="split / merge annotation pickles, convert BABEL to MMAction2",
        description="Reshape annotation pickles. Input pickles are read with the restricted "
        "loader; an unsafe one is refused (exit 2).",
    )
    sub = p.add_subparsers(
        dest="convert_command",
        metavar="ACTION",
        required=True,
        help="split: one pickle per split; merge: several into one; babel: BABEL to MMAction2",
    )

    s = sub.add_parser(
        "split",
        help="write <prefix>_<split>.pkl per split (plain annotation lists)",
        description="Write one <prefix>_<split>.pkl per split of a combined pickle, each the "
        "plain list of that split's annotations (as older MMAction2 configs expect).",
    )
    s.add_argument("input", metavar="IN.pkl", help="a combined pickle (split + annotations)")
    s.add_argument("outdir", metavar="OUTDIR", help="folder for the per-split pickles")
    s.add_argument("--prefix", help="file name prefix (default: IN's stem), e.g. ntu60")
    s.add_argument(
        "--max-output-ratio",
        type=_positive,
        default=DEFAULT_MAX_OUTPUT_RATIO,
        metavar="R",
        help="refuse an input whose split files would take more than R times its size (a "
        "sample is written once per split it is in) (default: %(default)g)",
    )
    s.set_defaults(func=run_split)

    m = sub.add_parser(
        "merge",
        help="merge annotation lists / combined pickles plus a split into one pickle",
        description="Merge annotation lists or combined pickles into one combined pickle. The "
        "split comes from --split-json ({name: [frame_dir, ...]}) or, without it, from the "
        "inputs' own splits.",
    )
    m.add_argument("output", metavar="OUT.pkl", help="the combined pickle to write")
    m.add_argument(
        "inputs", metavar="IN.pkl", nargs="+", help="annotation lists or combined pickles"
    )
    m.add_argument("--split-json", metavar="SPLITS.json", help="split to store")
    m.set_defaults(func=run_merge)

    b = sub.add_parser(
        "babel",
        help="BABEL *_ntu_sk_*.npy + label pickles -> one combined MMAction2 pickle",
        description="Convert BABEL action-recognition arrays (N x C x T x V x M) and their "
        "label pickles into one combined pickle, one split per data file (train, val, ...): "
        "keypoint M x T x V x C float16, frame_dir <seg_id>_<sid>_<chunk_n>_<anntr_id>.",
    )
    b.add_argument("output", metavar="OUT.pkl", help="the combined pickle to write")
    b.add_argument(
        "data", metavar="SPLIT_ntu_sk_N.npy", nargs="+", help="BABEL data files, one per split"
    )
    b.add_argument(
        "--labels",
        metavar="SPLIT_label_N.pkl",
        nargs="+",
        help="label pickles, one per data file (default: SPLIT_label_N.pkl beside each)",
    )
    b.add_argument(
        "--rejects",
        metavar="FILE.tsv",
        help="list samples left out (bad label, NaN/inf keypoints) here",
    )
    b.set_defaults(func=run_babel)


def _guard(action):  # noqa: ANN001, ANN202
    """Map ConvertError to exit 1, unsafe pickles to exit 2, unreadable files to UsageError."""

    def wrapped(args: argparse.Namespace) -> int:
        from skeleton.core.errors import UsageError
        from skeleton.core.safeload import UnsafePickleError
        from skeleton.release.convert import ConvertError

        try:
            action(args)
        except UnsafePickleError as exc:
            print(f"skeleton convert: {exc}", file=sys.stderr)
            return EXIT_UNSAFE
        except ConvertError as exc:
            print(f"skeleton convert {args.convert_command}: error: {exc}", file=sys.stderr)
            return EXIT_FAILED
        except FileNotFoundError as exc:
            raise UsageError(f"{exc.filename}: no such file") from exc
        except OSError as exc:  # a file that cannot be read or written (a folder, no space)
            name = exc.filename2 or exc.filename  # os.replace(temporary, output): the output
            where = f"{name}: " if name else ""
            reason = exc.strerror or type(exc).__name__
            command = f"skeleton convert {args.convert_command}"
            print(f"{command}: error: {where}{reason}", file=sys.stderr)
            return EXIT_FAILED
        return EXIT_OK

    return wrapped


@_guard
def run_split(args: argparse.Namespace) -> None:
    from skeleton.release.convert import split_pickle

    written = split_pickle(args.input, args.outdir, args.prefix, args.max_output_ratio)
    for name, path in written.items():
        print(f"{name}: {path}")


@_guard
def run_merge(args: argparse.Namespace) -> None:
    from skeleton.release.convert import merge_pickles, read_split_json

    split = read_split_json(args.split_json) if args.split_json else None
    n = merge_pickles(args.output, args.inputs, split)
    print(f"{args.output}: {n} annotations")


@_guard
def run_babel(args: argparse.Namespace) -> None:
    from skeleton.release.convert import babel_to_mmaction

    counts = babel_to_mmaction(args.output, args.data, args.labels, args.rejects)
    print(f"{args.output}: " + ", ".join(f"{k} ({n})" for k, n in counts.items()))
    if args.rejects:
        print(f"rejected samples: {args.rejects}")
