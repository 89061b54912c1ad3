"""Parse + denoise throughput of the NTU reader against a naive line-by-line reader.

    python bench/parse.py [--files N] [--dir RAW_DIR] [--mode pyskl|energy]

Both sides run as whole processes over the same files (startup and imports included) and do the
same work: read every file, parse it, denoise it. The baseline parses like the public scripts do:
one line at a time, `split()`, a float per token. Throughput is bytes per CPU-second of the child
process (user + sys), i.e. per core, so other load on the machine shifts both sides alike;
wall-clock seconds are printed too. Goals (issue 2): >= 150 MB/s per core, >= 3.5x the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def naive_read(path: str):
    """The baseline: a straightforward line-by-line reader (PYSKL / MMAction2 style)."""
    from skeleton.reader import SkeletonData

    with open(path) as f:
        lines = f.read().split("\n")
    i = 0
    n_frames = int(lines[i])
    i += 1
    bpf, ids, joints = [], [], []
    for _ in range(n_frames):
        nb = int(lines[i])
        i += 1
        bpf.append(nb)
        for _ in range(nb):
            ids.append(int(lines[i].split()[0]))
            i += 2  # body line, joint count
            for _ in range(25):
                joints.append([float(x) for x in lines[i].split()])
                i += 1
    return SkeletonData(
        n_frames,
        np.array(bpf, np.int32),
        np.array(ids, np.int64),
        np.array(joints).reshape(-1, 25, 12),
    )


def worker(kind: str, files: list[str], mode: str) -> None:
    from skeleton.denoise import NoSkeleton, denoise
    from skeleton.reader import read_skeleton

    read = naive_read if kind == "naive" else read_skeleton
    n = 0
    t = time.process_time()
    for f in files:
        try:
            denoise(read(f), mode)
            n += 1
        except NoSkeleton:
            pass
    print(json.dumps({"samples": n, "loop_cpu": time.process_time() - t}))


def run_child(kind: str, listfile: str, mode: str) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    cmd = [sys.executable, __file__, "--worker", kind, "--list", listfile, "--mode", mode]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, **json.loads(out)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument(
        "--files", type=int, default=200, help="synthetic files when --dir is not given"
    )
    ap.add_argument("--dir", help="a folder of .skeleton files (e.g. real NTU data)")
    ap.add_argument("--mode", default="pyskl", choices=("pyskl", "energy"))
    ap.add_argument("--repeat", type=int, default=3, help="runs per side; the best is kept")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--list", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, Path(args.list).read_text().split("\n"), args.mode)
        return

    from skeleton import reader

    with tempfile.TemporaryDirectory() as tmp:
        if args.dir:
            files = sorted(str(p) for p in Path(args.dir).rglob("*.skeleton"))
        else:
            from skeleton.synth import write_synthetic

            print(f"writing {args.files} synthetic files ...", file=sys.stderr)
            files = [str(p) for p in write_synthetic(tmp, args.files, seed=7, ntu120=True)]
        listfile = os.path.join(tmp, "files.txt")
        Path(listfile).write_text("\n".join(files))
        mb = sum(os.path.getsize(f) for f in files) / 1e6
        for f in files:  # warm the page cache: measure parsing, not the disk
            Path(f).read_bytes()
        best = {}
        for kind in ("naive", "fast"):
            runs = [run_child(kind, listfile, args.mode) for _ in range(args.repeat)]
            best[kind] = min(runs, key=lambda r: r["cpu"])
        assert best["naive"]["samples"] == best["fast"]["samples"]
    load = os.getloadavg()[0]
    print(
        f"{len(files)} files, {mb:.1f} MB, denoise={args.mode}, C reader: "
        f"{reader._skelparse is not None}, load average {load:.1f} on {os.cpu_count()} cores"
    )
    print(f"{'reader':<8} {'wall s':>8} {'cpu s':>8} {'MB/s per core':>14} {'(work only)':>12}")
    for kind, r in best.items():
        print(
            f"{kind:<8} {r['wall']:>8.2f} {r['cpu']:>8.2f} {mb / r['cpu']:>14.1f} "
            f"{mb / r['loop_cpu']:>12.1f}"
        )
    ratio_cpu = best["naive"]["cpu"] / best["fast"]["cpu"]
    ratio_wall = best["naive"]["wall"] / best["fast"]["wall"]
    rate = mb / best["fast"]["loop_cpu"]
    print(f"speed-up, whole processes: {ratio_cpu:.1f}x (cpu), {ratio_wall:.1f}x (wall)")
    print(
        f"goals: >= 150 MB/s per core for parse + denoise: {'met' if rate >= 150 else 'NOT met'}; "
        f">= 3.5x: {'met' if ratio_cpu >= 3.5 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
