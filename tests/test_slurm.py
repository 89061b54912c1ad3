"""The workflow through a real single-node Slurm cluster with `--profile profiles/slurm`.

`pytest -m slurm` (as root): the cluster comes from tests/slurm_cluster.py, which installs and
starts Slurm when needed. The tests skip only when they cannot be root or Slurm cannot be
installed; anything else that goes wrong fails them.

Fault injection: a `sitecustomize.py` put on PYTHONPATH makes the Snakemake process that a Slurm
job starts for a chosen rule exit with an error, once or always, before it runs the rule; the
workflow and the library carry no test hook. The job really fails inside Slurm and its output
lands in the job's Slurm log, exactly as a crash of the rule would.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import slurm_cluster
import yaml
from conftest import REPO, SNAKEMAKE, run_skeleton, run_snakemake
from test_profiles import POSE_SNAKEFILE, assert_serialised, pose_records

pytestmark = pytest.mark.slurm

SLURM_PROFILE = REPO / "profiles" / "slurm"
TARGETS = ["ntu60", "ntu120"]
SAMPLES = 24
SHARD_SIZE = 57_240  # two buckets (114,480 / 57,240): two Slurm jobs side by side
RUN_TIMEOUT_S = 600
# The plugin's first status check after a submission (its default is 40 s, meant for big
# clusters); MinJobAge in the test cluster is far above 3x this, so `squeue` is reliable.
STATUS_CHECK_DELAY_S = 1
SUBMITTED = re.compile(
    r"has been submitted with SLURM jobid (\d+) \(log: (\S+/rule_(\w+)/\S*?\.log)\)"
)
FAULT_MESSAGE = "skeleton test fault injection"

SITECUSTOMIZE = f'''\
"""Test-only fault injection (tests/test_slurm.py): fail Slurm jobs of one rule on purpose."""
import os
import sys

_rule = os.environ.get("SKELETON_TEST_FAULT_RULE")
_argv = sys.argv
if _rule and "--target-jobs" in _argv:
    _target = _argv[_argv.index("--target-jobs") + 1]
    if _target.startswith(_rule + ":"):
        _marker = os.path.join(os.environ["SKELETON_TEST_FAULT_DIR"], "failed-once")
        _always = os.environ.get("SKELETON_TEST_FAULT_TIMES") == "always"
        try:
            os.close(os.open(_marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            _fail = True
        except FileExistsError:
            _fail = _always
        if _fail:
            print("{FAULT_MESSAGE}: job " + _target + " fails on purpose", file=sys.stderr)
            sys.stderr.flush()
            os._exit(3)
'''


@pytest.fixture(scope="module")
def cluster():
    try:
        started = slurm_cluster.start()
    except slurm_cluster.SlurmUnavailable as exc:
        pytest.skip(f"no Slurm test cluster: {exc}")
    yield started
    started.stop()


@pytest.fixture(scope="module")
def plugin():
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        pytest.fail("snakemake-executor-plugin-slurm is missing: pip install -e '.[slurm]'")


@pytest.fixture(scope="module")
def ntu_config(tmp_path_factory) -> Path:
    """Synthetic NTU120 raw files (NTU60 is a subset) and a workflow config over them."""
    root = tmp_path_factory.mktemp("ntu")
    raw = root / "raw"
    run_skeleton("synth-ntu", raw, "--samples", SAMPLES, "--seed", "4", "--ntu120", check=True)
    cfg = root / "config.yaml"
    cfg.write_text(yaml.safe_dump({"ntu": {"skeletons": [str(raw)], "shard_size": SHARD_SIZE}}))
    return cfg


def config_files(cfg: Path) -> list[str]:
    """The repo's config, then ours on top: the Snakefile's own `configfile:` is resolved in the
    work directory, where there is none."""
    return [str(REPO / "config" / "config.yaml"), str(cfg)]


def run_on_cluster(args: list[str], workdir: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run Snakemake to the end, its output in a file; on a hang stop it with SIGINT (so it
    cancels its Slurm jobs), where conftest's run_snakemake would kill it."""
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "snakemake.out"
    cmd = [*SNAKEMAKE, "--directory", str(workdir), *args]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            rc = proc.wait(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            pytest.fail(f"snakemake ran past {RUN_TIMEOUT_S} s:\n{log.read_text()[-4000:]}")
    return rc, log.read_text()


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKELETON_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def slurm_env(cluster, fault_dir: Path | None = None, times: str = "once") -> dict[str, str]:
    env = base_env()
    env["SKELETON_CPU_PARTITION"] = cluster.partition
    env["SKELETON_GPU_PARTITION"] = cluster.gpu_partition
    env["SKELETON_GPU_TYPE"] = cluster.gpu_type
    if fault_dir is not None:
        fault_dir.mkdir(parents=True, exist_ok=True)
        (fault_dir / "sitecustomize.py").write_text(SITECUSTOMIZE)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(fault_dir), env.get("PYTHONPATH")]))
        env["SKELETON_TEST_FAULT_RULE"] = "ntu_parse_shard"
        env["SKELETON_TEST_FAULT_DIR"] = str(fault_dir)
        env["SKELETON_TEST_FAULT_TIMES"] = times
    return env


