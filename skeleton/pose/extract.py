"""Run a pose backend over videos: one annotation per video, resumable shards.

`extract_video` decodes a video in batches (in memory) and turns it into person slots. NTU videos
under `postproc="mmaction2"` (the default) follow MMAction2's procedure: detect on every frame,
choose the actors' boxes from the whole video (`skeleton.pose.postproc_mmaction2`), then decode
again and estimate the pose in those boxes on every frame. Otherwise (`tracks`, and videos that
are not NTU samples) the backend detects and estimates each batch at once (the fused
single-stage call when the backend has one) and the detections are tracked into slots
(`skeleton.pose.actors`). Every annotation keeps each person's detector box and score per frame
(`bbox`, `bbox_score`). `run_shard` does that for a list of videos with
one model load, keeps every finished video as one small file in the shard's work folder (written
atomically), so a killed job resumes where it stopped, and turns every failure of a single video
into a rejects row instead of stopping the shard.
"""

from __future__ import annotations

import os
import pickle
import re
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skeleton.core import reasons
from skeleton.core.defaults import POSE
from skeleton.core.files import atomic_write
from skeleton.core.rejects import Reject, RejectError
from skeleton.pose.actors import PostOptions, generic_tracks, n_actors, ntu_tracks
from skeleton.pose.base import Persons, PoseBackend, run_backend
from skeleton.pose.boxes import BoxLookup, GivenBoxes
from skeleton.pose.video import VideoInfo, frame_batches

DATASETS = ("auto", "ntu", "generic")
# pose.postproc, for NTU videos: MMAction2's ntu_pose_extraction boxes, or our IoU tracks
POSTPROCS = ("mmaction2", "tracks")
NTU_VIDEO_RE = re.compile(r"(S\d{3}C\d{3}P\d{3}R\d{3}A\d{3})(?:_rgb)?")
UNLABELLED = -1  # label of a video whose class is unknown (MMAction2's demo uses -1 too)


class PoseError(RejectError):
    """A video that decoded but gives no usable pose result (`reason`, `detail`)."""


@dataclass(frozen=True)
class ExtractOptions:
    dataset: str = "auto"  # ntu: NTU post-processing; generic: top-M tracks; auto: by name
    max_persons: int = POSE.max_persons
    batch_size: int = POSE.batch_size
    label: int = UNLABELLED  # label of videos not named like NTU samples (generic mode)
    postproc: str = POSE.postproc  # NTU mode: one of POSTPROCS
    post: PostOptions = field(default_factory=PostOptions)  # the `tracks` settings
    # Batches decoded ahead in a thread of their own (skeleton.pose.video.FramePrefetcher) while the
    # models run; 0 decodes in the calling thread. Same frames, same results either way.
    prefetch: int = 2


def sample_name(path: str | os.PathLike) -> str:
    """frame_dir of a video: its file name without extension (and without NTU's `_rgb`)."""
    stem = Path(path).name.rsplit(".", 1)[0] if "." in Path(path).name else Path(path).name
    m = NTU_VIDEO_RE.fullmatch(stem)
    return m.group(1) if m else stem


def ntu_action(name: str) -> int | None:
    """1-based action of an NTU sample name, None when `name` is not one."""
    from skeleton.ntu.names import parse_name

    try:
        return parse_name(name).action
    except ValueError:
        return None


