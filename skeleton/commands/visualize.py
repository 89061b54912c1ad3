"""`skeleton visualize PICKLE --sample NAME --kind KIND --out OUT`: pictures of one sample."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    from skeleton.pictures.heatmaps import HEATMAP_SIGMA, HEATMAP_SIZE
    from skeleton.pictures.overlays import OVERLAY_MAX_WIDTH
    from skeleton.pictures.render import KINDS

    p = subparsers.add_parser(
        "visualize",
        help="draw one sample: pose overlay, PoseC3D heatmap volumes or a 3D skeleton plot",
        description=(
            "overlay: skeletons (COCO-17, or NTU-25 projected to the Kinect colour frame) on the "
            "video frames, decoded in memory (a black canvas of img_shape without a video); "
            "keypoint-heatmap / limb-heatmap: the pseudo-heatmap volume PoseC3D builds "
            "(max over channels, viridis); skeleton3d: 3D plots of NTU (x, y, z) sequences. "
            "OUT ends in .mp4, .gif or .png (one frame)."
        ),
    )
    p.add_argument("pickle", metavar="PICKLE", help="an annotation pickle (2D or NTU 3D)")
    p.add_argument("--sample", required=True, metavar="FRAME_DIR", help="the sample's frame_dir")
    p.add_argument("--kind", required=True, choices=KINDS, help="what to draw (see above)")
    p.add_argument(
        "--out", required=True, metavar="OUT.{mp4,gif,png}", help="the file to write (by suffix)"
    )
    p.add_argument("--video", metavar="PATH", help="the sample's video (overlay)")
    p.add_argument(
        "--kinect",
        metavar="FILE.skeleton",
        help="overlay: also draw this NTU file's Kinect colour-frame joints (magenta), the PCK "
        "reference",
    )
    p.add_argument(
        "--label-map",
        metavar="FILE",
        help="class names, one a line (default: for NTU names, the shipped ntu120 label map)",
    )
    p.add_argument(
        "--frame", type=int, metavar="N", help=".png: frame N, 0-based (default: the middle one)"
    )
    p.add_argument(
        "--fps",
        type=float,
        metavar="F",
        help="frames per second of .mp4 / .gif (default: the video's, else 30)",
    )
    p.add_argument(
        "--max-width",
        type=int,
        default=OVERLAY_MAX_WIDTH,
        metavar="PX",
        help="overlay: downscale wider frames to PX wide, 0: keep (default: %(default)s)",
    )
    p.add_argument(
        "--heatmap-size",
        type=int,
        default=HEATMAP_SIZE,
        metavar="PX",
        help="heatmap side after PoseCompact (default: %(default)s; PoseC3D tests at 64)",
    )
    p.add_argument(
        "--sigma",
        type=float,
        default=HEATMAP_SIGMA,
        metavar="S",
        help="Gaussian sigma in heatmap px (default: %(default)s)",
    )
    p.set_defaults(func=run, output_files={"out": "--out"})


def run(args: argparse.Namespace) -> int:
    from skeleton.core.annotations import load
    from skeleton.core.errors import InputError, UsageError
    from skeleton.core.validate import validate_data
    from skeleton.datasets import read_label_map
    from skeleton.pictures.annotation import find_annotation, is_3d
    from skeleton.pictures.render import render
    from skeleton.pictures.writers import FORMATS

    if not args.out.lower().endswith(FORMATS):
        raise UsageError(f"--out must end in one of {', '.join(FORMATS)}: {args.out}")
    try:
        data = load(args.pickle)
    except OSError as exc:
        raise UsageError(f"cannot read {args.pickle}: {exc.strerror or exc}") from exc
    try:
        anno = find_annotation(data, args.sample)
    except (KeyError, ValueError) as exc:
        raise UsageError(f"{args.pickle}: {exc.args[0]}") from exc
    problems = validate_data([anno]).problems  # the one sample drawn: it must be well-formed
    if problems:
        raise InputError(f"{args.pickle}: {args.sample}: {problems[0].split(': ', 1)[-1]}")
    if args.kind.endswith("heatmap") and is_3d(anno):
        raise UsageError(f"{args.kind} needs a 2D pickle; {args.sample} has 3D keypoints")
    if args.kind == "skeleton3d" and not is_3d(anno):
        raise UsageError(f"skeleton3d needs a 3D pickle; {args.sample} has 2D keypoints")
    names = None
    if args.label_map:
        try:
            names = read_label_map(args.label_map)
        except OSError as exc:
            raise UsageError(f"cannot read {args.label_map}: {exc.strerror or exc}") from exc
    try:
        result = render(
            anno,
            args.kind,
            args.out,
            video=args.video,
            label_names=names,
            fps=args.fps,
            frame=args.frame,
            max_width=args.max_width or None,
            heatmap_size=args.heatmap_size,
            sigma=args.sigma,
            kinect=args.kinect,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    print(
        f"{result.path}: {args.kind}, {result.frames} frame(s) of {result.width}x{result.height}",
        file=sys.stderr,
    )
    return 0
