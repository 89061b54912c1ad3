"""Drift between two 2D pose results of the same videos (e.g. two model tags): per-joint pixel
distances of matched persons and score differences (`skeleton pose-drift`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skeleton.pose.base import COCO17


@dataclass
class DriftResult:
    samples: int  # samples present in both
    only_a: int
    only_b: int
    frames: int  # person-frames present in both results
    presence_mismatch: int  # person-frames present in one result only
    per_joint: dict[str, tuple[float, float, float]]  # joint -> mean, median, p95 pixel distance
    score_diff: dict[str, float]  # joint -> mean (b - a) keypoint score


def _match_persons(ka: np.ndarray, sa: np.ndarray, kb: np.ndarray, sb: np.ndarray):
    """Pairs (i, j) of persons of a and b, closest first (mean joint distance where both exist)."""
    cost = []
    for i in range(ka.shape[0]):
        for j in range(kb.shape[0]):
            both = (sa[i].sum(-1) > 0) & (sb[j].sum(-1) > 0)
            d = np.linalg.norm(ka[i, both] - kb[j, both], axis=-1).mean() if both.any() else np.inf
            cost.append((d, i, j))
    pairs, used_a, used_b = [], set(), set()
    for d, i, j in sorted(cost):
        if i not in used_a and j not in used_b and np.isfinite(d):
            pairs.append((i, j))
            used_a.add(i)
            used_b.add(j)
    return pairs


def drift(annotations_a: list[dict], annotations_b: list[dict]) -> DriftResult:
    """Per-joint differences between two 2D results of the same videos."""
    a = {x["frame_dir"]: x for x in annotations_a}
    b = {x["frame_dir"]: x for x in annotations_b}
    common = sorted(a.keys() & b.keys())
    dists: list[np.ndarray] = []
    sdiff: list[np.ndarray] = []
    frames = mismatch = 0
    for name in common:
        ka, sa = a[name]["keypoint"].astype(np.float64), a[name]["keypoint_score"]
        kb, sb = b[name]["keypoint"].astype(np.float64), b[name]["keypoint_score"]
        t = min(ka.shape[1], kb.shape[1])
        ka, sa, kb, sb = ka[:, :t], sa[:, :t], kb[:, :t], sb[:, :t]
        pa, pb = sa.sum(-1) > 0, sb.sum(-1) > 0
        pairs = _match_persons(ka, sa, kb, sb)
        for i, j in pairs:
            both = pa[i] & pb[j]
            frames += int(both.sum())
            mismatch += int((pa[i] ^ pb[j]).sum())
            dists.append(np.linalg.norm(ka[i, both] - kb[j, both], axis=-1))
            sdiff.append(sb[j, both].astype(np.float64) - sa[i, both])
        for i in set(range(ka.shape[0])) - {i for i, _ in pairs}:
            mismatch += int(pa[i].sum())
        for j in set(range(kb.shape[0])) - {j for _, j in pairs}:
            mismatch += int(pb[j].sum())
    d = np.concatenate(dists) if dists else np.zeros((0, len(COCO17)))
    s = np.concatenate(sdiff) if sdiff else np.zeros((0, len(COCO17)))
    per_joint, score_diff = {}, {}
    for v, joint in enumerate(COCO17):
        col = d[:, v]
        per_joint[joint] = (
            (float(col.mean()), float(np.median(col)), float(np.percentile(col, 95)))
            if len(col)
            else (float("nan"),) * 3
        )
        score_diff[joint] = float(s[:, v].mean()) if len(s) else float("nan")
    return DriftResult(
        samples=len(common),
        only_a=len(a.keys() - b.keys()),
        only_b=len(b.keys() - a.keys()),
        frames=frames,
        presence_mismatch=mismatch,
        per_joint=per_joint,
        score_diff=score_diff,
    )
