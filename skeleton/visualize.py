"""Pictures of skeleton annotations: pose overlays, PoseC3D heatmap volumes, 3D skeleton plots.

Kinds (see `render`):

* overlay: COCO-17 skeletons (2D pickles) or projected NTU-25 skeletons (3D pickles) drawn with
  one colour per person and the label name on the real video frames, decoded in memory with
  `skeleton.video`; without a video, on a black canvas of the annotation's `img_shape`.
* keypoint-heatmap / limb-heatmap: the pseudo-heatmap volume PoseC3D feeds its 3D CNN, built as
  MMAction2's `GeneratePoseTarget` builds it (mmaction/datasets/transforms/pose_transforms.py),
  after the geometry of the NTU60 keypoint configs
  (configs/skeleton/posec3d/slowonly_r50_8xb16-u48-240e_ntu60-xsub-keypoint.py): `PoseCompact`
  (padding 0.25, threshold 10 px, hw_ratio 1, padding outside the image allowed), then a resize
  to a square of `size` px (56: the training input; the val/test pipelines use 64), then one
  Gaussian per keypoint or limb. Frames are shown as MMAction2's heatmap-volume demo notebook
  (demo/visualize_heatmap_volume.ipynb) shows them: the max over channels in the viridis colour
  map, enlarged 8x, the action label in a blue box at the top left.
* skeleton3d: matplotlib 3D plots of NTU-25 (x, y, z) sequences.

NTU 3D joints are in the Kinect v2 camera space (metres). The overlay projects them with a pinhole
fitted here by least squares to the colour-space joints (`colorX colorY`) of the 21 real NTU
`.skeleton` files in ../shared: u = fx x/z + bx/z + cx, v = fy y/z + by/z + cy (the b terms absorb
the colour camera's offset from the depth camera); median error 0.7 px (u) and 1.8 px (v) on the
1920x1080 colour frames. Frame t of a 3D annotation is drawn on video frame t (the pyskl denoiser
can cut leading empty frames, which then shifts the skeleton in time, not in space).

Given the sample's `.skeleton`, overlays also draw the Kinect's own colour-frame joints (magenta),
the reference of the PCK in skeleton.pose.quality.

Outputs: .mp4 (OpenCV, mp4v), .gif (Pillow) or .png (one frame, the middle one by default).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skeleton.kinect import kinect_colour_joints
from skeleton.resources import label_map_path

KINDS = ("overlay", "keypoint-heatmap", "limb-heatmap", "skeleton3d")
FORMATS = (".mp4", ".gif", ".png")

# COCO-17 limbs: the default `skeletons` of MMAction2's GeneratePoseTarget (PoseC3D's limb list).
COCO_LIMBS: tuple[tuple[int, int], ...] = (
    (0, 1), (0, 2), (1, 3), (2, 4), (0, 5), (5, 7), (7, 9), (0, 6), (6, 8), (8, 10),
    (5, 11), (11, 13), (13, 15), (6, 12), (12, 14), (14, 16), (11, 12),
)  # fmt: skip
# NTU-25 bones, 0-based Kinect v2 JointType indices, following the Kinect SDK 2.0 joint hierarchy
# (SpineBase-SpineMid-SpineShoulder-Neck-Head, arms from SpineShoulder, legs from SpineBase,
# HandTip from Hand, Thumb from Wrist).
NTU_BONES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 20), (20, 2), (2, 3),
    (20, 4), (4, 5), (5, 6), (6, 7), (7, 21), (6, 22),
    (20, 8), (8, 9), (9, 10), (10, 11), (11, 23), (10, 24),
    (0, 12), (12, 13), (13, 14), (14, 15),
    (0, 16), (16, 17), (17, 18), (18, 19),
)  # fmt: skip

# PoseC3D heatmap defaults (GeneratePoseTarget, PoseCompact; sources in the module docstring)
HEATMAP_SIGMA = 0.6
HEATMAP_SIZE = 56
HEATMAP_EPS = 1e-4  # keypoints / limbs with a lower score draw nothing
COMPACT_PADDING = 0.25
COMPACT_THRESHOLD = 10.0
HEATMAP_DISPLAY_SCALE = 8  # each heatmap pixel becomes 8x8 display pixels (56 -> 448)

# Kinect v2 colour frame and the pinhole fitted to the NTU colour joints (module docstring).
KINECT_COLOR_SHAPE = (1080, 1920)
PINHOLE_U = (1059.10, 38.06, 964.96)  # fx, bx, cx:  u = fx * x / z + bx / z + cx
PINHOLE_V = (-1047.70, -88.99, 589.75)  # fy, by, cy: v = fy * y / z + by / z + cy

# label box: white on blue, as MMAction2's heatmap-volume demo notebook labels its frames
LABEL_BG = (182, 119, 0)  # BGR
LABEL_FONT = 2  # cv2.FONT_HERSHEY_DUPLEX
LABEL_WRAP = 40  # characters per line
KINECT_COLOR = (255, 0, 255)  # BGR magenta: the Kinect reference joints on overlays
SCORE_THRESHOLD = 0.2  # 2D keypoints below this score are not drawn on overlays
OVERLAY_MAX_WIDTH = 960  # overlays are downscaled to at most this width by default
DEFAULT_FPS = 30.0  # NTU RGB+D videos are 30 fps
# person colours, BGR (OpenCV); person k uses PERSON_COLORS[k % len]
PERSON_COLORS = ((0, 200, 255), (255, 120, 0), (80, 220, 80), (200, 80, 255), (60, 60, 255))


@dataclass(frozen=True)
class RenderResult:
    path: str
    frames: int  # frames written (1 for .png)
    height: int
    width: int


# ---- annotations and labels ----------------------------------------------------------------


def find_annotation(data: object, sample: str) -> dict:
    """The annotation with frame_dir == sample in a combined pickle or a plain list."""
    annos = data["annotations"] if isinstance(data, dict) and "annotations" in data else data
    if not isinstance(annos, list):
        raise ValueError("not an annotation pickle (expected a dict with 'annotations' or a list)")
    for a in annos:
        if isinstance(a, dict) and a.get("frame_dir") == sample:
            return a
    raise KeyError(f"sample {sample!r} is not in the pickle ({len(annos)} annotations)")


def is_3d(anno: dict) -> bool:
    return anno["keypoint"].shape[-1] == 3


def load_label_map(path: str | os.PathLike) -> list[str]:
    """Class names, one per line, line i = label i (skeleton/data/label_maps/<dataset>.txt)."""
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def default_label_map(sample: str) -> list[str]:
    """NTU samples: the NTU120 names (its first 60 are NTU60's). Others: none (numbers only)."""
    from skeleton.ntu import parse_name

    try:
        parse_name(sample)
    except ValueError:
        return []
    path = label_map_path("ntu120")
    return load_label_map(path) if path.exists() else []


def label_text(anno: dict, names: list[str]) -> str:
    label = int(anno.get("label", -1))
    if label < 0:
        return "label unknown"
    name = names[label] if label < len(names) else ""
    return f"{label}: {name}" if name else f"label {label}"


# ---- PoseC3D pseudo-heatmaps ---------------------------------------------------------------


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


# ---- overlays ------------------------------------------------------------------------------


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
    from skeleton.video import VideoError, iter_frame_batches

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
    """`kinect_colour_joints` of a `.skeleton` source id (skeleton.files.Source: a file or a zip
    member); None when there is none or it cannot be read (the picture goes without it)."""
    if not source:
        return None
    import sys

    from skeleton.files import Source
    from skeleton.reader import parse_skeleton

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
    in magenta under the annotation's persons, as the reference the PCK is measured against.
    """
    import cv2

    pts, visible, bones, (img_h, img_w) = overlay_points(anno)
    n_persons, n_frames = pts.shape[:2]
    text = [f"{anno.get('frame_dir', '')}  {label_text(anno, label_names or [])}"]
    if kinect is not None:
        text.append("magenta: Kinect joints")
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
        if kinect is not None and t < kinect.shape[1]:
            # Kinect colour joints are in 1920x1080 colour-frame pixels
            ks = (frame.shape[1] / KINECT_COLOR_SHAPE[1], frame.shape[0] / KINECT_COLOR_SHAPE[0])
            for body in kinect[:, t]:
                ok = np.isfinite(body).all(-1) & (np.abs(body).sum(-1) > 0)
                if ok.any():
                    p = np.nan_to_num(body) * ks
                    _draw_skeleton(frame, p, ok, NTU_BONES, KINECT_COLOR, max(1, thick // 2))
        for m in range(n_persons):
            color = PERSON_COLORS[m % len(PERSON_COLORS)]
            _draw_skeleton(frame, pts[m, t] * (sx, sy), visible[m, t], bones, color, thick)
        label_box(frame, [*text, f"frame {t + 1}/{n_frames}"])
        yield frame


def label_box(frame: np.ndarray, lines: list[str], wrap: int = LABEL_WRAP) -> None:
    """White text in a blue box at the top left (long lines wrapped at word boundaries)."""
    import textwrap

    import cv2

    scale = max(0.45, frame.shape[0] / 900)
    rows = [r for line in lines for r in (textwrap.wrap(line, wrap) or [""])]
    sizes = [cv2.getTextSize(r, LABEL_FONT, scale, 1)[0] for r in rows]
    line_h = max(h for _, h in sizes) + round(8 * scale)
    cv2.rectangle(
        frame, (0, 0), (max(w for w, _ in sizes) + 12, line_h * len(rows) + 6), LABEL_BG, -1
    )
    for i, r in enumerate(rows):
        org = (6, line_h * (i + 1))
        cv2.putText(frame, r, org, LABEL_FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)


# ---- 3D plots ------------------------------------------------------------------------------


def skeleton3d_images(
    anno: dict,
    label_names: list[str] | None = None,
    size: int = 480,
    frames: Iterable[int] | None = None,
) -> Iterator[np.ndarray]:
    """BGR frames of matplotlib 3D plots of an NTU (x, y, z) sequence (y up, z depth).

    frames: which frame numbers to draw (default all); the axes are the same for every frame.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kp = anno["keypoint"].astype(np.float32)
    if kp.shape[-1] != 3:
        raise ValueError("skeleton3d needs 3D keypoints (M, T, V, 3)")
    present = np.abs(kp).sum(-1) > 0  # (M, T, V)
    if present.any():
        lo, hi = kp[present].min(0), kp[present].max(0)
    else:
        lo, hi = np.full(3, -1.0), np.full(3, 1.0)
    mid, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2, 0.5)
    bones = NTU_BONES if kp.shape[2] == 25 else ()
    title = f"{anno.get('frame_dir', '')}  {label_text(anno, label_names or [])}"
    dpi = 100
    fig = plt.figure(figsize=(size / dpi, size / dpi), dpi=dpi)
    try:
        ax = fig.add_subplot(projection="3d")
        # plot axes: x -> x, depth z -> y, up y -> z; one set of artists, updated per frame
        ax.set_xlim(mid[0] - half, mid[0] + half)
        ax.set_ylim(mid[2] - half, mid[2] + half)
        ax.set_zlim(mid[1] - half, mid[1] + half)
        ax.set_xlabel("x (m)")
        ax.set_ylabel("z (m)")
        ax.set_zlabel("y (m)")
        ax.view_init(elev=15, azim=-70)
        heading = ax.set_title("", fontsize=8)
        artists = []
        for m in range(kp.shape[0]):
            b, g, r = PERSON_COLORS[m % len(PERSON_COLORS)]
            color = (r / 255, g / 255, b / 255)
            lines = [ax.plot([], [], [], color=color, linewidth=2)[0] for _ in bones]
            artists.append((lines, ax.plot([], [], [], "o", color=color, markersize=3)[0]))
        for t in range(kp.shape[1]) if frames is None else frames:
            heading.set_text(f"{title}\nframe {t + 1}/{kp.shape[1]}")
            for m, (lines, dots) in enumerate(artists):
                j, ok = kp[m, t][:, [0, 2, 1]], present[m, t]
                for line, (i, k) in zip(lines, bones, strict=True):
                    seg = j[[i, k]] if ok[i] and ok[k] else np.full((2, 3), np.nan)
                    line.set_data_3d(seg[:, 0], seg[:, 1], seg[:, 2])
                dots.set_data_3d(j[ok, 0], j[ok, 1], j[ok, 2])
            fig.canvas.draw()
            rgba = np.asarray(fig.canvas.buffer_rgba())
            yield np.ascontiguousarray(rgba[..., 2::-1])  # RGBA -> BGR
    finally:
        plt.close(fig)