def extract_video(
    backend: PoseBackend, path: str | os.PathLike, options: ExtractOptions = ExtractOptions()
) -> dict[str, Any]:
    """The annotation of one video; raises a RejectError (VideoError, PoseError, NoActorBoxes)
    for a video that cannot be used."""
    path = os.fspath(path)
    name = sample_name(path)
    action = ntu_action(name)
    if options.postproc not in POSTPROCS:
        raise ValueError(f"postproc {options.postproc!r}: choose from {', '.join(POSTPROCS)}")
    if options.dataset == "ntu" and action is None:
        raise PoseError(
            reasons.BAD_NAME, f"{name!r} is not an NTU sample name (SsssCcccPpppRrrrAaaa)"
        )
    ntu_mode = options.dataset == "ntu" or (options.dataset == "auto" and action is not None)

    info = VideoInfo(path, 0, 0.0)
    if ntu_mode and options.postproc == "mmaction2":
        persons = mmaction2_persons(backend, path, action, options, info)
    else:
        detections = []
        with closing(frame_batches(path, options.batch_size, info, options.prefetch)) as batches:
            for batch in batches:
                detections += run_backend(backend, batch)
        if len(detections) != info.decoded_frames:  # pragma: no cover - defensive
            raise PoseError(
                reasons.MISALIGNED, f"{len(detections)} results for {info.decoded_frames}"
            )
        if ntu_mode:
            persons = ntu_tracks(detections, action, options.max_persons, options.post)
        else:
            persons = generic_tracks(detections, options.max_persons, options.post)
    if not np.any(persons.keypoint_score > 0):
        raise PoseError(
            reasons.NO_PERSON, f"no person detected in any of the {info.decoded_frames} frames"
        )
    return {
        "frame_dir": name,
        "label": action - 1 if ntu_mode else options.label,
        "img_shape": info.img_shape,
        "original_shape": info.img_shape,
        "total_frames": int(info.decoded_frames),
        **persons.fields(),
    }


def _detect_batches(
    backend: PoseBackend, batches: Iterable[list[np.ndarray]]
) -> Iterator[np.ndarray]:
    """Per frame (N, 5) boxes; through the backend's `detect_stream` when it has one (it
    prepares the next batch while the detector runs), else `detect` batch by batch."""
    sizes: list[int] = []

    def counted() -> Iterator[list[np.ndarray]]:
        for batch in batches:
            sizes.append(len(batch))
            yield batch

    stream = getattr(backend, "detect_stream", None)
    results = stream(counted()) if stream else map(backend.detect, counted())
    for k, boxes in enumerate(results):
        if len(boxes) != sizes[k]:
            raise RuntimeError(
                f"backend {backend.name} returned {len(boxes)} results for {sizes[k]}"
            )
        yield from (np.asarray(b, np.float32).reshape(-1, 5) for b in boxes)


def _estimate_batches(
    backend: PoseBackend, batches: Iterable[tuple[list[np.ndarray], list[np.ndarray]]]
) -> Iterator[list[tuple[np.ndarray, np.ndarray]]]:
    """`estimate` of each (frames, boxes), through `estimate_stream` when the backend has it."""
    stream = getattr(backend, "estimate_stream", None)
    return stream(batches) if stream else (backend.estimate(f, b) for f, b in batches)


def mmaction2_persons(
    backend: PoseBackend, path: str, action: int, options: ExtractOptions, info: VideoInfo
) -> Persons:
    """MMAction2's NTU procedure: boxes of the whole video first, then pose in them.

    Pass 1 decodes the video and detects persons on every frame; the actors' boxes are chosen
    as MMAction2's ntu_pose_extraction chooses them; pass 2 decodes the video again (frames are
    never kept or written out) and runs the pose model on those boxes in every frame. M = the
    actors of the action class (capped by max_persons); a person whose box slot is empty in a
    frame (score 0, the reference's zero box) stays zero there, no pose is run on it.
    """
    from skeleton.pose.postproc_mmaction2 import detector_boxes

    with closing(frame_batches(path, options.batch_size, info, options.prefetch)) as batches:
        detections = [detector_boxes(b) for b in _detect_batches(backend, batches)]
    total = info.decoded_frames
    again = VideoInfo(path, 0, 0.0)
    # The second decoding starts now (with prefetch), while the boxes are being chosen.
    with closing(frame_batches(path, options.batch_size, again, options.prefetch)) as batches:
        persons = _choose_boxes(detections, action, options, total)
        _pose_in_boxes(backend, batches, persons)
    if again.decoded_frames != total:
        raise PoseError(
            reasons.MISALIGNED, f"the second decoding gave {again.decoded_frames} of {total} frames"
        )
    return persons


def _choose_boxes(
    detections: list[np.ndarray], action: int, options: ExtractOptions, total: int
) -> Persons:
    """The actors' boxes of the whole video as person slots (keypoints still zero)."""
    from skeleton.pose.postproc_mmaction2 import actor_boxes

    if not any(len(b) for b in detections):
        raise PoseError(reasons.NO_PERSON, f"no person detected in any of the {total} frames")
    chosen = actor_boxes(detections, n_actors(action)).boxes  # (T, M', 5); or NoActorBoxes
    m = max(1, min(n_actors(action), options.max_persons))
    chosen = chosen[:, :m]
    persons = Persons.empty(m, total)
    # Departure: the reference gives a two-actor video with a single tracklet M = 1; here the
    # class decides M and the missing actor stays an all-zero person (as in the 3D data).
    persons.bbox[: chosen.shape[1]] = chosen[..., :4].transpose(1, 0, 2)
    persons.bbox_score[: chosen.shape[1]] = chosen[..., 4].T
    return persons


