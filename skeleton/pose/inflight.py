"""Several videos in flight on one loaded backend: one video's CPU work beside another's model.

A single video leaves the GPU idle while its frames decode, while the detector's and the pose
model's inputs are prepared, and while the actors' boxes are chosen between the two passes of
the MMAction2 procedure. `extract_in_flight` runs `in_flight` videos at once in threads sharing
one backend (one model load, one copy of the weights on the GPU), so the models are fed by
whichever video is ready. Each video still goes through `extract_video` alone, with its own
batches, so its annotation is the same as when it runs by itself; results come back in input
order. Backends whose model calls are not thread-safe serialise them (the yolo backend does).

Threads share one interpreter: Python-heavy steps take turns, so more videos in flight help
until the CPU side saturates; past that, several processes per GPU (several pose jobs on one
GPU) scale further.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from skeleton.pose.base import PoseBackend
from skeleton.pose.boxes import BoxLookup
from skeleton.pose.extract import ExtractOptions, _one, sample_name
from skeleton.rejects import Reject


def extract_in_flight(
    backend: PoseBackend,
    paths: Sequence[str | os.PathLike],
    options: ExtractOptions | None = None,
    in_flight: int = 2,
    boxes: BoxLookup | None = None,
) -> Iterator[tuple[str, dict[str, Any] | Reject]]:
    """(path, annotation or Reject) per video, in input order, `in_flight` videos at a time.

    in_flight <= 1 runs the videos one after another in the calling thread. `boxes`: ground-truth
    person boxes instead of the detector, as in `run_shard`.
    """
    paths = [os.fspath(p) for p in paths]
    options = options if options is not None else ExtractOptions()
    if in_flight <= 1:
        for path in paths:
            yield path, _one(backend, path, options, boxes)
        return
    with ThreadPoolExecutor(in_flight, "pose-video") as pool:
        window: deque[tuple[str, Future]] = deque()
        todo = iter(paths)
        for path in todo:
            window.append((path, pool.submit(_one, backend, path, options, boxes)))
            if len(window) >= in_flight:
                break
        while window:
            path, future = window.popleft()
            for nxt in todo:  # keep in_flight videos running while this one is handed over
                window.append((nxt, pool.submit(_one, backend, nxt, options, boxes)))
                break
            try:
                result = future.result()
            except Exception as exc:  # _one turns failures into rejects; this is a last guard
                result = Reject(sample_name(path), path, "pose_failed", f"{exc}")
            yield path, result
