"""Decoding videos in memory with OpenCV: frames in batches, never dumped to image files.

The frame count and the image shape come from the decoded video itself, never from the
container header alone or a hard-coded 1080p. Files that cannot be used raise `VideoError`
with a short snake_case reason (the rejects report's `reason` column) and a readable detail.

`FramePrefetcher` decodes in a thread of its own, a few batches ahead of the consumer (OpenCV
releases the GIL while it decodes), and hands over the same batches and the same errors at the
same point as `iter_frame_batches`: the pose models run while the next frames decode.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from skeleton.core import reasons
from skeleton.core.rejects import RejectError

# A decoder that stops well before the frame count the container declares met a damaged or
# truncated file. Some containers only estimate the count (duration x fps), so a small shortfall
# is tolerated: max(TRUNCATION_MIN_FRAMES, TRUNCATION_FRACTION x declared) frames.
TRUNCATION_MIN_FRAMES = 2
TRUNCATION_FRACTION = 0.02


class VideoError(RejectError):
    """A video that cannot be decoded (`reason`, `detail`; the message names the path too)."""

    def __init__(self, path: str, reason: str, detail: str):
        super().__init__(reason, detail, f"{path}: {reason}: {detail}")
        self.path = path


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
        raise VideoError(path, reasons.MISSING_VIDEO, "no such file")
    if not os.path.isfile(path):
        raise VideoError(path, reasons.NOT_A_VIDEO, "not a regular file")
    if os.path.getsize(path) == 0:
        raise VideoError(path, reasons.EMPTY_VIDEO, "the file is empty (0 bytes)")
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        cap.release()
        raise VideoError(path, reasons.UNDECODABLE_VIDEO, "OpenCV/FFmpeg cannot open it as a video")
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
                    reasons.INCONSISTENT_FRAMES,
                    f"frame {info.decoded_frames} is {w}x{h}, earlier frames "
                    f"{info.width}x{info.height}",
                )
            info.decoded_frames += 1
            batch.append(frame)
            if len(batch) == batch_size:
                yield batch
                batch = []
        if info.decoded_frames == 0:
            raise VideoError(path, reasons.NO_FRAMES, "opened as a video, but no frame decodes")
        shortfall = info.declared_frames - info.decoded_frames
        if shortfall > max(TRUNCATION_MIN_FRAMES, TRUNCATION_FRACTION * info.declared_frames):
            raise VideoError(
                path,
                reasons.TRUNCATED_VIDEO,
                f"decoding stopped after {info.decoded_frames} of the "
                f"{info.declared_frames} frames the header declares",
            )
        if batch:
            yield batch
    finally:
        cap.release()


def frame_batches(
    path: str | os.PathLike, batch_size: int, info: VideoInfo | None = None, prefetch: int = 0
) -> Iterator[list[np.ndarray]]:
    """`iter_frame_batches`, decoded `prefetch` batches ahead in a thread when prefetch > 0."""
    if prefetch > 0:
        return FramePrefetcher(path, batch_size, info, depth=prefetch)
    return iter_frame_batches(path, batch_size, info)


_END = object()  # queue item after the last batch


def _put(q: queue.Queue, stop: threading.Event, item: object) -> bool:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _decode_into(
    q: queue.Queue, stop: threading.Event, path: str, batch_size: int, info: VideoInfo
) -> None:
    batches = iter_frame_batches(path, batch_size, info)
    try:
        for batch in batches:
            if not _put(q, stop, batch):
                return
        _put(q, stop, _END)
    except BaseException as exc:  # handed to the consumer, raised where it would be
        _put(q, stop, exc)
    finally:
        batches.close()


class FramePrefetcher:
    """The batches of `iter_frame_batches`, decoded up to `depth` batches ahead in a thread.

    Decoding starts when the object is made (so a second pass can decode while the first one's
    results are still being processed). Iterating yields exactly the batches of
    iter_frame_batches and raises its VideoError where it would; `info` is filled by the
    decoding thread (ahead of the batches handed over; final once iteration ends). `close()`
    (also on leaving a `with` block, or when the iteration is abandoned and the object dropped)
    stops the thread and releases the file.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        batch_size: int,
        info: VideoInfo | None = None,
        depth: int = 2,
    ) -> None:
        self.info = info if info is not None else VideoInfo(os.fspath(path), 0, 0.0)
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, int(depth)))
        self._stop = threading.Event()
        self._done = False
        # The thread gets the queue, not `self`: an abandoned prefetcher is collected and stops it.
        self._thread = threading.Thread(
            target=_decode_into,
            args=(self._queue, self._stop, os.fspath(path), batch_size, self.info),
            name=f"decode {os.path.basename(os.fspath(path))}",
            daemon=True,
        )
        self._thread.start()

    def __iter__(self) -> Iterator[list[np.ndarray]]:
        return self

    def __next__(self) -> list[np.ndarray]:
        if self._done:
            raise StopIteration
        item = self._queue.get()
        if item is _END or isinstance(item, BaseException):
            self._done = True
            self._thread.join()
            if item is _END:
                raise StopIteration
            raise item
        return item

    def close(self) -> None:
        self._done = True
        self._stop.set()
        while True:  # unblock a thread waiting to put
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join()

    def __enter__(self) -> FramePrefetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not self._done:
            self._stop.set()


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
