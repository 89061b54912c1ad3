"""Run a pose backend over one video: its annotation, or the RejectError that says why not.

`extract_video` decodes a video in batches (in memory) and turns it into person slots. NTU videos
under `postproc="mmaction2"` (the default) follow MMAction2's procedure: detect on every frame,
choose the actors' boxes from the whole video (`skeleton.pose.postproc_mmaction2`), then decode
again and estimate the pose in those boxes on every frame. Otherwise (`tracks`, and videos that
are not NTU samples) the backend detects and estimates each batch at once (the fused
single-stage call when the backend has one) and the detections are tracked into slots
(`skeleton.pose.actors`). Every annotation keeps each person's detector box and score per frame
(`bbox`, `bbox_score`). A pose shard runs it over many videos on one loaded backend
(skeleton.pose.shard).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skeleton.core import reasons
from skeleton.core.defaults import POSE
from skeleton.core.rejects import RejectError
from skeleton.core.videos import file_stem
from skeleton.pose.actors import PostOptions, generic_tracks, n_actors, ntu_tracks
from skeleton.pose.base import Persons, PoseBackend, StreamingBackend, run_backend
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
    """frame_dir of a video: its file's stem (skeleton.core.videos), without NTU's `_rgb`."""
    stem = file_stem(Path(path).name)
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
    """Per frame (N, 5) boxes; through `detect_stream` of a StreamingBackend (it prepares the
    next batch while the detector runs), else `detect` batch by batch."""
    sizes: list[int] = []

    def counted() -> Iterator[list[np.ndarray]]:
        for batch in batches:
            sizes.append(len(batch))
            yield batch

    if isinstance(backend, StreamingBackend):
        results: Iterable[list[np.ndarray]] = backend.detect_stream(counted())
    else:
        results = map(backend.detect, counted())
    for k, boxes in enumerate(results):
        if len(boxes) != sizes[k]:
            raise RuntimeError(
                f"backend {backend.name} returned {len(boxes)} results for {sizes[k]}"
            )
        yield from (np.asarray(b, np.float32).reshape(-1, 5) for b in boxes)


def _estimate_batches(
    backend: PoseBackend, batches: Iterable[tuple[list[np.ndarray], list[np.ndarray]]]
) -> Iterator[list[tuple[np.ndarray, np.ndarray]]]:
    """`estimate` of each (frames, boxes), through a StreamingBackend's `estimate_stream`."""
    if isinstance(backend, StreamingBackend):
        return backend.estimate_stream(batches)
    return (backend.estimate(f, b) for f, b in batches)


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
