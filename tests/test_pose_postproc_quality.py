"""Both `--postproc` modes on the real NTU video with the yolo backend: shapes and PCK@0.2.

`skeleton pose` runs in the pose env (see conftest.py for how it is found); scoring against
the Kinect colour joints runs here. About 55 s of CPU (YOLO11n-pose on 103 frames of 1080p: once
for `tracks`, twice plus the box regions for `mmaction2`). README figures: 0.936 and 0.829.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import NTU_VIDEO, NTU_VIDEO_SKELETON, need_shared, pose_python, run_skeleton

from skeleton.core.annotations import load
from skeleton.datasets.ntu_quality import annotation_pck

pytestmark = pytest.mark.pose


@pytest.mark.parametrize("postproc", ["mmaction2", "tracks"])
def test_yolo_on_the_ntu_video(postproc, tmp_path):
    need_shared(NTU_VIDEO)
    need_shared(NTU_VIDEO_SKELETON)
    python = pose_python()
    out = tmp_path / "poses.pkl"
    args = ["pose", str(NTU_VIDEO), "--backend", "yolo", "--postproc", postproc, "--out", str(out)]
    proc = run_skeleton(*args, python=python)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (a,) = load(out)
    assert a["keypoint"].shape == (1, 103, 17, 2) and a["total_frames"] == 103
    assert a["bbox"].shape == (1, 103, 4) and a["bbox"].dtype == np.float32
    assert a["bbox_score"].shape == (1, 103) and a["bbox_score"].dtype == np.float32
    present = a["keypoint_score"].sum(-1) > 0
    if postproc == "mmaction2":  # a box on every frame, pose in it
        assert (a["bbox_score"] > 0.5).all() and present.all()
    np.testing.assert_array_equal(a["bbox"][~present], 0)
    result = annotation_pck(a, NTU_VIDEO_SKELETON)
    assert result.frames == 103 and result.missed_frames == 0
    assert result.pck >= 0.8  # measured 0.936 (mmaction2), 0.829 (tracks)
