"""matplotlib 3D plots of NTU-25 (x, y, z) sequences, as BGR frames."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from skeleton.pictures.annotation import NTU_BONES, PERSON_COLORS, label_text


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
