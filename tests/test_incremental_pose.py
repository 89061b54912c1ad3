"""GPU work once per video: one video added, removed, renamed or replaced reruns at most one pose
job, leaves every other pose shard untouched and gives the pickle a build from scratch gives.

Real Snakemake, the yolo backend in the pose env on CPU (see conftest.py for how it is
found), on short cuts of the real demo clip: the issue's own case, a custom list of 7 clips at
`pose.shard_size: 2`, and NTU videos of existing skeleton samples. A few minutes of CPU.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import yaml
from conftest import DEMO_VIDEO, cut_clip, executed_jobs, need_shared, planned_jobs, run_snakemake

from skeleton.core.annotations import load

cv2 = pytest.importorskip("cv2")

pytestmark = [pytest.mark.pose, pytest.mark.slow]

CLIPS = ["clip_b", "clip_c", "clip_d", "clip_e", "clip_f", "clip_g", "clip_h"]
TRIGGERS = [[], ["mtime"], ["input"], ["params"], ["code"], ["software-env"]]


def cut(dst: Path, start: int) -> Path:
    """4 frames of the demo clip from `start`, 320 px wide: a short real video."""
    need_shared(DEMO_VIDEO)
    return cut_clip(DEMO_VIDEO, dst, frames=4, width=320, start=start)


def write_list(wd: Path, clips: list[str]) -> None:
    rows = "".join(f"clips/{c}.avi\t{'wave' if i % 2 else 'clap'}\n" for i, c in enumerate(clips))
    (wd / "list.tsv").write_text("video\tlabel\n" + rows)


def custom_workdir(wd: Path, pose_py: str, clips: list[str]) -> Path:
    wd.mkdir(parents=True)
    for i, c in enumerate(clips):
        cut(wd / "clips" / f"{c}.avi", 3 * i)
    write_list(wd, clips)
    config = {
        "ntu": {"skeletons": []},
        "pose": {"backend": "yolo", "device": "cpu", "python": pose_py, "shard_size": 2},
        "custom": {"list": "list.tsv", "videos": ["clips"]},
    }
    (wd / "config.yaml").write_text(yaml.safe_dump(config))
    return wd


def snakemake(wd: Path, *args: str):
    return run_snakemake(wd, *args, configfile="config.yaml")


def pose_files(wd: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(wd.glob("results/pose/*/*/shard_*.pkl"))
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory, pose_py) -> Path:
    wd = custom_workdir(tmp_path_factory.mktemp("custom") / "base", pose_py, CLIPS)
    snakemake(wd, "--cores", "2", "custom")
    return wd


@pytest.fixture
def copy(built, tmp_path) -> Path:
    wd = tmp_path / "wd"
    shutil.copytree(built, wd, symlinks=True)
    assert planned_jobs(snakemake(wd, "-n", "custom")) == {}
    time.sleep(0.01)
    return wd


def check_rerun(wd: Path, pose_jobs: int) -> dict:
    """Run: `pose_jobs` pose shards rerun and only their files change; nothing left to do."""
    before = pose_files(wd)
    jobs = executed_jobs(snakemake(wd, "--cores", "2", "custom"))
    assert jobs.get("pose_shard", 0) == pose_jobs, jobs
    after = pose_files(wd)
    changed = {k for k in before if after.get(k) != before[k]} | (after.keys() - before.keys())
    assert len(changed) == pose_jobs, changed
    assert planned_jobs(snakemake(wd, "-n", "custom")) == {}
    return load(wd / "results/custom/custom_2d.pkl")


def test_adding_a_clip_that_sorts_first_poses_it_alone(copy, tmp_path):
    cut(copy / "clips" / "clip_a.avi", 30)
    write_list(copy, ["clip_a", *CLIPS])
    data = check_rerun(copy, pose_jobs=1)
    assert [a["frame_dir"] for a in data["annotations"]] == ["clip_a", *CLIPS]
    fresh = tmp_path / "fresh"  # the same clips, list and config, built from scratch
    shutil.copytree(copy / "clips", fresh / "clips")
    for name in ("list.tsv", "config.yaml"):
        shutil.copy(copy / name, fresh / name)
    snakemake(fresh, "--cores", "2", "custom")
    assert (fresh / "results/custom/custom_2d.pkl").read_bytes() == (
        copy / "results/custom/custom_2d.pkl"
    ).read_bytes()


def test_removing_a_clip_poses_nothing(copy):
    (copy / "clips" / "clip_c.avi").unlink()
    write_list(copy, [c for c in CLIPS if c != "clip_c"])
    data = check_rerun(copy, pose_jobs=0)
    assert "clip_c" not in [a["frame_dir"] for a in data["annotations"]]


def test_renaming_a_clip_poses_it_once(copy):
    (copy / "clips" / "clip_d.avi").rename(copy / "clips" / "clip_z.avi")
    write_list(copy, [c if c != "clip_d" else "clip_z" for c in CLIPS])
    data = check_rerun(copy, pose_jobs=1)
    names = [a["frame_dir"] for a in data["annotations"]]
    assert "clip_z" in names and "clip_d" not in names


@pytest.mark.parametrize("triggers", TRIGGERS, ids=lambda t: "-".join(t) or "default")
def test_a_replaced_clip_reruns_under_every_trigger_setting(copy, triggers):
    cut(copy / "clips" / "clip_e.avi", 40)  # other frames over the same file
    option = ["--rerun-triggers", *triggers] if triggers else []
    jobs = planned_jobs(snakemake(copy, "-n", "custom", *option))
    assert jobs.get("pose_shard") == 1 and jobs.get("package_2d") == 1, jobs
    assert "video_index" not in jobs


def test_a_missing_ntu_video_appearing_poses_it_alone(tmp_path, pose_py, synth_ntu):
    wd = tmp_path / "ntu"
    (wd / "sk").mkdir(parents=True)
    names = sorted(p.stem for p in (synth_ntu / "ntu60").glob("*.skeleton"))[:3]
    for name in names:
        shutil.copy(synth_ntu / "ntu60" / f"{name}.skeleton", wd / "sk")
    for i, name in enumerate(names[1:]):  # the first sample's video comes later
        cut(wd / "vid" / f"{name}_rgb.avi", 5 * i)
    config = {
        "ntu": {"skeletons": ["sk"], "videos": ["vid"], "datasets": ["ntu60"]},
        "pose": {"backend": "yolo", "device": "cpu", "python": pose_py, "postproc": "tracks"},
    }
    (wd / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake(wd, "--cores", "2", "ntu60")
    before = pose_files(wd)
    cut(wd / "vid" / f"{names[0]}_rgb.avi", 20)
    jobs = executed_jobs(snakemake(wd, "--cores", "2", "ntu60"))
    assert jobs.get("pose_shard") == 1 and "ntu_parse_shard" not in jobs, jobs
    after = pose_files(wd)
    assert {k for k in before if after.get(k) != before[k]} == set()
    assert len(after) == len(before) + 1
