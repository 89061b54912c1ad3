"""Load a skeleton pickle with MMAction2 1.2.0's PoseDataset, the way its GCN configs do.

Runs with the consumer venv's python (`bash .ci/mmaction-env.sh` prints it), not the project's:

    PY=$(bash .ci/mmaction-env.sh)
    $PY tests/consumers/mmaction_load.py results/ntu60/ntu60_3d.pkl            # NTU 3D
    $PY tests/consumers/mmaction_load.py --kind 2d results/ntu60/ntu60_2d.pkl  # COCO-17 2D

For every split in the pickle it builds `PoseDataset` twice, with the training pipeline and the
10-clip test pipeline of MMAction2's ST-GCN configs
(configs/skeleton/stgcn/stgcn_8xb16-joint-u100-80e_ntu60-xsub-keypoint-{3d,2d}.py), loads
samples through both and checks what a model would receive: input shape and dtype, finite
values, label. Prints a JSON summary on stdout; exit status 1 on any failure, 2 on bad usage.
Only mmaction.datasets is imported (no model is built here; tests/consumers/mmaction_train.py
trains).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import pickle
import sys
import traceback
from collections import Counter
from typing import Any

import numpy as np

CLIP_LEN = 100  # frames per clip in the u100 ST-GCN configs
TEST_CLIPS = 10  # num_clips of their test pipeline
NUM_PERSON = 2  # FormatGCNInput(num_person=2)


class Layout:
    """What one kind of pickle holds and how MMAction2's configs read it."""

    def __init__(
        self,
        name: str,
        joints: int,
        coords: int,
        dtype: np.dtype,
        normalize: dict[str, Any],
        feat_dataset: str,
    ) -> None:
        self.name = name
        self.joints = joints
        self.coords = coords  # C in the pickle's keypoint array
        self.dtype = dtype
        self.normalize = normalize
        self.feat_dataset = feat_dataset
        # 2D: FormatGCNInput appends keypoint_score as a third channel (GenSkeFeat does for 'j').
        self.input_channels = coords + 1 if name == "2d" else coords


LAYOUTS = {
    # NTU RGB+D Kinect joints: float16 (M, T, 25, 3)
    "3d": Layout("3d", 25, 3, np.dtype(np.float16), dict(type="PreNormalize3D"), "nturgb+d"),
    # COCO-17 keypoints from a top-down pose model: float32 (M, T, 17, 2) + scores
    "2d": Layout("2d", 17, 2, np.dtype(np.float32), dict(type="PreNormalize2D"), "coco"),
}


def pipeline(layout: Layout, test: bool) -> list[dict[str, Any]]:
    sample = dict(type="UniformSampleFrames", clip_len=CLIP_LEN)
    if test:
        sample.update(num_clips=TEST_CLIPS, test_mode=True)
    return [
        layout.normalize,
        dict(type="GenSkeFeat", dataset=layout.feat_dataset, feats=["j"]),
        sample,
        dict(type="PoseDecode"),
        dict(type="FormatGCNInput", num_person=NUM_PERSON),
        dict(type="PackActionInputs"),
    ]


def check_annotation(ann: dict[str, Any], layout: Layout, num_classes: int | None) -> list[str]:
    """Problems with one raw annotation dict, against the documented format."""
    problems = []
    name = ann.get("frame_dir", "?")
    kp = ann.get("keypoint")
    if not isinstance(ann.get("frame_dir"), str):
        problems.append(f"{name}: frame_dir is not a str")
    if not isinstance(kp, np.ndarray):
        return problems + [f"{name}: keypoint is not an ndarray"]
    if kp.ndim != 4 or kp.shape[2:] != (layout.joints, layout.coords) or kp.shape[0] < 1:
        problems.append(
            f"{name}: keypoint shape {kp.shape}, want (M, T, {layout.joints}, {layout.coords})"
        )
    if kp.dtype != layout.dtype:
        problems.append(f"{name}: keypoint dtype {kp.dtype}, want {layout.dtype}")
    if not np.isfinite(kp).all():
        problems.append(f"{name}: keypoint has non-finite values")
    total = ann.get("total_frames")
    if not isinstance(total, int | np.integer) or total != kp.shape[1] or total < 1:
        problems.append(f"{name}: total_frames {total!r} != keypoint.shape[1] {kp.shape[1]}")
    label = ann.get("label")
    if not isinstance(label, int | np.integer) or label < 0:
        problems.append(f"{name}: label {label!r} is not a non-negative int")
    elif num_classes is not None and label >= num_classes:
        problems.append(f"{name}: label {label} >= num_classes {num_classes}")
    if layout.name == "2d":
        score = ann.get("keypoint_score")
        if not isinstance(score, np.ndarray) or score.shape != kp.shape[:3]:
            problems.append(f"{name}: keypoint_score missing or not of shape {kp.shape[:3]}")
        for key in ("img_shape", "original_shape"):
            shape = ann.get(key)
            if not (isinstance(shape, tuple | list) and len(shape) == 2 and min(shape) > 0):
                problems.append(f"{name}: {key} {shape!r} is not (height, width)")
    return problems


def pick(n: int, limit: int) -> list[int]:
    """All indices when n <= limit, else `limit` evenly spread ones including first and last."""
    if n <= limit:
        return list(range(n))
    return sorted({round(i * (n - 1) / (limit - 1)) for i in range(limit)})