def slurm_args(cfg: Path) -> list[str]:
    return [
        "--configfile",
        *config_files(cfg),
        "--profile",
        str(SLURM_PROFILE),
        "--slurm-status-command",
        "squeue",  # no accounting daemon here: `sacct` never learns of the jobs
        "--slurm-init-seconds-before-status-checks",
        str(STATUS_CHECK_DELAY_S),
        *TARGETS,
    ]


def submissions(log: str) -> list[tuple[int, str, Path]]:
    """(Slurm job id, rule, Slurm log file) for every job Snakemake submitted."""
    return [(int(j), rule, Path(path)) for j, path, rule in SUBMITTED.findall(log)]


def ctld_lines(cluster, since: int) -> str:
    with cluster.ctld_log.open("rb") as f:
        f.seek(since)
        return f.read().decode(errors="replace")


def profile_retries() -> int:
    return int(yaml.safe_load((SLURM_PROFILE / "config.yaml").read_text())["retries"])


def test_slurm_run_is_byte_identical_to_local_and_retries_a_failed_job(
    cluster, plugin, ntu_config, tmp_path
):
    rc, local_log = run_on_cluster(
        ["--configfile", *config_files(ntu_config), "--cores", "2", *TARGETS],
        tmp_path / "local",
        base_env(),
    )
    assert rc == 0, local_log[-4000:]

    ctld_start = cluster.ctld_log.stat().st_size
    fault_dir = tmp_path / "fault"
    rc, log = run_on_cluster(
        slurm_args(ntu_config), tmp_path / "slurm", slurm_env(cluster, fault_dir, "once")
    )
    assert rc == 0, log[-6000:]

    # Every rule ran as a Slurm job, on the CPU partition, and Slurm saw each one.
    jobs = submissions(log)
    rules = {rule for _, rule, _ in jobs}
    assert {"ntu_index", "ntu_parse_shard", "ntu_splits", "ntu_package"} <= rules, log[-4000:]
    ctld = ctld_lines(cluster, ctld_start)
    for job_id, _, _ in jobs:
        started = (  # by the main scheduler or by backfill
            rf"Allocate JobId={job_id} .*Partition={cluster.partition}\b"
            rf"|Started JobId={job_id} in {cluster.partition} on "
        )
        assert re.search(started, ctld), f"Slurm never started job {job_id}"
        assert f"_job_complete: JobId={job_id} " in ctld

    # The injected failure happened once, inside Slurm, and Snakemake resubmitted the job.
    assert (fault_dir / "failed-once").exists()
    assert "Error in rule ntu_parse_shard" in log and "Trying to restart job" in log
    failed = [
        (j, p) for j, rule, p in jobs if rule == "ntu_parse_shard" and p.exists()
    ]  # the plugin keeps the Slurm logs of failed jobs only
    assert len(failed) == 1 and FAULT_MESSAGE in failed[0][1].read_text()
    assert f"_job_complete: JobId={failed[0][0]} WEXITSTATUS 3" in ctld
    shard_jobs = [p.parent.name for _, rule, p in jobs if rule == "ntu_parse_shard"]
    assert len(shard_jobs) == len(set(shard_jobs)) + 1  # one shard submitted twice

    # Same bytes as the workstation run.
    for ds in TARGETS:
        local_pkl = tmp_path / "local" / "results" / ds / f"{ds}_3d.pkl"
        slurm_pkl = tmp_path / "slurm" / "results" / ds / f"{ds}_3d.pkl"
        assert local_pkl.read_bytes() == slurm_pkl.read_bytes(), ds


