"""From per-frame detections to person slots: NTU RGB+D `tracks` mode and generic mode.

`pose.postproc: tracks` (our design; the default `mmaction2` is MMAction2's own procedure, in
`skeleton.pose.postproc_mmaction2`) works on the poses of every detection. NTU mode knows how
many actors a sample has (two for the mutual actions A050-A060 and A106-A120, one otherwise;
`skeleton.ntu.names.TWO_PERSON_ACTIONS`) and uses it:

1. drop weak boxes (score below `min_box_score`);
2. de-duplicate nested boxes: when most of a box lies inside a better-scored box of the same
   frame (intersection over the smaller area >= `nested_overlap`), it is a second detection of
   the same person (or a part of them) and is dropped;
3. link boxes into tracklets by IoU (`skeleton.pose.tracking.build_tracks`), drop tracklets
   shorter than `min_track_frames` unless nothing longer exists;
4. pack tracklets into exactly n_actors person slots, best first (time-disjoint tracklets that
   continue the same person share a slot);
5. fill gaps of at most `max_gap` frames inside a slot by linear interpolation of keypoints,
   their scores, the box and its score (leading and trailing frames without the person stay
   zero).

The result always has M = n_actors persons (capped by max_persons), so two-person samples keep
an all-zero second person when only one was found, as the 3D data does.

Generic mode keeps the top-M tracks by score (M = max_persons), packed the same way, without
de-duplication or gap filling; M is the number of slots used (at least 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from skeleton.ntu.names import TWO_PERSON_ACTIONS
from skeleton.pose.base import Persons
from skeleton.pose.tracking import (
    FrameDetections,
    Track,
    build_tracks,
    pack_tracks,
    slots_to_persons,
)


@dataclass(frozen=True)
class PostOptions:
    min_box_score: float = 0.3
    nested_overlap: float = 0.8
    min_track_frames: int = 3
    max_gap: int = 15  # frames (half a second at NTU's 30 fps)
    iou_threshold: float = 0.3
    max_age: int = 8


def n_actors(action: int) -> int:
    """Actors in an NTU sample of (1-based) action class `action`."""
    return 2 if action in TWO_PERSON_ACTIONS else 1


def drop_nested(det: FrameDetections, nested_overlap: float) -> FrameDetections:
    """Remove boxes lying mostly inside a better-scored box of the same frame."""
    boxes, kps, scs = det
    if len(boxes) < 2:
        return det
    order = np.argsort(-boxes[:, 4], kind="stable")
    keep: list[int] = []
    area = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    for i in order:
        nested = False
        for j in keep:
            w = min(boxes[i, 2], boxes[j, 2]) - max(boxes[i, 0], boxes[j, 0])
            h = min(boxes[i, 3], boxes[j, 3]) - max(boxes[i, 1], boxes[j, 1])
            inter = max(w, 0.0) * max(h, 0.0)
            smaller = min(area[i], area[j])
            if smaller <= 0 or inter / smaller >= nested_overlap:
                nested = True
                break
        if not nested:
            keep.append(int(i))
    idx = np.asarray(sorted(keep, key=lambda k: -boxes[k, 4]), dtype=np.int64)
    return boxes[idx], kps[idx], scs[idx]


def filter_scores(det: FrameDetections, min_box_score: float) -> FrameDetections:
    boxes, kps, scs = det
    keep = boxes[:, 4] >= min_box_score
    return boxes[keep], kps[keep], scs[keep]


def fill_gaps(
    keypoint: np.ndarray,
    score: np.ndarray,
    max_gap: int,
    bbox: np.ndarray | None = None,
    bbox_score: np.ndarray | None = None,
) -> None:
    """In place: interpolate each person's interior gaps of <= max_gap empty frames.

    A frame is empty when its keypoint scores sum to 0; `bbox` (M, T, 4) and `bbox_score` (M, T),
    when given, are interpolated over the same frames.
    """
    for m in range(keypoint.shape[0]):
        present = np.flatnonzero(score[m].sum(axis=-1) > 0)
        for a, b in zip(present[:-1], present[1:], strict=True):
            gap = int(b - a - 1)
            if gap == 0 or gap > max_gap:
                continue
            w = (np.arange(1, gap + 1, dtype=np.float32) / (gap + 1))[:, None]  # (gap, 1)
            wk = w[..., None]  # (gap, 1, 1) for (17, 2) keypoints
            keypoint[m, a + 1 : b] = (1 - wk) * keypoint[m, a] + wk * keypoint[m, b]
            score[m, a + 1 : b] = (1 - w) * score[m, a] + w * score[m, b]
            if bbox is not None:
                bbox[m, a + 1 : b] = (1 - w) * bbox[m, a] + w * bbox[m, b]
            if bbox_score is not None:
                ws = w[:, 0]
                bbox_score[m, a + 1 : b] = (1 - ws) * bbox_score[m, a] + ws * bbox_score[m, b]


def ntu_tracks(
    detections: Sequence[FrameDetections],
    action: int,
    max_persons: int = 2,
    options: PostOptions = PostOptions(),
) -> Persons:
    """The `tracks` post-processing of an NTU sample: M = actors (capped by max_persons)."""
    m = max(1, min(n_actors(action), max_persons))
    cleaned = [
        drop_nested(filter_scores(d, options.min_box_score), options.nested_overlap)
        for d in detections
    ]
    tracks = build_tracks(cleaned, options.iou_threshold, options.max_age)
    long = [t for t in tracks if len(t) >= options.min_track_frames]
    slots = pack_tracks(long or tracks, m)
    p = slots_to_persons(slots, len(detections), min_persons=m)
    fill_gaps(p.keypoint, p.keypoint_score, options.max_gap, p.bbox, p.bbox_score)
    return p


def generic_tracks(
    detections: Sequence[FrameDetections],
    max_persons: int = 2,
    options: PostOptions = PostOptions(),
) -> Persons:
    """The top-M tracks by score (M = max_persons), with their boxes."""
    tracks: list[Track] = build_tracks(detections, options.iou_threshold, options.max_age)
    slots = pack_tracks(tracks, max(1, max_persons))
    return slots_to_persons(slots, len(detections), min_persons=1)


def ntu_persons(
    detections: Sequence[FrameDetections],
    action: int,
    max_persons: int = 2,
    options: PostOptions = PostOptions(),
) -> tuple[np.ndarray, np.ndarray]:
    """keypoint (M, T, 17, 2), keypoint_score (M, T, 17) of `ntu_tracks`."""
    p = ntu_tracks(detections, action, max_persons, options)
    return p.keypoint, p.keypoint_score


def generic_persons(
    detections: Sequence[FrameDetections],
    max_persons: int = 2,
    options: PostOptions = PostOptions(),
) -> tuple[np.ndarray, np.ndarray]:
    """keypoint (M, T, 17, 2), keypoint_score (M, T, 17) of `generic_tracks`."""
    p = generic_tracks(detections, max_persons, options)
    return p.keypoint, p.keypoint_score
