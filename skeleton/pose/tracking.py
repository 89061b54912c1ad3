"""IoU tracking of person detections and their packing into a fixed number of person slots.

`build_tracks` links per-frame detections into tracks (greedy IoU matching against each live
track's last box). `pack_tracks` puts tracks into at most M slots, best first: a track joins a
slot it does not overlap in time when it continues that slot's person spatially, else it opens a
new slot while fewer than M are open, else it is dropped. A slot is one person over time, so
`keypoint[m]` stays the same person (modulo tracker mistakes) and frames without that person stay
zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from skeleton.pose.base import Persons

FrameDetections = tuple[np.ndarray, np.ndarray, np.ndarray]  # boxes (N,5), kps (N,17,2), (N,17)

IOU_THRESHOLD = 0.3  # a detection continues a track when their boxes overlap at least this much
MAX_AGE = 8  # frames a track may go unmatched before it ends
# A track continues a slot when the centre of its first box lies within this many box heights of
# the slot's box at the nearest earlier (or later) frame, per frame of gap (plus one).
CONTINUITY_HEIGHTS = 0.5


@dataclass
class Track:
    frames: list[int] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)  # (5,) x1 y1 x2 y2 score
    keypoints: list[np.ndarray] = field(default_factory=list)  # (17, 2)
    scores: list[np.ndarray] = field(default_factory=list)  # (17,)

    def add(self, t: int, box: np.ndarray, kp: np.ndarray, sc: np.ndarray) -> None:
        self.frames.append(t)
        self.boxes.append(box)
        self.keypoints.append(kp)
        self.scores.append(sc)

    @property
    def start(self) -> int:
        return self.frames[0]

    @property
    def end(self) -> int:  # exclusive
        return self.frames[-1] + 1

    @property
    def score(self) -> float:
        """Sum of box scores: long, confident tracks rank first."""
        return float(sum(float(b[4]) for b in self.boxes))

    def __len__(self) -> int:
        return len(self.frames)


def _xyxy(boxes: np.ndarray) -> np.ndarray:
    arr = np.asarray(boxes, np.float64)
    return arr.reshape(-1, arr.shape[-1])[:, :4] if arr.size else np.zeros((0, 4))


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in a (N, >=4) with every box in b (K, >=4), xyxy."""
    a, b = _xyxy(a), _xyxy(b)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def build_tracks(
    detections: Sequence[FrameDetections],
    iou_threshold: float = IOU_THRESHOLD,
    max_age: int = MAX_AGE,
) -> list[Track]:
    """Link detections frame to frame; every detection ends up in exactly one track."""
    tracks: list[Track] = []
    live: list[int] = []  # indices into tracks
    for t, (boxes, kps, scs) in enumerate(detections):
        live = [i for i in live if t - tracks[i].frames[-1] <= max_age]
        matched_det: set[int] = set()
        if live and len(boxes):
            last = np.stack([tracks[i].boxes[-1] for i in live])
            ious = iou_matrix(last, boxes)
            used_track: set[int] = set()
            # greedy: best pairs first; ties broken by track then detection order (stable)
            order = np.argsort(-ious, axis=None, kind="stable")
            for flat in order:
                ti, di = divmod(int(flat), ious.shape[1])
                if ious[ti, di] < iou_threshold:
                    break
                if ti in used_track or di in matched_det:
                    continue
                used_track.add(ti)
                matched_det.add(di)
                tracks[live[ti]].add(t, boxes[di], kps[di], scs[di])
        for di in range(len(boxes)):
            if di not in matched_det:
                tracks.append(Track())
                tracks[-1].add(t, boxes[di], kps[di], scs[di])
                live.append(len(tracks) - 1)
    return tracks


def _overlaps(slot: list[Track], track: Track) -> bool:
    return any(track.start < s.end and s.start < track.end for s in slot)


def _jump(slot: list[Track], track: Track) -> float:
    """How far `track` is from continuing the person of `slot`: the largest centre jump to the
    slot's neighbouring boxes (before and after it in time), in box heights per frame of gap
    (plus one); compared with CONTINUITY_HEIGHTS. inf when the slot overlaps the track."""
    if _overlaps(slot, track):
        return float("inf")
    before = [s for s in slot if s.end <= track.start]
    after = [s for s in slot if s.start >= track.end]
    pairs = []
    if before:
        s = max(before, key=lambda s: s.end)
        pairs.append((s.boxes[-1], track.boxes[0], track.start - s.frames[-1]))
    if after:
        s = min(after, key=lambda s: s.start)
        pairs.append((track.boxes[-1], s.boxes[0], s.frames[0] - track.frames[-1]))
    worst = 0.0
    for a, b, gap in pairs:
        ca = np.array([(a[0] + a[2]) / 2, (a[1] + a[3]) / 2])
        cb = np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2])
        height = max(float(a[3] - a[1]), float(b[3] - b[1]), 1.0)
        worst = max(worst, float(np.linalg.norm(ca - cb)) / (height * (1 + gap)))
    return worst


def pack_tracks(tracks: Sequence[Track], max_slots: int) -> list[list[Track]]:
    """At most `max_slots` slots of time-disjoint tracks, best track first; slots by score.

    A track joins the open slot it continues best (smallest jump, at most CONTINUITY_HEIGHTS),
    else opens a new slot while fewer than `max_slots` are open, else it is dropped.
    """
    slots: list[list[Track]] = []
    for track in sorted(tracks, key=lambda tr: (-tr.score, tr.start)):
        jumps = [_jump(s, track) for s in slots]
        best = int(np.argmin(jumps)) if jumps else -1
        if best >= 0 and jumps[best] <= CONTINUITY_HEIGHTS:
            slots[best].append(track)
        elif len(slots) < max_slots:
            slots.append([track])
    slots.sort(key=lambda s: -sum(tr.score for tr in s))
    return slots


def slots_to_persons(
    slots: Sequence[Sequence[Track]], total_frames: int, min_persons: int = 1
) -> Persons:
    """Keypoints, scores and detector boxes per slot; absent frames stay zero."""
    persons = Persons.empty(max(len(slots), min_persons), total_frames)
    for i, slot in enumerate(slots):
        for track in slot:
            idx = np.asarray(track.frames, dtype=np.int64)
            boxes = np.stack(track.boxes)
            persons.keypoint[i, idx] = np.stack(track.keypoints)
            persons.keypoint_score[i, idx] = np.stack(track.scores)
            persons.bbox[i, idx] = boxes[:, :4]
            persons.bbox_score[i, idx] = boxes[:, 4]
    return persons


def slots_to_arrays(
    slots: Sequence[Sequence[Track]], total_frames: int, min_persons: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """keypoint (M, T, 17, 2) and keypoint_score (M, T, 17) float32; absent frames stay zero."""
    persons = slots_to_persons(slots, total_frames, min_persons)
    return persons.keypoint, persons.keypoint_score
