"""What the 2D part adds to a DAG build: `snakemake -n ntu60` with and without NTU videos.

    python bench/dryrun_2d.py --python ~/.cache/skeleton/envs/pose/bin/python [--samples 40]

In a temporary folder: `--samples` synthetic NTU60 skeleton files, each with a video (a 6-frame
copy of ../shared/video/S001C001P001R001A001_rgb.avi, so pose runs fast on CPU); the 2D build
(`ntu60` with ntu.videos and the yolo backend: 3D and 2D pickles), then `snakemake -n ntu60`
timed alternately with the 3D config (no videos) and the 2D config, both with nothing to do, and
once more with the model-tag cache removed (the pose interpreter starts, as on every DAG build
before the cache). Prints the medians, the 2D - 3D difference and the ratio.
"""

from __future__ import annotations

import argparse
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

from skeleton.pose.tag_cache import CACHE_FILE  # noqa: E402
from skeleton.synth import write_synthetic  # noqa: E402

VIDEO = REPO.parent / "shared" / "video" / "S001C001P001R001A001_rgb.avi"


def snakemake(workdir: Path, config: Path, *args: str) -> float:
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
    cmd += ["--directory", str(workdir), "--configfile", str(config), *args, "ntu60"]
    started = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    took = time.perf_counter() - started
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
    from test_datasets import short_clip

    root = Path(tempfile.mkdtemp(prefix="skeleton-dryrun2d."))
    try:
        write_synthetic(root / "sk", a.samples, seed=7)
        clip = short_clip(VIDEO, root / "clip.avi")
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
        build = snakemake(work, cfg2, "--cores", str(a.cores))
        print(f"2D + 3D build of {a.samples} samples: {build:.1f} s", flush=True)
        t3, t2 = [], []
        for _ in range(a.runs):
            t3.append(snakemake(work, cfg3, "-n"))
            t2.append(snakemake(work, cfg2, "-n"))
        (work / CACHE_FILE).unlink()
        cold = snakemake(work, cfg2, "-n")
        m3, m2 = statistics.median(t3), statistics.median(t2)
        print(f"snakemake -n ntu60, 3D config: median {m3:.2f} s  {[round(t, 2) for t in t3]}")
        print(f"snakemake -n ntu60, 2D config: median {m2:.2f} s  {[round(t, 2) for t in t2]}")
        print(f"2D - 3D: {m2 - m3:+.2f} s   2D / 3D: {m2 / m3:.2f}x")
        print(f"2D config without the tag cache (pose interpreter started): {cold:.2f} s "
              f"({cold - m2:+.2f} s over the cached tag)")  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
