"""The restricted unpickler's cost: `skeleton.core.safeload.loads` against `pickle.loads` (the
stdlib C unpickler, which runs whatever a pickle names) on the same annotation pickles, in
this process.

    python bench/safeload.py [--samples 10000] [--frames 100]

Prints MB/s and the ratio per encoding: our AnnotationWriter's (no memo), pickle.dump protocol
4 and 5 (memo, what PYSKL / MMAction2 releases use) and protocol 2 (Python 2 era releases).
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from skeleton.core import safeload  # noqa: E402
from skeleton.core.annotations import write_annotations  # noqa: E402


def best_of(fn, repeat: int = 3) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=10000)
    p.add_argument("--frames", type=int, default=100)
    a = p.parse_args()
    rng = np.random.default_rng(0)
    anns = [
        {
            "frame_dir": f"S001C001P{i % 1000:03d}R{i // 1000 + 1:03d}A001",
            "label": i % 60,
            "keypoint": rng.normal(size=(2, a.frames, 25, 3)).astype(np.float16),
            "total_frames": a.frames,
        }
        for i in range(a.samples)
    ]
    names = [x["frame_dir"] for x in anns]
    split = {"xsub_train": names[::2], "xsub_val": names[1::2]}
    data = {"split": split, "annotations": anns}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "a.pkl")
        write_annotations(path, anns, split)
        with open(path, "rb") as f:
            ours = f.read()
    encodings = {
        "AnnotationWriter (protocol 4, no memo)": ours,
        "pickle protocol 5": pickle.dumps(data, protocol=5),
        "pickle protocol 4": pickle.dumps(data, protocol=4),
        "pickle protocol 2": pickle.dumps(data, protocol=2),
    }
    print(f"{a.samples} annotations of (2, {a.frames}, 25, 3) float16")
    print(f"{'encoding':40s} {'MB':>7s} {'pickle MB/s':>12s} {'safeload MB/s':>14s} {'ratio':>6s}")
    for name, blob in encodings.items():
        mb = len(blob) / 1e6
        t_pickle = best_of(lambda blob=blob: pickle.loads(blob))
        t_safe = best_of(lambda blob=blob: safeload.loads(blob))
        print(
            f"{name:40s} {mb:7.1f} {mb / t_pickle:12.0f} {mb / t_safe:14.0f} "
            f"{t_safe / t_pickle:5.1f}x"
        )


if __name__ == "__main__":
    main()
