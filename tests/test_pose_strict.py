"""Strict mode and "no usable sample" for NTU 2D, through real Snakemake and the real yolo backend.

Two real NTU skeleton files; the first sample's video is an 8-frame copy of the real NTU video,
the second's an empty file named like an NTU video. Strict: the 2D target fails, and the rejects
report naming the empty video stays under results/ (it is its own step, which succeeded). Not
strict: the pickle holds the good sample. Only the empty video: no usable sample, a clear error,
the report kept and no pickle. Runs in the pose interpreter (see conftest.py); about a
minute and a half on 2 CPU cores.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import NTU_VIDEO, REAL_SKELETONS, cut_clip, need_shared, pose_python, run_snakemake

from skeleton.core.annotations import load
from skeleton.core.rejects import read_rejects
from skeleton.core.validate import validate_file

pytestmark = pytest.mark.pose

GOOD, EMPTY = "S001C001P001R001A001", "S001C001P001R001A002"


def snakemake(workdir: Path, config: dict, *args: str) -> subprocess.CompletedProcess:
    (workdir / "c.yaml").write_text(yaml.safe_dump(config))
    return run_snakemake(workdir, *args, configfile="c.yaml", check=False, timeout=1200)


@pytest.fixture(scope="module")
def ntu_dir(tmp_path_factory) -> Path:
    need_shared(NTU_VIDEO)
    need_shared(REAL_SKELETONS)
    root = tmp_path_factory.mktemp("ntu")
    (root / "sk").mkdir()
    for name in (GOOD, EMPTY):
        (root / "sk" / f"{name}.skeleton").symlink_to(REAL_SKELETONS / f"{name}.skeleton")
    # 960 px wide: the default post-processing (MMAction2's) drops tracklets of mean box area
    # <= 5000 px², which a person of a 480 px copy falls below
    cut_clip(NTU_VIDEO, root / "vid" / f"{GOOD}_rgb.avi", frames=8, width=960)
    (root / "vid" / f"{EMPTY}_rgb.avi").write_bytes(b"")
    (root / "empty").mkdir()
    (root / "empty" / f"{EMPTY}_rgb.avi").write_bytes(b"")
    return root


def config(root: Path, videos: str, strict: bool) -> dict:
    return {
        "ntu": {"skeletons": [str(root / "sk")], "videos": [str(root / videos)]},
        "pose": {"backend": "yolo", "device": "cpu", "python": pose_python(), "batch_size": 8},
        "strict": strict,
    }


def test_strict_ntu_2d_fails_and_keeps_the_rejects_report(ntu_dir, tmp_path):
    strict = config(ntu_dir, "vid", True)
    p = snakemake(tmp_path, strict, "--cores", "2", "--keep-going", "ntu60")
    out = p.stdout + p.stderr
    assert p.returncode != 0, out[-4000:]
    assert "Error in rule package_2d" in out and "strict" in out, out[-4000:]
    report = tmp_path / "results/ntu60/rejects_2d.tsv"
    assert str(report.relative_to(tmp_path)) in out  # the failure points at the report
    rejects = read_rejects(report)
    assert [r.sample for r in rejects] == [EMPTY] and rejects[0].reason, rejects
    assert not (tmp_path / "results/ntu60/ntu60_2d.pkl").exists()
    assert (tmp_path / "results/ntu60/ntu60_3d.pkl").exists()  # 3D had nothing to reject

    # the same run, not strict: the good sample is packaged, the empty video reported
    p = snakemake(tmp_path, config(ntu_dir, "vid", False), "--cores", "2", "ntu60")
    assert p.returncode == 0, (p.stdout + p.stderr)[-4000:]
    data = load(tmp_path / "results/ntu60/ntu60_2d.pkl")
    assert [a["frame_dir"] for a in data["annotations"]] == [GOOD]
    assert [r.sample for r in read_rejects(report)] == [EMPTY]
    assert "pose_shard" not in p.stdout + p.stderr  # the shards were kept: only packaging reran


def test_every_video_rejected_is_an_error_without_a_pickle(ntu_dir, tmp_path):
    p = snakemake(tmp_path, config(ntu_dir, "empty", False), "--cores", "2", "ntu60")
    out = p.stdout + p.stderr
    assert p.returncode != 0, out[-4000:]
    assert "no usable ntu60 sample among the inputs" in out, out[-4000:]
    rejects = {r.sample: r.reason for r in read_rejects(tmp_path / "results/ntu60/rejects_2d.tsv")}
    assert set(rejects) == {GOOD, EMPTY} and rejects[GOOD] == "no_video", rejects
    pkl = tmp_path / "results/ntu60/ntu60_2d.pkl"
    assert not pkl.exists() or not validate_file(pkl).ok
