"""NTU 2D pose quality against the Kinect: PCK@0.2 x torso on NTU RGB+D samples.

Every NTU `.skeleton` joint line carries the joint's position in the RGB frame (`colorX colorY`,
fields 6-7, 1-based, in pixels of the 1920x1080 colour image). Those are the reference here.
The Kinect names joints as seen from the sensor, so in the RGB frame its left/right labels are
mirrored relative to COCO's (person-centric) ones: COCO's left shoulder is the Kinect's
ShoulderRight, and so on. Face keypoints have no Kinect counterpart and are not scored.

PCK: a predicted joint is correct when it lies within 0.2 x torso of the Kinect joint, torso =
the reference's torso diameter in that frame, the distance from the left shoulder to the right
hip (the convention of PCK on the LSP benchmark). Per frame
every reference body is compared with the predicted person closest to it; a frame with a
reference body but no predicted person scores all its joints as misses.

`quality_table` is the one table of scores, written by the workflow (rule ntu_pose_quality,
`pose_quality`: the samples' `.skeleton` files from the NTU index) and printed by `skeleton
pose-quality` (files found under folders): sample, pck, joints, frames, missed_frames, and per
COCO joint on request.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from skeleton.core.files import Source, atomic_write
from skeleton.ntu.kinect import kinect_colour_joints
from skeleton.pose.base import COCO17

PCK_ALPHA = 0.2

# Kinect v2 joint indices (0-based, JointType order of the Kinect for Windows SDK 2.0).
KINECT = {
    "ShoulderLeft": 4,
    "ElbowLeft": 5,
    "WristLeft": 6,
    "ShoulderRight": 8,
    "ElbowRight": 9,
    "WristRight": 10,
    "HipLeft": 12,
    "KneeLeft": 13,
    "AnkleLeft": 14,
    "HipRight": 16,
    "KneeRight": 17,
    "AnkleRight": 18,
}
# COCO joint -> Kinect joint, mirrored (see the module docstring).
COCO_FROM_KINECT = {
    "left_shoulder": "ShoulderRight",
    "right_shoulder": "ShoulderLeft",
    "left_elbow": "ElbowRight",
    "right_elbow": "ElbowLeft",
    "left_wrist": "WristRight",
    "right_wrist": "WristLeft",
    "left_hip": "HipRight",
    "right_hip": "HipLeft",
    "left_knee": "KneeRight",
    "right_knee": "KneeLeft",
    "left_ankle": "AnkleRight",
    "right_ankle": "AnkleLeft",
}
SCORED_COCO = np.array([COCO17.index(j) for j in COCO_FROM_KINECT], dtype=np.int64)
SCORED_KINECT = np.array([KINECT[k] for k in COCO_FROM_KINECT.values()], dtype=np.int64)
# positions within the scored joints: the torso diameter's two ends
_TORSO = [list(COCO_FROM_KINECT).index(j) for j in ("left_shoulder", "right_hip")]


@dataclass
class PCKResult:
    sample: str
    pck: float  # fraction of scored reference joints predicted within 0.2 x torso
    joints: int  # scored reference joints
    frames: int  # frames with a reference body
    missed_frames: int  # frames with a reference body but no predicted person
    per_joint: dict[str, float]  # COCO joint name -> PCK


def kinect_reference(skeleton, n_bodies: int = 1) -> np.ndarray:
    """(B, T, 12, 2) colour-space reference joints in COCO order (scored joints only).

    `skeleton`: a `.skeleton` path or parsed `skeleton.ntu.reader.SkeletonData`. B = the n_bodies
    Kinect bodies (by body id) seen in the most frames; frames where a body is absent are NaN.
    T = the frame count in the file's header.
    """
    return kinect_colour_joints(skeleton, n_bodies)[:, :, SCORED_KINECT]


def pck(
    keypoint: np.ndarray,
    keypoint_score: np.ndarray,
    reference: np.ndarray,
    alpha: float = PCK_ALPHA,
    sample: str = "",
) -> PCKResult:
    """PCK of a predicted (M, T, 17, 2) against reference (B, T', 12, 2) (NaN = absent)."""
    t = min(keypoint.shape[1], reference.shape[1])
    pred = keypoint[:, :t][:, :, SCORED_COCO].astype(np.float64)  # (M, t, 12, 2)
    present = keypoint_score[:, :t].sum(axis=-1) > 0  # (M, t)
    hits = np.zeros(len(SCORED_COCO))
    totals = np.zeros(len(SCORED_COCO))
    frames = missed = 0
    for ref in reference[:, :t]:  # (t, 12, 2) per reference body
        valid = np.all(np.isfinite(ref), axis=-1) & np.any(ref != 0, axis=-1)  # (t, 12)
        ends = np.nan_to_num(ref[:, _TORSO])
        torso = np.linalg.norm(ends[:, 0] - ends[:, 1], axis=-1)
        scored = valid[:, _TORSO].all(axis=1) & (torso > 0)  # frames with a usable torso
        dist = np.linalg.norm(pred - np.nan_to_num(ref)[None], axis=-1)  # (M, t, 12)
        cost = np.where(present, np.where(valid[None], dist, 0).sum(-1), np.inf)  # (M, t)
        best = cost.argmin(axis=0)
        found = present.any(axis=0)
        d = dist[best, np.arange(t)]  # (t, 12)
        ok = valid & (d <= alpha * torso[:, None]) & found[:, None]
        hits += ok[scored].sum(axis=0)
        totals += valid[scored].sum(axis=0)
        frames += int(scored.sum())
        missed += int((scored & ~found).sum())
    names = list(COCO_FROM_KINECT)
    return PCKResult(
        sample=sample,
        pck=float(hits.sum() / totals.sum()) if totals.sum() else float("nan"),
        joints=int(totals.sum()),
        frames=frames,
        missed_frames=missed,
        per_joint={
            n: float(h / c) if c else float("nan")
            for n, h, c in zip(names, hits, totals, strict=True)
        },
    )


def annotation_pck(annotation: dict, skeleton, alpha: float = PCK_ALPHA) -> PCKResult:
    """PCK of one 2D annotation against its NTU `.skeleton` (path or SkeletonData)."""
    from skeleton.ntu.names import parse_name

    name = annotation["frame_dir"]
    try:
        actors = parse_name(name).n_actors
    except ValueError:
        actors = 1
    ref = kinect_reference(skeleton, actors)
    return pck(annotation["keypoint"], annotation["keypoint_score"], ref, alpha, sample=name)


COLUMNS = ("sample", "pck", "joints", "frames", "missed_frames")


def score(
    annotations: Iterable[dict[str, Any]], skeletons: Mapping[str, str], alpha: float = PCK_ALPHA
) -> list[PCKResult]:
    """PCK of each annotation whose sample (frame_dir) has a `.skeleton` in `skeletons`
    (sample -> Source id: a file, or a zip member), in the annotations' order."""
    from skeleton.ntu.reader import parse_skeleton

    out = []
    for a in annotations:
        src = skeletons.get(a["frame_dir"])
        if src is not None:
            out.append(annotation_pck(a, parse_skeleton(Source.from_id(src).read(), src), alpha))
    return out


def quality_table(results: Iterable[PCKResult], per_joint: bool = False) -> str:
    """The TSV of `score`'s results: COLUMNS, then each COCO joint's PCK with `per_joint`."""
    joints = list(COCO_FROM_KINECT)
    header = [*COLUMNS, *(joints if per_joint else [])]
    rows = ["\t".join(header)]
    for r in results:
        row = [r.sample, f"{r.pck:.4f}", str(r.joints), str(r.frames), str(r.missed_frames)]
        if per_joint:
            row += [f"{r.per_joint[j]:.4f}" for j in joints]
        rows.append("\t".join(row))
    return "\n".join(rows) + "\n"


def pose_quality(
    pickle_path: str | os.PathLike, skeleton_index: str | os.PathLike, out_tsv: str | os.PathLike
) -> list[PCKResult]:
    """The `ntu_pose_quality` step: `pose_quality.tsv` of a 2D pickle, each annotation scored
    against its sample's usable `.skeleton` in the NTU index."""
    from skeleton.core.annotations import annotations_and_split, load
    from skeleton.core.tables import STATUS_OK
    from skeleton.ntu.index import read_index

    sources = {r.sample: r.source for r in read_index(skeleton_index) if r.status == STATUS_OK}
    results = score(annotations_and_split(load(pickle_path))[0], sources)
    with atomic_write(out_tsv, "w") as f:
        f.write(quality_table(results))
    return results
