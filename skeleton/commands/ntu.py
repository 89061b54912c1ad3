"""`skeleton ntu3d` and the NTU workflow steps (`ntu-index`, `ntu-parse-shard`, `ntu-splits`,
`ntu-package`) as commands, so one step or one sample can be debugged by hand."""

from __future__ import annotations

import argparse
import json
import sys

from skeleton.core.defaults import NTU
from skeleton.core.errors import UsageError
from skeleton.ntu.denoise import DENOISE_MODES
from skeleton.ntu.names import DATASETS

INPUTS_HELP = ".skeleton files, folders of them (searched recursively) or .zip archives of them"
DENOISE_HELP = (
    "pyskl: the algorithm behind PYSKL's released 3D pickles; energy: MMAction2's raw "
    "converter (default: %(default)s, as the workflow's ntu.denoise)"
)
DATASET_HELP = "ntu60 (S001-S017, A001-A060) or ntu120 (every sample)"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ntu3d",
        help="NTU RGB+D .skeleton files -> 3D annotation pickle",
        description="Parse, denoise, split and package NTU RGB+D raw skeletons. Rejected "
        "samples are listed with their reason; the exit code is 0 as long as one sample made it.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help=INPUTS_HELP)
    p.add_argument("--denoise", choices=DENOISE_MODES, default=NTU.denoise, help=DENOISE_HELP)
    p.add_argument("--out", required=True, metavar="OUT.pkl", help="the pickle to write")
    p.add_argument(
        "--dataset",
        choices=("auto", *DATASETS),
        default="auto",
        help=f"keep this dataset's samples and splits: {DATASET_HELP}; auto: ntu60 when every "
        "input sample is in NTU60's range, else ntu120 (default: %(default)s)",
    )
    p.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="parallel processes (default: %(default)s)"
    )
    p.add_argument(
        "--rejects",
        metavar="FILE",
        help="write the rejects report (TSV: sample, source, reason, detail) here",
    )
    p.add_argument("--manifest", metavar="FILE", help="write a JSON manifest here")
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when any sample is rejected (the summary and the report come first)",
    )
    _max_raw(p)
    p.set_defaults(func=run_ntu3d, output_files=_outputs("out", "rejects", "manifest"))

    p = sub.add_parser(
        "ntu-index",
        help="workflow step: scan inputs, write the sample table",
        description="Write the sample table (index.tsv) of rule ntu_index: one row per sample "
        "with its name fields, NTU60 and missing-list flags, status and parse shard.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help=INPUTS_HELP)
    p.add_argument(
        "--shard-size",
        type=int,
        default=NTU.shard_size,
        metavar="N",
        help="samples per parse shard at NTU120's full size: the shards are "
        "ceil(114480 / N) hash buckets of the sample names (default: %(default)s, as the "
        "workflow's ntu.shard_size)",
    )
    p.add_argument("--out", required=True, metavar="INDEX.tsv", help="the table to write")
    p.add_argument(
        "--members",
        metavar="DIR",
        help="also write each shard's members file, DIR/skeletons_<k>.tsv (what "
        "ntu-parse-shard reads); only files whose content changes are written",
    )
    _max_raw(p)
    p.set_defaults(func=run_ntu_index, output_files=_outputs("out"))

    p = sub.add_parser(
        "ntu-parse-shard",
        help="workflow step: parse + denoise one shard",
        description="Parse and denoise the samples of one shard (rule ntu_parse_shard) into a "
        "shard file of annotations and rejects.",
    )
    p.add_argument(
        "members",
        metavar="MEMBERS.tsv",
        help="the shard's members file, written by `ntu-index --members DIR`",
    )
    p.add_argument("--denoise", choices=DENOISE_MODES, default=NTU.denoise, help=DENOISE_HELP)
    p.add_argument("--out", required=True, metavar="SHARD.pkl", help="the shard file to write")
    _max_raw(p)
    p.set_defaults(func=run_ntu_parse_shard, output_files=_outputs("out"))

    p = sub.add_parser(
        "ntu-splits",
        help="workflow step: official splits of the indexed samples",
        description="Assign the official benchmark splits (ntu60: xsub, xview; ntu120: xsub, "
        "xset) to every usable sample of the index (rule ntu_splits).",
    )
    p.add_argument("index", metavar="INDEX.tsv", help="the table written by ntu-index")
    p.add_argument("--dataset", choices=DATASETS, required=True, help=DATASET_HELP)
    p.add_argument("--out", required=True, metavar="SPLITS.json", help="the splits to write")
    p.set_defaults(func=run_ntu_splits, output_files=_outputs("out"))

    p = sub.add_parser(
        "ntu-rejects",
        help="workflow step: a dataset's rejects report from the index and the shard digests",
        description="Write a dataset's rejects report (rule ntu_rejects): the index's rejected "
        "samples and those the parse shards rejected, read from the shards' digests. Its own "
        "step, so a packaging that fails in strict mode leaves it in place.",
    )
    p.add_argument("index", metavar="INDEX.tsv", help="the table written by ntu-index")
    p.add_argument("shards", nargs="+", metavar="SHARD", help="shard_<k>.pkl or .json files")
    p.add_argument("--dataset", choices=DATASETS, required=True, help=DATASET_HELP)
    p.add_argument("--out", required=True, metavar="FILE", help="the rejects report (TSV)")
    p.set_defaults(func=run_ntu_rejects, output_files=_outputs("out"))

    p = sub.add_parser(
        "ntu-package",
        help="workflow step: shards -> <ds>_3d.pkl + report",
        description="Stream the shard files into the dataset pickle with the given splits, and "
        "write its rejects report and manifest (rule ntu_package).",
    )
    p.add_argument("index", metavar="INDEX.tsv", help="the table written by ntu-index")
    p.add_argument("shards", nargs="+", metavar="SHARD.pkl", help="shard files (any order)")
    p.add_argument(
        "--splits",
        required=True,
        metavar="OFFICIAL.json",
        help="the official splits of the indexed samples, from ntu-splits",
    )
    p.add_argument(
        "--splits-out",
        metavar="SPLITS.json",
        help="also write the pickle's own split (packaged samples only) here",
    )
    p.add_argument("--dataset", choices=DATASETS, required=True, help=DATASET_HELP)
    p.add_argument("--out", required=True, metavar="OUT.pkl", help="the pickle to write")
    p.add_argument("--rejects", required=True, metavar="FILE", help="the rejects report (TSV)")
    p.add_argument("--manifest", required=True, metavar="FILE", help="the JSON manifest")
    p.add_argument(
        "--strict", action="store_true", help="exit 1 when any sample is rejected (report first)"
    )
    p.set_defaults(func=run_ntu_package, output_files=_outputs("out", "rejects", "manifest"))


def _outputs(*dests: str) -> dict[str, str]:
    """Output options checked before any work (skeleton.cli.check_outputs): {dest: --option}."""
    return {d: "--" + d.replace("_", "-") for d in dests}


def _max_raw(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--max-raw-mb",
        type=float,
        default=NTU.max_raw_mb,
        metavar="MB",
        help="reject raw files larger than this, uncompressed, without reading them whole "
        "(default: %(default)s, as the workflow's ntu.max_raw_mb; real NTU files are under 2 MB)",
    )


def _max_raw_bytes(args: argparse.Namespace) -> int:
    from skeleton.core.files import raw_bytes

    if args.max_raw_mb <= 0:
        raise UsageError("--max-raw-mb must be positive")
    return raw_bytes(args.max_raw_mb)


def _summary(counts: dict, out: str, rejects: str | None) -> None:
    splits = ", ".join(f"{k} {v}" for k, v in counts["splits"].items())
    print(f"{out}: {counts['samples']} samples ({splits})", file=sys.stderr)
    if counts["rejected"]:
        reasons = ", ".join(f"{k} {v}" for k, v in counts["rejects"].items())
        where = f"; see {rejects}" if rejects else " (use --rejects FILE for the list)"
        print(f"rejected {counts['rejected']}: {reasons}{where}", file=sys.stderr)


SHOWN_REJECTS = 20  # rejected samples printed when nothing could be packaged


def run_ntu3d(args: argparse.Namespace) -> int:
    from skeleton.core.packaging import Report
    from skeleton.core.rejects import PackagingError, StrictModeError
    from skeleton.ntu.build import build
    from skeleton.ntu.index import auto_dataset, build_index

    if args.jobs < 1:
        raise UsageError("--jobs must be >= 1")
    from skeleton.core.files import raw_size_limit

    limit = _max_raw_bytes(args)
    try:
        rows = build_index(args.inputs, shard_size=10**9, max_raw_bytes=limit)
    except (OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    if not rows:
        raise UsageError("no .skeleton files found in " + ", ".join(args.inputs))
    dataset = auto_dataset(rows) if args.dataset == "auto" else args.dataset
    if args.dataset == "auto":
        print(f"dataset: {dataset} (--dataset auto)", file=sys.stderr)
    try:
        with raw_size_limit(limit):  # (forked --jobs workers inherit it)
            report = Report(dataset, "3d", args.rejects)
            counts = build(
                rows, args.denoise, args.out, report, args.jobs, args.manifest, strict=args.strict
            )
    except PackagingError as exc:
        if isinstance(exc, StrictModeError):  # first: the counts and where the report is
            print(f"strict mode: {exc}", file=sys.stderr)
        for r in exc.rejects[:SHOWN_REJECTS]:
            print(f"  {r}", file=sys.stderr)
        if len(exc.rejects) > SHOWN_REJECTS:
            print(f"  ... {len(exc.rejects) - SHOWN_REJECTS} more", file=sys.stderr)
        if isinstance(exc, StrictModeError):
            return 1
        raise UsageError(str(exc)) from None
    _summary(counts, args.out, args.rejects)
    return 0


def run_ntu_index(args: argparse.Namespace) -> int:
    from skeleton.ntu.index import ntu_index

    try:
        rows = ntu_index(args.inputs, args.shard_size, args.out, _max_raw_bytes(args), args.members)
    except (OSError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    print(f"{args.out}: {len(rows)} rows", file=sys.stderr)
    return 0


def run_ntu_parse_shard(args: argparse.Namespace) -> int:
    from skeleton.ntu.parse import ntu_parse_shard

    res = ntu_parse_shard(args.members, args.denoise, args.out, _max_raw_bytes(args))
    print(
        f"{args.out}: {len(res.annotations)} samples, {len(res.rejects)} rejected", file=sys.stderr
    )
    return 0


def run_ntu_splits(args: argparse.Namespace) -> int:
    from skeleton.ntu.package import ntu_splits

    splits = ntu_splits(args.index, args.dataset, args.out)
    print(json.dumps({k: len(v) for k, v in splits.items()}), file=sys.stderr)
    return 0


def run_ntu_rejects(args: argparse.Namespace) -> int:
    from skeleton.core.errors import InputError
    from skeleton.ntu.rejects import ntu_rejects
    from skeleton.ntu.shards import ShardError

    try:
        rejects = ntu_rejects(args.index, args.shards, args.dataset, args.out)
    except ShardError as exc:
        raise InputError(str(exc)) from None
    print(f"{args.out}: {len(rejects)} rejected", file=sys.stderr)
    return 0


def run_ntu_package(args: argparse.Namespace) -> int:
    from skeleton.core.errors import InputError
    from skeleton.core.packaging import Report
    from skeleton.core.rejects import NoUsableSamples, StrictModeError
    from skeleton.ntu.package import ntu_package
    from skeleton.ntu.shards import ShardError

    report = Report(args.dataset, "3d", args.rejects)
    try:
        counts = ntu_package(
            args.index, args.shards, args.splits, args.out, report, args.manifest, {},
            args.strict, splits_out=args.splits_out,
        )  # fmt: skip
    except StrictModeError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except (NoUsableSamples, ShardError) as exc:
        raise InputError(str(exc)) from None
    _summary(counts, args.out, args.rejects)
    return 0
