"""`skeleton pose`, `pose-quality`, `pose-drift`, `pose-tag`: 2D pose extraction and checks.

`pose` and `pose-tag` need the pose environment (torch + mmpose or ultralytics); run them with
its interpreter (`.venv-pose/bin/python -m skeleton pose ...`). `pose-quality` and `pose-drift`
need numpy only.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
from pathlib import Path
from typing import Any

from skeleton.core.defaults import POSE

BACKENDS = ("mmpose", "yolo")
POSTPROCS = ("mmaction2", "tracks")  # skeleton.pose.extract.POSTPROCS (numpy-free here)
# Defaults: skeleton.core.defaults, as the workflow's pose section, except --device (DEVICE_HELP).
BACKEND_HELP = (
    "mmpose: Faster R-CNN + HRNet-w32 (as the released 2D pickles); yolo: YOLO11n-pose "
    "(default: %(default)s)"
)
CHECKPOINT_HELP = (
    "'default': the models' configured weights; 'none': random weights (tests); or a weights "
    "file (yolo) (default: %(default)s)"
)
DEVICE_HELP = (
    "cpu, cuda or cuda:N (default: %(default)s, so a command typed by hand runs on any "
    "machine; the workflow's pose.device defaults to cuda, its pose jobs being scheduled on GPUs)"
)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "pose",
        help="2D COCO-17 poses of videos into an annotation pickle",
        description=(
            "Decode each VIDEO in memory, run the pose backend in batches, sort persons into "
            "consistent slots (NTU videos: see --postproc) and write a pickle holding a list of "
            "annotations (frame_dir, label, total_frames, img_shape, original_shape, keypoint "
            "(M,T,17,2), keypoint_score (M,T,17), bbox (M,T,4) and bbox_score (M,T): each "
            "person's detector box and score, 0 where absent). Videos that cannot be used go "
            "to the rejects TSV. "
            "With --work-dir, finished videos are kept there and a rerun resumes. With --boxes, "
            "each frame's persons are the box file's boxes (FineGYM's ground-truth athlete "
            "boxes) and only the pose model runs. Exit status 1 when every video was rejected "
            "(0 with --allow-empty)."
        ),
    )
    p.add_argument(
        "videos",
        nargs="*",
        metavar="VIDEO",
        help="video files (any format OpenCV decodes); NTU's <sample>_rgb.avi names give the "
        "label and actor count",
    )
    p.add_argument("--list", metavar="FILE", help="read more video paths from FILE, one a line")
    p.add_argument(
        "--members",
        metavar="TSV",
        help="read more video paths from a pose shard's members file (the workflow's "
        "results/<source>/members/videos_<k>.tsv, column source)",
    )
    p.add_argument("--backend", choices=BACKENDS, default=POSE.backend, help=BACKEND_HELP)
    p.add_argument("--out", required=True, metavar="OUT.pkl", help="the annotation list")
    p.add_argument("--device", default="cpu", help=DEVICE_HELP)
    p.add_argument(
        "--dataset",
        choices=("auto", "ntu", "generic"),
        default="auto",
        help="ntu: NTU actor-count post-processing; generic: top-M tracks by score; "
        "auto: ntu for videos named like NTU samples, generic otherwise (default: %(default)s)",
    )
    p.add_argument(
        "--postproc",
        choices=POSTPROCS,
        default=POSE.postproc,
        help="box post-processing of NTU videos: mmaction2: MMAction2's "
        "ntu_pose_extraction procedure (actors' boxes chosen from the whole video's detections "
        "first, then pose in those boxes on every frame); tracks: our IoU tracking of every "
        "detection's pose, gaps of up to 15 frames interpolated (default: %(default)s)",
    )
    p.add_argument("--checkpoint", default=POSE.checkpoint, help=CHECKPOINT_HELP)
    p.add_argument(
        "--batch-size",
        type=int,
        default=POSE.batch_size,
        metavar="N",
        help="frames per backend call (default: %(default)s)",
    )
    p.add_argument(
        "--in-flight",
        type=int,
        default=POSE.in_flight,
        metavar="N",
        help="videos processed at once on the one loaded model (a GPU is fed while another "
        "video decodes; same results; default: %(default)s)",
    )
    p.add_argument(
        "--max-persons",
        type=int,
        default=POSE.max_persons,
        metavar="M",
        help="person slots cap (NTU: actors per action class, at most this; default: %(default)s)",
    )
    p.add_argument(
        "--boxes",
        metavar="BOXES.pkl",
        help="ground-truth person boxes per video, keyed by frame_dir (gym_gt_bboxes.pkl "
        "layouts, see skeleton.datasets.finegym), used instead of the detector; a video "
        "without boxes is rejected (no_boxes) (default: none, the detector finds the persons)",
    )
    p.add_argument(
        "--label",
        type=int,
        default=-1,
        metavar="N",
        help="class label of generic (non-NTU) videos; -1 is unknown, as in MMAction2's "
        "skeleton demo (training pickles need a real label) (default: %(default)s)",
    )
    p.add_argument("--fp16", action="store_true", help="half precision (cuda only)")
    p.add_argument(
        "--models",
        metavar="YAML",
        help="model configs merged over skeleton/pose/models.yaml (same layout)",
    )
    p.add_argument(
        "--rejects",
        metavar="TSV",
        help="the rejected videos with their reason (default: OUT with .rejects.tsv)",
    )
    p.add_argument(
        "--work-dir",
        metavar="DIR",
        help="keep finished videos here (resumable) (default: a temporary folder, removed)",
    )
    p.add_argument(
        "--allow-empty",
        action="store_true",
        help="exit 0 even when every video is rejected (workflow shards: packaging reports them)",
    )
    p.set_defaults(
        func=run_pose,
        output_files={"out": "--out", "rejects": "--rejects"},
        output_folders={"work_dir": "--work-dir"},
    )

    q = subparsers.add_parser(
        "pose-quality",
        help="PCK@0.2 of 2D poses against the NTU Kinect colour-space joints",
        description=(
            "Score each annotation of PRED.pkl whose frame_dir has a .skeleton file under "
            "--skeletons against the Kinect colorX/colorY joints (mirrored to COCO left/right): "
            "PCK at 0.2 x torso. Prints one TSV row per sample and the mean."
        ),
    )
    q.add_argument(
        "pred",
        metavar="PRED.pkl",
        help="2D poses of NTU videos (`skeleton pose` output, or a 2D pickle); frame_dir names "
        "the sample",
    )
    q.add_argument(
        "--skeletons",
        nargs="+",
        required=True,
        metavar="PATH",
        help="the samples' .skeleton files, or folders of them (searched recursively)",
    )
    q.add_argument(
        "--alpha",
        type=float,
        default=0.2,
        metavar="A",
        help="a joint is correct within A x torso diameter (default: %(default)s)",
    )
    q.add_argument("--out", metavar="TSV", help="also write the table here")
    q.add_argument("--per-joint", action="store_true", help="add per-joint PCK columns")
    q.set_defaults(func=run_quality, output_files={"out": "--out"})

    d = subparsers.add_parser(
        "pose-drift",
        help="per-joint differences between two pose results (two model tags)",
        description=(
            "Compare the 2D results of TAG_A and TAG_B (folders under --root, or pickle files / "
            "folders of pickles) on the videos they share: per COCO joint the mean, median and "
            "95th percentile pixel distance and the mean score change."
        ),
    )
    d.add_argument(
        "tag_a",
        metavar="TAG_A",
        help="the first result: a model tag (folder under --root, see `skeleton pose-tag`), "
        "a pose pickle or a folder of them",
    )
    d.add_argument("tag_b", metavar="TAG_B", help="the second result, compared with TAG_A")
    d.add_argument(
        "--root",
        default="results/pose",
        metavar="DIR",
        help="where model tags are folders (default: %(default)s, the workflow's)",
    )
    d.add_argument("--out", metavar="TSV", help="also write the table here")
    d.set_defaults(func=run_drift, output_files={"out": "--out"})

    t = subparsers.add_parser(
        "pose-tag",
        help="print the model tag of a pose backend configuration",
        description=(
            "The tag hashes backend, model configs, checkpoint hashes and library versions of "
            "this interpreter; run it with the pose environment's python."
        ),
    )
    t.add_argument("--backend", choices=BACKENDS, default=POSE.backend, help=BACKEND_HELP)
    t.add_argument("--checkpoint", default=POSE.checkpoint, help=CHECKPOINT_HELP)
    t.add_argument("--device", default="cpu", help=DEVICE_HELP)
    t.add_argument("--fp16", action="store_true", help="half precision (cuda only)")
    t.add_argument("--models", metavar="YAML", help="model configs (as skeleton/pose/models.yaml)")
    t.add_argument("--json", action="store_true", help="print the description, not the tag")
    t.add_argument(
        "--inputs",
        action="store_true",
        help="print JSON {tag, inputs}: the tag and the size:mtime of every file and folder it "
        "was computed from (the workflow caches the tag against them)",
    )
    t.set_defaults(func=run_tag)


def need_pose_env(backend: str) -> None:
    """One line, not an ImportError traceback, when this interpreter lacks the pose libraries
    (they live in the pose environment, not in the workflow's venv)."""
    from importlib.util import find_spec

    from skeleton.core.errors import UsageError

    needs = {"mmpose": ("torch", "mmengine", "mmcv", "mmdet", "mmpose"), "yolo": ("ultralytics",)}
    missing = [m for m in needs.get(backend, ()) if find_spec(m) is None]
    if missing:
        raise UsageError(
            f"backend {backend} needs {', '.join(missing)}, missing in {sys.executable}: run "
            "`skeleton make-env pose`, then this command with the pose env's python "
            "(`.venv-pose/bin/python -m skeleton ...`)"
        )


def _videos(args: argparse.Namespace) -> list[str]:
    from skeleton.core.errors import UsageError

    videos = list(args.videos)
    if args.list:
        try:
            with open(args.list) as f:
                videos += [line.strip() for line in f if line.strip()]
        except OSError as exc:
            raise UsageError(f"cannot read --list {args.list}: {exc.strerror or exc}") from exc
    if args.members:
        from skeleton.core.members import read_members

        try:
            videos += [m.source for m in read_members(args.members)]
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read --members {args.members}: {exc}") from exc
    if not videos:
        raise UsageError("no videos given (VIDEO..., --list FILE or --members TSV)")
    return videos


def backend_options(args: argparse.Namespace) -> dict[str, Any]:
    opts: dict[str, Any] = {"device": args.device, "checkpoint": args.checkpoint}
    if args.fp16:
        opts["fp16"] = True
    if getattr(args, "models", None):
        import yaml

        with open(args.models) as f:
            models = yaml.safe_load(f) or {}
        # skeleton/pose/models.yaml holds one section per backend; a bare section works too
        models = models.get(args.backend, models if args.backend == "mmpose" else {})
        if models:
            opts["models"] = models
    return opts


def run_pose(args: argparse.Namespace) -> int:
    from skeleton.core.errors import UsageError
    from skeleton.pose.base import BackendUnavailable, get_backend
    from skeleton.pose.extract import ExtractOptions
    from skeleton.pose.shard import pose_shard

    need_pose_env(args.backend)
    videos = _videos(args)
    if args.batch_size < 1 or args.max_persons < 1 or args.in_flight < 1:
        raise UsageError("--batch-size, --max-persons and --in-flight must be at least 1")
    out = Path(args.out)
    rejects = args.rejects or str(out.with_suffix("")) + ".rejects.tsv"
    options = ExtractOptions(
        dataset=args.dataset,
        max_persons=args.max_persons,
        batch_size=args.batch_size,
        label=args.label,
        postproc=args.postproc,
    )
    bopts = backend_options(args)
    boxes = None
    if args.boxes:
        from skeleton.datasets.finegym import box_lookup

        try:
            boxes = box_lookup(args.boxes)
        except (OSError, ValueError, pickle.UnpicklingError) as exc:
            raise UsageError(f"cannot read --boxes {args.boxes}: {exc}") from exc

    def factory():
        try:
            return get_backend(args.backend, **bopts)
        except (BackendUnavailable, FileNotFoundError, ValueError) as exc:
            raise UsageError(str(exc)) from exc

    work = args.work_dir
    temporary = work is None
    if temporary:
        import tempfile

        work = tempfile.mkdtemp(
            prefix=".pose-work.", dir=out.parent if out.parent.exists() else None
        )
    try:
        n, rejected = pose_shard(
            videos, out, factory, options, work, rejects, boxes=boxes, in_flight=args.in_flight
        )
    finally:
        if temporary:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    print(f"{out}: {n} annotation(s); {len(rejected)} rejected -> {rejects}", file=sys.stderr)
    for r in rejected:
        print(f"  rejected {r}", file=sys.stderr)
    return 0 if n or not rejected or args.allow_empty else 1


def _skeleton_files(paths: list[str]) -> dict[str, str]:
    """sample -> its `.skeleton` file: the files given, and those under the folders given (the
    first found, in the order given, then sorted)."""
    found: dict[str, str] = {}
    for p in map(Path, paths):
        files = sorted(p.rglob("*.skeleton")) if p.is_dir() else [p]
        for f in files:
            found.setdefault(f.name.removesuffix(".skeleton"), str(f))
    return found


def _load_annotations(path: str | os.PathLike) -> list[dict]:
    """The annotations of a pickle: a dataset's, or a pose shard's (videos of a source without
    labels, e.g. a custom list's shards, carry label -1)."""
    from skeleton.core.annotations import annotations_and_split
    from skeleton.core.validate import load_valid

    data = load_valid(path, unlabeled=True)  # checked: the scoring code may index any field
    return list(annotations_and_split(data)[0])


def run_quality(args: argparse.Namespace) -> int:
    from skeleton.core.errors import InputError, UsageError
    from skeleton.datasets.ntu_quality import quality_table, score

    try:
        annotations = _load_annotations(args.pred)
    except OSError as exc:
        raise UsageError(f"cannot read {args.pred}: {exc.strerror or exc}") from exc
    if not all("keypoint_score" in a for a in annotations):
        raise InputError(f"{args.pred}: not a 2D pose pickle (no keypoint_score)")
    results = score(annotations, _skeleton_files(args.skeletons), args.alpha)
    if not results:
        raise UsageError(f"no annotation of {args.pred} has a .skeleton file under --skeletons")
    text = quality_table(results, args.per_joint)
    sys.stdout.write(text)
    mean = sum(r.pck for r in results) / len(results)
    print(
        f"mean PCK@{args.alpha:g}xtorso over {len(results)} sample(s): {mean:.4f}", file=sys.stderr
    )
    if args.out:
        from skeleton.core.files import atomic_write

        with atomic_write(args.out, "w") as f:
            f.write(text)
    return 0


def _result_pickles(ref: str, root: str) -> list[Path]:
    from skeleton.core.errors import UsageError

    p = Path(ref)
    if not p.exists():
        p = Path(root) / ref
    if p.is_file():
        return [p]
    if p.is_dir():
        files = sorted(f for f in p.rglob("*.pkl") if not any(x.endswith(".work") for x in f.parts))
        if files:
            return files
    raise UsageError(f"{ref}: no pose results (neither a pickle, a folder of them, nor {p})")


def run_drift(args: argparse.Namespace) -> int:
    from skeleton.core.errors import UsageError
    from skeleton.pose.drift import drift

    sides = []
    for ref in (args.tag_a, args.tag_b):
        annos: list[dict] = []
        for f in _result_pickles(ref, args.root):
            try:
                annos += [a for a in _load_annotations(f) if "keypoint_score" in a]
            except OSError as exc:
                raise UsageError(f"cannot read {f}: {exc.strerror or exc}") from exc
        sides.append(annos)
    r = drift(*sides)
    if not r.samples:
        raise UsageError(f"{args.tag_a} and {args.tag_b} share no video")
    rows = ["joint\tmean_px\tmedian_px\tp95_px\tmean_score_change"]
    for joint, (mean, med, p95) in r.per_joint.items():
        rows.append(f"{joint}\t{mean:.2f}\t{med:.2f}\t{p95:.2f}\t{r.score_diff[joint]:+.4f}")
    text = "\n".join(rows) + "\n"
    sys.stdout.write(text)
    print(
        f"{r.samples} shared video(s) ({r.only_a} only in A, {r.only_b} only in B); "
        f"{r.frames} person-frames compared, {r.presence_mismatch} present in one result only",
        file=sys.stderr,
    )
    if args.out:
        from skeleton.core.files import atomic_write

        with atomic_write(args.out, "w") as f:
            f.write(text)
    return 0


def run_tag(args: argparse.Namespace) -> int:
    from skeleton.core.errors import UsageError
    from skeleton.pose.tag import describe_static, model_tag, recorded_inputs

    need_pose_env(args.backend)
    try:
        with recorded_inputs() as inputs:
            desc = describe_static(args.backend, **backend_options(args))
    except ImportError as exc:
        raise UsageError(
            f"backend {args.backend} cannot be described with {sys.executable} ({exc}); "
            "run this with the pose environment's python (`skeleton make-env pose`)"
        ) from exc
    except (FileNotFoundError, ValueError) as exc:
        raise UsageError(str(exc)) from exc
    if args.inputs:
        print(json.dumps({"tag": model_tag(desc), "inputs": inputs}, sort_keys=True))
    else:
        print(json.dumps(desc, indent=2, sort_keys=True) if args.json else model_tag(desc))
    return 0
