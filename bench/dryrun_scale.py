"""The DAG build at NTU120 size with videos: `snakemake -n ntu120_xset` once both indexes exist.

    python bench/dryrun_scale.py --python ~/.cache/skeleton/envs/pose/bin/python \
        [--samples 114480] [--runs 3] [--baseline REV]

In a temporary folder: `--samples` NTU120 sample names (S001-S032, all 120 actions), each an
empty `.skeleton` file and an empty `_rgb.avi` video (a dry run reads neither: the indexes list
names, the members files sizes and times). Both index checkpoints run for real
(`snakemake results/ntu/index.tsv results/ntu/videos.tsv`, yolo backend's model tag from the
pose interpreter), then `snakemake -n ntu120_xset` is timed `--runs` times with videos
configured (3D + 2D plan: parse shards, pose shards, packaging) and without (3D plan alone),
alternating. Prints the jobs planned, medians of wall and CPU time (Snakemake and every process
it started) and the ratio of the two plans. With `--baseline REV`, the workflow of that git
revision (exported with `git archive`) is timed the same way on the same files, in its own
folder, and the ratio of ours to it is printed.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from skeleton.ntu.names import N_PERFORMERS, SampleName  # noqa: E402


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def names(n: int) -> list[str]:
    """`n` distinct NTU120 sample names, spread over setups, cameras and actions."""
    out = []
    for performer in range(1, N_PERFORMERS + 1):
        for replication in (1, 2):
            for setup in range(1, 33):
                for camera in (1, 2, 3):
                    for action in range(1, 121):
                        out.append(SampleName(setup, camera, performer, replication, action).name)
                        if len(out) == n:
                            return sorted(out)
    raise ValueError(f"at most {len(out)} names")


def touch_all(folder: Path, files: list[str]) -> None:
    folder.mkdir(parents=True)
    for name in files:
        (folder / name).touch()


def snakemake(repo: Path, workdir: Path, config: Path, *args: str) -> tuple[float, float, str]:
    """(wall, CPU seconds of Snakemake and everything it started, its output). The workflow
    imports the `skeleton` package of `repo` (a baseline's own, not the installed one)."""
    # the `snakemake` command as users run it (`python -m snakemake` would put the working
    # directory on sys.path, and Snakemake's plugin search then lists its sub-folders' files)
    snakemake_bin = Path(sys.executable).parent / "snakemake"
    cmd = [str(snakemake_bin), "--snakefile", str(repo / "Snakefile")]
    cmd += ["--directory", str(workdir), *args, "--configfile", str(config)]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    workdir.mkdir(parents=True, exist_ok=True)
    cpu, started = cpu_seconds(), time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=workdir)
    took = time.perf_counter() - started, cpu_seconds() - cpu
    if p.returncode != 0:
        sys.exit(f"snakemake {' '.join(args)} failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return (*took, p.stdout + p.stderr)


def planned(out: str) -> dict[str, int]:
    return {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^(\w+)\s+(\d+)$", out, re.M)
        if m.group(1) in ("ntu_parse_shard", "pose_shard", "total")
    }


def measure(repo: Path, work: Path, cfg2: Path, cfg3: Path, runs: int) -> dict[str, list]:
    """Index both sources once, then time the dry runs of both configs, alternating."""
    targets = ["results/ntu/index.tsv", "results/ntu/videos.tsv"]
    wall, _, _ = snakemake(repo, work, cfg2, "--cores", "2", *targets)
    print(f"  {repo.name}: both indexes built in {wall:.1f} s", flush=True)
    out: dict[str, list] = {"2D + 3D": [], "3D": []}
    for _ in range(runs):
        for key, cfg in (("2D + 3D", cfg2), ("3D", cfg3)):
            wall, cpu, text = snakemake(repo, work, cfg, "-n", "ntu120_xset")
            out[key].append((wall, cpu, planned(text)))
    return out


def report(label: str, runs: dict[str, list]) -> dict[str, float]:
    med = {}
    for key, values in runs.items():
        wall = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        med[key] = wall
        print(
            f"{label}, snakemake -n ntu120_xset, {key}: median wall {wall:.2f} s, CPU {cpu:.2f} s, "
            f"planned {values[0][2]} (wall {[round(v[0], 2) for v in values]})"
        )
    print(f"{label}: 2D + 3D / 3D wall: {med['2D + 3D'] / med['3D']:.2f}x")
    return med


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--python", required=True, help="the pose interpreter (yolo backend)")
    ap.add_argument("--samples", type=int, default=114_480, help="samples (NTU120: 114,480)")
    ap.add_argument("--runs", type=int, default=3, help="timed dry runs per config")
    ap.add_argument("--baseline", metavar="REV", help="also time this git revision's workflow")
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="skeleton-dryrun-scale."))
    try:
        started = time.perf_counter()
        samples = names(a.samples)
        touch_all(root / "sk", [f"{n}.skeleton" for n in samples])
        touch_all(root / "vid", [f"{n}_rgb.avi" for n in samples])
        print(f"{a.samples} raw files and videos written in {time.perf_counter() - started:.1f} s")
        ntu = {"skeletons": [str(root / "sk")], "datasets": ["ntu120"]}
        pose = {"backend": "yolo", "device": "cpu", "python": a.python}
        cfg3, cfg2 = root / "3d.yaml", root / "2d.yaml"
        cfg3.write_text(yaml.safe_dump({"ntu": ntu}))
        videos = {"ntu": {**ntu, "videos": [str(root / "vid")]}, "pose": pose}
        cfg2.write_text(yaml.safe_dump(videos))
        ours = report("ours", measure(REPO, root / "work", cfg2, cfg3, a.runs))
        if a.baseline:
            old = root / "baseline"
            old.mkdir()
            archive = subprocess.run(
                ["git", "-C", str(REPO), "archive", a.baseline], capture_output=True, check=True
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
            theirs = report(
                f"baseline {a.baseline}", measure(old, root / "work-baseline", cfg2, cfg3, a.runs)
            )
            for key in ours:
                print(f"{key}: ours / baseline wall: {ours[key] / theirs[key]:.2f}x")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
