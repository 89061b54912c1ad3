"""Frames to files: .mp4 (OpenCV, mp4v), .gif (Pillow) or .png (one frame), written atomically."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMATS = (".mp4", ".gif", ".png")
DEFAULT_FPS = 30.0  # NTU RGB+D videos are 30 fps


@dataclass(frozen=True)
class RenderResult:
    path: str
    frames: int  # frames written (1 for .png)
    height: int
    width: int


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


def video_fps(video: str | os.PathLike | None) -> float:
    if not video or not os.path.isfile(video):
        return 0.0
    import cv2

    cap = cv2.VideoCapture(os.fspath(video))
    try:
        return float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    finally:
        cap.release()