def check_split(
    path: str,
    split: str,
    members: list[str],
    by_name: dict[str, dict[str, Any]],
    layout: Layout,
    limit: int,
) -> tuple[dict[str, Any], list[str]]:
    from mmaction.datasets import PoseDataset

    problems: list[str] = []
    info: dict[str, Any] = {"samples": len(members)}
    for mode, test in (("train", False), ("test", True)):
        clips = TEST_CLIPS if test else 1
        want = (clips, NUM_PERSON, CLIP_LEN, layout.joints, layout.input_channels)
        dataset = PoseDataset(
            ann_file=path, pipeline=pipeline(layout, test), split=split, test_mode=test
        )
        if len(dataset) != len(members):
            problems.append(
                f"{split}/{mode}: PoseDataset has {len(dataset)} samples, the split "
                f"lists {len(members)}"
            )
        indices = pick(len(dataset), limit)
        dtypes: Counter[str] = Counter()
        for i in indices:
            name = dataset.get_data_info(i)["frame_dir"]
            where = f"{split}/{mode}/{name}"
            try:
                out = dataset[i]
            except Exception as exc:  # any pipeline crash is a finding, not a stop
                problems.append(f"{where}: pipeline raised {type(exc).__name__}: {exc}")
                continue
            inputs = out["inputs"]
            dtypes[str(inputs.dtype)] += 1
            if tuple(inputs.shape) != want:
                problems.append(f"{where}: inputs shape {tuple(inputs.shape)}, want {want}")
            if not inputs.dtype.is_floating_point:
                problems.append(f"{where}: inputs dtype {inputs.dtype} is not floating point")
            elif not bool(inputs.isfinite().all()):
                problems.append(f"{where}: inputs have non-finite values")
            label = out["data_samples"].gt_label
            expected = int(by_name[name]["label"]) if name in by_name else None
            if label.numel() != 1 or int(label.item()) != expected:
                problems.append(f"{where}: gt_label {label.tolist()}, annotation says {expected}")
        info[mode] = {"checked": len(indices), "input_shape": list(want), "dtypes": dict(dtypes)}
    return info, problems


def run(
    path: str, layout: Layout, limit: int, num_classes: int | None, allow_empty: bool
) -> tuple[dict[str, Any], list[str]]:
    with open(path, "rb") as fh:
        data = pickle.load(fh)
    if not isinstance(data, dict) or not {"split", "annotations"} <= set(data):
        keys = sorted(data) if isinstance(data, dict) else type(data).__name__
        return {}, [f"{path}: want a dict with keys split, annotations; got {keys}"]
    annotations, splits = data["annotations"], data["split"]
    problems: list[str] = []
    for ann in annotations:
        problems += check_annotation(ann, layout, num_classes)
    names = [a.get("frame_dir") for a in annotations]
    by_name = {a["frame_dir"]: a for a in annotations if isinstance(a.get("frame_dir"), str)}
    dupes = [n for n, c in Counter(names).items() if c > 1]
    if dupes:
        problems.append(f"duplicate frame_dirs: {dupes[:5]}")
    if not splits:
        problems.append("no splits")
    labels = Counter(int(a["label"]) for a in annotations if "label" in a)
    persons = Counter(int(a["keypoint"].shape[0]) for a in annotations if "keypoint" in a)
    summary: dict[str, Any] = {
        "pickle": path,
        "kind": layout.name,
        "annotations": len(annotations),
        "labels": {
            "distinct": len(labels),
            "min": min(labels, default=None),
            "max": max(labels, default=None),
        },
        "persons": {str(k): v for k, v in sorted(persons.items())},
        "splits": {},
    }
    for split, members in sorted(splits.items()):
        unknown = [m for m in members if m not in by_name]
        if unknown:
            problems.append(
                f"{split}: {len(unknown)} frame_dirs not in annotations, e.g. {unknown[:3]}"
            )
    if problems:  # the format is wrong; MMAction2 errors would only be noise
        return summary, problems
    for split, members in sorted(splits.items()):
        if not members:
            if not allow_empty:
                problems.append(f"{split}: empty split")
            summary["splits"][split] = {"samples": 0}
            continue
        try:
            info, found = check_split(path, split, members, by_name, layout, limit)
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            problems.append(f"{split}: building PoseDataset raised {type(exc).__name__}: {exc}")
            continue
        summary["splits"][split] = info
        problems += found
    return summary, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pickle", help="annotation pickle {'split': ..., 'annotations': ...}")
    parser.add_argument(
        "--kind",
        choices=sorted(LAYOUTS),
        default="3d",
        help="3d: NTU Kinect joints (default); 2d: COCO-17 keypoints",
    )
    parser.add_argument(
        "--max-per-split",
        type=int,
        default=40,
        metavar="N",
        help="samples loaded per split and pipeline; all when the split is smaller (default 40)",
    )
    parser.add_argument("--num-classes", type=int, help="labels must be below this")
    parser.add_argument(
        "--allow-empty-split", action="store_true", help="an empty split is not a failure"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for training-clip sampling")
    args = parser.parse_args(argv)
    if args.max_per_split < 2:
        parser.error("--max-per-split must be at least 2")

    # stdout carries only the JSON summary; mmengine's logger writes to stdout otherwise.
    with contextlib.redirect_stdout(sys.stderr):
        import mmaction
        import mmaction.datasets  # noqa: F401  (registers PoseDataset and the pose transforms)
        from mmengine.registry import init_default_scope

        init_default_scope("mmaction")
        np.random.seed(args.seed)  # UniformSampleFrames draws training clips from numpy's RNG
        summary, problems = run(
            args.pickle,
            LAYOUTS[args.kind],
            args.max_per_split,
            args.num_classes,
            args.allow_empty_split,
        )
    summary["mmaction"] = mmaction.__version__
    summary["ok"] = not problems
    summary["problems"] = problems[:50]
    summary["problem_count"] = len(problems)
    print(json.dumps(summary, indent=1))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