def test_slurm_job_that_always_fails_stops_the_run_naming_rule_and_log(
    cluster, plugin, ntu_config, tmp_path
):
    fault_dir = tmp_path / "fault"
    rc, log = run_on_cluster(
        slurm_args(ntu_config), tmp_path / "slurm", slurm_env(cluster, fault_dir, "always")
    )
    assert rc != 0, log[-4000:]
    jobs = submissions(log)
    shard_logs = [p for _, rule, p in jobs if rule == "ntu_parse_shard"]
    attempts: dict[str, int] = {}
    for p in shard_logs:
        attempts[p.parent.name] = attempts.get(p.parent.name, 0) + 1
    assert attempts and set(attempts.values()) == {profile_retries() + 1}, attempts
    assert "ntu_package" not in {rule for _, rule, _ in jobs}

    # Snakemake names the rule and the Slurm log, and that log says what went wrong.
    errors = log.split("Error in rule ")[1:]
    assert errors and all(e.startswith("ntu_parse_shard:") for e in errors)
    last = errors[-1]
    logged = re.search(r"log: .*?(\S+/slurm_logs/rule_ntu_parse_shard/\S+\.log)", last)
    assert logged, last
    assert Path(logged.group(1)) in shard_logs
    assert FAULT_MESSAGE in Path(logged.group(1)).read_text()
    assert "SLURM status is: 'FAILED'" in last
    assert not (tmp_path / "slurm" / "results" / "ntu60" / "ntu60_3d.pkl").exists()


def test_pose_shards_get_one_gpu_each_on_the_gpu_partition(cluster, plugin, tmp_path):
    snakefile = tmp_path / "Snakefile"
    snakefile.write_text(POSE_SNAKEFILE)
    workdir = tmp_path / "work"
    args = ["--profile", SLURM_PROFILE, "--slurm-status-command", "squeue"]
    args += ["--slurm-init-seconds-before-status-checks", STATUS_CHECK_DELAY_S]
    res = run_snakemake(
        workdir,
        *args,
        snakefile=snakefile,
        env=slurm_env(cluster),
        check=False,
        timeout=RUN_TIMEOUT_S,
    )
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-4000:]
    assert [rule for _, rule, _ in submissions(log)] == ["pose_shard"] * 2, log[-4000:]
    records = pose_records(workdir)
    # Slurm ran both on the GPU partition, each holding the node's one GPU (the profile asked
    # for it with `--gpus=<type>:1`), and so ran them one after the other although the node
    # has CPUs and memory for both at once.
    want = (cluster.gpu_partition, "0", f"TresPerJob=gres:gpu:{cluster.gpu_type}:1")
    assert [r[2:] for r in records] == [want] * 2, records
    assert_serialised(records)


def test_slurm_profile_defaults_and_overrides_from_the_environment(plugin, tmp_path):
    """A dry run evaluates the profile's resources: documented defaults, then env overrides."""
    (tmp_path / "Snakefile").write_text(POSE_SNAKEFILE)
    args = ["-n", "--profile", SLURM_PROFILE]
    snakefile = tmp_path / "Snakefile"
    res = run_snakemake(
        tmp_path, *args, snakefile=snakefile, env=base_env(), check=False, timeout=120
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "slurm_partition=gpu," in res.stdout and "gpu=1," in res.stdout, res.stdout
    site = {"SKELETON_GPU_PARTITION": "a100-short", "SKELETON_GPU_TYPE": "a100"}
    site["SKELETON_SLURM_ACCOUNT"] = "proj42"
    res = run_snakemake(
        tmp_path, *args, snakefile=snakefile, env={**base_env(), **site}, check=False, timeout=120
    )
    assert res.returncode == 0, res.stdout + res.stderr
    for want in ("slurm_partition=a100-short,", "gpu_model=a100", "slurm_account=proj42,"):
        assert want in res.stdout, res.stdout
