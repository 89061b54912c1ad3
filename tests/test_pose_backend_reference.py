"""The batched mmpose backend against mmdet's / mmpose's public APIs and MMAction2's demo configs.

Runs tests/pose_env/mm_inference.py in the pose env. Same weights on both sides: the backend's
seeded `checkpoint="none"` initialisation, saved to checkpoint files that our backend and the
reference models (`init_detector`, `init_model`) both load. On 2 real frames of the NTU video
(first and last, one batch): our batched detector == `mmdet.apis.inference_detector` frame by
frame (every person box and score, threshold 0), our batched HRNet on given boxes ==
`mmpose.apis.inference_topdown` frame by frame; measured bit-identical on a CPU. The frames keep their 1080p size: the detector's pipeline resizes them to 1333x800
whatever they are, so smaller inputs would not make it cheaper. About 45 s of CPU (Faster R-CNN
R50 twice on 2 frames, 4 model builds); the configs test takes ~10 s.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import NTU_VIDEO, REPO, need_shared, run_pose_driver

pytestmark = pytest.mark.pose

DRIVER = REPO / "tests" / "pose_env" / "mm_inference.py"

# ---- facts: MMAction2 1.2.0's demo configs ----------------------------------------------------
# Source: github.com/open-mmlab/mmaction2 at tag v1.2.0 (commit 4d6c934),
# demo/demo_configs/faster-rcnn_r50-caffe_fpn_ms-1x_coco-person.py and
# demo/demo_configs/td-hm_hrnet-w32_8xb64-210e_coco-256x192_infer.py, the det_config and
# pose_config of tools/data/skeleton/ntu_pose_extraction.py. (The mmaction2 1.2.0 wheel ships
# tools/ and configs/ under .mim but not demo/, so the values are written here.) Loading steps
# are compared by kind only: the demo loads image files (`LoadImageFromFile`, `LoadImage` with
# file_client_args), we hand decoded frames over (mmdet.LoadImageFromNDArray, as mmdet's
# inference_detector does for arrays; mmpose's LoadImage takes arrays as they are).
DEMO_DETECTOR = {
    "loader": "LoadImageFromFile",
    "test_pipeline": [
        {"type": "Resize", "scale": [1333, 800], "keep_ratio": True},
        {
            "type": "PackDetInputs",
            "meta_keys": ["img_id", "img_path", "ori_shape", "img_shape", "scale_factor"],
        },
    ],
    "data_preprocessor": {
        "type": "DetDataPreprocessor",
        "mean": [103.53, 116.28, 123.675],
        "std": [1.0, 1.0, 1.0],
        "bgr_to_rgb": False,
        "pad_size_divisor": 32,
    },
    "test_cfg": {
        "rpn": {
            "nms_pre": 1000,
            "max_per_img": 1000,
            "nms": {"type": "nms", "iou_threshold": 0.7},
            "min_bbox_size": 0,
        },
        "rcnn": {
            "score_thr": 0.05,
            "nms": {"type": "nms", "iou_threshold": 0.5},
            "max_per_img": 100,
        },
    },
    "num_classes": 1,
}
DEMO_POSE = {
    "loader": "LoadImage",
    "test_pipeline": [
        {"type": "GetBBoxCenterScale"},
        {"type": "TopdownAffine", "input_size": [192, 256]},
        {"type": "PackPoseInputs"},
    ],
    "data_preprocessor": {
        "type": "PoseDataPreprocessor",
        "mean": [123.675, 116.28, 103.53],
        "std": [58.395, 57.12, 57.375],
        "bgr_to_rgb": True,
    },
    "test_cfg": {"flip_test": True, "flip_mode": "heatmap", "shift_heatmap": True},
    "decoder": {
        "type": "MSRAHeatmap",
        "input_size": [192, 256],
        "heatmap_size": [48, 64],
        "sigma": 2,
    },
}
OUR_LOADERS = {"detector": "LoadImageFromNDArray", "pose": "LoadImage"}


def unscoped(step: dict) -> dict:
    """A pipeline step without its registry scope ('mmdet.Resize' -> 'Resize')."""
    return {**step, "type": step["type"].split(".")[-1]}


def run_driver(*args: str) -> str:
    return run_pose_driver(DRIVER, *args)


def test_model_configs_are_mmaction2s_demo_configs():
    ours = json.loads(run_driver("configs"))
    for key, demo in (("detector", DEMO_DETECTOR), ("pose", DEMO_POSE)):
        got = ours[key]
        steps = [unscoped(s) for s in got["test_pipeline"]]
        assert steps[0]["type"] == OUR_LOADERS[key]
        assert steps[1:] == demo["test_pipeline"], key
        for field in ("data_preprocessor", "test_cfg", "num_classes", "decoder"):
            if field in demo:
                assert got[field] == demo[field], f"{key} {field}"


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    need_shared(NTU_VIDEO)
    out = tmp_path_factory.mktemp("mm")
    report = json.loads(run_driver("compare", str(NTU_VIDEO), str(out)))
    with np.load(out / "result.npz") as data:
        arrays = {k: data[k] for k in data.files}
    return report, arrays


def test_checkpoint_none_is_seeded(compared):
    report, _ = compared
    assert report["seeded_detector"] and report["seeded_pose"] and report["seeded_yolo"]
    assert report["loaded_same_weights"]


def test_batched_detector_equals_inference_detector(compared):
    report, arrays = compared
    for i in range(report["frames"]):
        ours, ref = arrays[f"det_ours{i}"], arrays[f"det_ref{i}"]
        assert len(ref) > 0 and (arrays[f"det_ref_labels{i}"] == 0).all()  # COCO-person
        assert ours.shape == ref.shape, f"frame {i}"
        np.testing.assert_allclose(ours[:, :4], ref[:, :4], rtol=0, atol=1e-3)
        np.testing.assert_allclose(ours[:, 4], ref[:, 4], rtol=0, atol=1e-5)


def test_batched_hrnet_equals_inference_topdown(compared):
    report, arrays = compared
    for i in range(report["frames"]):
        assert len(arrays[f"pose_boxes{i}"]) == arrays[f"kp_ref{i}"].shape[0] >= 2
        np.testing.assert_allclose(arrays[f"kp_ours{i}"], arrays[f"kp_ref{i}"], rtol=0, atol=1e-3)
        np.testing.assert_allclose(
            arrays[f"score_ours{i}"], arrays[f"score_ref{i}"], rtol=0, atol=1e-5
        )
