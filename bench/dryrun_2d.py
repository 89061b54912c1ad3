"""What the 2D part adds to a DAG build: `snakemake -n ntu60` with and without NTU videos.

    python bench/dryrun_2d.py --python ~/.cache/skeleton/envs/pose/bin/python [--samples 40]

In a temporary folder: `--samples` synthetic NTU60 skeleton files, each with a video (a 6-frame
copy of ../shared/video/S001C001P001R001A001_rgb.avi, so pose runs fast on CPU); the 2D build
(`ntu60` with ntu.videos and the yolo backend: 3D and 2D pickles), then `snakemake -n ntu60`
timed alternately with the 3D config (no videos) and the 2D config, both with nothing to do, and
once more with the model-tag cache removed (the pose interpreter starts, as on every DAG build
before the cache), and the model tag alone for both backends (interpreter start against cache
lookup). Prints the medians of wall time and of CPU time (Snakemake and every process
it started; steadier than wall time on a loaded machine), the 2D - 3D difference and the ratio.
"""

from __future__ import annotations

import argparse
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
sys.path.insert(0, str(REPO / "tests"))

from skeleton.ntu.synth import write_synthetic  # noqa: E402
from skeleton.pose.tag_cache import CACHE_FILE, cached_tag  # noqa: E402

VIDEO = REPO.parent / "shared" / "video" / "S001C001P001R001A001_rgb.avi"


def cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def snakemake(workdir: Path, config: Path, *args: str) -> tuple[float, float]:
    """(wall, CPU seconds of Snakemake and everything it started)."""
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
    cmd += ["--directory", str(workdir), "--configfile", str(config), *args, "ntu60"]
    cpu, started = cpu_seconds(), time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    took = time.perf_counter() - started, cpu_seconds() - cpu
    if p.returncode != 0:
        sys.exit(f"snakemake {' '.join(args)} failed:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    if "-n" in args and "Nothing to be done" not in p.stdout + p.stderr:
        sys.exit(f"dry run with work to do:\n{p.stdout[-3000:]}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--python", required=True, help="the pose interpreter (yolo backend)")
    ap.add_argument("--samples", type=int, default=40, help="NTU60 samples with a video")
    ap.add_argument("--runs", type=int, default=5, help="timed dry runs per config")
    ap.add_argument("--cores", type=int, default=2)
    a = ap.parse_args()
    from conftest import cut_clip

    root = Path(tempfile.mkdtemp(prefix="skeleton-dryrun2d."))
    try:
        write_synthetic(root / "sk", a.samples, seed=7)
        clip = cut_clip(VIDEO, root / "clip.avi")
        (root / "vid").mkdir()
        for f in sorted((root / "sk").rglob("*.skeleton")):
            (root / "vid" / f"{f.stem}_rgb.avi").symlink_to(clip)
        base = {"ntu": {"skeletons": [str(root / "sk")], "datasets": ["ntu60"]}}
        pose = {"backend": "yolo", "device": "cpu", "python": a.python, "shard_size": 20}
        cfg3, cfg2 = root / "3d.yaml", root / "2d.yaml"
        cfg3.write_text(yaml.safe_dump(base))
        two = {"ntu": {**base["ntu"], "videos": [str(root / "vid")]}, "pose": pose}
        cfg2.write_text(yaml.safe_dump(two))
        work = root / "work"
        build, _ = snakemake(work, cfg2, "--cores", str(a.cores))
        print(f"2D + 3D build of {a.samples} samples: {build:.1f} s", flush=True)
        runs: dict[str, list[tuple[float, float]]] = {"3D": [], "2D": []}
        for _ in range(a.runs):
            runs["3D"].append(snakemake(work, cfg3, "-n"))
            runs["2D"].append(snakemake(work, cfg2, "-n"))
        (work / CACHE_FILE).unlink()
        cold = snakemake(work, cfg2, "-n")
        med = {k: [statistics.median(x[i] for x in v) for i in (0, 1)] for k, v in runs.items()}
        for k, v in runs.items():
            print(f"snakemake -n ntu60, {k} config: median wall {med[k][0]:.2f} s, "
                  f"CPU {med[k][1]:.2f} s  (wall {[round(t, 2) for t, _ in v]})")  # fmt: skip
        for i, what in enumerate(("wall", "CPU")):
            d, r = med["2D"][i] - med["3D"][i], med["2D"][i] / med["3D"][i]
            print(f"2D - 3D {what}: {d:+.2f} s   2D / 3D: {r:.2f}x")
        extra = cold[1] - med["2D"][1]
        print(f"2D config without the tag cache (pose interpreter started): wall {cold[0]:.2f} s, "
              f"CPU {cold[1]:.2f} s ({extra:+.2f} s CPU over the cached tag)")  # fmt: skip
        for backend in ("yolo", "mmpose"):  # the tag alone: interpreter start vs cache lookup
            cmd = [a.python, "-m", "skeleton", "pose-tag", "--backend", backend]
            cmd += ["--models", str(REPO / "skeleton" / "pose" / "models.yaml")]
            cache = root / f"{backend}.json"
            started = time.perf_counter()
            cached_tag(cmd, cache)
            start = time.perf_counter() - started
            started = time.perf_counter()
            cached_tag(cmd, cache)
            lookup = time.perf_counter() - started
            print(f"model tag, {backend}: pose interpreter {start:.2f} s, cache {lookup:.3f} s")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
