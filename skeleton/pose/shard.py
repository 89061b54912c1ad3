"""A pose shard (rule pose_shard, command `skeleton pose`): every video of the shard through one
loaded backend, every failure of one video a rejects row instead of the shard's end.

`pose_shard` builds the backend (loads the model) once, and only if some video still needs it.
Each finished video is kept as one small file in the shard's work folder (`WorkStore`, written
atomically), so a killed or preempted job resumes where it stopped. `extract_in_flight` keeps
several videos in flight on the one backend.
"""

from __future__ import annotations

import os
import pickle
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from skeleton.core import reasons
from skeleton.core.files import atomic_write
from skeleton.core.rejects import Reject, RejectError
from skeleton.pose.base import PoseBackend
from skeleton.pose.boxes import BoxLookup, GivenBoxes
from skeleton.pose.extract import ExtractOptions, PoseError, extract_video, sample_name

Result = dict[str, Any] | Reject  # a video's annotation, or why it has none


class WorkStore:
    """The finished videos of a shard, one file each in `folder` (`<sample>.pkl`, written
    atomically): a rerun after a kill loads them instead of posing again. A file that does not
    load with the restricted loader, or holds something else, is redone, never trusted."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.pkl"

    def save(self, name: str, result: Result) -> None:
        if isinstance(result, Reject):
            record = {"reject": [result.sample, result.source, result.reason, result.detail]}
        else:
            record = {"annotation": result}
        with atomic_write(self.path(name)) as f:
            pickle.dump(record, f, protocol=4)

    def load(self, name: str) -> Result | None:
        from skeleton.core.safeload import load

        path = self.path(name)
        if not path.exists():
            return None
        try:
            record = load(path)
        except Exception:  # an unreadable leftover is redone, not trusted
            return None
        if isinstance(record, dict) and "annotation" in record:
            return record["annotation"]
        if isinstance(record, dict) and "reject" in record:
            return Reject(*record["reject"])
        return None


def _reject(name: str, path: str, exc: BaseException) -> Reject:
    if isinstance(exc, RejectError):  # VideoError, PoseError, NoActorBoxes
        return exc.rejected(name, path)
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
    return Reject(name, path, reasons.POSE_FAILED, f"{type(exc).__name__}: {exc}{at}")


def _one(
    backend: PoseBackend, path: str, options: ExtractOptions, boxes: BoxLookup | None = None
) -> dict[str, Any] | Reject:
    try:
        if boxes is not None:  # ground-truth boxes replace the detector
            per_frame = boxes(sample_name(path))
            if per_frame is None:
                raise PoseError(
                    reasons.NO_BOXES, f"no boxes for {sample_name(path)} in the box file"
                )
            backend = GivenBoxes(backend, per_frame)
        return extract_video(backend, path, options)
    except Exception as exc:  # one bad video never takes down the run
        return _reject(sample_name(path), path, exc)


def _progress(i: int, n: int, result: dict[str, Any] | Reject) -> str:
    if isinstance(result, Reject):
        return f"[{i + 1}/{n}] rejected {result}"
    k = result["keypoint"]
    return f"[{i + 1}/{n}] {result['frame_dir']}: {result['total_frames']} frames, M={k.shape[0]}"


def pose_shard(
    videos: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    backend_factory: Callable[[], PoseBackend],
    options: ExtractOptions | None = None,
    work_dir: str | os.PathLike | None = None,
    rejects_path: str | os.PathLike | None = None,
    log: Callable[[str], None] | None = None,
    boxes: BoxLookup | None = None,
    in_flight: int = 1,
) -> tuple[int, list[Reject]]:
    """Pose of every video into `out` (a plain list of annotations) and its rejects TSV.

    `boxes`: ground-truth person boxes by frame_dir instead of the detector (FineGYM); a video
    without boxes is rejected (`no_boxes`). `in_flight` videos run at once on the one backend
    (`extract_in_flight`: feeds a GPU while another video decodes; same results).

    Finished videos are kept in `work_dir` (default `<out>.work/`); a rerun after a kill loads
    them and only processes the rest. The backend is built (model loaded) once, and only if some
    video still needs it. Returns (annotations written, rejects).
    """
    from skeleton.core.annotations import write_annotations
    from skeleton.core.rejects import write_rejects

    options = options if options is not None else ExtractOptions()
    out = Path(out)
    store = WorkStore(work_dir if work_dir is not None else out.with_name(out.name + ".work"))
    store.folder.mkdir(parents=True, exist_ok=True)
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    paths = [os.fspath(v) for v in videos]
    results: list[dict[str, Any] | Reject | None] = [None] * len(paths)
    todo: list[int] = []
    seen: set[str] = set()
    for i, path in enumerate(paths):
        name = sample_name(path)
        if name in seen:
            results[i] = Reject(name, path, reasons.DUPLICATE_SAMPLE, "another video has this name")
            continue
        seen.add(name)
        result = store.load(name)
        if result is not None:
            results[i] = result
            log(f"[{i + 1}/{len(paths)}] {name}: kept from an earlier run")
            continue
        todo.append(i)
    if todo:
        started = time.perf_counter()
        backend = backend_factory()
        log(f"loaded pose backend {backend.name} in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        running = extract_in_flight(backend, [paths[i] for i in todo], options, in_flight, boxes)
        for i, (path, result) in zip(todo, running, strict=True):
            store.save(sample_name(path), result)
            results[i] = result
            took = time.perf_counter() - started
            log(_progress(i, len(paths), result) + f" ({took:.1f} s)")
            started = time.perf_counter()

    annotations = [r for r in results if isinstance(r, dict)]
    rejects = [r for r in results if isinstance(r, Reject)]
    write_annotations(out, annotations, split=None)
    if rejects_path is not None:
        write_rejects(rejects, rejects_path)
    return len(annotations), rejects


# Several videos in flight on one loaded backend: one video's CPU work beside another's model.
#
# A single video leaves the GPU idle while its frames decode, while the detector's and the pose
# model's inputs are prepared, and while the actors' boxes are chosen between the two passes of
# the MMAction2 procedure. `extract_in_flight` runs `in_flight` videos at once in threads sharing
# one backend (one model load, one copy of the weights on the GPU), so the models are fed by
# whichever video is ready. Each video still goes through `extract_video` alone, with its own
# batches, so its annotation is the same as when it runs by itself; results come back in input
# order. Backends whose model calls are not thread-safe serialise them (the yolo backend does).
#
# Threads share one interpreter: Python-heavy steps take turns, so more videos in flight help
# until the CPU side saturates; past that, several processes per GPU (several pose jobs on one
# GPU) scale further.
def extract_in_flight(
    backend: PoseBackend,
    paths: Sequence[str | os.PathLike],
    options: ExtractOptions | None = None,
    in_flight: int = 1,
    boxes: BoxLookup | None = None,
) -> Iterator[tuple[str, dict[str, Any] | Reject]]:
    """(path, annotation or Reject) per video, in input order, `in_flight` videos at a time.

    in_flight <= 1 (the library's default; pose.in_flight is the workflow's and the CLI's) runs
    the videos one after another in the calling thread. `boxes`: ground-truth
    person boxes instead of the detector, as in `pose_shard`.
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
                result = Reject(sample_name(path), path, reasons.POSE_FAILED, f"{exc}")
            yield path, result
