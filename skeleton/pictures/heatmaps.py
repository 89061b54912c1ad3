"""PoseC3D's pseudo-heatmap volumes, pictured.

The volume is built as MMAction2's `GeneratePoseTarget` builds it
(mmaction/datasets/transforms/pose_transforms.py), after the geometry of the NTU60 keypoint configs
(configs/skeleton/posec3d/slowonly_r50_8xb16-u48-240e_ntu60-xsub-keypoint.py): `PoseCompact`
(padding 0.25, threshold 10 px, hw_ratio 1, padding outside the image allowed), then a resize
to a square of `size` px (56: the training input; the val/test pipelines use 64), then one
Gaussian per keypoint or limb. Frames are shown as MMAction2's heatmap-volume demo notebook
(demo/visualize_heatmap_volume.ipynb) shows them: the max over channels in the viridis colour
map, enlarged 8x, the action label in a blue box at the top left.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from skeleton.ntu.kinect import KINECT_COLOR_SHAPE
from skeleton.pictures.annotation import COCO_LIMBS, is_3d, label_box, label_text

# PoseC3D heatmap defaults (GeneratePoseTarget, PoseCompact; sources in the module docstring)
HEATMAP_SIGMA = 0.6
HEATMAP_SIZE = 56
HEATMAP_EPS = 1e-4  # keypoints / limbs with a lower score draw nothing
COMPACT_PADDING = 0.25
COMPACT_THRESHOLD = 10.0
HEATMAP_DISPLAY_SCALE = 8  # each heatmap pixel becomes 8x8 display pixels (56 -> 448)


def pose_compact(
    keypoint: np.ndarray,
    img_shape: tuple[int, int],
    padding: float = COMPACT_PADDING,
    threshold: float = COMPACT_THRESHOLD,
    hw_ratio: float = 1.0,
) -> tuple[np.ndarray, tuple[int, int]]:
    """PoseCompact: shift keypoints into the padded box around all non-zero joints.

    The box is the tight box of every non-zero coordinate over the whole sequence, grown by
    `padding` around its centre, then widened or heightened to `hw_ratio` (height / width), and
    truncated to integer corners; it may extend past the image. Too small a box (< threshold px
    in width or height) leaves the keypoints and shape unchanged. Zero coordinates stay zero.
    """
    kp = np.nan_to_num(keypoint.astype(np.float32))
    x, y = kp[..., 0], kp[..., 1]
    if not (x != 0).any() or not (y != 0).any():
        return kp, tuple(img_shape)
    min_x, max_x = float(x[x != 0].min()), float(x[x != 0].max())
    min_y, max_y = float(y[y != 0].min()), float(y[y != 0].max())
    if max_x - min_x < threshold or max_y - min_y < threshold:
        return kp, tuple(img_shape)
    cx, cy = (max_x + min_x) / 2, (max_y + min_y) / 2
    half_w = (max_x - min_x) / 2 * (1 + padding)
    half_h = (max_y - min_y) / 2 * (1 + padding)
    half_h = max(hw_ratio * half_w, half_h)
    half_w = max(half_h / hw_ratio, half_w)
    x0, y0 = int(cx - half_w), int(cy - half_h)
    x1, y1 = int(cx + half_w), int(cy + half_h)
    x[x != 0] -= x0
    y[y != 0] -= y0
    return kp, (y1 - y0, x1 - x0)


def draw_keypoint_gaussian(
    arr: np.ndarray, center: np.ndarray, value: float, sigma: float = HEATMAP_SIGMA
) -> None:
    """Max-in exp(-d^2 / 2 sigma^2) * value around `center` (x, y), within 3 sigma."""
    if value < HEATMAP_EPS:
        return
    h, w = arr.shape
    mx, my = float(center[0]), float(center[1])
    x0, x1 = max(int(mx - 3 * sigma), 0), min(int(mx + 3 * sigma) + 1, w)
    y0, y1 = max(int(my - 3 * sigma), 0), min(int(my + 3 * sigma) + 1, h)
    if x0 >= x1 or y0 >= y1:
        return  # outside the heatmap
    xs = np.arange(x0, x1, dtype=np.float32)[None, :]
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    d2 = (xs - mx) ** 2 + (ys - my) ** 2
    patch = np.exp(-d2 / (2 * sigma**2)) * value
    np.maximum(arr[y0:y1, x0:x1], patch, out=arr[y0:y1, x0:x1])


def draw_limb_gaussian(
    arr: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    start_value: float,
    end_value: float,
    sigma: float = HEATMAP_SIGMA,
) -> None:
    """Max-in exp(-d^2 / 2 sigma^2) * min(score) with d the distance to the segment start-end.

    A segment shorter than 1 px draws the start keypoint's Gaussian instead.
    """
    value = min(start_value, end_value)
    if value < HEATMAP_EPS:
        return
    a = np.asarray(start, dtype=np.float32)[:2]
    b = np.asarray(end, dtype=np.float32)[:2]
    ab = b - a
    len2 = float(ab @ ab)
    if len2 < 1:
        draw_keypoint_gaussian(arr, a, start_value, sigma)
        return
    h, w = arr.shape
    x0 = max(int(min(a[0], b[0]) - 3 * sigma), 0)
    x1 = min(int(max(a[0], b[0]) + 3 * sigma) + 1, w)
    y0 = max(int(min(a[1], b[1]) - 3 * sigma), 0)
    y1 = min(int(max(a[1], b[1]) + 3 * sigma) + 1, h)
    if x0 >= x1 or y0 >= y1:
        return
    xs = np.arange(x0, x1, dtype=np.float32)[None, :]
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    # position of the foot of the perpendicular along the segment, clamped to its ends
    t = np.clip(((xs - a[0]) * ab[0] + (ys - a[1]) * ab[1]) / len2, 0.0, 1.0)
    d2 = (xs - (a[0] + t * ab[0])) ** 2 + (ys - (a[1] + t * ab[1])) ** 2
    patch = np.exp(-d2 / (2 * sigma**2)) * value
    np.maximum(arr[y0:y1, x0:x1], patch, out=arr[y0:y1, x0:x1])


def heatmap_geometry(
    anno: dict, size: int = HEATMAP_SIZE
) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """Keypoints (M, T, V, 2) in heatmap pixels after PoseCompact + resize, scores, (size, size)."""
    kp = anno["keypoint"][..., :2]
    score = anno.get("keypoint_score")
    if score is None:
        score = np.ones(kp.shape[:-1], dtype=np.float32)
    img_shape = tuple(anno.get("img_shape") or KINECT_COLOR_SHAPE)
    kp, (h, w) = pose_compact(kp, img_shape)
    kp = kp * np.array([size / w, size / h], dtype=np.float32)
    return kp, np.asarray(score, dtype=np.float32), (size, size)


def heatmap_frame(
    keypoint: np.ndarray,
    score: np.ndarray,
    shape: tuple[int, int],
    limbs: tuple[tuple[int, int], ...] | None = None,
    sigma: float = HEATMAP_SIGMA,
) -> np.ndarray:
    """(C, H, W) float32 heatmaps of one frame: keypoint (M, V, 2), score (M, V).

    C = V keypoint channels, or len(limbs) limb channels when `limbs` is given; persons share
    the channels (max).
    """
    if limbs is None:
        out = np.zeros((keypoint.shape[1], *shape), dtype=np.float32)
        for v in range(keypoint.shape[1]):
            for m in range(keypoint.shape[0]):
                draw_keypoint_gaussian(out[v], keypoint[m, v], float(score[m, v]), sigma)
        return out
    out = np.zeros((len(limbs), *shape), dtype=np.float32)
    for c, (i, j) in enumerate(limbs):
        for m in range(keypoint.shape[0]):
            draw_limb_gaussian(
                out[c],
                keypoint[m, i],
                keypoint[m, j],
                float(score[m, i]),
                float(score[m, j]),
                sigma,
            )
    return out


def heatmap_volume(
    anno: dict,
    limbs: bool = False,
    size: int = HEATMAP_SIZE,
    sigma: float = HEATMAP_SIGMA,
) -> np.ndarray:
    """(T, C, size, size) float32: the whole pseudo-heatmap volume of a 2D annotation."""
    return np.stack(list(_heatmap_frames(anno, limbs, size, sigma)))


def _heatmap_frames(anno: dict, limbs: bool, size: int, sigma: float) -> Iterator[np.ndarray]:
    kp, score, shape = heatmap_geometry(anno, size)
    skeleton = COCO_LIMBS if limbs else None
    for t in range(kp.shape[1]):
        yield heatmap_frame(kp[:, t], score[:, t], shape, skeleton, sigma)


def _viridis_lut() -> np.ndarray:
    from matplotlib import colormaps

    rgb = colormaps["viridis"](np.linspace(0, 1, 256))[:, :3]
    return (rgb[:, ::-1] * 255).round().astype(np.uint8)  # BGR


def colorize_heatmap(frame: np.ndarray, scale: int = HEATMAP_DISPLAY_SCALE) -> np.ndarray:
    """(C, H, W) heatmaps -> (H*scale, W*scale, 3) BGR uint8: max over channels, viridis."""
    import cv2

    peak = np.clip(frame.max(axis=0), 0, 1)
    img = _viridis_lut()[(peak * 255).round().astype(np.uint8)]
    h, w = peak.shape
    return cv2.resize(img, (w * scale, h * scale), interpolation=cv2.INTER_LINEAR)


def heatmap_images(
    anno: dict,
    limbs: bool = False,
    size: int = HEATMAP_SIZE,
    sigma: float = HEATMAP_SIGMA,
    scale: int = HEATMAP_DISPLAY_SCALE,
    label_names: list[str] | None = None,
) -> Iterator[np.ndarray]:
    """Colour-mapped heatmap frames with the action label in a box at the top left."""
    if is_3d(anno):
        raise ValueError("heatmaps are built from 2D keypoints (a 3D annotation was given)")
    text = label_text(anno, label_names or [])
    n = anno["keypoint"].shape[1]
    for t, frame in enumerate(_heatmap_frames(anno, limbs, size, sigma)):
        img = colorize_heatmap(frame, scale)
        label_box(img, [text, f"frame {t + 1}/{n}"])
        yield img
