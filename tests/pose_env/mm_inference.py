"""Our batched mmpose backend against mmdet's and mmpose's public per-frame APIs, same weights.

    python tests/pose_env/mm_inference.py configs                  # JSON: our model configs
    python tests/pose_env/mm_inference.py compare VIDEO OUT_DIR    # OUT_DIR/result.npz + JSON

Runs in the pose env. `configs` prints what our backend runs: the detector's and the pose
model's test pipelines (as `detect` / `estimate` use them), data preprocessors, test_cfg and the
pose head's decoder, from the default configs without building a model.

`compare`: builds the backend twice with `checkpoint="none"` (seeded: the weights must agree),
saves those random weights to checkpoint files, builds our backend and the reference models
(`mmdet.apis.init_detector`, `mmpose.apis.init_model`) from the same files and config, and runs
on FRAMES of VIDEO: our batched `detect` (threshold 0, no cap) against `inference_detector`
frame by frame, then our batched `estimate` against `inference_topdown` frame by frame on the
same boxes (each frame's top detections and a fixed box around the actor). Also checks that
the yolo backend's `checkpoint="none"` weights agree between two builds.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

FRAMES = (0, 102)  # of the 103-frame NTU video: first and last (a batch of two)
POSE_BOXES_PER_FRAME = 1  # top detections per frame given to the pose model (plus ACTOR_BOX)
ACTOR_BOX = np.array([800, 250, 1150, 1000, 1.0], np.float32)  # around the NTU actor, roughly


def plain(value):
    """ConfigDicts, tuples -> JSON-able dicts and lists."""
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def configs() -> dict:
    from mmengine.config import Config
    from mmpose.utils import adapt_mmdet_pipeline

    from skeleton.pose import mmpose_backend as mb

    det = Config.fromfile(str(mb.resolve_config("mmdet", mb.DEFAULT_MODELS["detector"]["config"])))
    adapt_mmdet_pipeline(det)  # as MMPoseBackend does
    pose = Config.fromfile(str(mb.resolve_config("mmpose", mb.DEFAULT_MODELS["pose"]["config"])))
    return {
        "detector": {
            "test_pipeline": plain(mb.detector_pipeline(det)),
            "data_preprocessor": plain(det.model.data_preprocessor),
            "test_cfg": plain(det.model.test_cfg),
            "num_classes": det.model.roi_head.bbox_head.num_classes,
        },
        "pose": {
            "test_pipeline": plain(mb.pose_pipeline(pose)),
            "data_preprocessor": plain(pose.model.data_preprocessor),
            "test_cfg": plain(pose.model.test_cfg),
            "decoder": plain(pose.model.head.decoder),
        },
    }


def state_equal(a, b) -> bool:
    import torch

    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def compare(video: str, out_dir: str) -> dict:
    import torch
    from mmdet.apis import inference_detector, init_detector
    from mmengine.registry import DefaultScope
    from mmpose.apis import inference_topdown, init_model

    from skeleton.pose import mmpose_backend as mb
    from skeleton.pose.video import read_video
    from skeleton.pose.yolo import YoloBackend

    out = Path(out_dir)
    frames_all, _ = read_video(video)
    frames = [frames_all[i] for i in FRAMES]
    report: dict = {"seconds": {}}
    clock = [time.perf_counter()]

    def lap(what: str) -> None:
        now = time.perf_counter()
        report["seconds"][what] = round(now - clock[0], 1)
        clock[0] = now

    opts = dict(score_threshold=0.0, max_boxes_per_frame=100_000)

    first = mb.MMPoseBackend(checkpoint="none", **opts)
    second = mb.MMPoseBackend(checkpoint="none", **opts)
    report["seeded_detector"] = state_equal(first.detector, second.detector)
    report["seeded_pose"] = state_equal(first.pose_model, second.pose_model)
    del second
    files = {"detector": out / "detector.pth", "pose": out / "pose.pth"}
    torch.save({"state_dict": first.detector.state_dict(), "meta": {}}, files["detector"])
    torch.save({"state_dict": first.pose_model.state_dict(), "meta": {}}, files["pose"])
    del first
    y1, y2 = YoloBackend(checkpoint="none"), YoloBackend(checkpoint="none")
    report["seeded_yolo"] = state_equal(y1.model.model, y2.model.model)
    del y1, y2
    lap("seeded builds")

    models = {key: {"checkpoint": str(path)} for key, path in files.items()}
    ours = mb.MMPoseBackend(checkpoint="default", models=models, **opts)
    lap("backends")
    cfg = {
        key: str(mb.resolve_config(s["package"], s["config"]))
        for key, s in mb.DEFAULT_MODELS.items()
    }
    ref_det = init_detector(cfg["detector"], str(files["detector"]), device="cpu")
    ref_pose = init_model(cfg["pose"], str(files["pose"]), device="cpu")
    report["loaded_same_weights"] = state_equal(ours.detector, ref_det) and state_equal(
        ours.pose_model, ref_pose
    )
    lap("reference models")

    arrays: dict[str, np.ndarray] = {}
    our_boxes = ours.detect(frames)  # one batch of all frames
    for i, (frame, boxes) in enumerate(zip(frames, our_boxes, strict=True)):
        with DefaultScope.overwrite_default_scope("mmdet"):
            inst = inference_detector(ref_det, frame).pred_instances.cpu().numpy()
        person = inst.labels == mb.DEFAULT_MODELS["detector"]["person_label"]
        arrays[f"det_ours{i}"] = boxes
        arrays[f"det_ref{i}"] = np.concatenate(
            [inst.bboxes[person], inst.scores[person, None]], axis=1
        ).astype(np.float32)
        arrays[f"det_ref_labels{i}"] = inst.labels

    lap("detection")
    given = [np.concatenate([b[:POSE_BOXES_PER_FRAME], ACTOR_BOX[None]]) for b in our_boxes]
    poses = ours.estimate(frames, given)  # all boxes of all frames in batches
    for i, (frame, boxes, (kp, sc)) in enumerate(zip(frames, given, poses, strict=True)):
        with DefaultScope.overwrite_default_scope("mmpose"):
            samples = inference_topdown(ref_pose, frame, boxes[:, :4], bbox_format="xyxy")
        arrays[f"pose_boxes{i}"] = boxes
        arrays[f"kp_ours{i}"], arrays[f"score_ours{i}"] = kp, sc
        arrays[f"kp_ref{i}"] = np.stack([s.pred_instances.keypoints[0] for s in samples])
        arrays[f"score_ref{i}"] = np.stack([s.pred_instances.keypoint_scores[0] for s in samples])
    lap("pose")
    np.savez(out / "result.npz", **arrays)
    report["frames"] = len(frames)
    return report


if __name__ == "__main__":
    if sys.argv[1] == "configs":
        print(json.dumps(configs()))
    else:
        print(json.dumps(compare(sys.argv[2], sys.argv[3])))
