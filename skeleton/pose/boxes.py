"""Ground-truth person boxes in place of the detector (FineGYM's released athlete boxes).

`skeleton pose --boxes FILE` runs the same extraction as with a detector: `GivenBoxes` wraps
the backend so that its `detect` returns the box file's boxes of the frames asked for, and only
the pose model runs (`estimate` on those boxes). Everything after detection (post-processing,
person slots, rejects, resume) is the ordinary path of `skeleton.pose.extract` and `.shard`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from skeleton.pose.base import PoseBackend

# frame_dir -> per-frame (k, 5) float32 boxes [x1 y1 x2 y2 score], None when the file has none
BoxLookup = Callable[[str], Sequence[np.ndarray] | None]


class GivenBoxes:
    """A PoseBackend whose detector is a box list: one video's per-frame boxes.

    `detect` is called once per batch of consecutive frames, from the first frame on (as the
    extractor decodes them); frames beyond the list have no box, so no person.
    """

    def __init__(self, backend: PoseBackend, per_frame: Sequence[np.ndarray]) -> None:
        self.backend = backend
        self.name = backend.name
        self.per_frame = per_frame
        self.next_frame = 0

    def detect(self, frames: list[np.ndarray]) -> list[np.ndarray]:
        start, self.next_frame = self.next_frame, self.next_frame + len(frames)
        return [
            np.asarray(self.per_frame[t], np.float32).reshape(-1, 5)
            if t < len(self.per_frame)
            else np.zeros((0, 5), np.float32)
            for t in range(start, start + len(frames))
        ]

    def estimate(
        self, frames: list[np.ndarray], boxes: list[np.ndarray]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        return self.backend.estimate(frames, boxes)

    def describe(self) -> dict:
        return {**self.backend.describe(), "boxes": "given"}