# ---- writing -------------------------------------------------------------------------------


def write_frames(
    frames: Iterable[np.ndarray],
    out: str | os.PathLike,
    fps: float = DEFAULT_FPS,
    frame: int = 0,
) -> RenderResult:
    """Write BGR uint8 frames to .mp4 (mp4v), .gif or .png (only frame number `frame`).

    Written to a temporary name first and renamed, so a failed render leaves no partial file.
    """
    import cv2

    out = os.fspath(out)
    ext = Path(out).suffix.lower()
    if ext not in FORMATS:
        raise ValueError(f"{out}: output must end in one of {', '.join(FORMATS)}")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    tmp = f"{out}.part{ext}"
    count, shape = 0, (0, 0)
    try:
        if ext == ".png":
            for i, img in enumerate(frames):
                if i == frame:
                    if not cv2.imwrite(tmp, img):
                        raise OSError(f"{out}: OpenCV could not write the PNG")
                    count, shape = 1, img.shape[:2]
                    break
            if not count:
                raise ValueError(f"{out}: frame {frame} is past the end of the sequence")
        elif ext == ".mp4":
            writer = None
            try:
                for img in frames:
                    if writer is None:
                        shape = img.shape[:2]
                        fourcc = cv2.VideoWriter_fourcc(*"mp4v")
                        writer = cv2.VideoWriter(tmp, fourcc, fps, (shape[1], shape[0]))
                        if not writer.isOpened():
                            raise OSError(f"{out}: OpenCV cannot open an mp4v writer")
                    writer.write(img)
                    count += 1
            finally:
                if writer is not None:
                    writer.release()
        else:
            from PIL import Image

            images = [Image.fromarray(np.ascontiguousarray(img[..., ::-1])) for img in frames]
            if images:
                shape = (images[0].height, images[0].width)
                images[0].save(
                    tmp,
                    format="GIF",
                    save_all=True,
                    append_images=images[1:],
                    duration=round(1000 / fps),
                    loop=0,
                )
            count = len(images)
        if not count:
            raise ValueError(f"{out}: nothing to draw (no frames)")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return RenderResult(out, count, int(shape[0]), int(shape[1]))


