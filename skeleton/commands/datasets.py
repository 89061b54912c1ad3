"""`skeleton dataset-index`, `dataset-package`, `k400-dense`, `k400-video-kpfiles`: video datasets.

NTU RGB+D, UCF101, HMDB51, Diving48, FineGYM, Kinetics-400 and custom CSV/TSV lists, from their
official files (skeleton.datasets); the poses between index and package come from `skeleton
pose` (FineGYM: `skeleton pose --boxes gym_gt_bboxes.pkl`). numpy only.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from skeleton.core.defaults import POSE


def register(subparsers: Any) -> None:
    from skeleton.datasets import SOURCES, datasets_of

    datasets = [d for s in SOURCES for d in datasets_of(s)]
    i = subparsers.add_parser(
        "dataset-index",
        help="official split files + video folders -> the sample index (labels, splits, shards)",
        description=(
            "Read SOURCE's official annotation files from --annotations (custom: the CSV/TSV "
            "list itself; ntu: none, the <sample>_rgb.avi names under --videos are the "
            "annotations), find each sample's video under --videos (searched recursively by "
            "file name) and write the index TSV, the rejects of the official files and the label "
            "map. frame_dir is named as in the released pickles: the video's base name without "
            "its last extension; Kinetics-400 <youtube_id>_<start:06d>_<end:06d> and FineGYM "
            "<videoid>_<ev_start>_<ev_end>_<a_start>_<a_end>, whatever the file is called. The "
            "log (stderr) says which files and form of them were read."
        ),
    )
    i.add_argument("source", choices=SOURCES, metavar="SOURCE", help=", ".join(SOURCES))
    i.add_argument("--annotations", metavar="PATH", help="official files (not for ntu)")
    i.add_argument(
        "--videos",
        nargs="*",
        default=[],
        metavar="DIR",
        help="video root folders, searched recursively by file name (default: none; custom: "
        "the list's folder)",
    )
    i.add_argument(
        "--shard-size",
        type=int,
        default=POSE.shard_size,
        metavar="N",
        help="videos per pose shard at the source's reference size: the shards are hash "
        "buckets of the sample names (README, 2D poses) (default: %(default)s, as the "
        "workflow's pose.shard_size)",
    )
    i.add_argument("--out", required=True, metavar="INDEX.tsv", help="the index written")
    i.add_argument(
        "--members",
        metavar="DIR",
        help="also write each pose shard's members file, DIR/videos_<k>.tsv (what "
        "`skeleton pose --members` reads); only files whose content changes are written",
    )
    i.add_argument(
        "--rejects",
        metavar="TSV",
        help="lines of the official files that could not be used (default: INDEX with "
        ".rejects.tsv)",
    )
    i.add_argument("--label-map-out", metavar="TXT", help="write the class names here")
    i.add_argument(
        "--subset",
        choices=("gym99", "gym288"),
        help="FineGYM's element set (default: the one subset whose lists --annotations holds)",
    )
    i.add_argument(
        "--list-version",
        metavar="VERSION",
        help="FineGYM: which list to read where a split has several that differ (v1.0, v1.1, "
        "org: MMAction2's gym99_*_org.txt, unversioned)",
    )
    i.add_argument(
        "--boxes",
        metavar="BOXES.pkl",
        help="FineGYM: the ground-truth box file (gym_gt_bboxes.pkl); its layout is checked and "
        "elements without boxes (Gym288's extra videos) are rejected as no_gt_boxes",
    )
    i.add_argument("--label-map", metavar="TXT", help="custom: class names, line k = label k")
    i.set_defaults(
        func=run_dataset_index,
        output_files={"out": "--out", "rejects": "--rejects", "label_map_out": "--label-map-out"},
    )

    p = subparsers.add_parser(
        "dataset-package",
        help="pose shards + index -> <ds>_2d.pkl (dense, or K400's compressed kpfiles)",
        description=(
            "Write the rejects report (index rows without a video, --annotation-rejects, the "
            "shards' .rejects.tsv beside them, and with --splits the samples outside it), then "
            "the annotation pickle of DATASET's usable samples from pose shard pickles "
            "(`skeleton pose` outputs), labels and splits from the index (or --splits). "
            "--compressed: Kinetics-400's form, one kpfile per shard under <OUT's folder>/"
            "kpfiles/ and one per video under <OUT's folder>/video_kpfiles/ (MMAction2's "
            "data_prefix=dict(skeleton=...) layout). Exit status 1 when no sample is usable, or "
            "with --strict when any was rejected (the report is written first)."
        ),
    )
    p.add_argument("dataset", choices=datasets, metavar="DATASET", help=", ".join(datasets))
    p.add_argument("--index", required=True, metavar="INDEX.tsv", help="from dataset-index")
    p.add_argument(
        "--shards", nargs="+", required=True, metavar="SHARD.pkl", help="`skeleton pose` outputs"
    )
    p.add_argument("--out", required=True, metavar="OUT.pkl", help="the pickle written")
    p.add_argument("--rejects", required=True, metavar="TSV", help="the rejects report written")
    p.add_argument("--annotation-rejects", metavar="TSV", help="from dataset-index")
    p.add_argument(
        "--splits", metavar="JSON", help="a fixed split assignment (NTU: the 3D splits.json)"
    )
    p.add_argument("--summary", metavar="JSON", help="counts per split and reject reason")
    p.add_argument("--compressed", action="store_true", help="K400 kpfile form")
    p.add_argument("--strict", action="store_true", help="fail when any sample is rejected")
    p.set_defaults(
        func=run_dataset_package,
        output_files={"out": "--out", "rejects": "--rejects", "summary": "--summary"},
    )

    d = subparsers.add_parser(
        "k400-dense",
        help="one video of a compressed (K400) pickle back in the dense form",
        description=(
            "Read FRAME_DIR's entry of the compressed pickle and its kpfile (raw_file, relative "
            "to the pickle's folder) and write a pickle holding that one dense annotation "
            "(keypoint (M, T, 17, 2), keypoint_score (M, T, 17)). Put `--` before a FRAME_DIR "
            "starting with '-' (many YouTube ids do)."
        ),
    )
    d.add_argument(
        "pickle",
        metavar="K400_2d.pkl",
        help="a compressed pickle (dataset-package --compressed); its kpfiles beside it",
    )
    d.add_argument(
        "frame_dir",
        metavar="FRAME_DIR",
        help="the video's frame_dir, <youtube_id>_<start:06d>_<end:06d>",
    )
    d.add_argument(
        "--out", required=True, metavar="OUT.pkl", help="the pickle written (one annotation)"
    )
    d.set_defaults(func=run_dense, output_files={"out": "--out"})

    v = subparsers.add_parser(
        "k400-video-kpfiles",
        help="per-shard K400 kpfiles -> one kpfile per video (MMAction2's layout)",
        description=(
            "Split the per-shard kpfiles ({frame_dir: {'keypoint': (N, 17, 3)}}) into one file "
            "per video, OUT_DIR/<frame_dir>.pkl = {'keypoint': (N, 17, 3)}: what MMAction2 1.x's "
            "PoseDataset reads with data_prefix=dict(skeleton=OUT_DIR). OUT_DIR is replaced whole."
        ),
    )
    v.add_argument(
        "kpfiles",
        nargs="+",
        metavar="KPFILE",
        help="per-shard kpfiles (results/k400/kpfiles/shard_<k>.pkl)",
    )
    v.add_argument(
        "--out",
        required=True,
        metavar="OUT_DIR",
        help="the folder written: one <frame_dir>.pkl per video (replaced whole)",
    )
    v.set_defaults(func=run_video_kpfiles, output_folders={"out": "--out"})


def run_dataset_index(args: argparse.Namespace) -> int:
    from pathlib import Path

    from skeleton.core.errors import UsageError
    from skeleton.core.rejects import read_rejects
    from skeleton.core.summary import counts_text, split_counts
    from skeleton.core.tables import STATUS_OK
    from skeleton.datasets import AnnotationError
    from skeleton.datasets.index import video_index

    videos = list(args.videos)
    annotations: str | list[str] | None = args.annotations
    if args.source == "ntu":
        if annotations or not videos:
            raise UsageError("ntu: give the video folders as --videos (no --annotations)")
        annotations, videos = videos, []
    elif not annotations:
        raise UsageError(f"{args.source}: --annotations is required")
    if args.source == "custom" and not videos:
        videos = [str(Path(args.annotations).parent)]
    rejects = args.rejects or args.out.removesuffix(".tsv") + ".rejects.tsv"
    options: dict[str, Any] = {}
    if args.source == "gym":
        options["subset"] = args.subset
        if args.list_version:
            options["list_version"] = args.list_version
        if args.boxes:
            options["boxes"] = args.boxes
    if args.source == "custom" and args.label_map:
        options["label_map"] = args.label_map
    try:
        rows = video_index(
            args.source, annotations, videos, args.shard_size, args.out, rejects,
            args.label_map_out, members=args.members, **options,
        )  # fmt: skip
    except (AnnotationError, OSError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    ok = sum(r.status == STATUS_OK for r in rows)
    print(f"{args.out}: {len(rows)} samples, {ok} with a video", file=sys.stderr)
    reasons, left_out = split_counts(read_rejects(rejects))
    if reasons or left_out:  # lines of the official files not used: said here, not only later
        print(f"{rejects}: {counts_text(reasons, left_out)}", file=sys.stderr)
    return 0


def run_dataset_package(args: argparse.Namespace) -> int:
    from pathlib import Path

    from skeleton.core.errors import UsageError
    from skeleton.core.packaging import Report
    from skeleton.core.rejects import NoUsableSamples, StrictModeError
    from skeleton.datasets import package

    beside = [p.removesuffix(".pkl") + ".rejects.tsv" for p in args.shards]
    report = Report(args.dataset, "2d-compressed" if args.compressed else "2d", args.rejects)
    try:
        package.rejects_2d(
            args.dataset, args.index, [p for p in beside if Path(p).exists()], args.rejects,
            args.annotation_rejects, args.splits,
        )  # fmt: skip
        if not args.compressed:
            counts = package.package_dense(
                args.index, args.shards, args.out, report, args.summary, strict=args.strict,
                splits_json=args.splits,
            )  # fmt: skip
        else:
            tocs = []
            names = package.index_names(args.index)
            for shard in args.shards:
                stem = Path(shard).name.removesuffix(".pkl")
                kpfile = Path(args.out).parent / "kpfiles" / f"{stem}.pkl"
                toc = Path(args.out).parent / "toc" / f"{stem}.pkl"
                package.compress_shard(
                    names, shard, kpfile, toc, str(kpfile.relative_to(Path(args.out).parent))
                )
                tocs.append(str(toc))
            counts = package.package_compressed(
                args.index, tocs, args.out, report, args.summary, strict=args.strict
            )
            kpfiles = [str(Path(args.out).parent / "kpfiles" / Path(t).name) for t in tocs]
            package.write_video_kpfiles(
                kpfiles, Path(args.out).parent / "video_kpfiles", args.index
            )
    except (NoUsableSamples, StrictModeError) as exc:
        print(f"skeleton dataset-package: error: {exc}", file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    print(
        f"{args.out}: {counts['samples']} samples, {counts['rejected']} rejected", file=sys.stderr
    )
    return 0


def run_dense(args: argparse.Namespace) -> int:
    from skeleton.core.annotations import write_annotations
    from skeleton.core.errors import UsageError
    from skeleton.datasets.package import dense_video

    try:
        ann = dense_video(args.pickle, args.frame_dir)
    except (OSError, KeyError) as exc:
        raise UsageError(str(exc)) from exc
    write_annotations(args.out, [ann], split=None)
    k = ann["keypoint"]
    print(f"{args.out}: {args.frame_dir} keypoint {k.shape}", file=sys.stderr)
    return 0


def run_video_kpfiles(args: argparse.Namespace) -> int:
    from skeleton.core.errors import UsageError
    from skeleton.datasets.package import write_video_kpfiles

    try:
        n = write_video_kpfiles(args.kpfiles, args.out)
    except (OSError, KeyError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    print(f"{args.out}: {n} video kpfile(s)", file=sys.stderr)
    return 0
