"""MMAction2 1.2.0 trains on every kind of pickle we make, with the configs its wheel ships.

tests/consumers/mmaction_train.py (in the consumer venv, see tests/mmaction_consumer.py) loads
an MMAction2 config from mmaction/.mim/configs/skeleton/, points it at our output, shrinks it for
a CPU (batch 2, no workers, short clips, 3 iterations, validation on a few samples) and trains
through mmengine's Runner, then runs one validation pass. Each test asserts finite, positive
losses, weights that moved, the validation metrics, and that MMAction2 saw the samples and
splits our pickle holds:

* STGCN++ (NTU60 xsub, 3D) on `skeleton synth-ntu` + `skeleton ntu3d` output;
* PoseC3D NTU60 xsub, UCF101 split 1 and Kinetics-400 on one real Snakemake run (targets
  `ntu60`, `ucf101`, `k400`) with the yolo backend in the pose env on short clips cut from the
  real NTU video and the demo clip in ../shared; UCF101 and K400 from official-layout fixtures
  (classInd.txt + train/testlist0k.txt; train.csv + validate.csv). K400 is read the way
  MMAction2's K400 config reads it: the compressed pickle, `data_prefix=dict(skeleton=
  results/k400/video_kpfiles)`, `box_thr`, a positive `valid_ratio` (so the box-score filter and
  `anno_inds` run) and `DecompressPose`.

Measured on 2 cores shared with other jobs: STGCN++ 80-90 s; the workflow run (pose on 9 clips
of 24 frames) 2-2.5 min; each PoseC3D run 30-90 s; about 8 min in all.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import (
    DEMO_VIDEO,
    NTU_VIDEO,
    REAL_SKELETONS,
    REPO,
    cut_clip,
    need_shared,
    pose_python,
    run_skeleton,
    run_snakemake,
)
from mmaction_consumer import mmaction_python

from skeleton.core.annotations import load

pytestmark = pytest.mark.mmaction

TRAINER = REPO / "tests" / "consumers" / "mmaction_train.py"

CONFIGS = {  # under mmaction/.mim/configs/skeleton/ in the mmaction2 1.2.0 wheel
    "stgcnpp": "stgcnpp/stgcnpp_8xb16-joint-u100-80e_ntu60-xsub-keypoint-3d.py",
    "ntu60": "posec3d/slowonly_r50_8xb16-u48-240e_ntu60-xsub-keypoint.py",
    "ucf101": "posec3d/slowonly_kinetics400-pretrained-r50_8xb16-u48-120e_ucf101-split1-keypoint.py",
    "k400": "posec3d/slowonly_r50_8xb32-u48-240e_k400-keypoint.py",
}
ITERS = 3
CPU = ["--iters", str(ITERS), "--batch-size", "2", "--val-samples", "4"]
CLIP_FRAMES = 24  # frames per test clip: enough for PoseC3D's clip_len 8 below
K400_BOX_THR = 0.5  # MMAction2's K400 config value
K400_VALID_RATIO = 0.2  # positive, so PoseDataset filters by box score (the config's 0.0 would not)


def train(config: str, ann_file: Path, *args: str) -> dict[str, Any]:
    """The trainer's JSON summary; fails the test with MMAction2's traceback on an error."""
    out = ann_file.parent / f"train-{Path(config).stem}.json"
    cmd = [mmaction_python(), str(TRAINER), config, "--ann-file", str(ann_file), *CPU, *args]
    cmd += ["--out", str(out), "--work-dir", str(ann_file.parent / "mmaction-work")]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if p.returncode != 0 or not out.is_file():
        pytest.fail(f"MMAction2 training failed (exit {p.returncode}):\n{p.stderr[-4000:]}")
    return json.loads(out.read_text())


def check_trained(summary: dict[str, Any], train: int, val: int, classes: int) -> None:
    assert summary["ok"], summary
    losses = summary["losses"]
    assert len(losses) == ITERS and all(math.isfinite(x) and x > 0 for x in losses), losses
    assert summary["finite"]  # no NaN / inf in the weights after the updates
    assert summary["params_moved"] == summary["params"] > 0 and summary["max_change"] > 0
    assert summary["train_samples"] == train > 0  # MMAction2 saw every training sample we made
    assert summary["val_samples"] == min(val, 4) > 0
    assert summary["num_classes"] == classes
    assert {"acc/top1", "acc/top5", "acc/mean1"} <= set(summary["metrics"])


def test_stgcnpp_trains_on_ntu60_3d(tmp_path):
    mmaction_python()  # skip (or fail under CI) before making data when the venv is missing
    raw, pkl = tmp_path / "raw", tmp_path / "ntu60_3d.pkl"
    run_skeleton(
        "synth-ntu", raw, "--samples", "24", "--seed", "7", "--frames", "20", "240", check=True
    )
    run_skeleton("ntu3d", raw, "--dataset", "ntu60", "--out", pkl, check=True)
    data = load(pkl)
    summary = train(CONFIGS["stgcnpp"], pkl, "--clip-len", "20")
    check_trained(summary, len(data["split"]["xsub_train"]), len(data["split"]["xsub_val"]), 60)
    assert summary["input_shape"] == [1, 2, 20, 25, 3]  # one clip, 2 persons, T, joints, xyz


# ---- 2D: one workflow run on real clips -----------------------------------------------------


def write_lines(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("".join(f"{line}\r\n" for line in lines).encode())  # as released: CRLF


UCF_TRAIN = ["ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1", "Archery/v_Archery_g08_c01.avi 2"]
UCF_TEST = ["ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi", "Archery/v_Archery_g01_c01.avi"]
K400_TRAIN = ["abseiling,---QUuC4vJs,3,13,train", "air drumming,--nQbRBEz2s,104,114,train"]
K400_VAL = ["abseiling,--33Lscn6sk,4,14,val"]


@pytest.fixture(scope="module")
def video_outputs(tmp_path_factory) -> Path:
    """One Snakemake run building results/{ntu60,ucf101,k400} with yolo on CPU."""
    mmaction_python()
    python = pose_python()
    for path in (NTU_VIDEO, DEMO_VIDEO, REAL_SKELETONS):
        need_shared(path)
    wd = tmp_path_factory.mktemp("video-datasets")
    sources = {"ntu": NTU_VIDEO, "demo": DEMO_VIDEO}
    clips: dict[tuple[str, str], Path] = {}

    def place(clip: str, path: Path, width: int = 480) -> None:
        """A short, downscaled cut of a real clip at `path` (MJPG .avi or mp4v .mp4)."""
        key = (clip, path.suffix, width)
        if key not in clips:
            cut = wd / "clips" / f"{clip}-{width}{path.suffix}"
            clips[key] = cut_clip(sources[clip], cut, frames=CLIP_FRAMES, width=width)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clips[key], path)

    # NTU60: the real sample (performer 1: xsub_train) and the demo clip under the name of the
    # real skeleton file S002C001P003R001A003 (performer 3: xsub_val), with both skeletons
    for name, clip in (("S001C001P001R001A001", "ntu"), ("S002C001P003R001A003", "demo")):
        (wd / "sk").mkdir(exist_ok=True)
        (wd / "sk" / f"{name}.skeleton").symlink_to(REAL_SKELETONS / f"{name}.skeleton")
        # 960 px: NTU's default post-processing (MMAction2's) drops tracklets of mean box area
        # <= 5000 px², which a person of a 480 px copy falls below
        place(clip, wd / "vid" / f"{name}_rgb.avi", width=960)
    # UCF101 as released: ucfTrainTestlist/ + UCF-101/<class>/<video>.avi
    ann = wd / "ucfTrainTestlist"
    write_lines(ann / "classInd.txt", ["1 ApplyEyeMakeup", "2 Archery"])
    for k in "123":
        write_lines(ann / f"trainlist0{k}.txt", UCF_TRAIN)
        write_lines(ann / f"testlist0{k}.txt", UCF_TEST)
    for i, line in enumerate(UCF_TRAIN + UCF_TEST):
        place("ntu" if i % 3 == 0 else "demo", wd / "UCF-101" / line.split()[0])
    # Kinetics-400: train.csv / validate.csv, clips named <youtube_id>_<start>_<end>.mp4
    header = "label,youtube_id,time_start,time_end,split"
    (wd / "k400").mkdir()
    (wd / "k400" / "train.csv").write_text("\n".join([header, *K400_TRAIN]) + "\n")
    (wd / "k400" / "validate.csv").write_text("\n".join([header, *K400_VAL]) + "\n")
    for i, line in enumerate(K400_TRAIN + K400_VAL):
        _, yid, start, end, _ = line.split(",")
        place("ntu" if i % 2 == 0 else "demo", wd / "kv" / f"{yid}_{start:0>6}_{end:0>6}.mp4")

    config = {
        "ntu": {"skeletons": ["sk"], "videos": ["vid"], "datasets": ["ntu60"]},
        "pose": {"backend": "yolo", "device": "cpu", "python": python, "batch_size": 8},
        "ucf101": {"videos": "UCF-101", "annotations": "ucfTrainTestlist"},
        "k400": {"videos": ["kv"], "annotations": "k400"},
    }
    (wd / "config.yaml").write_text(yaml.safe_dump(config))
    run_snakemake(wd, "--cores", "2", "ntu60", "ucf101", "k400", configfile="config.yaml")
    return wd / "results"


@pytest.mark.pose
def test_posec3d_trains_on_ntu60_2d(video_outputs):
    pkl = video_outputs / "ntu60" / "ntu60_2d.pkl"
    data = load(pkl)
    assert data["split"]["xsub_train"] == ["S001C001P001R001A001"]
    assert data["split"]["xsub_val"] == ["S002C001P003R001A003"]
    summary = train(CONFIGS["ntu60"], pkl, "--clip-len", "8")
    check_trained(summary, 1, 1, 60)
    assert summary["input_shape"] == [1, 17, 8, 56, 56]  # one clip of COCO-17 heatmaps


@pytest.mark.pose
def test_posec3d_trains_on_ucf101_split1(video_outputs):
    pkl = video_outputs / "ucf101" / "ucf101_2d.pkl"
    data = load(pkl)
    assert sorted(data["split"]["train1"]) == ["v_ApplyEyeMakeup_g08_c01", "v_Archery_g08_c01"]
    summary = train(CONFIGS["ucf101"], pkl, "--clip-len", "8")
    check_trained(summary, 2, len(data["split"]["test1"]), 101)
    assert summary["input_shape"] == [1, 17, 8, 48, 48]  # the UCF101 config crops to 48x48
    assert any("load_from" in c for c in summary["changes"])  # K400-pretrained: a download


@pytest.mark.pose
def test_posec3d_trains_on_k400_compressed(video_outputs):
    root = video_outputs / "k400"
    data = load(root / "k400_2d.pkl")
    entries = {a["frame_dir"]: a for a in data["annotations"]}
    assert all("keypoint" not in a and "raw_file" in a for a in entries.values())
    per_video = sorted(p.name for p in (root / "video_kpfiles").glob("*.pkl"))  # + Snakemake's
    # .snakemake_timestamp
    assert per_video == sorted(f"{name}.pkl" for name in entries)

    # PoseDataset keeps a video when valid[box_thr] / total_frames >= valid_ratio
    def kept(split: str) -> int:
        return sum(
            entries[n]["valid"][K400_BOX_THR] / entries[n]["total_frames"] >= K400_VALID_RATIO
            for n in data["split"][split]
        )

    summary = train(
        CONFIGS["k400"],
        root / "k400_2d.pkl",
        "--clip-len", "8",
        "--skeleton-prefix", str(root / "video_kpfiles"),
        "--box-thr", str(K400_BOX_THR),
        "--valid-ratio", str(K400_VALID_RATIO),
    )  # fmt: skip
    check_trained(summary, kept("train"), kept("val"), 400)
    # the box-score filter ran on our box_score (today the skeleton's mean keypoint score)
    assert (
        summary["train_skeletons_kept"]
        == sum(int((entries[n]["box_score"] >= K400_BOX_THR).sum()) for n in data["split"]["train"])
        > 0
    )
    assert summary["input_shape"] == [1, 17, 8, 56, 56]
