"""PCK against Kinect colour-space joints, and drift between two pose results."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from conftest import NTU_VIDEO_SKELETON, run_skeleton

from skeleton.datasets.ntu_quality import (
    COCO_FROM_KINECT,
    KINECT,
    SCORED_COCO,
    annotation_pck,
    kinect_reference,
    pck,
)
from skeleton.pose.base import COCO17
from skeleton.pose.drift import drift


def write_skeleton(path: Path, colour: np.ndarray, body_id: int = 72057594037931101) -> Path:
    """A `.skeleton` file of one body whose joints sit at colour (T, 25, 2) pixel positions."""
    lines = [str(len(colour))]
    for frame in colour:
        lines += ["1", f"{body_id} 0 1 1 1 1 0 0.01 -0.02 2", "25"]
        lines += [f"0.1 0.2 3.0 250.0 200.0 {cx:.3f} {cy:.3f} 0 0 0 0 2" for cx, cy in frame]
    path.write_text("\r\n".join(lines) + "\r\n")
    return path


def body(t: int, shift: float = 0.0) -> np.ndarray:
    """(t, 25, 2) Kinect colour joints of a standing person facing the camera."""
    rng = np.random.default_rng(0)
    base = rng.uniform([800, 300], [1100, 900], size=(25, 2))
    base[KINECT["ShoulderLeft"]] = (900, 400)  # the sensor's left: image left
    base[KINECT["ShoulderRight"]] = (1000, 400)
    base[KINECT["HipLeft"]] = (920, 600)
    base[KINECT["HipRight"]] = (980, 600)
    return np.repeat(base[None], t, axis=0) + shift


def prediction_from(colour: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A perfect COCO prediction (1, T, 17, 2) of the Kinect joints, left/right mirrored."""
    t = len(colour)
    kp = np.zeros((1, t, 17, 2), np.float32)
    for coco, kinect in COCO_FROM_KINECT.items():
        kp[0, :, COCO17.index(coco)] = colour[:, KINECT[kinect]]
    return kp, np.ones((1, t, 17), np.float32)


def test_perfect_prediction_scores_one_and_unmirrored_scores_low(tmp_path):
    colour = body(10)
    ref = kinect_reference(write_skeleton(tmp_path / "a.skeleton", colour))
    assert ref.shape == (1, 10, 12, 2)
    kp, sc = prediction_from(colour)
    assert pck(kp, sc, ref).pck == 1.0
    swapped = kp.copy()
    for coco in COCO_FROM_KINECT:  # COCO left <-> right
        other = coco.replace("left", "RIGHT").replace("right", "left").replace("RIGHT", "right")
        swapped[0, :, COCO17.index(coco)] = kp[0, :, COCO17.index(other)]
    assert pck(swapped, sc, ref).pck < 0.5


def test_threshold_is_a_fifth_of_the_torso(tmp_path):
    colour = body(4)
    ref = kinect_reference(write_skeleton(tmp_path / "a.skeleton", colour))
    kp, sc = prediction_from(colour)
    torso = np.hypot(980 - 900, 600 - 400)  # left shoulder (Kinect right) to right hip
    near, far = kp.copy(), kp.copy()
    near[..., 0] += 0.19 * torso
    far[..., 0] += 0.21 * torso
    assert pck(near, sc, ref).pck == 1.0 and pck(far, sc, ref).pck == 0.0


def test_missing_prediction_frames_count_as_misses(tmp_path):
    colour = body(10)
    ref = kinect_reference(write_skeleton(tmp_path / "a.skeleton", colour))
    kp, sc = prediction_from(colour)
    sc[:, :4] = 0
    kp[:, :4] = 0
    r = pck(kp, sc, ref)
    assert r.missed_frames == 4 and r.frames == 10 and r.pck == pytest.approx(0.6)
    assert set(r.per_joint) == {COCO17[i] for i in SCORED_COCO}


