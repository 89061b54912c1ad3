"""Synthetic detections for MMAction2's NTU box procedure (numpy only; runs in any env).

Per-frame (N, 5) float32 [x1, y1, x2, y2, score] boxes scoring above 0.5, as
`skeleton.pose.postproc_mmaction2.detector_boxes` passes them on; coordinates in pixels of a
1920x1080 video. `hard_cases()` names each case and its actor count; tests/test_pose_postproc.py
uses the builders, tests/test_pose_reference.py runs every case through MMAction2's own
functions and ours.
"""

from __future__ import annotations

import numpy as np


def box(x: float, y: float = 20.0, w: float = 60.0, h: float = 100.0, s: float = 0.9):
    return np.array([x, y, x + w, y + h, s], np.float32)


def frame(*boxes: np.ndarray) -> np.ndarray:
    return np.stack(boxes).astype(np.float32) if boxes else np.zeros((0, 5), np.float32)


def walk(x0: float, frames, **kw) -> dict[int, np.ndarray]:
    """One person moving 1 px a frame to the right (IoU with the last box stays ~0.98)."""
    return {t: box(x0 + t, **kw) for t in frames}


def person(x0: float, frames, y: float = 300.0, w: float = 180.0, h: float = 420.0, s=0.9):
    """An NTU-sized actor drifting 2 px a frame."""
    return {t: box(x0 + 2 * (t - frames[0]), y, w, h, s) for t in frames}


def video(total: int, *people: dict[int, np.ndarray]) -> list[np.ndarray]:
    return [frame(*[p[t] for p in people if t in p]) for t in range(total)]


def random_video(rng: np.random.Generator) -> tuple[list[np.ndarray], int]:
    """1-4 persons entering and leaving, jitter, misses, duplicates, integer or float boxes."""
    total = int(rng.integers(8, 90))
    actors = int(rng.integers(1, 3))
    integer = rng.random() < 0.5
    frames: list[list[np.ndarray]] = [[] for _ in range(total)]
    for _ in range(int(rng.integers(1, 5))):
        start = int(rng.integers(0, total))
        end = int(rng.integers(start + 1, total + 1))
        x, y = rng.uniform(0, 1700), rng.uniform(0, 700)
        w, h = rng.uniform(50, 300), rng.uniform(100, 500)
        miss = rng.uniform(0, 0.4)
        easy = rng.random() < 0.3
        for t in range(start, end):
            x += rng.normal(0, 6)
            y += rng.normal(0, 3)
            if rng.random() < miss:
                continue
            s = rng.uniform(0.955, 1.0) if easy else rng.uniform(0.5001, 1.0)
            b = np.array([x, y, x + w * rng.uniform(0.95, 1.05), y + h, s])
            if integer:
                b[:4] = np.round(b[:4])
            frames[t].append(b.astype(np.float32))
            if rng.random() < 0.1:  # a duplicate: identical, nested, or shifted
                d = b.copy()
                kind = rng.integers(0, 3)
                if kind == 1:
                    d[:4] = [b[0] + 5, b[1] + 5, b[2] - 5, b[3] - 40]
                elif kind == 2:
                    d[:4] += rng.normal(0, 4, 4)
                if rng.random() < 0.5:
                    d[4] = rng.uniform(0.5001, 1.0)
                frames[t].append(d.astype(np.float32))
    out = []
    for boxes in frames:
        order = np.argsort([-b[4] for b in boxes], kind="stable")  # a detector's order
        out.append(frame(*[boxes[i] for i in order]))
    return out, actors


def hard_cases(random_videos: int = 150, seed: int = 11) -> dict[str, tuple[list[np.ndarray], int]]:
    """name -> (per-frame boxes, actors)."""
    a = person(600, range(40))
    b = person(1100, range(40), s=0.85)
    missing = {t: v for t, v in a.items() if t not in {0, 3, 4, 10, *range(20, 26), 39}}
    bystander_far = person(1500, range(40), y=100, w=120, h=300, s=0.7)
    bystander_near = person(300, range(5, 30), y=400, w=150, h=380, s=0.6)
    small = {t: box(900 + t, 50, 40, 60, 0.8) for t in range(40)}
    dup = {
        t: frame(v, v) if t % 7 == 0 else frame(v, box(v[0] + 10, v[1] + 10, 150, 300, 0.6))
        for t, v in a.items()
    }
    leave = {**person(600, range(15)), **person(900, range(28, 50))}
    c = {**person(1200, range(18)), **person(1250, range(30, 50), s=0.8)}
    cases: dict[str, tuple[list[np.ndarray], int]] = {
        "one_actor": (video(40, a), 1),
        "one_actor_easy": (video(40, person(600, range(40), s=0.97)), 1),
        "two_actors": (video(40, a, b), 2),
        "two_actors_easy": (
            video(40, person(600, range(40), s=0.99), person(1100, range(40), s=0.97)),
            2,
        ),
        "missing_frames": (video(40, missing), 1),
        "two_actors_missing_frames": (video(40, missing, b), 2),
        "more_boxes_than_actors": (video(40, a, bystander_far, bystander_near, small), 1),
        "two_actors_and_bystanders": (video(40, a, b, bystander_far, bystander_near), 2),
        "duplicates": ([dup[t] for t in range(40)], 1),
        "duplicates_two_actors": ([np.concatenate([dup[t], b[t][None]]) for t in range(40)], 2),
        "far_off_boxes": (video(40, a, person(0, range(40), y=0, w=400, h=900, s=0.95)), 1),
        "leaves_and_comes_back": (video(50, leave), 1),
        "two_actors_one_leaves_and_comes_back": (video(50, c, person(500, range(50))), 2),
        "empty_first_frames": (video(30, person(600, range(8, 30))), 1),
        "empty_first_frames_two_actors": (video(30, person(600, range(8, 30)), b), 2),
        "empty_first_and_last_frames_three_persons": (
            video(
                30,
                person(600, range(8, 24)),
                person(1100, range(8, 24)),
                person(1500, range(10, 20)),
            ),
            2,
        ),
        "one_actor_two_tracklets_tie": (
            video(16, walk(420, range(7, 16), y=220), walk(470, range(0, 6), y=220)),
            1,
        ),
        "numpy1_inside_ratio": (
            [
                frame(
                    np.array([0, 0, 100, 100, 0.6], np.float32),
                    np.array([20, 0, 120, 100, 0.9], np.float32),
                )
            ]
            * 12,
            1,
        ),
        "nobody": ([frame()] * 20, 1),
        "nobody_two_actors": ([frame()] * 20, 2),
        "small_boxes_only": (video(20, small), 1),
        "short_tracklets_only": (video(20, person(600, range(5)), person(1100, range(10, 15))), 2),
    }
    rng = np.random.default_rng(seed)
    for i in range(random_videos):
        cases[f"random_{i:03d}"] = random_video(rng)
    return cases
