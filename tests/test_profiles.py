"""The Snakemake profiles: what a workstation and a cluster user get (see also test_slurm.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import REPO, run_snakemake

PROFILES = REPO / "profiles"

# Stand-in for the pose stage: two shards of a rule named like the real one, declaring the
# resources the pose rules declare. Each records when it ran, where, and which GPU it held.
POSE_SNAKEFILE = """\
rule all:
    input:
        expand("pose/shard_{k}.txt", k=range(2)),


rule pose_shard:
    output:
        "pose/shard_{k}.txt",
    resources:
        mem_mb=300,
        runtime=5,
        gpu=1,
    shell:
        "s=$(date +%s.%N); sleep 2; "
        "tres=$(scontrol show job ${{SLURM_JOB_ID:-0}} 2>/dev/null "
        "| grep -o 'TresPerJob=[^ ]*' || true); "
        "echo $s $(date +%s.%N) ${{SLURM_JOB_PARTITION:-local}} "
        "${{CUDA_VISIBLE_DEVICES:-none}} ${{tres:-none}} > {output}"
"""


def pose_records(workdir: Path) -> list[tuple[float, float, str, str, str]]:
    """(start, end, partition, CUDA_VISIBLE_DEVICES, Slurm TRES) of each pose shard."""
    records = []
    for f in sorted((workdir / "pose").glob("shard_*.txt")):
        start, end, partition, gpus, tres = f.read_text().split()
        records.append((float(start), float(end), partition, gpus, tres))
    return records


def assert_serialised(records) -> None:
    spans = sorted(r[:2] for r in records)
    assert len(spans) == 2
    assert spans[0][1] <= spans[1][0], f"two pose shards ran at once on one GPU: {records}"


@pytest.mark.slow
def test_local_profile_runs_one_pose_shard_at_a_time(tmp_path):
    (tmp_path / "Snakefile").write_text(POSE_SNAKEFILE)
    res = run_snakemake(
        tmp_path / "work", "--profile", PROFILES / "local", snakefile=tmp_path / "Snakefile",
        check=False, timeout=300,
    )  # fmt: skip
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    records = pose_records(tmp_path / "work")
    assert [r[2:] for r in records] == [("local", "none", "none")] * 2
    assert_serialised(records)


def test_slurm_profile_reads_site_knobs_from_the_environment():
    profile = yaml.safe_load((PROFILES / "slurm" / "config.yaml").read_text())
    assert profile["executor"] == "slurm"
    defaults, per_rule = profile["default-resources"], profile["set-resources"]
    assert "SKELETON_CPU_PARTITION" in defaults["slurm_partition"]
    assert "SKELETON_SLURM_ACCOUNT" in defaults["slurm_account"]
    assert "SKELETON_CPU_PARTITION" in per_rule["ntu_parse_shard"]["slurm_partition"]
    pose = per_rule["pose_shard"]
    assert "SKELETON_GPU_PARTITION" in pose["slurm_partition"]
    assert "SKELETON_GPU_TYPE" in pose["gpu_model"]
    assert pose["gpu"] == 1
    # the plugin rejects GRES requests passed through slurm_extra
    assert not any("slurm_extra" in res for res in [defaults, *per_rule.values()])
