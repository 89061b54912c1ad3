"""MMAction2's NTU RGB+D box procedure (`pose.postproc: mmaction2`), reproduced exactly.

The reference is MMAction2 1.2.0 `tools/data/skeleton/ntu_pose_extraction.py` (shipped in the
wheel as `mmaction/.mim/tools/data/skeleton/ntu_pose_extraction.py`), the script behind the NTU
RGB+D 2D skeletons of PoseC3D. It detects persons on every frame, keeps the boxes scoring above
0.5, chooses the boxes of the sample's one or two actors from the detections of the whole video,
and only then runs the top-down pose model, on one box per actor in every frame. This module is
the box choice, written anew from the script's behaviour and checked against the script's own
functions on the same detections (tests/test_pose_reference.py). On per-frame (N, 5) float32
[x1, y1, x2, y2, score] boxes:

1. de-duplicate every frame: a box goes when more than 0.8 of its area lies inside another box
   scoring at least as high;
2. easy example: when every frame has exactly n_actors boxes scoring above 0.95, those boxes are
   the result, slot by slot in the detector's order;
3. otherwise link the boxes into tracklets (IoU >= 0.6 with a tracklet's last box) and keep the
   tracklets of more than 5 frames whose mean box area exceeds 5000 px². Then
   - one actor, one tracklet: its boxes, and every frame without one takes a box of it;
   - one actor, several tracklets: the tracklets near the point (480, 270), nearest first, fill
     the frames; a frame left without a box takes the box of the nearest frame that has one;
   - two actors, at most two tracklets: one person per tracklet, filled as for one tracklet;
   - two actors, more tracklets: per frame the two best-scoring boxes; a frame without a box
     takes the previous frame's, a lone box gets a partner from the previous frame.

Quirks of the reference, kept on purpose; each is named where it happens (`Quirk (name)`) and has
a test of that name in tests/test_pose_postproc.py:
- equal-duplicates: two identical boxes with the same score remove each other;
- numpy1-inside: the 0.8 "inside" ratio is a float32 quotient compared in float64 (numpy 1's
  scalar promotion; MMAction2 1.2.0 needs numpy < 2 for its `np.Inf`), so a ratio of exactly
  float32(0.8) counts as inside;
- newest-tracklet: a box joins the most recently started tracklet that accepts it, not the one
  it overlaps best;
- missed-total: a tracklet accepts boxes while it has missed fewer than 10 frames in total since
  it started (t - start - length < 10), however long the current gap;
- last-box: with one tracklet per actor, every frame without a box (or with one scoring 0.5 or
  less) takes the tracklet's LAST box, not the nearest one;
- centre-480-270: tracklets are ranked by their mean distance to (480, 270), the centre of a
  960x540 frame, also on NTU's 1920x1080 videos;
- nearest-tie: a frame without a box takes the nearest frame's box; at equal distance the frame
  filled first wins (nearest tracklet first, then time order), which may be the later frame;
- first-from-last: in the two-best-boxes branch a first frame without a box takes the LAST
  frame's boxes (Python's index -1), later ones the previous frame's;
- lone-partner: a frame with one box takes as second box the previous frame's box that overlaps
  its box less;
- easy-order: in an easy example slot m is the m-th confident box in the detector's (score)
  order of each frame, not a tracked identity.

Departures, where the reference's own output cannot be used as is:
- one actor, one tracklet: the reference returns (T, 5) instead of (T, 1, 5), which its pose
  step then misreads (pyskl#62 reports the IndexError); we give the same boxes as (T, 1, 5);
- where the reference crashes because no tracklet survives (no person at all, or only short or
  small ones: a KeyError or an empty np.concatenate), `NoActorBoxes` is raised and the video is
  rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from skeleton.core import reasons
from skeleton.core.rejects import RejectError

# Thresholds of the reference (names of its functions in brackets).
DET_SCORE_THR = 0.5  # args.det_score_thr [detection_inference keeps scores > thr]
INSIDE_FRACTION = 0.8  # [removedup.inside]
EASY_SCORE = np.float32(0.95)  # [is_easy_example]; an array comparison, so in float32
LINK_IOU = 0.6  # [bbox2tracklet iou_thre]
MAX_MISSED = 10  # [bbox2tracklet cond2]
MIN_FRAMES = 5  # [drop_tracklet]: more than 5 frames
MIN_MEAN_AREA = 5000  # [drop_tracklet]: mean box area above 5000 px²
CENTRE = np.array([480, 270], np.float32)  # [distance_tracklet]
DIST_FLOOR = 50  # [tracklets2bbox]: keep tracklets nearer than max(50, 2 x d)
WEAK_SCORE = 0.5  # [tracklet2bbox]: a frame scoring at most this takes a box
EMPTY_SCORE = 0.01  # [tracklets2bbox, bboxes2bbox]: a slot scoring below this is empty

Tracklet = list[tuple[int, np.ndarray]]  # (frame, (5,) float32 box), frames increasing


class NoActorBoxes(RejectError, ValueError):
    """No tracklet survives: the reference crashes here (reason `no_tracklet`)."""


@dataclass(frozen=True)
class ActorBoxes:
    boxes: np.ndarray  # (T, M, 5) float32 [x1, y1, x2, y2, score]; score 0: no box
    branch: str  # easy, one_tracklet, nearest_tracklets, tracklets or two_best


def detector_boxes(boxes: np.ndarray) -> np.ndarray:
    """The boxes the reference passes on: score > 0.5, in the detector's order."""
    b = np.asarray(boxes, np.float32).reshape(-1, 5)
    return b[b[:, 4] > np.float32(DET_SCORE_THR)]


