"""Shared fixtures: the real data in ../shared (skipped cleanly when absent) and synthetic data."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SKELETON_SHARED", REPO.parent / "shared"))
REAL_SKELETONS = SHARED / "ntu" / "skeletons"
GOLDEN = SHARED / "ntu" / "golden" / "real_samples.npz"
MALFORMED = SHARED / "ntu" / "malformed" / "S001C001P001R001A002.skeleton"


def need_shared(path: Path = REAL_SKELETONS) -> None:
    if not path.exists():
        pytest.skip(f"real NTU data not available: {path} is absent (../shared)")


@pytest.fixture
def real_dir() -> Path:
    need_shared(REAL_SKELETONS)
    return REAL_SKELETONS


@pytest.fixture(scope="session")
def synth_ntu(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 synthetic NTU60-range + 40 NTU120 files (read-only for tests: copy before changing)."""
    from skeleton.ntu.synth import write_synthetic

    root = tmp_path_factory.mktemp("synth")
    write_synthetic(root / "ntu60", 40, seed=3)
    write_synthetic(root / "ntu120", 40, seed=4, ntu120=True)
    return root


def skeleton_cmd() -> list[str]:
    return [sys.executable, "-m", "skeleton"]


SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]


def run_snakemake(
    workdir: Path, *args: str, check: bool = True, timeout: float = 1800
) -> subprocess.CompletedProcess:
    """Real Snakemake on this repository's workflow, working in `workdir`; a failure (with
    `check`) raises with both outputs."""
    cmd = SNAKEMAKE + ["--directory", str(workdir), *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{p.stdout}\n{p.stderr}")
    return p


def planned_jobs(p: subprocess.CompletedProcess) -> dict[str, int]:
    """rule -> count from the job-stats table Snakemake prints (a dry run's plan)."""
    jobs = {}
    for m in re.finditer(r"^(\w+)\s+(\d+)$", p.stdout + p.stderr, re.M):
        if m.group(1) != "total":
            jobs[m.group(1)] = int(m.group(2))
    return jobs


def executed_jobs(p: subprocess.CompletedProcess) -> dict[str, int]:
    """rule -> jobs a real run executed (after a checkpoint, jobs are planned anew, so a dry
    run cannot list them all)."""
    jobs: dict[str, int] = {}
    for m in re.finditer(r"^(?:local)?(?:rule|checkpoint) (\w+):$", p.stdout + p.stderr, re.M):
        jobs[m.group(1)] = jobs.get(m.group(1), 0) + 1
    return jobs
