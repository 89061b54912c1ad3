"""Decoding videos in memory with OpenCV: frames in batches, never dumped to image files.

The frame count and the image shape come from the decoded video itself, never from the
container header alone or a hard-coded 1080p. Files that cannot be used raise `VideoError`
with a short snake_case reason (the rejects report's `reason` column) and a readable detail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

# A decoder that stops well before the frame count the container declares met a damaged or
# truncated file. Some containers only estimate the count (duration x fps), so a small shortfall
# is tolerated: max(TRUNCATION_MIN_FRAMES, TRUNCATION_FRACTION x declared) frames.
TRUNCATION_MIN_FRAMES = 2
TRUNCATION_FRACTION = 0.02


class VideoError(Exception):
    """A video that cannot be decoded; `reason` is a snake_case code for the rejects report."""

    def __init__(self, path: str, reason: str, detail: str):
        super().__init__(f"{path}: {reason}: {detail}")
        self.path = path
        self.reason = reason
        self.detail = detail


@dataclass
class VideoInfo:
    path: str
    declared_frames: int  # what the container header says (may be 0 or an estimate)
    fps: float
    decoded_frames: int = 0  # frames actually decoded so far (== total_frames at the end)
    height: int = 0
    width: int = 0

    @property
    def img_shape(self) -> tuple[int, int]:
        return (self.height, self.width)


def _open(path: str):
    import cv2

    if not os.path.exists(path):
        raise VideoError(path, "missing_video", "no such file")
    if not os.path.isfile(path):
        raise VideoError(path, "not_a_video", "not a regular file")
    if os.path.getsize(path) == 0:
        raise VideoError(path, "empty_video", "the file is empty (0 bytes)")
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        cap.release()
        raise VideoError(path, "undecodable_video", "OpenCV/FFmpeg cannot open it as a video")
    return cap


def iter_frame_batches(
    path: str | os.PathLike, batch_size: int, info: VideoInfo | None = None
) -> Iterator[list[np.ndarray]]:
    """Yield lists of up to `batch_size` BGR uint8 (H, W, 3) frames, in order.

    `info` (when given) is filled as decoding goes: header fields at once, decoded_frames and the
    shape as frames arrive. Raises VideoError for a missing, empty or undecodable file, a video
    without a single frame, frames that change size, and a truncated stream.
    """
    import cv2

    path = os.fspath(path)
    batch_size = max(1, int(batch_size))
    cap = _open(path)
    if info is None:
        info = VideoInfo(path, 0, 0.0)
    info.path = path
    info.declared_frames = max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
    info.fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    info.decoded_frames = 0
    try:
        batch: list[np.ndarray] = []
        while True:
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            if frame.ndim == 2:
                frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
            h, w = frame.shape[:2]
            if info.decoded_frames == 0:
                info.height, info.width = h, w
            elif (h, w) != (info.height, info.width):
                raise VideoError(
                    path,
                    "inconsistent_frames",
                    f"frame {info.decoded_frames} is {w}x{h}, earlier frames "
                    f"{info.width}x{info.height}",
                )
            info.decoded_frames += 1
            batch.append(frame)
            if len(batch) == batch_size:
                yield batch
                batch = []
        if info.decoded_frames == 0:
            raise VideoError(path, "no_frames", "opened as a video, but no frame decodes")
        shortfall = info.declared_frames - info.decoded_frames
        if shortfall > max(TRUNCATION_MIN_FRAMES, TRUNCATION_FRACTION * info.declared_frames):
            raise VideoError(
                path,
                "truncated_video",
                f"decoding stopped after {info.decoded_frames} of the "
                f"{info.declared_frames} frames the header declares",
            )
        if batch:
            yield batch
    finally:
        cap.release()


def read_video(path: str | os.PathLike) -> tuple[list[np.ndarray], VideoInfo]:
    """All frames of a (short) video and its info; see iter_frame_batches for errors."""
    info = VideoInfo(os.fspath(path), 0, 0.0)
    frames = [f for batch in iter_frame_batches(path, 64, info) for f in batch]
    return frames, info


def probe(path: str | os.PathLike) -> VideoInfo:
    """Decode the whole video without keeping frames: its true frame count and shape."""
    info = VideoInfo(os.fspath(path), 0, 0.0)
    for _ in iter_frame_batches(path, 64, info):
        pass
    return info
