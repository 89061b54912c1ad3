"""Our extraction with decoding ahead (threads) against decoding in the calling thread.

    python tests/pose_env/prefetch.py VIDEO OUT_DIR      # OUT_DIR/{sequential,ahead}.pkl + JSON

Runs in the pose env with the yolo backend (its weights ship offline): `extract_video` of VIDEO
with `--postproc mmaction2` once with prefetch=0 (decode, then infer, one thread) and once with
prefetch=2 (skeleton.pose.video.FramePrefetcher), and the latter again as two videos in flight.
Writes the annotations (or reject reasons) as pickles for the test to compare.
"""

from __future__ import annotations

import json
import pickle
import sys
import time
from pathlib import Path


def main(video: str, out_dir: str) -> dict:
    from skeleton.pose.extract import ExtractOptions, extract_video
    from skeleton.pose.shard import extract_in_flight
    from skeleton.pose.yolo import YoloBackend

    out = Path(out_dir)
    backend = YoloBackend(checkpoint="default", device="cpu")
    seconds = {}
    results = {}
    for name, prefetch in (("sequential", 0), ("ahead", 2)):
        t0 = time.perf_counter()
        results[name] = extract_video(backend, video, ExtractOptions(prefetch=prefetch))
        seconds[name] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    both = list(extract_in_flight(backend, [video, video], ExtractOptions(), in_flight=2))
    seconds["in_flight"] = round(time.perf_counter() - t0, 2)
    results["in_flight"] = [r for _, r in both]
    for name, result in results.items():
        with open(out / f"{name}.pkl", "wb") as f:
            pickle.dump(result, f, protocol=4)
    return {"seconds": seconds}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2])))
