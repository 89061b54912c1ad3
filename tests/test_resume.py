"""Kill and resume: SIGKILL Snakemake and its jobs mid-run, resume, get the same bytes.

What a user does after a crash, kill -9 or power loss (checked here):

    snakemake --unlock <same target and options>          # the lock of the dead run stays
    snakemake --rerun-incomplete <same target and options>

Without `--unlock` Snakemake refuses to start (LockException); without `--rerun-incomplete` it
refuses outputs whose jobs it started but never saw finish (IncompleteFilesException), even when
our atomic writes made them whole. Finished shards are kept, the rest is rebuilt.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
import yaml
from conftest import REPO, SNAKEMAKE, run_snakemake

from skeleton.ntu.synth import write_synthetic

pytestmark = pytest.mark.slow

N_SAMPLES, SHARD_SIZE = 48, 19_080  # 6 buckets (114,480 / 19,080): the first finish early
TIMEOUT_S = 300


def workflow_args(cfg: Path) -> list[str]:
    return ["all", "--configfile", str(cfg), "--cores", "2"]


def run(wd: Path, cfg: Path, *extra: str) -> subprocess.CompletedProcess:
    return run_snakemake(wd, *workflow_args(cfg), *extra, check=False, timeout=TIMEOUT_S)


def write_config(path: Path, raw: Path) -> Path:
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["ntu"].update(skeletons=[str(raw)], shard_size=SHARD_SIZE, datasets=["ntu60", "ntu120"])
    config["strict"] = False
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def workflow(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Raw data, its config and an uninterrupted reference run."""
    root = tmp_path_factory.mktemp("resume")
    raw = root / "raw"
    write_synthetic(raw, N_SAMPLES, seed=11, ntu120=True)
    cfg = write_config(root / "config.yaml", raw)
    ref = root / "reference"
    res = run(ref, cfg)
    assert res.returncode == 0, res.stdout + res.stderr
    return cfg, ref


def results_files(wd: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(wd)): p.read_bytes()
        for p in sorted((wd / "results").rglob("*"))
        if p.is_file()
    }


def kill_when(wd: Path, cfg: Path, ready: Callable[[Path], bool]) -> bool:
    """Start the workflow in its own process group; once `ready`, freeze it (SIGSTOP), check
    `ready` still holds, and SIGKILL Snakemake and every job.

    Returns False when the moment passed (the run is then killed anyway) or never came."""
    proc = subprocess.Popen(
        [*SNAKEMAKE, "--directory", str(wd), *workflow_args(cfg)],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if ready(wd):
                jobs = psutil.Process(proc.pid).children(recursive=True)
                os.killpg(proc.pid, signal.SIGSTOP)
                for job in jobs:  # jobs that left the process group, if any
                    with contextlib.suppress(psutil.NoSuchProcess):
                        job.suspend()
                hit = ready(wd)
                os.killpg(proc.pid, signal.SIGKILL)
                for job in jobs:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        job.kill()
                proc.wait()
                return hit
            time.sleep(0.001)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return False


def shards(wd: Path) -> list[Path]:
    return list((wd / "results" / "ntu" / "3d_pyskl").glob("shard_*.pkl"))


def packaged(wd: Path) -> bool:
    return any((wd / "results" / ds / f"{ds}_3d.pkl").exists() for ds in ("ntu60", "ntu120"))


def first_shard(wd: Path) -> bool:
    return bool(shards(wd)) and not packaged(wd)


def writing(wd: Path) -> bool:
    """A job is inside an atomic write: its hidden temporary file exists."""
    return any(p.name.endswith(".tmp") for p in (wd / "results").rglob(".*"))


def resume(wd: Path, cfg: Path) -> None:
    """The documented recovery: unlock, then rerun with --rerun-incomplete."""
    res = run(wd, cfg, "--unlock")
    assert res.returncode == 0, res.stdout + res.stderr
    res = run(wd, cfg, "--rerun-incomplete")
    assert res.returncode == 0, res.stdout + res.stderr


def assert_same_as_reference(wd: Path, ref: Path) -> None:
    got, want = results_files(wd), results_files(ref)
    leftovers = [n for n in got if Path(n).name.startswith(".") or n.endswith(".tmp")]
    assert not leftovers, f"partial outputs left under results/: {leftovers}"
    assert sorted(got) == sorted(want)
    for name, data in want.items():
        assert got[name] == data, f"{name} differs from the uninterrupted run"
    for name, data in got.items():
        if name.endswith(".pkl"):
            pickle.loads(data)  # whole, not truncated (our own files)


@pytest.mark.parametrize(
    "when", [first_shard, writing], ids=["after-first-shard-before-packaging", "mid-write"]
)
def test_kill_and_resume_gives_identical_pickles(workflow, tmp_path, when):
    cfg, ref = workflow
    wd = tmp_path / "wd"
    for _ in range(10):  # the moment can pass before the run is frozen: try again
        if kill_when(wd, cfg, when):
            break
        shutil.rmtree(wd)
    else:
        pytest.fail(f"never caught the run at {when.__name__}")
    if when is writing:  # the killed writer's temporary file is there until its job reruns
        assert writing(wd)
    resume(wd, cfg)
    assert_same_as_reference(wd, ref)
    res = run(wd, cfg, "-n")  # the resumed workflow is complete
    assert res.returncode == 0 and "Nothing to be done" in res.stdout + res.stderr
