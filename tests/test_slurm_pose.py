"""A 2D pose job through the real Slurm test cluster: it runs on the GPU partition.

`pytest -m slurm` as root, with the pose interpreter (see conftest.py): a one-video UCF101
dataset (a 6-frame copy of the real NTU video) built with `--profile profiles/slurm`, the yolo
backend on CPU. Every pose shard of every video source is rule `pose_shard`, which the profile
sends to the GPU partition with one GPU; the cluster's controller log shows where the job ran.
One to three minutes (four Slurm jobs in a row, each parsing the workflow).
"""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import NTU_VIDEO, cut_clip, need_shared, pose_python
from test_datasets import UCF_CLASSES, write_ucf101
from test_slurm import (  # noqa: F401  (cluster, plugin: fixtures)
    SLURM_PROFILE,
    STATUS_CHECK_DELAY_S,
    cluster,
    config_files,
    ctld_lines,
    plugin,
    run_on_cluster,
    slurm_env,
    submissions,
)

from skeleton.core.annotations import load

pytestmark = [pytest.mark.slurm, pytest.mark.pose]


def test_ucf101_pose_job_runs_on_the_gpu_partition(cluster, plugin, tmp_path):  # noqa: F811
    need_shared(NTU_VIDEO)
    python = pose_python()
    ann = write_ucf101(tmp_path)
    clip = cut_clip(NTU_VIDEO, tmp_path / "UCF-101" / "Archery" / "v_Archery_g08_c02.avi")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "ntu": {"skeletons": []},
                "pose": {"backend": "yolo", "device": "cpu", "python": python, "batch_size": 8},
                "ucf101": {"videos": str(clip.parent.parent), "annotations": str(ann)},
            }
        )
    )
    ctld_start = cluster.ctld_log.stat().st_size
    args = ["--configfile", *config_files(cfg), "--profile", str(SLURM_PROFILE)]
    args += ["--slurm-status-command", "squeue"]
    args += ["--slurm-init-seconds-before-status-checks", str(STATUS_CHECK_DELAY_S), "ucf101"]
    rc, log = run_on_cluster(args, tmp_path / "work", slurm_env(cluster))
    assert rc == 0, log[-6000:]

    jobs = submissions(log)
    pose = [job for job, rule, _ in jobs if rule == "pose_shard"]
    assert len(pose) == 1, log[-4000:]
    ctld = ctld_lines(cluster, ctld_start)
    on_gpu = (
        rf"Allocate JobId={pose[0]} .*Partition={cluster.gpu_partition}\b"
        rf"|Started JobId={pose[0]} in {cluster.gpu_partition} on "
    )
    assert re.search(on_gpu, ctld), ctld[-4000:]
    for job, rule, _ in jobs:  # the others (index, rejects, packaging) on the CPU partition
        if rule != "pose_shard":
            assert re.search(
                rf"Allocate JobId={job} .*Partition={cluster.partition}\b"
                rf"|Started JobId={job} in {cluster.partition} on ",
                ctld,
            ), (rule, ctld[-4000:])
    data = load(tmp_path / "work" / "results/ucf101/ucf101_2d.pkl")
    (a,) = data["annotations"]
    assert a["frame_dir"] == "v_Archery_g08_c02" and a["label"] == UCF_CLASSES.index("Archery")
