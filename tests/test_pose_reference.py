"""`pose.postproc: mmaction2` gives MMAction2's boxes bit for bit: its own functions, same input.

MMAction2's box functions come from the installed mmaction2 1.2.0 (the consumer venv of
tests/mmaction_consumer.py: `mmaction/.mim/tools/data/skeleton/ntu_pose_extraction.py`), loaded
at test time by tests/pose_env/mmaction_reference.py and run next to ours by
tests/pose_env/ntu_boxes.py in the pose env (numpy 1.26, as MMAction2 1.2.0 needs). Inputs: the
yolo backend's real detections on the NTU video and the demo clip (each for one and for two
actors), and the synthetic cases of tests/postproc_cases.py (one and two actors, missing
frames, more boxes than actors, duplicates, far-off boxes, a person leaving and coming back,
empty first frames, 150 random videos). About 40 s of CPU (YOLO11n on 175 frames of 1080p).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import DEMO_VIDEO, NTU_VIDEO, REPO, need_shared, pose_python, run_pose_driver
from mmaction_consumer import mmaction_python

pytestmark = pytest.mark.pose

DRIVER = REPO / "tests" / "pose_env" / "ntu_boxes.py"
BRANCHES = {"easy", "one_tracklet", "nearest_tracklets", "tracklets", "two_best"}


def reference_script() -> Path:
    """ntu_pose_extraction.py of the MMAction2 venv's mmaction package."""
    from pose_env.mmaction_reference import package_of, script

    return script(package_of(mmaction_python()))  # skips, or fails under CI, without the venv


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> tuple[dict, dict[str, np.ndarray]]:
    need_shared(NTU_VIDEO)
    need_shared(DEMO_VIDEO)
    pose_python()  # skips before the MMAction2 venv is built
    script = reference_script()
    out = tmp_path_factory.mktemp("reference") / "boxes.npz"
    run_pose_driver(DRIVER, script, out, NTU_VIDEO, DEMO_VIDEO)
    with np.load(out) as data:
        arrays = {k: data[k] for k in data.files}
    return json.loads(str(arrays.pop("meta"))), arrays


def test_boxes_identical_to_mmaction2s_functions(compared):
    meta, arrays = compared
    problems = []
    for name, entry in meta.items():
        ours, ref = entry["ours"], entry["ref"]
        if ours.startswith("error:") or ref.startswith("error:"):
            # the reference crashes exactly where we reject (KeyError / empty np.concatenate)
            if not (ours == "error:no_tracklet" and ref in ("error:KeyError", "error:ValueError")):
                problems.append(f"{name}: ours {ours}, reference {ref}")
            continue
        mine, theirs = arrays[f"ours/{name}"], arrays[f"ref/{name}"]
        if ours == "one_tracklet" and theirs.ndim == 2:
            theirs = theirs[:, None]  # the reference's (T, 5) there: one box per frame
        if mine.shape != theirs.shape or not np.array_equal(mine, theirs):
            problems.append(f"{name} ({ours}): ours {mine.shape}, reference {theirs.shape} differ")
    assert not problems, "\n".join(problems)


def test_cases_cover_every_branch_and_failure(compared):
    meta, _ = compared
    branches = {e["ours"] for e in meta.values()}
    assert BRANCHES <= branches
    assert {e["ref"] for e in meta.values()} >= {"ok", "error:KeyError", "error:ValueError"}
    assert len(meta) >= 150


def test_real_ntu_video_has_one_actor_box_on_every_frame(compared):
    meta, arrays = compared
    name = NTU_VIDEO.name.split(".")[0]
    assert meta[f"{name}/1"]["ours"] != "error:no_tracklet"
    boxes = arrays[f"ours/{name}/1"]
    assert boxes.shape == (103, 1, 5) and (boxes[..., 4] > 0.5).all()
    raw = arrays[f"raw/{name}"]
    assert len(np.unique(raw[raw[:, 5] > 0.5, 0])) >= 90  # yolo finds the actor almost always