def _area(b: np.ndarray) -> np.ndarray:
    return (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])


def _overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection areas of boxes a (..., >=4) and b (..., >=4), broadcast, in a's dtype."""
    zero = a.dtype.type(0)
    w = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    h = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    return np.where(w > 0, w, zero) * np.where(h > 0, h, zero)


def remove_duplicates(boxes: np.ndarray) -> np.ndarray:
    """Step 1 [removedup]: drop boxes lying mostly inside a box scoring at least as high."""
    b = np.asarray(boxes, np.float32).reshape(-1, 5)
    if len(b) < 2:
        return b
    inter = _overlap(b[:, None], b[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = inter / _area(b)[:, None]  # float32, as the reference's scalar division
    # Quirk (numpy1-inside): the float32 ratio meets the Python float 0.8 in float64.
    inside = ratio.astype(np.float64) > INSIDE_FRACTION
    # Quirk (equal-duplicates): `<=`, so identical boxes with equal scores drop each other.
    weaker = b[:, None, 4] <= b[None, :, 4]
    drop = inside & weaker
    np.fill_diagonal(drop, False)
    return b[~drop.any(axis=1)]


def easy_boxes(frames: Sequence[np.ndarray], n_actors: int) -> np.ndarray | None:
    """Step 2 [is_easy_example]: (T, n, 5) when every frame has n boxes above 0.95."""
    confident = [b[b[:, 4] > EASY_SCORE] for b in frames]
    if not frames or any(len(c) != n_actors for c in confident):
        return None
    return np.stack(confident)  # Quirk (easy-order): slots in each frame's detector order


def _iou32(last: np.ndarray, box: np.ndarray) -> np.ndarray:
    """IoU of box (5,) with every row of last (K, 5), float32 as the reference computes it."""
    inter = _overlap(last, box)
    union = _area(last) + _area(box) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return inter / union


def link_tracklets(frames: Sequence[np.ndarray]) -> list[Tracklet]:
    """Step 3 [bbox2tracklet]: every box joins a tracklet or starts one, in frame order."""
    tracklets: list[Tracklet] = []
    last: list[np.ndarray] = []  # last box of each tracklet
    start: list[int] = []
    for t, boxes in enumerate(frames):
        for box in boxes:
            joined = -1
            if tracklets:
                iou = _iou32(np.stack(last), box).astype(np.float64)
                length = np.array([len(tr) for tr in tracklets])
                last_t = np.array([tr[-1][0] for tr in tracklets])
                # Quirk (missed-total): frames missed since the start, not the current gap.
                ok = (iou >= LINK_IOU) & (t - np.array(start) - length < MAX_MISSED)
                ok &= last_t != t
                hits = np.flatnonzero(ok)
                # Quirk (newest-tracklet): the latest tracklet that accepts, not the best IoU.
                joined = int(hits[-1]) if hits.size else -1
            if joined >= 0:
                tracklets[joined].append((t, box))
                last[joined] = box
            else:
                tracklets.append([(t, box)])
                last.append(box)
                start.append(t)
    return tracklets


def keep_tracklets(tracklets: Sequence[Tracklet]) -> list[Tracklet]:
    """Step 3 [drop_tracklet]: more than 5 frames and a mean box area above 5000 px²."""
    kept = []
    for tr in tracklets:
        if len(tr) <= MIN_FRAMES:
            continue
        boxes = np.stack([box for _, box in tr]).astype(np.float32)
        if float(np.mean(_area(boxes))) > MIN_MEAN_AREA:
            kept.append(tr)
    return kept


def centre_distance(tracklet: Tracklet) -> np.float32:
    """[distance_tracklet]: mean distance of the box centres from (480, 270), float32."""
    boxes = np.stack([box for _, box in tracklet])
    centre = (boxes[:, 2:4] + boxes[:, 0:2]) / 2.0
    # Quirk (centre-480-270): the centre of a 960x540 frame, whatever the video's size.
    centre -= CENTRE
    return np.mean(np.linalg.norm(centre, axis=1))


def last_box_fill(tracklet: Tracklet, total_frames: int) -> np.ndarray:
    """[tracklet2bbox]: (T, 5) float64, the tracklet's boxes, other frames its last box."""
    out = np.zeros((total_frames, 5))
    for t, box in tracklet:
        out[t] = box
    # Quirk (last-box): the reference looks for the nearest frame but then uses its loop
    # variable, the tracklet's last frame.
    out[out[:, 4] <= WEAK_SCORE] = out[tracklet[-1][0]].copy()
    return out


def nearest_tracklets_fill(tracklets: Sequence[Tracklet], total_frames: int) -> np.ndarray:
    """[tracklets2bbox]: (T, 1, 5) float64 from the tracklets nearest to (480, 270)."""
    dist = [centre_distance(tr) for tr in tracklets]
    order = sorted(range(len(tracklets)), key=lambda i: dist[i])
    limit = np.inf
    for i in order:  # twice the distance of the nearest tracklet covering half the video
        if len(tracklets[i]) >= total_frames / 2:
            limit = 2 * float(dist[i])
            break
    limit = max(DIST_FLOOR, limit)
    out = np.zeros((total_frames, 5))
    filled: dict[int, np.ndarray] = {}  # insertion order matters (nearest-tie)
    for i in order:
        if float(dist[i]) < limit:
            for t, box in tracklets[i]:
                if out[t, 4] < EMPTY_SCORE:
                    out[t] = box
                    filled[t] = box
    for t in range(total_frames):
        if out[t, 4] < EMPTY_SCORE:
            if not filled:
                raise _no_tracklet()
            # Quirk (nearest-tie): min() keeps the first of equals in filling order.
            out[t] = filled[min(filled, key=lambda k: abs(k - t))]
    return out[:, None]


def _iou64(a: np.ndarray, b: np.ndarray) -> np.float64:
    """IoU of two float64 rows, as the reference computes it on its float64 slots."""
    inter = _overlap(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.float64(inter) / (_area(a) + _area(b) - inter)


def two_best_fill(frames: Sequence[np.ndarray], total_frames: int) -> np.ndarray:
    """[bboxes2bbox]: (T, 2, 5) float64, per frame the two best boxes, gaps from neighbours."""
    out = np.zeros((total_frames, 2, 5))
    for t, b in enumerate(frames):
        if len(b) <= 2:
            out[t, : len(b)] = b
        else:
            order = sorted(range(len(b)), key=lambda i: -b[i, 4])
            out[t] = b[order[:2]]
    for t in range(total_frames):
        if out[t, 0, 4] <= EMPTY_SCORE:
            out[t] = out[t - 1]  # Quirk (first-from-last): t = 0 reads out[-1]
        elif out[t, 1, 4] <= EMPTY_SCORE and t > 0:
            prev = out[t - 1]
            if prev[0, 4] > EMPTY_SCORE and prev[1, 4] > EMPTY_SCORE:
                # Quirk (lone-partner): the previous box overlapping this one less.
                closer = _iou64(out[t, 0], prev[0]) > _iou64(out[t, 0], prev[1])
                out[t, 1] = prev[1] if closer else prev[0]
    return out


def _no_tracklet() -> NoActorBoxes:
    return NoActorBoxes(
        reasons.NO_TRACKLET,
        f"no tracklet of more than {MIN_FRAMES} frames with a mean box area above "
        f"{MIN_MEAN_AREA} px² (MMAction2's ntu_pose_extraction fails on this video)",
    )


def actor_boxes(detections: Sequence[np.ndarray], n_actors: int) -> ActorBoxes:
    """The reference's boxes [ntu_det_postproc] for boxes already above DET_SCORE_THR.

    `detections`: per frame (N, 5) float32 boxes in the detector's order (see detector_boxes).
    Raises NoActorBoxes where the reference fails (no tracklet survives).
    """
    if n_actors not in (1, 2):
        raise ValueError(f"n_actors must be 1 or 2, got {n_actors}")
    frames = [remove_duplicates(b) for b in detections]
    total = len(frames)
    easy = easy_boxes(frames, n_actors)
    if easy is not None:
        return ActorBoxes(easy, "easy")
    kept = keep_tracklets(link_tracklets(frames))
    if n_actors == 1 and len(kept) == 1:
        boxes, branch = last_box_fill(kept[0], total)[:, None], "one_tracklet"
    elif n_actors == 1:
        boxes, branch = nearest_tracklets_fill(kept, total), "nearest_tracklets"
    elif not kept:
        raise _no_tracklet()
    elif len(kept) <= 2:
        boxes = np.stack([last_box_fill(tr, total) for tr in kept], axis=1)
        branch = "tracklets"
    else:
        boxes, branch = two_best_fill(frames, total), "two_best"
    # every value is a copy of a float32 detection (or 0): float32 holds it exactly
    return ActorBoxes(boxes.astype(np.float32), branch)