def render(
    anno: dict,
    kind: str,
    out: str | os.PathLike,
    video: str | os.PathLike | None = None,
    label_names: list[str] | None = None,
    fps: float | None = None,
    frame: int | None = None,
    max_width: int | None = OVERLAY_MAX_WIDTH,
    heatmap_size: int = HEATMAP_SIZE,
    sigma: float = HEATMAP_SIGMA,
    kinect: str | os.PathLike | np.ndarray | None = None,
) -> RenderResult:
    """Render one annotation as `kind` (see KINDS) to `out` (.mp4, .gif or .png).

    fps: the video's when a video is given, else 30. frame (.png only): default the middle one.
    kinect (overlay): the sample's NTU `.skeleton` (or its `kinect_colour_joints`), whose colour
    joints are drawn as reference.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose from {', '.join(KINDS)}")
    if label_names is None:
        label_names = default_label_map(str(anno.get("frame_dir", "")))
    n = anno["keypoint"].shape[1]
    frame = n // 2 if frame is None else frame
    still = Path(out).suffix.lower() == ".png"
    if kind == "overlay":
        ref = kinect if kinect is None or isinstance(kinect, np.ndarray) else None
        if kinect is not None and ref is None:
            ref = kinect_colour_joints(kinect)
        images = overlay_images(anno, video, label_names, max_width, ref)
    elif kind == "skeleton3d":
        if still:  # a plot costs ~0.1 s: draw the one frame only
            images = skeleton3d_images(anno, label_names, frames=[frame] if 0 <= frame < n else [])
            frame = 0
        else:
            images = skeleton3d_images(anno, label_names)
    else:
        limbs = kind == "limb-heatmap"
        images = heatmap_images(anno, limbs, heatmap_size, sigma, label_names=label_names)
    if fps is None:
        fps = _video_fps(video) or DEFAULT_FPS
    return write_frames(images, out, fps, frame)


def _video_fps(video: str | os.PathLike | None) -> float:
    if not video or not os.path.isfile(video):
        return 0.0
    import cv2

    cap = cv2.VideoCapture(os.fspath(video))
    try:
        return float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    finally:
        cap.release()


# ---- batches of samples (rule visualize) ---------------------------------------------------


def pick_samples(annotations: list[dict], samples: int | list[str]) -> list[str]:
    """The frame_dirs to draw: the names given (those present), or `samples` per class.

    Per class the names are ordered by the SHA-1 of the name, a stable order that mixes setups,
    cameras and performers (sorted names would all come from the first setup).
    """
    import hashlib

    if isinstance(samples, list):
        have = {a["frame_dir"] for a in annotations}
        return [s for s in samples if s in have]
    by_label: dict[int, list[str]] = {}
    for a in annotations:
        by_label.setdefault(int(a["label"]), []).append(a["frame_dir"])
    picked = []
    for label in sorted(by_label):
        names = sorted(by_label[label], key=lambda s: hashlib.sha1(s.encode()).hexdigest())
        picked += names[: max(0, int(samples))]
    return sorted(picked)


def kinds_for(anno: dict) -> tuple[str, ...]:
    return (
        ("overlay", "skeleton3d")
        if is_3d(anno)
        else ("overlay", "keypoint-heatmap", "limb-heatmap")
    )


def render_samples(
    pickle_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    samples: int | list[str],
    videos: dict[str, str] | None = None,
    fmt: str = "mp4",
    label_map: str | os.PathLike | None = None,
    skeletons: dict[str, str] | None = None,
) -> tuple[list[RenderResult], list]:
    """Draw every applicable kind of each picked sample to out_dir/<sample>.<kind>.<fmt>.

    videos: sample -> video path (overlays); skeletons: sample -> `.skeleton` source id, whose
    Kinect colour joints are drawn on the overlays as reference.

    A middle-frame <sample>.<kind>.png comes with each. A sample that fails to render is
    reported (a `skeleton.rejects.Reject`, reason render_failed) and the others go on.
    Returns the renders and the failures.
    """
    import sys

    from skeleton.annotations import load
    from skeleton.rejects import Reject

    data = load(pickle_path)
    annos = data["annotations"] if isinstance(data, dict) else data
    by_name = {a["frame_dir"]: a for a in annos}
    names = label_map and load_label_map(label_map)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results, failures = [], []
    for name in pick_samples(annos, samples):
        anno, video = by_name[name], (videos or {}).get(name)
        ref = kinect_joints_of_source((skeletons or {}).get(name))
        for kind in kinds_for(anno):
            for ext in (fmt, "png"):
                path = out / f"{name}.{kind}.{ext}"
                try:
                    results.append(render(anno, kind, path, video, names or None, kinect=ref))
                except Exception as exc:  # one bad sample never stops the batch
                    detail = f"{kind} -> {path}: {type(exc).__name__}: {exc}"
                    print(f"visualize: {name}: {detail}", file=sys.stderr)
                    failures.append(Reject(name, os.fspath(pickle_path), "render_failed", detail))
    return results, failures


def run_visualize(
    pickle_path: str | os.PathLike,
    out_dir: str | os.PathLike,
    samples: int | list[str],
    fmt: str = "mp4",
    label_map: str | os.PathLike | None = None,
    video_index: str | os.PathLike | None = None,
    skeleton_index: str | os.PathLike | None = None,
) -> list[RenderResult]:
    """render_samples with the videos of an NTU video index and the `.skeleton` files of an NTU
    index (Kinect reference joints on overlays); failures go to out_dir/failures.tsv."""
    from skeleton.rejects import write_rejects

    videos: dict[str, str] = {}
    if video_index:
        from skeleton.datasets.index import STATUS_OK, read_index

        videos = {r.sample: r.path for r in read_index(video_index) if r.status == STATUS_OK}
    skeletons: dict[str, str] = {}
    if skeleton_index:
        from skeleton.index import read_index

        skeletons = {r.sample: r.source for r in read_index(skeleton_index) if r.status == "ok"}
    results, failures = render_samples(
        pickle_path, out_dir, samples, videos, fmt, label_map, skeletons
    )
    write_rejects(failures, Path(out_dir) / "failures.tsv")
    print(f"{out_dir}: {len(results)} pictures, {len(failures)} failed", flush=True)
    return results
