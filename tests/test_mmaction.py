"""MMAction2 1.2.0 loads our pickles: PoseDataset + the ST-GCN pipelines, every split.

The consumer runs in its own venv (torch CPU, mmcv-lite, mmengine, mmaction2 --no-deps), built or
reused by `.ci/mmaction-env.sh` outside the clone, so the project's venv never gets torch. The
pickles come from the real CLI: `skeleton synth-ntu` writes NTU-format files, `skeleton ntu3d`
parses, denoises, splits and packages them; tests/consumers/mmaction_load.py then builds
PoseDataset for each split with the training and 10-clip test pipelines and checks every sample
it loads. Plumbing (venv, skip/fail policy) lives in tests/mmaction_consumer.py.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import run_skeleton
from mmaction_consumer import load_with_mmaction, mmaction_python, run_loader

pytestmark = pytest.mark.mmaction


# Benchmarks per dataset (DESIGN.md: xview is NTU60 only, xset NTU120 only).
SPLITS = {
    "ntu60": {"xsub_train", "xsub_val", "xview_train", "xview_val"},
    "ntu120": {"xsub_train", "xsub_val", "xset_train", "xset_val"},
}
NUM_CLASSES = {"ntu60": 60, "ntu120": 120}
SAMPLES = 48  # synthetic files per dataset: every split gets members
# Clip lengths on both sides of UniformSampleFrames' branches (< 100, 100-199, >= 200 frames).
FRAMES = ("20", "240")
PER_SPLIT = 24  # samples loaded per split and pipeline


@pytest.fixture(scope="session", autouse=True)
def consumer_venv() -> str:
    """Build (or reuse) the consumer venv first: skip or fail here, before making pickles."""
    return mmaction_python()


@pytest.fixture(scope="module")
def ntu_pickles(tmp_path_factory) -> Callable[..., Path]:
    """`get(dataset, denoise)`: a 3D pickle from `skeleton synth-ntu` + `skeleton ntu3d`."""
    raws: dict[str, Path] = {}
    built: dict[tuple[str, str], Path] = {}

    def get(dataset: str, denoise: str = "pyskl") -> Path:
        if dataset not in raws:
            raw = tmp_path_factory.mktemp(f"{dataset}_raw")
            synth = ["synth-ntu", str(raw), "--samples", str(SAMPLES), "--seed", "7"]
            synth += ["--frames", *FRAMES, *(["--ntu120"] if dataset == "ntu120" else [])]
            run_skeleton(*synth, check=True, timeout=600)
            raws[dataset] = raw
        if (dataset, denoise) not in built:
            work = tmp_path_factory.mktemp(f"{dataset}_{denoise}")
            out = work / f"{dataset}_3d.pkl"
            args = [str(raws[dataset]), "--denoise", denoise, "--dataset", dataset]
            rejects = work / "rejects.tsv"
            run_skeleton(
                "ntu3d", *args, "--out", out, "--rejects", rejects, check=True, timeout=600
            )
            assert out.is_file(), f"skeleton ntu3d wrote no {out}"
            built[dataset, denoise] = out
        return built[dataset, denoise]

    return get


@pytest.mark.parametrize(
    ("dataset", "denoise"), [("ntu60", "pyskl"), ("ntu120", "pyskl"), ("ntu60", "energy")]
)
def test_mmaction_loads_every_split(ntu_pickles, dataset: str, denoise: str) -> None:
    path = ntu_pickles(dataset, denoise)
    with path.open("rb") as fh:
        data = pickle.load(fh)
    assert set(data["split"]) == SPLITS[dataset]

    args = ["--num-classes", str(NUM_CLASSES[dataset]), "--max-per-split", str(PER_SPLIT)]
    summary = load_with_mmaction(path, *args)
    assert summary["mmaction"] == "1.2.0"
    assert summary["annotations"] == len(data["annotations"])
    assert set(summary["splits"]) == SPLITS[dataset]
    for split, info in summary["splits"].items():
        members = len(data["split"][split])
        assert info["samples"] == members > 0, split
        for mode, clips in (("train", 1), ("test", 10)):
            assert info[mode]["checked"] == min(members, PER_SPLIT), (split, mode)
            assert info[mode]["input_shape"] == [clips, 2, 100, 25, 3], (split, mode)


def test_loader_reports_broken_pickles(ntu_pickles, tmp_path) -> None:
    """The consumer check is not vacuous: format breaks MMAction2 would trip on are reported."""
    path = ntu_pickles("ntu60")
    with path.open("rb") as fh:
        data = pickle.load(fh)
    first, second = data["annotations"][:2]
    first["total_frames"] += 1
    second["keypoint"] = second["keypoint"].astype(np.float32)
    split = sorted(data["split"])[0]
    data["split"][split].append("S001C001P001R001A999")
    broken = tmp_path / "broken.pkl"
    with broken.open("wb") as fh:
        pickle.dump(data, fh)

    rc, summary, _ = run_loader(broken)
    assert rc == 1 and not summary["ok"]
    problems = "\n".join(summary["problems"])
    assert f"{first['frame_dir']}: total_frames" in problems
    assert f"{second['frame_dir']}: keypoint dtype float32" in problems
    assert f"{split}: 1 frame_dirs not in annotations" in problems


# NTU Kinect joint (0-based) standing in for each COCO-17 keypoint: nose, eyes and ears -> head
# (3), shoulders 4/8, elbows 5/9, wrists 6/10, hips 12/16, knees 13/17, ankles 14/18 (left, right).
COCO_FROM_NTU = [3, 3, 3, 3, 3, 4, 8, 5, 9, 6, 10, 12, 16, 13, 17, 14, 18]


def test_mmaction_loads_2d_pickle(ntu_pickles, tmp_path) -> None:
    """The --kind 2d path (GenSkeFeat coco, PreNormalize2D), on a projection of the 3D data."""
    dataset = "ntu60"
    path = ntu_pickles(dataset)
    with path.open("rb") as fh:
        data = pickle.load(fh)
    height, width = 1080, 1920
    for ann in data["annotations"]:
        xyz = ann["keypoint"][:, :, COCO_FROM_NTU].astype(np.float32)
        present = np.abs(xyz).sum(-1) > 0
        depth = np.where(present, np.maximum(xyz[..., 2], 0.5), 1.0)
        # pinhole camera, focal length 1000 px, principal point at the image centre
        u = width / 2 + 1000 * xyz[..., 0] / depth
        v = height / 2 - 1000 * xyz[..., 1] / depth
        ann["keypoint"] = np.stack([u, v], -1) * present[..., None]
        ann["keypoint_score"] = np.where(present, 0.9, 0.0).astype(np.float32)
        ann["img_shape"] = ann["original_shape"] = (height, width)
    path2d = tmp_path / f"{dataset}_2d.pkl"
    with path2d.open("wb") as fh:
        pickle.dump(data, fh)

    summary = load_with_mmaction(path2d, "--kind", "2d", "--max-per-split", "8")
    assert set(summary["splits"]) == SPLITS[dataset]
    for info in summary["splits"].values():
        assert info["test"]["input_shape"] == [10, 2, 100, 17, 3]
