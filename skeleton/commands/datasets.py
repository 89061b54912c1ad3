"""`skeleton dataset-index`, `dataset-package`, `gym-pose`, `k400-dense`, `k400-video-kpfiles`:
video datasets.

UCF101, HMDB51, Diving48, FineGYM, Kinetics-400 and custom CSV/TSV lists, from their official
files (skeleton.datasets). `gym-pose` needs the pose environment; the others numpy only.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

DATASETS = ("ucf101", "hmdb51", "diving48", "gym", "k400", "custom")


def register(subparsers: Any) -> None:
    i = subparsers.add_parser(
        "dataset-index",
        help="official split files + video folders -> the sample index (labels, splits, shards)",
        description=(
            "Read DATASET's official annotation files from --annotations (custom: the CSV/TSV "
            "list itself), find each sample's video under --videos (searched recursively by file "
            "name) and write the index TSV, the rejects of the official files and the label map. "
            "frame_dir is named as in the released pickles: the video's base name without its "
            "last extension; Kinetics-400 <youtube_id>_<start:06d>_<end:06d> and FineGYM "
            "<videoid>_<ev_start>_<ev_end>_<a_start>_<a_end>, whatever the file is called. The "
            "log (stderr) says which files and form of them were read."
        ),
    )
    i.add_argument("dataset", choices=DATASETS)
    i.add_argument("--annotations", required=True, metavar="PATH")
    i.add_argument("--videos", nargs="*", default=[], metavar="DIR", help="video root folders")
    i.add_argument("--shard-size", type=int, default=200, metavar="N", help="videos per shard")
    i.add_argument("--out", required=True, metavar="INDEX.tsv")
    i.add_argument("--rejects", metavar="TSV", help="default: INDEX with .rejects.tsv")
    i.add_argument("--label-map-out", metavar="TXT", help="write the class names here")
    i.add_argument("--subset", default="gym99", choices=("gym99", "gym288"), help="FineGYM")
    i.add_argument(
        "--boxes",
        metavar="BOXES.pkl",
        help="FineGYM: the ground-truth box file (gym_gt_bboxes.pkl); its layout is checked and "
        "elements without boxes (Gym288's extra videos) are rejected as no_gt_boxes",
    )
    i.add_argument("--label-map", metavar="TXT", help="custom: class names, line k = label k")
    i.set_defaults(func=run_index)

    p = subparsers.add_parser(
        "dataset-package",
        help="pose shards + index -> <ds>_2d.pkl (dense, or K400's compressed kpfiles)",
        description=(
            "Write the annotation pickle of the index's usable samples from pose shard pickles "
            "(`skeleton pose` outputs, their .rejects.tsv beside them), labels and splits from "
            "the index. --compressed: Kinetics-400's form, one kpfile per shard under "
            "<OUT's folder>/kpfiles/ and one per video under <OUT's folder>/video_kpfiles/ "
            "(MMAction2's data_prefix=dict(skeleton=...) layout)."
        ),
    )
    p.add_argument("dataset", choices=DATASETS)
    p.add_argument("--index", required=True, metavar="INDEX.tsv")
    p.add_argument("--shards", nargs="+", required=True, metavar="SHARD.pkl")
    p.add_argument("--out", required=True, metavar="OUT.pkl")
    p.add_argument("--rejects", required=True, metavar="TSV")
    p.add_argument("--annotation-rejects", metavar="TSV", help="from dataset-index")
    p.add_argument("--summary", metavar="JSON")
    p.add_argument("--compressed", action="store_true", help="K400 kpfile form")
    p.set_defaults(func=run_package)

    g = subparsers.add_parser(
        "gym-pose",
        help="2D poses inside FineGYM's ground-truth athlete boxes (no detector)",
        description=(
            "As `skeleton pose`, but each frame's persons are the boxes of the box file "
            "(gym_gt_bboxes.pkl) for the video's frame_dir: only the pose model runs. Needs the "
            "pose environment."
        ),
    )
    g.add_argument("videos", nargs="*", metavar="VIDEO")
    g.add_argument("--list", metavar="FILE", help="read more video paths from FILE, one a line")
    g.add_argument("--boxes", required=True, metavar="BOXES.pkl")
    g.add_argument("--backend", choices=("mmpose", "yolo"), default="mmpose")
    g.add_argument("--out", required=True, metavar="OUT.pkl")
    g.add_argument("--device", default="cpu")
    g.add_argument("--checkpoint", default="default")
    g.add_argument("--batch-size", type=int, default=16, metavar="N")
    g.add_argument("--max-persons", type=int, default=1, metavar="M", help="default 1 (athlete)")
    g.add_argument("--fp16", action="store_true")
    g.add_argument("--models", metavar="YAML")
    g.add_argument("--rejects", metavar="TSV", help="default: OUT with .rejects.tsv")
    g.add_argument("--work-dir", metavar="DIR", help="keep finished videos here (resumable)")
    g.set_defaults(func=run_gym_pose)

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
    d.add_argument("pickle", metavar="K400_2d.pkl")
    d.add_argument("frame_dir", metavar="FRAME_DIR")
    d.add_argument("--out", required=True, metavar="OUT.pkl")
    d.set_defaults(func=run_dense)

    v = subparsers.add_parser(
        "k400-video-kpfiles",
        help="per-shard K400 kpfiles -> one kpfile per video (MMAction2's layout)",
        description=(
            "Split the per-shard kpfiles ({frame_dir: {'keypoint': (N, 17, 3)}}) into one file "
            "per video, OUT_DIR/<frame_dir>.pkl = {'keypoint': (N, 17, 3)}: what MMAction2 1.x's "
            "PoseDataset reads with data_prefix=dict(skeleton=OUT_DIR). OUT_DIR is replaced whole."
        ),
    )
    v.add_argument("kpfiles", nargs="+", metavar="KPFILE")
    v.add_argument("--out", required=True, metavar="OUT_DIR")
    v.set_defaults(func=run_video_kpfiles)


def run_index(args: argparse.Namespace) -> int:
    from pathlib import Path

    from skeleton.cli import UsageError
    from skeleton.datasets import AnnotationError
    from skeleton.datasets.index import STATUS_OK, run_index

    videos = list(args.videos)
    if args.dataset == "custom" and not videos:
        videos = [str(Path(args.annotations).parent)]
    rejects = args.rejects or args.out.removesuffix(".tsv") + ".rejects.tsv"
    options: dict[str, Any] = {}
    if args.dataset == "gym":
        options["subset"] = args.subset
        if args.boxes:
            options["boxes"] = args.boxes
    if args.dataset == "custom" and args.label_map:
        options["label_map"] = args.label_map
    try:
        rows = run_index(
            args.dataset, args.annotations, videos, args.shard_size, args.out, rejects,
            args.label_map_out, **options,
        )  # fmt: skip
    except (AnnotationError, OSError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    ok = sum(r.status == STATUS_OK for r in rows)
    print(f"{args.out}: {len(rows)} samples, {ok} with a video", file=sys.stderr)
    return 0


def run_package(args: argparse.Namespace) -> int:
    from pathlib import Path

    from skeleton.cli import UsageError
    from skeleton.datasets import package

    try:
        if not args.compressed:
            counts = package.package_dense(
                args.dataset, args.index, args.shards, args.out, args.rejects,
                args.annotation_rejects, args.summary,
            )  # fmt: skip
        else:
            tocs = []
            for shard in args.shards:
                stem = Path(shard).name.removesuffix(".pkl")
                kpfile = Path(args.out).parent / "kpfiles" / f"{stem}.pkl"
                toc = Path(args.out).parent / "toc" / f"{stem}.pkl"
                package.compress_shard(
                    args.index, shard, kpfile, toc, str(kpfile.relative_to(Path(args.out).parent))
                )
                tocs.append(str(toc))
            counts = package.package_compressed(
                args.dataset, args.index, tocs, args.shards, args.out, args.rejects,
                args.annotation_rejects, args.summary,
            )  # fmt: skip
            kpfiles = [str(Path(args.out).parent / "kpfiles" / Path(t).name) for t in tocs]
            package.write_video_kpfiles(kpfiles, Path(args.out).parent / "video_kpfiles")
    except (FileNotFoundError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    print(
        f"{args.out}: {counts['samples']} samples, {counts['rejected']} rejected", file=sys.stderr
    )
    return 0


def run_gym_pose(args: argparse.Namespace) -> int:
    import shutil
    import tempfile
    from pathlib import Path

    from skeleton.cli import UsageError
    from skeleton.commands.pose import _videos, backend_options, need_pose_env
    from skeleton.datasets.finegym import box_extractor, load_boxes
    from skeleton.pose.base import BackendUnavailable, get_backend
    from skeleton.pose.extract import ExtractOptions, run_shard

    need_pose_env(args.backend)
    videos = _videos(args)
    try:
        boxes = load_boxes(args.boxes)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read --boxes {args.boxes}: {exc}") from exc
    out = Path(args.out)
    rejects = args.rejects or str(out.with_suffix("")) + ".rejects.tsv"
    options = ExtractOptions(
        dataset="generic", max_persons=args.max_persons, batch_size=args.batch_size
    )
    bopts = backend_options(args)

    def factory():
        try:
            return get_backend(args.backend, **bopts)
        except (BackendUnavailable, FileNotFoundError, ValueError) as exc:
            raise UsageError(str(exc)) from exc

    work = args.work_dir or tempfile.mkdtemp(prefix=".gym-pose-work.")
    try:
        n, rejected = run_shard(
            videos, out, factory, options, work, rejects, extract=box_extractor(boxes)
        )
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{out}: {n} annotation(s); {len(rejected)} rejected -> {rejects}", file=sys.stderr)
    return 0 if n or not rejected else 1


def run_dense(args: argparse.Namespace) -> int:
    from skeleton.annotations import write_annotations
    from skeleton.cli import UsageError
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
    from skeleton.cli import UsageError
    from skeleton.datasets.package import write_video_kpfiles

    try:
        n = write_video_kpfiles(args.kpfiles, args.out)
    except (OSError, KeyError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    print(f"{args.out}: {n} video kpfile(s)", file=sys.stderr)
    return 0
