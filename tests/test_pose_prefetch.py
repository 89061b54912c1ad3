"""Decoding ahead and videos in flight give the annotations of the sequential path (real video).

The first frames of the real NTU video, through `extract_video` with the yolo backend and
`--postproc mmaction2`, run by tests/pose_env/prefetch.py in the pose env: decoding in the
calling thread, decoding ahead in a thread, and two videos in flight must give identical
arrays. About 20 s on 2 CPU cores (12 frames of 1080p, YOLO11n-pose).
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess

import numpy as np
import pytest
from test_pose_yolo import NTU_VIDEO, REPO, pose_python

pytestmark = pytest.mark.pose

cv2 = pytest.importorskip("cv2")

DRIVER = REPO / "tests" / "pose_env" / "prefetch.py"
FRAMES = 12  # MMAction2's procedure keeps tracklets of more than 5 frames


def first_frames(src, dst, n: int) -> None:
    cap = cv2.VideoCapture(str(src))
    ok, frame = cap.read()
    out = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"MJPG"), 30, frame.shape[1::-1])
    for _ in range(n):
        assert ok
        out.write(frame)
        ok, frame = cap.read()
    out.release()
    cap.release()


def test_decoding_ahead_gives_the_sequential_annotations(tmp_path):
    if not NTU_VIDEO.is_file():
        pytest.skip(f"real video not available: {NTU_VIDEO}")
    python = pose_python()
    video = tmp_path / NTU_VIDEO.name
    first_frames(NTU_VIDEO, video, FRAMES)
    proc = subprocess.run(
        [python, str(DRIVER), str(video), str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},  # this checkout's skeleton, not an install
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    json.loads(proc.stdout.strip().splitlines()[-1])
    loaded = {}
    for name in ("sequential", "ahead", "in_flight"):
        with open(tmp_path / f"{name}.pkl", "rb") as f:
            loaded[name] = pickle.load(f)
    sequential = loaded["sequential"]
    assert isinstance(sequential, dict), sequential
    assert sequential["total_frames"] == FRAMES and sequential["keypoint"].shape[:2] == (1, FRAMES)
    assert (sequential["keypoint_score"] > 0).any()
    for other in (loaded["ahead"], *loaded["in_flight"]):
        assert isinstance(other, dict) and other.keys() == sequential.keys()
        for key, value in sequential.items():
            assert np.array_equal(np.asarray(other[key]), np.asarray(value)), key
