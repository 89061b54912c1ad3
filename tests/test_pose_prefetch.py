"""Decoding ahead and videos in flight give the annotations of the sequential path (real video).

The first frames of the real NTU video, through `extract_video` with the yolo backend and
`--postproc mmaction2`, run by tests/pose_env/prefetch.py in the pose env: decoding in the
calling thread, decoding ahead in a thread, and two videos in flight must give identical
arrays. About 20 s on 2 CPU cores (12 frames of 1080p, YOLO11n-pose).
"""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from conftest import NTU_VIDEO, REPO, cut_clip, need_shared, run_pose_driver

pytestmark = pytest.mark.pose
pytest.importorskip("cv2")

DRIVER = REPO / "tests" / "pose_env" / "prefetch.py"
FRAMES = 12  # MMAction2's procedure keeps tracklets of more than 5 frames


def test_decoding_ahead_gives_the_sequential_annotations(tmp_path):
    need_shared(NTU_VIDEO)
    video = tmp_path / NTU_VIDEO.name  # its first frames, as they are
    cut_clip(NTU_VIDEO, video, FRAMES, width=None, fps=30)
    json.loads(run_pose_driver(DRIVER, video, tmp_path, timeout=900))
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
