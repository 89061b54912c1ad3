"""The workflow with videos: 2D and 3D pickles from real Snakemake, and model changes rerun 2D only.

Uses the yolo backend in the pose interpreter (see test_pose_yolo.py for how it is found) on the
real NTU video and its skeleton file (plus a second skeleton whose video is absent), on CPU:
about a minute and a half. The index of videos and the 2D packaging run in the test env.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_pose_yolo import SHARED, pose_python

from skeleton.core.annotations import load
from skeleton.core.rejects import read_rejects
from skeleton.core.tables import shard_of
from skeleton.datasets import read_dataset
from skeleton.datasets.index import build_index

REPO = Path(__file__).resolve().parent.parent
SKELETONS = SHARED / "ntu" / "skeletons"
VIDEO = SHARED / "video" / "S001C001P001R001A001_rgb.avi"


def snakemake(workdir: Path, config: str, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
    cmd += ["--directory", str(workdir), "--configfile", str(workdir / config), *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    assert p.returncode == 0, f"snakemake {' '.join(args)} failed:\n{p.stdout}\n{p.stderr}"
    return p


def planned_jobs(p: subprocess.CompletedProcess) -> dict[str, int]:
    jobs = {}
    for m in re.finditer(r"^(\w+)\s+(\d+)$", p.stdout + p.stderr, re.M):
        if m.group(1) != "total":
            jobs[m.group(1)] = int(m.group(2))
    return jobs


def test_video_index_shards_and_rejects(tmp_path):
    for name in ("S001C001P001R001A001", "S001C001P001R001A002", "S018C001P001R001A061"):
        (tmp_path / f"{name}_rgb.avi").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "S001C001P001R001A001_rgb.avi").write_bytes(b"y")
    (tmp_path / "clip_rgb.avi").write_bytes(b"z")
    table = read_dataset("ntu", [str(tmp_path)])  # the NTU reader: names are the annotations
    rows = build_index(table, [], shard_size=2)
    ok = [(r.sample, r.shard, r.label) for r in rows if r.status == "ok"]
    names = ["S001C001P001R001A001", "S001C001P001R001A002", "S018C001P001R001A061"]
    # NTU's pose shards are sized for NTU120's 114,480 videos: ceil(114480 / 2) buckets
    assert ok == [
        (n, shard_of(n, 57240), label) for n, label in zip(names, (0, 1, 60), strict=True)
    ]
    assert rows[0].path == str(tmp_path / "S001C001P001R001A001_rgb.avi")  # sorted: first used
    assert rows[0].split_list == ["xsub_train", "xview_val", "xset_val"]
    assert sorted(r.reason for r in table.rejects) == ["bad_name", "duplicate"]


@pytest.mark.pose
def test_workflow_builds_2d_and_3d_and_model_change_reruns_only_2d(tmp_path):
    if not (VIDEO.is_file() and SKELETONS.is_dir()):
        pytest.skip(f"real NTU data not available under {SHARED}")
    python = pose_python()
    (tmp_path / "sk").mkdir()
    (tmp_path / "vid").mkdir()
    for name in ("S001C001P001R001A001", "S001C001P001R001A002"):
        (tmp_path / "sk" / f"{name}.skeleton").symlink_to(SKELETONS / f"{name}.skeleton")
    (tmp_path / "vid" / VIDEO.name).symlink_to(VIDEO)
    config = {
        "ntu": {"skeletons": ["sk"], "videos": ["vid"], "datasets": ["ntu60"]},
        "pose": {"backend": "yolo", "device": "cpu", "python": python, "batch_size": 8},
    }
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(config))
    snakemake(tmp_path, "a.yaml", "--cores", "2", "ntu60")

    data = load(tmp_path / "results/ntu60/ntu60_2d.pkl")
    (a,) = data["annotations"]
    assert a["frame_dir"] == "S001C001P001R001A001" and a["total_frames"] == 103
    assert a["img_shape"] == a["original_shape"] == (1080, 1920)
    assert a["keypoint"].shape == (1, 103, 17, 2) and a["keypoint_score"].shape == (1, 103, 17)
    assert data["split"]["xsub_train"] == ["S001C001P001R001A001"]
    three_d = load(tmp_path / "results/ntu60/ntu60_3d.pkl")
    assert set(three_d["split"]) == set(data["split"])
    assert [
        (r.sample, r.reason) for r in read_rejects(tmp_path / "results/ntu60/rejects_2d.tsv")
    ] == [("S001C001P001R001A002", "no_video")]
    quality = (tmp_path / "results/ntu60/pose_quality.tsv").read_text().splitlines()
    assert float(quality[1].split("\t")[1]) >= 0.8
    (tag,) = [p.name for p in (tmp_path / "results/pose").iterdir()]
    assert tag.startswith("yolo-")

    # nothing changed: nothing to do
    assert planned_jobs(snakemake(tmp_path, "a.yaml", "-n", "ntu60")) == {}
    # another model (random weights): new tag, only the 2D jobs rerun, 3D untouched
    config["pose"]["checkpoint"] = "none"
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(config))
    jobs = planned_jobs(snakemake(tmp_path, "b.yaml", "-n", "ntu60"))
    assert jobs == {
        "pose_shard": 1,
        "rejects_2d": 1,
        "package_2d": 1,
        "ntu_pose_quality": 1,
        "ntu_report_plots_2d": 1,  # the 2D report figures the target draws
        "ntu60": 1,
    }
