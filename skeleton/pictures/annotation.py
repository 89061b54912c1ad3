"""What every picture of an annotation shares: finding it, its bones, its label, its colours."""

from __future__ import annotations

import numpy as np

from skeleton.datasets import label_map_path, read_label_map

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


# label box: white on blue, as MMAction2's heatmap-volume demo notebook labels its frames
LABEL_BG = (182, 119, 0)  # BGR
LABEL_FONT = 2  # cv2.FONT_HERSHEY_DUPLEX
LABEL_WRAP = 40  # characters per line
# person colours, BGR (OpenCV); person k uses PERSON_COLORS[k % len]
PERSON_COLORS = ((0, 200, 255), (255, 120, 0), (80, 220, 80), (200, 80, 255), (60, 60, 255))


def find_annotation(data: object, sample: str) -> dict:
    """The annotation with frame_dir == sample in a combined pickle or a plain list."""
    from skeleton.core.annotations import annotations_and_split

    annos = annotations_and_split(data)[0]
    if not isinstance(annos, list):
        raise ValueError("not an annotation pickle (expected a dict with 'annotations' or a list)")
    for a in annos:
        if isinstance(a, dict) and a.get("frame_dir") == sample:
            return a
    raise KeyError(f"sample {sample!r} is not in the pickle ({len(annos)} annotations)")


def is_3d(anno: dict) -> bool:
    return anno["keypoint"].shape[-1] == 3


def default_label_map(sample: str) -> list[str]:
    """NTU samples: the NTU120 names (its first 60 are NTU60's). Others: none (numbers only)."""
    from skeleton.ntu.names import parse_name

    try:
        parse_name(sample)
    except ValueError:
        return []
    path = label_map_path("ntu120")
    return read_label_map(path) if path.exists() else []


def label_text(anno: dict, names: list[str]) -> str:
    label = int(anno.get("label", -1))
    if label < 0:
        return "label unknown"
    name = names[label] if label < len(names) else ""
    return f"{label}: {name}" if name else f"label {label}"


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
