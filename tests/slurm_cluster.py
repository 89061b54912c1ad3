"""A real single-node Slurm cluster for the `slurm` tests (no mocks).

Run as root on a Debian machine: installs `slurmctld slurmd slurm-client munge` when Slurm is
absent, writes /etc/slurm/slurm.conf for one node (`hostname -s` at 127.0.0.1; partitions `debug`
for CPU jobs and `gpu`), and starts munged, slurmctld and slurmd unless their pidfiles say they are
running. `stop()` ends only the daemons this process started. Also usable by hand:

    python tests/slurm_cluster.py up     # bring the cluster up and leave it running
    python tests/slurm_cluster.py down   # stop the daemons named in our pidfiles

The node advertises one GPU of type `testgpu` (gres.conf `File=/dev/null`: there is no real GPU,
but Slurm schedules it, sets CUDA_VISIBLE_DEVICES and serialises GPU jobs exactly as on a cluster).

Facts this depends on (found while building issue 4):
* the config must live at /etc/slurm/slurm.conf: the plugin runs `srun` inside the job with every
  SLURM_* variable cleared, so a SLURM_CONF pointing elsewhere is lost;
* there is no accounting daemon here, so Snakemake must query job states with `squeue`, and
  slurmctld must keep finished jobs visible for MinJobAge >= 3x the plugin's
  `slurm-init-seconds-before-status-checks` (the plugin falls back to `sacct` otherwise).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

SLURM_CONF = Path("/etc/slurm/slurm.conf")
MARKER = "# Written by skeleton tests/slurm_cluster.py: a single-node test cluster."
PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")
PARTITION = "debug"  # CPU jobs (the default partition)
GPU_PARTITION = "gpu"
GPU_TYPE = "testgpu"
GRES_CONF = Path("/etc/slurm/gres.conf")
# Finished jobs stay visible to `squeue` this long; must be >= 3x the status-check delay the
# Slurm profile uses (40 s default there, 1 s in the tests).
MIN_JOB_AGE_S = 300
MUNGE_KEY = Path("/etc/munge/munge.key")
MUNGE_PIDFILE = Path("/run/munge/munged.pid")
CTLD_PIDFILE = Path("/run/slurmctld.pid")
SLURMD_PIDFILE = Path("/run/slurmd.pid")
STATE_DIR = Path("/var/lib/slurm/slurmctld")
SPOOL_DIR = Path("/var/lib/slurm/slurmd")
LOG_DIR = Path("/var/log/slurm")
CTLD_LOG = LOG_DIR / "slurmctld.log"
SLURMD_LOG = LOG_DIR / "slurmd.log"
READY_TIMEOUT_S = 90


class SlurmUnavailable(RuntimeError):
    """Slurm cannot be had on this machine (not root, or the packages cannot be installed)."""


@dataclass
class Cluster:
    node: str
    partition: str
    gpu_partition: str
    gpu_type: str
    ctld_log: Path
    started: dict[str, int] = field(default_factory=dict)  # daemon name -> pid we started

    def stop(self) -> None:
        """Stop the daemons this object started, newest first; leave the others running."""
        for name, pid in reversed(list(self.started.items())):
            _terminate(name, pid)
        self.started.clear()


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, text=True, capture_output=True, **kw)


def _pid_alive(pidfile: Path, comm: str) -> int | None:
    """The pid in `pidfile` when that process is alive and is `comm`, else None."""
    try:
        pid = int(pidfile.read_text().split()[0])
        actual = Path(f"/proc/{pid}/comm").read_text().strip()
    except (OSError, ValueError, IndexError):
        return None
    return pid if actual.startswith(comm[:15]) else None


def _terminate(name: str, pid: int, timeout_s: float = 20) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return
        time.sleep(0.2)
    print(f"slurm_cluster: {name} (pid {pid}) ignored SIGTERM; sending SIGKILL", file=sys.stderr)
    os.kill(pid, signal.SIGKILL)


def ensure_installed() -> None:
    """Install the Debian Slurm packages when a daemon is missing; SlurmUnavailable on failure."""
    missing = [b for b in ("slurmctld", "slurmd", "sbatch", "squeue", "munged") if not _which(b)]
    if not missing:
        return
    if os.geteuid() != 0:
        raise SlurmUnavailable(f"Slurm is not installed ({', '.join(missing)}) and we are not root")
    if not _which("apt-get"):
        raise SlurmUnavailable("Slurm is not installed and this machine has no apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", *PACKAGES]):
        res = _run(cmd, env=env)
        if res.returncode != 0:
            tail = (res.stdout + res.stderr).strip().splitlines()[-5:]
            raise SlurmUnavailable(f"`{' '.join(cmd)}` failed: " + " | ".join(tail))


def _which(binary: str) -> str | None:
    return shutil.which(binary, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def _node_hardware() -> tuple[int, int]:
    """(CPUs, RealMemory in MiB) as slurmd itself measures them (`slurmd -C`)."""
    res = _run([_which("slurmd") or "slurmd", "-C"])
    fields = dict(tok.split("=", 1) for tok in res.stdout.split() if "=" in tok)
    try:
        return int(fields["CPUs"]), int(fields["RealMemory"])
    except (KeyError, ValueError):
        mem_kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        return os.cpu_count() or 1, mem_kib // 1024


def config_text(node: str, cpus: int, mem_mb: int) -> str:
    return f"""{MARKER}
