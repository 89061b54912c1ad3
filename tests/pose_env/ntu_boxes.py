"""Our MMAction2 box procedure and MMAction2's own functions on the same detections.

    python tests/pose_env/ntu_boxes.py SCRIPT OUT.npz [VIDEO ...]

Runs in the pose env (numpy 1.26, ultralytics): SCRIPT is the installed mmaction2's
ntu_pose_extraction.py. Detections: the yolo backend's (default weights) on every frame of each
VIDEO, run through each procedure for one and for two actors, plus the synthetic cases of
tests/postproc_cases.py. The reference gets the detections filtered by its own threshold
(`args.det_score_thr`, kept when `score > thr` as mmaction.apis.detection_inference does), ours
by `detector_boxes`. OUT.npz holds, per case, `ours/<case>` and `ref/<case>` (T, M, 5) arrays
and a JSON `meta` entry: per case {"actors", "ours": branch or "error:<reason>", "ref": "ok" or
"error:<exception type>"}. Comparing is the test's job.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: postproc_cases

import mmaction_reference  # noqa: E402
from postproc_cases import hard_cases  # noqa: E402

from skeleton.pose import postproc_mmaction2 as ours  # noqa: E402


def yolo_detections(videos: list[str]) -> dict[str, list[np.ndarray]]:
    from skeleton.pose.video import iter_frame_batches
    from skeleton.pose.yolo import YoloBackend

    backend = YoloBackend()
    out = {}
    for path in videos:
        dets: list[np.ndarray] = []
        for batch in iter_frame_batches(path, 16):
            dets += backend.detect(batch)
        out[Path(path).name.split(".")[0]] = dets
    return out


def main(script: str, out: str, videos: list[str]) -> None:
    ref = mmaction_reference.box_functions(script)
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, dict] = {}
    cases: list[tuple[str, list[np.ndarray], list[np.ndarray], int]] = []
    for name, raw in yolo_detections(videos).items():
        arrays[f"raw/{name}"] = np.concatenate(
            [np.c_[np.full(len(b), t, np.float32), b] for t, b in enumerate(raw)]
        )
        mine = [ours.detector_boxes(b) for b in raw]
        theirs = [b[b[:, 4] > ref.det_score_thr] for b in raw]
        for actors in (1, 2):
            cases.append((f"{name}/{actors}", mine, theirs, actors))
    for name, (frames, actors) in hard_cases().items():
        cases.append((name, frames, frames, actors))

    for name, mine, theirs, actors in cases:
        entry: dict = {"actors": actors}
        try:
            got = ours.actor_boxes([b.copy() for b in mine], actors)
            arrays[f"ours/{name}"] = got.boxes
            entry["ours"] = got.branch
        except ours.NoActorBoxes as exc:
            entry["ours"] = f"error:{exc.reason}"
        vid = f"S001C001P001R001A{1 if actors == 1 else 50:03d}_rgb.avi"
        try:
            boxes = np.asarray(ref.ntu_det_postproc(vid, [b.copy() for b in theirs]))
            arrays[f"ref/{name}"] = boxes
            entry["ref"] = "ok"
        except Exception as exc:  # the reference's crashes are part of what is compared
            entry["ref"] = f"error:{type(exc).__name__}"
        meta[name] = entry
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(out, **arrays)
    print(json.dumps({"cases": len(meta), "numpy": np.__version__}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
