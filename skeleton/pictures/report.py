"""Dataset report figures (matplotlib, Agg): what a pickle holds, at a glance.

3D (`plot_3d`): samples per split, class balance, sequence lengths, persons per sample, rejects
by reason. 2D (`plot_2d`): samples per split, keypoint-score distribution, rejects by reason,
PCK@0.2 against the Kinect colour joints (distribution) and the best and worst samples drawn as
overlays on their video frames. Every figure is a PNG written atomically; rules/report.smk
registers them with Snakemake's report.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable

import numpy as np

FIGSIZE = (8, 4.5)
DPI = 100
PCK_EXAMPLES = 3  # best and worst samples shown as overlays


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# Axis labels that count things: their ticks are whole numbers (matplotlib's default locator
# puts ticks at 0.25 samples on a small count).
COUNT_LABELS = frozenset(("samples", "keypoints", "videos"))


def _whole_ticks(fig) -> None:
    from matplotlib.ticker import MaxNLocator

    for ax in fig.axes:
        for axis, label in ((ax.xaxis, ax.get_xlabel()), (ax.yaxis, ax.get_ylabel())):
            if label in COUNT_LABELS:
                axis.set_major_locator(MaxNLocator(integer=True))


def _save(fig, path: str | os.PathLike) -> None:
    from skeleton.core.files import atomic_write

    _whole_ticks(fig)
    os.makedirs(os.path.dirname(os.fspath(path)) or ".", exist_ok=True)
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=DPI, metadata={"Software": None})
    _plt().close(fig)


def _empty(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=12)
    ax.set_xticks([])
    ax.set_yticks([])


def _annotations(data: object) -> tuple[list[dict], dict[str, list[str]]]:
    from skeleton.core.annotations import annotations_and_split

    annos, split = annotations_and_split(data)
    return list(annos), split


def persons_present(anno: dict) -> int:
    """Persons (M slots) with at least one non-zero joint (or non-zero score, 2D)."""
    arr = anno.get("keypoint_score")
    arr = anno["keypoint"] if arr is None else arr
    flat = np.abs(np.asarray(arr, dtype=np.float32)).reshape(arr.shape[0], -1)
    return int((flat.sum(axis=1) > 0).sum())


def plot_splits(split: dict[str, list[str]], total: int, title: str, out) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=FIGSIZE)
    if split:
        names = list(split)
        counts = [len(split[n]) for n in names]
        bars = ax.bar(
            names, counts, color=["#4c72b0" if "train" in n else "#dd8452" for n in names]
        )
        ax.bar_label(bars)
        ax.set_ylabel("samples")
    else:
        _empty(ax, "no splits")
    ax.set_title(f"{title}: samples per split ({total} annotations)")
    _save(fig, out)


def plot_classes(
    annotations: list[dict], split: dict[str, list[str]], label_names: list[str], title: str, out
) -> None:
    plt = _plt()
    labels = [int(a["label"]) for a in annotations]
    n = max([len(label_names), *(x + 1 for x in labels)]) if labels else len(label_names)
    fig, ax = plt.subplots(figsize=(max(8, n * 0.09), 4.5))
    counts = np.bincount(labels, minlength=n) if labels else np.zeros(n, int)
    ax.bar(np.arange(n), counts, color="#4c72b0", label="all samples")
    train = [k for k in split if k.endswith("_train")]
    if train:  # one benchmark's training share per class
        members = set(split[train[0]])
        tr = np.bincount(
            [int(a["label"]) for a in annotations if a["frame_dir"] in members], minlength=n
        )
        ax.bar(np.arange(n), tr, color="#dd8452", label=train[0])
        ax.legend()
    ax.set_xlabel("label (0-based)")
    ax.set_ylabel("samples")
    empty = int((counts == 0).sum())
    lo = int(counts[counts > 0].min()) if (counts > 0).any() else 0
    ax.set_title(
        f"{title}: class balance ({n} classes, min {lo}, max {int(counts.max()) if n else 0}"
        f" samples, {empty} classes empty)"
    )
    ax.set_xlim(-1, n)
    _save(fig, out)


def plot_lengths(annotations: list[dict], title: str, out) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=FIGSIZE)
    lengths = np.array([int(a["total_frames"]) for a in annotations])
    if len(lengths):
        ax.hist(lengths, bins=min(50, max(5, len(set(lengths.tolist())))), color="#4c72b0")
        ax.axvline(float(np.median(lengths)), color="k", ls="--", label="median")
        ax.legend()
        ax.set_xlabel("frames (total_frames)")
        ax.set_ylabel("samples")
        ax.set_title(
            f"{title}: sequence lengths (min {lengths.min()}, median {int(np.median(lengths))}, "
            f"max {lengths.max()})"
        )
    else:
        _empty(ax, "no samples")
        ax.set_title(f"{title}: sequence lengths")
    _save(fig, out)


def plot_persons(annotations: list[dict], title: str, out) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=FIGSIZE)
    present = Counter(persons_present(a) for a in annotations)
    slots = Counter(int(a["keypoint"].shape[0]) for a in annotations)
    keys = sorted(set(present) | set(slots))
    if keys:
        x = np.arange(len(keys))
        b1 = ax.bar(x - 0.2, [slots[k] for k in keys], 0.4, label="person slots (M)")
        b2 = ax.bar(x + 0.2, [present[k] for k in keys], 0.4, label="persons with data")
        ax.bar_label(b1)
        ax.bar_label(b2)
        ax.set_xticks(x, [str(k) for k in keys])
        ax.set_xlabel("persons")
        ax.set_ylabel("samples")
        ax.legend()
    else:
        _empty(ax, "no samples")
    ax.set_title(f"{title}: persons per sample")
    _save(fig, out)


def plot_rejects(reasons: Iterable[str], title: str, out) -> None:
    plt = _plt()
    counts = Counter(reasons)
    fig, ax = plt.subplots(figsize=FIGSIZE)
    if counts:
        names = sorted(counts, key=lambda r: (-counts[r], r))
        bars = ax.barh(names[::-1], [counts[r] for r in names[::-1]], color="#c44e52")
        ax.bar_label(bars)
        ax.set_xlabel("samples")
    else:
        _empty(ax, "no rejected samples")
    ax.set_title(f"{title}: rejects by reason ({sum(counts.values())} samples)")
    _save(fig, out)


def plot_scores(annotations: list[dict], title: str, out) -> None:
    from skeleton.pose.base import COCO17

    plt = _plt()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    scores = [a["keypoint_score"] for a in annotations if "keypoint_score" in a]
    # person-frames with any detection; empty person slots would pile up at 0
    rows = [s.reshape(-1, s.shape[-1]) for s in scores]
    rows = [r[r.sum(axis=1) > 0] for r in rows]
    allrows = np.concatenate(rows) if rows else np.zeros((0, len(COCO17)))
    if len(allrows):
        ax.hist(allrows.ravel(), bins=50, range=(0, 1), color="#4c72b0")
        ax.set_xlabel("keypoint score")
        ax.set_ylabel("keypoints")
        ax.set_title(f"{title}: keypoint scores (median {np.median(allrows):.2f})")
        means = allrows.mean(axis=0)
        ax2.barh(np.arange(len(means))[::-1], means, color="#55a868")
        names = COCO17 if len(means) == len(COCO17) else [str(i) for i in range(len(means))]
        ax2.set_yticks(np.arange(len(means))[::-1], names, fontsize=7)
        ax2.set_xlim(0, 1)
        ax2.set_xlabel("mean score")
        ax2.set_title("per keypoint")
    else:
        _empty(ax, "no keypoint scores")
        ax2.set_axis_off()
    fig.tight_layout()
    _save(fig, out)


def read_quality(path: str | os.PathLike | None) -> list[tuple[str, float]]:
    """(sample, pck) rows of a pose_quality.tsv, NaN PCKs left out."""
    if not path or not os.path.exists(path):
        return []
    rows = []
    with open(path) as f:
        next(f, None)
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2 and parts[1] not in ("", "nan"):
                rows.append((parts[0], float(parts[1])))
    return rows


def plot_pck(quality: list[tuple[str, float]], title: str, out) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=FIGSIZE)
    if quality:
        values = np.array([q for _, q in quality])
        ax.hist(values, bins=20, range=(0, 1), color="#8172b2")
        ax.axvline(float(values.mean()), color="k", ls="--", label=f"mean {values.mean():.3f}")
        ax.legend()
        ax.set_xlabel("PCK@0.2 (torso) vs Kinect colour joints")
        ax.set_ylabel("samples")
    else:
        _empty(ax, "no PCK: no sample has its Kinect .skeleton file")
    ax.set_title(f"{title}: 2D pose quality ({len(quality)} samples)")
    _save(fig, out)


def plot_pck_examples(
    annotations: list[dict],
    quality: list[tuple[str, float]],
    videos: dict[str, str],
    label_names: list[str],
    title: str,
    out,
    k: int = PCK_EXAMPLES,
    skeletons: dict[str, str] | None = None,
) -> None:
    """Middle-frame overlays of the k best and k worst samples by PCK (a grid, best on top).

    skeletons: sample -> `.skeleton` source id (skeleton.core.files.Source); its Kinect colour
    joints, the PCK reference, are drawn in magenta under the 2D poses.
    """
    from skeleton.pictures.overlays import kinect_joints_of_source, overlay_images

    plt = _plt()
    ranked = sorted(quality, key=lambda q: (-q[1], q[0]))
    best = ranked[:k]
    worst = [q for q in ranked[::-1][:k] if q not in best]
    rows = [("best", best), ("worst", worst)] if worst else [("best", best)]
    by_name = {a["frame_dir"]: a for a in annotations}
    if not best:
        fig, ax = plt.subplots(figsize=FIGSIZE)
        _empty(ax, "no PCK: no sample to show")
        ax.set_title(f"{title}: best and worst samples by PCK")
        _save(fig, out)
        return
    fig, axes = plt.subplots(len(rows), k, figsize=(4 * k, 3.4 * len(rows)), squeeze=False)
    for r, (which, picks) in enumerate(rows):
        for c in range(k):
            ax = axes[r, c]
            ax.set_axis_off()
            if c >= len(picks) or picks[c][0] not in by_name:
                continue
            name, value = picks[c]
            anno = by_name[name]
            middle = anno["keypoint"].shape[1] // 2
            img = None
            ref = kinect_joints_of_source((skeletons or {}).get(name))
            frames = overlay_images(anno, videos.get(name), label_names, 960, ref)
            for t, frame in enumerate(frames):
                if t == middle:
                    img = _crop_to_people(frame, anno, middle)
                    break
            if img is not None:
                ax.imshow(img[..., ::-1])
            ax.set_title(f"{which}: {name}\nPCK {value:.3f}", fontsize=8)
    ref = " (magenta: Kinect joints)" if skeletons else ""
    fig.suptitle(f"{title}: best and worst samples by PCK@0.2, middle frame{ref}")
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    _save(fig, out)


def _crop_to_people(img: np.ndarray, anno: dict, t: int, margin: float = 0.3) -> np.ndarray:
    """The part of an overlay frame around frame t's keypoints (people are small in 1080p)."""
    from skeleton.pictures.overlays import overlay_points

    pts, visible, _, (img_h, img_w) = overlay_points(anno)
    p = pts[:, t][visible[:, t]] * (img.shape[1] / img_w, img.shape[0] / img_h)
    if not len(p):
        return img
    (x0, y0), (x1, y1) = p.min(axis=0), p.max(axis=0)
    half = max(x1 - x0, y1 - y0, 40) * (0.5 + margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    h, w = img.shape[:2]
    top, bottom = max(0, int(cy - half)), min(h, int(cy + half))
    left, right = max(0, int(cx - half * 4 / 3)), min(w, int(cx + half * 4 / 3))
    return img[top:bottom, left:right]


def _label_names(label_map: str | os.PathLike | None) -> list[str]:
    from skeleton.datasets import read_label_map

    return read_label_map(label_map) if label_map and os.path.exists(label_map) else []


def plot_3d(
    pickle_path: str | os.PathLike,
    rejects_tsv: str | os.PathLike,
    out: dict[str, str],
    title: str,
    label_map: str | os.PathLike | None = None,
) -> None:
    """out keys: splits, classes, lengths, persons, rejects."""
    from skeleton.core.annotations import load
    from skeleton.core.rejects import read_rejects

    annos, split = _annotations(load(pickle_path))
    plot_splits(split, len(annos), title, out["splits"])
    plot_classes(annos, split, _label_names(label_map), title, out["classes"])
    plot_lengths(annos, title, out["lengths"])
    plot_persons(annos, title, out["persons"])
    plot_rejects([r.reason for r in read_rejects(rejects_tsv)], title, out["rejects"])


def plot_2d(
    pickle_path: str | os.PathLike,
    rejects_tsv: str | os.PathLike,
    quality_tsv: str | os.PathLike | None,
    video_index: str | os.PathLike | None,
    out: dict[str, str],
    title: str,
    label_map: str | os.PathLike | None = None,
    skeleton_index: str | os.PathLike | None = None,
) -> None:
    """out keys: splits, scores, rejects, pck, pck_examples.

    skeleton_index: the NTU index (results/ntu/index.tsv), for the Kinect reference joints.
    """
    from skeleton.core.annotations import load
    from skeleton.core.rejects import read_rejects

    annos, split = _annotations(load(pickle_path))
    videos: dict[str, str] = {}
    if video_index and os.path.exists(video_index):
        from skeleton.datasets.index import STATUS_OK, read_index

        videos = {r.sample: r.path for r in read_index(video_index) if r.status == STATUS_OK}
    quality = read_quality(quality_tsv)
    plot_splits(split, len(annos), title, out["splits"])
    plot_scores(annos, title, out["scores"])
    plot_rejects([r.reason for r in read_rejects(rejects_tsv)], title, out["rejects"])
    plot_pck(quality, title, out["pck"])
    skeletons: dict[str, str] = {}
    if skeleton_index and os.path.exists(skeleton_index):
        from skeleton.ntu.index import read_index

        skeletons = {r.sample: r.source for r in read_index(skeleton_index) if r.status == "ok"}
    names = _label_names(label_map)
    plot_pck_examples(
        annos, quality, videos, names, title, out["pck_examples"], skeletons=skeletons
    )