ClusterName=skeleton-test
SlurmctldHost={node}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={STATE_DIR}
SlurmdSpoolDir={SPOOL_DIR}
SlurmctldPidFile={CTLD_PIDFILE}
SlurmdPidFile={SLURMD_PIDFILE}
SlurmctldLogFile={CTLD_LOG}
SlurmdLogFile={SLURMD_LOG}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerParameters=bf_interval=1
GresTypes=gpu
MpiDefault=none
ReturnToService=2
MinJobAge={MIN_JOB_AGE_S}
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName={node} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem_mb} Gres=gpu:{GPU_TYPE}:1 \
State=UNKNOWN
PartitionName={PARTITION} Nodes={node} Default=YES MaxTime=INFINITE State=UP
PartitionName={GPU_PARTITION} Nodes={node} MaxTime=INFINITE State=UP
"""


def gres_text(node: str) -> str:
    # A stand-in device file: Slurm only needs one to count the GPU.
    return f"{MARKER}\nNodeName={node} Name=gpu Type={GPU_TYPE} Count=1 File=/dev/null\n"


def _write_config(node: str) -> bool:
    """Write our slurm.conf; True when it changed. Never overwrite a config we did not write."""
    if SLURM_CONF.exists() and MARKER not in SLURM_CONF.read_text():
        raise RuntimeError(
            f"{SLURM_CONF} exists and was not written by the test harness; refusing to replace "
            "a real cluster's config (run the slurm tests on a machine without Slurm)"
        )
    wanted = {SLURM_CONF: config_text(node, *_node_hardware()), GRES_CONF: gres_text(node)}
    changed = False
    for path, text in wanted.items():
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            changed = True
    return changed


def _start_munge(started: dict[str, int]) -> None:
    if _pid_alive(MUNGE_PIDFILE, "munged"):
        return
    if not MUNGE_KEY.exists():
        res = _run(["mungekey", "--create", "--keyfile", str(MUNGE_KEY)])
        if res.returncode != 0:
            raise RuntimeError(f"mungekey failed: {res.stderr.strip()}")
    for d in (MUNGE_PIDFILE.parent, Path("/var/log/munge"), Path("/var/lib/munge")):
        d.mkdir(parents=True, exist_ok=True)
        shutil.chown(d, "munge", "munge")
    shutil.chown(MUNGE_KEY, "munge", "munge")
    MUNGE_KEY.chmod(0o400)
    res = _run(["runuser", "-u", "munge", "--", _which("munged") or "munged"])
    if res.returncode != 0:
        raise RuntimeError(f"munged failed to start: {res.stderr.strip()}")
    started["munged"] = _wait_pid(MUNGE_PIDFILE, "munged")


def _start_daemon(name: str, pidfile: Path, started: dict[str, int]) -> None:
    if _pid_alive(pidfile, name):
        return
    res = _run([_which(name) or name])
    if res.returncode != 0:
        raise RuntimeError(f"{name} failed to start: {(res.stderr or res.stdout).strip()}")
    started[name] = _wait_pid(pidfile, name)


def _wait_pid(pidfile: Path, comm: str, timeout_s: float = 20) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pid = _pid_alive(pidfile, comm)
        if pid:
            return pid
        time.sleep(0.1)
    raise RuntimeError(f"{comm} did not write a live pid to {pidfile} within {timeout_s} s")


def _node_state(node: str) -> str:
    res = _run(["sinfo", "-h", "-N", "-n", node, "-o", "%T"])
    return res.stdout.strip().lower() if res.returncode == 0 else ""


def start() -> Cluster:
    """Bring the cluster up (installing Slurm when needed); returns what was started."""
    if os.geteuid() != 0:
        raise SlurmUnavailable("the slurm tests start daemons and must run as root")
    ensure_installed()
    node = socket.gethostname().split(".")[0]
    changed = _write_config(node)
    for d in (STATE_DIR, SPOOL_DIR, LOG_DIR):
        d.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(
        node=node,
        partition=PARTITION,
        gpu_partition=GPU_PARTITION,
        gpu_type=GPU_TYPE,
        ctld_log=CTLD_LOG,
    )
    try:
        _start_munge(cluster.started)
        if changed:  # daemons left running with an older config of ours must reread it
            for name, pidfile in (("slurmd", SLURMD_PIDFILE), ("slurmctld", CTLD_PIDFILE)):
                pid = _pid_alive(pidfile, name)
                if pid:
                    _terminate(name, pid)
        _start_daemon("slurmctld", CTLD_PIDFILE, cluster.started)
        _start_daemon("slurmd", SLURMD_PIDFILE, cluster.started)
        _wait_ready(node)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _wait_ready(node: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    state = ""
    while time.monotonic() < deadline:
        state = _node_state(node)
        if state.startswith(("idle", "mixed", "allocated")):
            return
        if state.startswith(("down", "drain")):
            _run(["scontrol", "update", f"nodename={node}", "state=resume"])
        time.sleep(0.5)
    raise RuntimeError(
        f"Slurm node {node} not ready after {READY_TIMEOUT_S} s (state {state!r}); "
        f"see {CTLD_LOG} and {SLURMD_LOG}"
    )


def down() -> None:
    """Stop every daemon named in our pidfiles (for manual use after `up`)."""
    for name, pidfile in (
        ("slurmd", SLURMD_PIDFILE),
        ("slurmctld", CTLD_PIDFILE),
        ("munged", MUNGE_PIDFILE),
    ):
        pid = _pid_alive(pidfile, name)
        if pid:
            _terminate(name, pid)


def main(argv: list[str]) -> int:
    if argv[1:] == ["up"]:
        t0 = time.monotonic()
        cluster = start()
        started = ", ".join(cluster.started) or "nothing (already running)"
        print(
            f"Slurm up in {time.monotonic() - t0:.1f} s: node {cluster.node}, "
            f"partitions {cluster.partition} (CPU) and {cluster.gpu_partition} "
            f"(1 {cluster.gpu_type} GPU); started {started}"
        )
        return 0
    if argv[1:] == ["down"]:
        down()
        return 0
    print("usage: python tests/slurm_cluster.py up|down", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
