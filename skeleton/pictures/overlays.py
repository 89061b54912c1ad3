"""Pose overlays: COCO-17 skeletons (2D pickles) or projected NTU-25 skeletons (3D pickles) drawn
with one colour per person and the label name on the real video frames, decoded in memory with
`skeleton.pose.video`; without a video, on a black canvas of the annotation's `img_shape`.

NTU 3D joints are in the Kinect v2 camera space (metres). The overlay projects them with a pinhole
fitted here by least squares to the colour-space joints (`colorX colorY`) of the 21 real NTU
`.skeleton` files in ../shared: u = fx x/z + bx/z + cx, v = fy y/z + by/z + cy (the b terms absorb
the colour camera's offset from the depth camera); median error 0.7 px (u) and 1.8 px (v) on the
1920x1080 colour frames. Frame t of a 3D annotation is drawn on video frame t (the pyskl denoiser
can cut leading empty frames, which then shifts the skeleton in time, not in space).

Given the sample's `.skeleton`, overlays also draw the Kinect's own colour-frame joints (magenta),
the reference of the 2D quality score (skeleton.datasets.ntu_quality).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from skeleton.ntu.kinect import KINECT_COLOR_SHAPE, kinect_colour_joints
from skeleton.pictures.annotation import (
    COCO_LIMBS,
    NTU_BONES,
    PERSON_COLORS,
    is_3d,
    label_box,
    label_text,
)

# the pinhole fitted to the NTU colour joints (module docstring)
PINHOLE_U = (1059.10, 38.06, 964.96)  # fx, bx, cx:  u = fx * x / z + bx / z + cx
PINHOLE_V = (-1047.70, -88.99, 589.75)  # fy, by, cy: v = fy * y / z + by / z + cy
KINECT_COLOR = (255, 0, 255)  # BGR magenta: the Kinect reference joints on overlays
SCORE_THRESHOLD = 0.2  # 2D keypoints below this score are not drawn on overlays
OVERLAY_MAX_WIDTH = 960  # overlays are downscaled to at most this width by default


def project_ntu(keypoint: np.ndarray) -> np.ndarray:
    """(..., 3) Kinect camera-space joints (m) -> (..., 2) colour-frame pixels; z <= 0 -> NaN."""
    x, y, z = (keypoint[..., k].astype(np.float64) for k in range(3))
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(z > 0, 1.0 / z, np.nan)
    u = PINHOLE_U[0] * x * inv + PINHOLE_U[1] * inv + PINHOLE_U[2]
    v = PINHOLE_V[0] * y * inv + PINHOLE_V[1] * inv + PINHOLE_V[2]
    return np.stack([u, v], axis=-1)


def overlay_points(anno: dict) -> tuple[np.ndarray, np.ndarray, tuple, tuple[int, int]]:
    """Pixels (M, T, V, 2), visibility (M, T, V), bones and image shape of an annotation."""
    kp = anno["keypoint"]
    if is_3d(anno):
        pts = project_ntu(kp)
        visible = np.isfinite(pts).all(-1) & (np.abs(kp).sum(-1) > 0)
        bones = NTU_BONES if kp.shape[2] == 25 else ()
        return np.nan_to_num(pts), visible, bones, KINECT_COLOR_SHAPE
    score = anno.get("keypoint_score")
    visible = (
        score >= SCORE_THRESHOLD if score is not None else np.abs(kp).sum(-1) > 0
    ) & np.isfinite(kp).all(-1)
    bones = COCO_LIMBS if kp.shape[2] == 17 else ()
    shape = tuple(anno.get("img_shape") or KINECT_COLOR_SHAPE)
    return np.nan_to_num(kp.astype(np.float64)), visible, bones, shape


def _video_frames(video: str | os.PathLike | None) -> Iterator[np.ndarray | None]:
    """Decoded frames, then None forever (a missing or short video -> blank canvas)."""
    from skeleton.pose.video import VideoError, iter_frame_batches

    if video:
        try:
            for batch in iter_frame_batches(video, 16):
                yield from batch
        except VideoError as exc:
            import sys

            print(f"visualize: {exc}; drawing on a blank canvas", file=sys.stderr)
    while True:
        yield None


def kinect_joints_of_source(source: str | None) -> np.ndarray | None:
    """`kinect_colour_joints` of a `.skeleton` source id (skeleton.core.files.Source: a file or a
    zip member); None when there is none or it cannot be read (the picture goes without it)."""
    if not source:
        return None
    import sys

    from skeleton.core.files import Source
    from skeleton.ntu.reader import parse_skeleton

    try:
        return kinect_colour_joints(parse_skeleton(Source.from_id(source).read(), source))
    except Exception as exc:
        print(f"visualize: {source}: no Kinect reference joints: {exc}", file=sys.stderr)
        return None


def _draw_skeleton(frame, pts, visible, bones, color, thick) -> None:
    import cv2

    for i, j in bones:
        if visible[i] and visible[j]:
            a, b = tuple(np.round(pts[i]).astype(int)), tuple(np.round(pts[j]).astype(int))
            cv2.line(frame, a, b, color, thick, cv2.LINE_AA)
    for v in np.flatnonzero(visible):
        cv2.circle(frame, tuple(np.round(pts[v]).astype(int)), thick + 1, color, -1, cv2.LINE_AA)


def overlay_images(
    anno: dict,
    video: str | os.PathLike | None = None,
    label_names: list[str] | None = None,
    max_width: int | None = OVERLAY_MAX_WIDTH,
    kinect: np.ndarray | None = None,
) -> Iterator[np.ndarray]:
    """BGR frames with every person's skeleton, one colour per person, and the label name.

    kinect: (B, T, 25, 2) Kinect colour-frame joints (`kinect_colour_joints`), drawn thin in
    magenta over the annotation's persons, as the reference the PCK is measured against.
    """
    import cv2

    pts, visible, bones, (img_h, img_w) = overlay_points(anno)
    n_persons, n_frames = pts.shape[:2]
    text = [f"{anno.get('frame_dir', '')}  {label_text(anno, label_names or [])}"]
    if kinect is not None:
        text.append("magenta (thin, on top): Kinect joints")
    frames = _video_frames(video)
    for t in range(n_frames):
        frame = next(frames)
        if frame is None:
            frame = np.zeros((img_h, img_w, 3), dtype=np.uint8)
        fh, fw = frame.shape[:2]
        scale = min(1.0, max_width / fw) if max_width else 1.0
        if scale < 1.0:
            frame = cv2.resize(frame, (round(fw * scale), round(fh * scale)), cv2.INTER_AREA)
        # keypoints are in img_shape pixels; the frame may be another size
        sx, sy = frame.shape[1] / img_w, frame.shape[0] / img_h
        thick = max(1, round(frame.shape[0] / 270))
        for m in range(n_persons):
            color = PERSON_COLORS[m % len(PERSON_COLORS)]
            _draw_skeleton(frame, pts[m, t] * (sx, sy), visible[m, t], bones, color, thick)
        if kinect is not None and t < kinect.shape[1]:
            # On top, thinner: a projected NTU skeleton lies on the Kinect's own joints (that
            # is how the projection is fitted) and drawn under it would hide them completely.
            # Kinect colour joints are in 1920x1080 colour-frame pixels.
            ks = (frame.shape[1] / KINECT_COLOR_SHAPE[1], frame.shape[0] / KINECT_COLOR_SHAPE[0])
            for body in kinect[:, t]:
                ok = np.isfinite(body).all(-1) & (np.abs(body).sum(-1) > 0)
                if ok.any():
                    p = np.nan_to_num(body) * ks
                    _draw_skeleton(frame, p, ok, NTU_BONES, KINECT_COLOR, max(1, thick // 2))
        label_box(frame, [*text, f"frame {t + 1}/{n_frames}"])
        yield frame
