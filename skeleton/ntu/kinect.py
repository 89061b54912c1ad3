"""Kinect v2 joints as NTU RGB+D's `.skeleton` files hold them (colour-frame positions)."""

from __future__ import annotations

import os

import numpy as np

# 0-based fields of a joint line: x y z depthX depthY colorX colorY ... (colorX colorY are
# fields 6-7, 1-based; NTU RGB+D's README and read_skeleton_file.m).
COLOUR_X, COLOUR_Y = 5, 6
# the colour frame those positions are in, (height, width): NTU RGB+D's 1920x1080 RGB videos
KINECT_COLOR_SHAPE = (1080, 1920)


def kinect_colour_joints(
    skeleton: str | os.PathLike | object, n_bodies: int | None = None
) -> np.ndarray:
    """(B, T, 25, 2) colour-frame joints of a `.skeleton` (path or parsed
    `skeleton.ntu.reader.SkeletonData`), bodies ranked by frames seen, then first seen.

    B = every body id, or `n_bodies` (the first n; rows past the bodies present stay NaN). NaN
    where a body is absent. T = the frame count in the file's header.
    """
    from skeleton.ntu.reader import SkeletonData, read_skeleton

    data = skeleton if isinstance(skeleton, SkeletonData) else read_skeleton(os.fspath(skeleton))
    frames = data.body_frame
    ids, first, counts = np.unique(data.body_ids, return_index=True, return_counts=True)
    ranked = ids[np.lexsort((first, -counts))]
    if n_bodies is not None:
        ranked = ranked[:n_bodies]
    out = np.full((len(ranked) if n_bodies is None else n_bodies, data.n_frames, 25, 2), np.nan)
    for b, body_id in enumerate(ranked):
        rows = np.flatnonzero(data.body_ids == body_id)
        out[b, frames[rows]] = data.joints[rows][:, :, [COLOUR_X, COLOUR_Y]]
    return out
