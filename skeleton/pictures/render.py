"""Pictures of skeleton annotations, one call per sample and kind (`render`), or a batch.

Kinds: overlay (skeleton.pictures.overlays), keypoint-heatmap / limb-heatmap (PoseC3D's input,
skeleton.pictures.heatmaps), skeleton3d (skeleton.pictures.plots3d). Outputs: .mp4, .gif or .png
(skeleton.pictures.writers).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from skeleton.core import reasons
from skeleton.datasets import read_label_map
from skeleton.ntu.kinect import kinect_colour_joints
from skeleton.pictures.annotation import default_label_map, is_3d
from skeleton.pictures.heatmaps import HEATMAP_SIGMA, HEATMAP_SIZE, heatmap_images
from skeleton.pictures.overlays import OVERLAY_MAX_WIDTH, kinect_joints_of_source, overlay_images
from skeleton.pictures.plots3d import skeleton3d_images
from skeleton.pictures.writers import DEFAULT_FPS, RenderResult, video_fps, write_frames

KINDS = ("overlay", "keypoint-heatmap", "limb-heatmap", "skeleton3d")


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
        if still:  # a 3D plot per frame is slow: draw the one frame only
            images = skeleton3d_images(anno, label_names, frames=[frame] if 0 <= frame < n else [])
            frame = 0
        else:
            images = skeleton3d_images(anno, label_names)
    else:
        limbs = kind == "limb-heatmap"
        images = heatmap_images(anno, limbs, heatmap_size, sigma, label_names=label_names)
    if fps is None:
        fps = video_fps(video) or DEFAULT_FPS
    return write_frames(images, out, fps, frame)


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
    reported (a `skeleton.core.rejects.Reject`, reason render_failed) and the others go on.
    Returns the renders and the failures.
    """
    import sys

    from skeleton.core.annotations import annotations_and_split, load
    from skeleton.core.rejects import Reject

    data = load(pickle_path)
    annos = annotations_and_split(data)[0]
    by_name = {a["frame_dir"]: a for a in annos}
    names = label_map and read_label_map(label_map)
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
                    failures.append(
                        Reject(name, os.fspath(pickle_path), reasons.RENDER_FAILED, detail)
                    )
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
    from skeleton.core.rejects import write_rejects

    videos: dict[str, str] = {}
    if video_index:
        from skeleton.datasets.index import STATUS_OK, read_index

        videos = {r.sample: r.path for r in read_index(video_index) if r.status == STATUS_OK}
    skeletons: dict[str, str] = {}
    if skeleton_index:
        from skeleton.ntu.index import read_index

        skeletons = {r.sample: r.source for r in read_index(skeleton_index) if r.status == "ok"}
    results, failures = render_samples(
        pickle_path, out_dir, samples, videos, fmt, label_map, skeletons
    )
    write_rejects(failures, Path(out_dir) / "failures.tsv")
    print(f"{out_dir}: {len(results)} pictures, {len(failures)} failed", flush=True)
    return results