def _pose_in_boxes(
    backend: PoseBackend, batches: Iterable[list[np.ndarray]], persons: Persons
) -> None:
    """Keypoints of every person slot with a box, frame by frame, into `persons`."""
    spans: list[tuple[range, list[np.ndarray]]] = []

    def requests() -> Iterator[tuple[list[np.ndarray], list[np.ndarray]]]:
        start = 0
        for batch in batches:
            frames = range(start, start + len(batch))
            slots = [np.flatnonzero(persons.bbox_score[:, t] > 0) for t in frames]
            boxes = [
                np.concatenate([persons.bbox[s, t], persons.bbox_score[s, t, None]], axis=1)
                for s, t in zip(slots, frames, strict=True)
            ]
            spans.append((frames, slots))
            start += len(batch)
            yield batch, boxes

    for k, poses in enumerate(_estimate_batches(backend, requests())):
        frames, slots = spans[k]
        if len(poses) != len(frames):
            raise RuntimeError(f"backend {backend.name}: {len(poses)} poses for {len(frames)}")
        for t, s, (kp, sc) in zip(frames, slots, poses, strict=True):
            persons.keypoint[s, t] = np.asarray(kp, np.float32).reshape(len(s), -1, 2)
            persons.keypoint_score[s, t] = np.asarray(sc, np.float32).reshape(len(s), -1)


def _reject(name: str, path: str, exc: BaseException) -> Reject:
    if isinstance(exc, RejectError):  # VideoError, PoseError, NoActorBoxes
        return exc.rejected(name, path)
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
    return Reject(name, path, reasons.POSE_FAILED, f"{type(exc).__name__}: {exc}{at}")


def extract_videos(
    backend: PoseBackend,
    paths: Sequence[str | os.PathLike],
    options: ExtractOptions = ExtractOptions(),
    log: Callable[[str], None] | None = None,
) -> tuple[list[dict[str, Any]], list[Reject]]:
    """Annotations of the usable videos and rejects for the others; never raises per video."""
    annotations, rejects = [], []
    for i, path in enumerate(paths):
        result = _one(backend, os.fspath(path), options)
        (annotations if isinstance(result, dict) else rejects).append(result)
        if log:
            log(_progress(i, len(paths), result))
    return annotations, rejects


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


# ---- shards ---------------------------------------------------------------------------------


def _done_path(work_dir: Path, name: str) -> Path:
    return work_dir / f"{name}.pkl"


def _save_done(path: Path, result: dict[str, Any] | Reject) -> None:
    if isinstance(result, Reject):
        record = {"reject": [result.sample, result.source, result.reason, result.detail]}
    else:
        record = {"annotation": result}
    with atomic_write(path) as f:
        pickle.dump(record, f, protocol=4)


def _load_done(path: Path) -> dict[str, Any] | Reject | None:
    from skeleton.core.safeload import load

    try:
        record = load(path)
    except Exception:  # an unreadable leftover is redone, not trusted
        return None
    if isinstance(record, dict) and "annotation" in record:
        return record["annotation"]
    if isinstance(record, dict) and "reject" in record:
        return Reject(*record["reject"])
    return None


def run_shard(
    videos: Sequence[str | os.PathLike],
    out: str | os.PathLike,
    backend_factory: Callable[[], PoseBackend],
    options: ExtractOptions = ExtractOptions(),
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

    out = Path(out)
    work = Path(work_dir) if work_dir is not None else out.with_name(out.name + ".work")
    work.mkdir(parents=True, exist_ok=True)
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
        done = _done_path(work, name)
        result = _load_done(done) if done.exists() else None
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
            _save_done(_done_path(work, sample_name(path)), result)
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
                result = Reject(sample_name(path), path, reasons.POSE_FAILED, f"{exc}")
            yield path, result