@pytest.mark.skipif(not NTU_VIDEO_SKELETON.is_file(), reason=f"{NTU_VIDEO_SKELETON} not available")
def test_real_kinect_file_reference():
    ref = kinect_reference(NTU_VIDEO_SKELETON)
    assert ref.shape == (1, 103, 12, 2)
    # the colour joints of a person in a 1920x1080 frame
    assert np.isfinite(ref).all() and (ref[..., 0] < 1920).all() and (ref[..., 1] < 1080).all()
    kp = np.zeros((1, 103, 17, 2), np.float32)
    kp[0][:, SCORED_COCO] = ref[0] + 3.0  # a few pixels off everywhere
    a = {
        "frame_dir": "S001C001P001R001A001",
        "keypoint": kp,
        "keypoint_score": np.ones((1, 103, 17)),
    }
    assert annotation_pck(a, NTU_VIDEO_SKELETON).pck == 1.0


def annotation(name: str, kp: np.ndarray) -> dict:
    return {
        "frame_dir": name,
        "total_frames": kp.shape[1],
        "label": 0,
        "keypoint": kp.astype(np.float32),
        "keypoint_score": (np.abs(kp).sum(-1) > 0).astype(np.float32),
        "img_shape": (1080, 1920),
        "original_shape": (1080, 1920),
    }


def test_drift_matches_persons_and_measures_shift():
    rng = np.random.default_rng(1)
    kp = rng.uniform(10, 500, size=(2, 20, 17, 2))
    moved = kp[::-1].copy()  # persons listed in the other order
    moved[..., 0] += 3.0
    moved[:, :2] = 0  # two frames lost in B
    r = drift([annotation("v", kp), annotation("w", kp)], [annotation("v", moved)])
    assert r.samples == 1 and r.only_a == 1 and r.only_b == 0
    assert r.frames == 2 * 18 and r.presence_mismatch == 2 * 2
    assert all(abs(mean - 3.0) < 1e-4 for mean, _, _ in r.per_joint.values())


def test_pose_drift_command(tmp_path):
    kp = np.random.default_rng(2).uniform(10, 500, size=(1, 5, 17, 2))
    for tag, shift in (("tagA", 0.0), ("tagB", 4.0)):
        shard = tmp_path / tag / "ntu60" / "shards" / "0.pkl"
        shard.parent.mkdir(parents=True)
        shard.write_bytes(pickle.dumps([annotation("v", kp + shift)], protocol=4))
    out = run_skeleton("pose-drift", "tagA", "tagB", "--root", tmp_path, check=True)
    rows = [line.split("\t") for line in out.stdout.splitlines()]
    assert rows[0][0] == "joint" and len(rows) == 18
    assert float(rows[1][1]) == pytest.approx(np.hypot(4, 4), abs=0.01)


def test_the_command_and_the_workflow_step_write_one_table(tmp_path):
    """`skeleton pose-quality` (files under folders) and rule ntu_pose_quality (the NTU index)
    score alike and write the same table."""
    from skeleton.core.annotations import write_annotations
    from skeleton.datasets.ntu_quality import COLUMNS, pose_quality
    from skeleton.ntu.index import ntu_index

    colour = body(12)
    raw = tmp_path / "raw"
    raw.mkdir()
    names = ["S001C001P001R001A001", "S001C001P002R001A001"]
    for i, name in enumerate(names):
        write_skeleton(raw / f"{name}.skeleton", colour + 40 * i)
    kp, sc = prediction_from(colour)
    pkl = tmp_path / "poses.pkl"
    write_annotations(pkl, [{**annotation(n, kp), "keypoint_score": sc} for n in names], None)
    ntu_index([str(raw)], 2000, tmp_path / "index.tsv")
    step = pose_quality(pkl, tmp_path / "index.tsv", tmp_path / "quality.tsv")
    assert [r.sample for r in step] == names and step[0].pck == 1.0 > step[1].pck
    out = run_skeleton("pose-quality", pkl, "--skeletons", raw, check=True).stdout
    assert out == (tmp_path / "quality.tsv").read_text()
    assert out.splitlines()[0].split("\t") == list(COLUMNS)
