"""The pose backend contract, COCO-17 facts and the backend registry.

A backend turns batches of decoded BGR frames into person boxes and COCO-17 keypoints: every
backend is a `PoseBackend` (`detect`, then `estimate` in given boxes, and `describe` for the
model tag). Two optional parts, each a Protocol of its own, are used when a backend has them:
`FusedBackend.detect_and_estimate` (a single-stage model, YOLO-pose: boxes and keypoints in one
call, preferred by `run_backend`) and `StreamingBackend.detect_stream` / `estimate_stream` (a
backend that prepares the next batch's inputs while its model runs, mmpose on a GPU: the MMAction2
procedure of skeleton.pose.extract feeds it through them).

Adding a backend: a module defining the backend class (built with keyword options: device,
checkpoint, fp16, models, ...) and `describe_static(**options)` (what names the model without
loading it, skeleton.pose.tag), one line in BACKENDS, and the name in the schema's
`pose.backend` enum and `skeleton pose --backend`'s choices. Backends are imported lazily: this
module needs numpy only.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

# COCO-17 keypoint order (COCO keypoint annotation format, cocodataset.org/#format-data).
COCO17 = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
NUM_KEYPOINTS = len(COCO17)

# backend name -> (module, its backend class); the module also defines describe_static(**options)
BACKENDS: dict[str, tuple[str, str]] = {
    "mmpose": ("skeleton.pose.mmpose_backend", "MMPoseBackend"),
    "yolo": ("skeleton.pose.yolo", "YoloBackend"),
}


@runtime_checkable
class PoseBackend(Protocol):
    name: str

    def detect(self, frames: list[np.ndarray]) -> list[np.ndarray]:
        """BGR HxWx3 uint8 frames -> per frame (N, 5) float32 [x1, y1, x2, y2, score]."""
        ...

    def estimate(
        self, frames: list[np.ndarray], boxes: list[np.ndarray]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per frame (N, 17, 2) float32 xy and (N, 17) float32 scores, rows aligned to boxes."""
        ...

    def describe(self) -> dict:
        """Everything that identifies the model, for the model tag."""
        ...


Detection = tuple[np.ndarray, np.ndarray, np.ndarray]  # boxes (N, 5), keypoints, scores


@runtime_checkable
class FusedBackend(PoseBackend, Protocol):
    """A single-stage backend: boxes and keypoints of a batch in one call."""

    def detect_and_estimate(self, frames: list[np.ndarray]) -> list[Detection]:
        """Per frame (boxes (N, 5), keypoints (N, 17, 2), scores (N, 17)) float32."""
        ...


@runtime_checkable
class StreamingBackend(PoseBackend, Protocol):
    """A backend that prepares the next batch while its model runs: the same results as
    `detect` / `estimate` batch by batch, in order, one per batch given."""

    def detect_stream(self, batches: Iterable[list[np.ndarray]]) -> Iterator[list[np.ndarray]]:
        """`detect` of each batch."""
        ...

    def estimate_stream(
        self, requests: Iterable[tuple[list[np.ndarray], list[np.ndarray]]]
    ) -> Iterator[list[tuple[np.ndarray, np.ndarray]]]:
        """`estimate` of each (frames, boxes)."""
        ...


@dataclass
class Persons:
    """The person slots of one video: keypoints and the detector box behind them, per frame.

    Annotation fields of the same names; `bbox` and `bbox_score` are the detector's box (xyxy,
    pixels) and score (K400's `box_score`), zero where the person is absent.
    """

    keypoint: np.ndarray  # (M, T, 17, 2) float32
    keypoint_score: np.ndarray  # (M, T, 17) float32
    bbox: np.ndarray  # (M, T, 4) float32
    bbox_score: np.ndarray  # (M, T) float32

    @classmethod
    def empty(cls, persons: int, frames: int) -> Persons:
        return cls(
            np.zeros((persons, frames, NUM_KEYPOINTS, 2), np.float32),
            np.zeros((persons, frames, NUM_KEYPOINTS), np.float32),
            np.zeros((persons, frames, 4), np.float32),
            np.zeros((persons, frames), np.float32),
        )

    def fields(self) -> dict[str, np.ndarray]:
        return {
            "keypoint": self.keypoint,
            "keypoint_score": self.keypoint_score,
            "bbox": self.bbox,
            "bbox_score": self.bbox_score,
        }


class BackendUnavailable(RuntimeError):
    """The backend's libraries are not installed in this interpreter."""


def get_backend(name: str, **options: Any) -> PoseBackend:
    """Build backend `name` with its options (device, checkpoint, ...); loads the model."""
    return getattr(_module(name), BACKENDS[name][1])(**options)


def _module(name: str):
    if name not in BACKENDS:
        raise ValueError(f"unknown pose backend {name!r}; choose from {', '.join(BACKENDS)}")
    try:
        return importlib.import_module(BACKENDS[name][0])
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise BackendUnavailable(
            f"pose backend {name!r} cannot be imported here ({exc}); run it with the pose "
            "environment's python (`skeleton make-env pose`, config pose.python)"
        ) from exc


def empty_frame_result() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """No person: boxes (0, 5), keypoints (0, 17, 2), scores (0, 17)."""
    return (
        np.zeros((0, 5), np.float32),
        np.zeros((0, NUM_KEYPOINTS, 2), np.float32),
        np.zeros((0, NUM_KEYPOINTS), np.float32),
    )


def run_backend(backend: PoseBackend, frames: list[np.ndarray]) -> list[Detection]:
    """Per frame (boxes (N,5), keypoints (N,17,2), scores (N,17)) float32, fused when possible."""
    if not frames:
        return []
    if isinstance(backend, FusedBackend):
        out = list(backend.detect_and_estimate(frames))
    else:
        boxes = backend.detect(frames)
        poses = backend.estimate(frames, boxes)
        out = [(b, k, s) for b, (k, s) in zip(boxes, poses, strict=True)]
    if len(out) != len(frames):
        raise RuntimeError(f"backend {backend.name} returned {len(out)} results for {len(frames)}")
    checked = []
    for b, k, s in out:
        b = np.asarray(b, np.float32).reshape(-1, 5)
        k = np.asarray(k, np.float32).reshape(-1, NUM_KEYPOINTS, 2)
        s = np.asarray(s, np.float32).reshape(-1, NUM_KEYPOINTS)
        if not len(b) == len(k) == len(s):
            raise RuntimeError(f"backend {backend.name}: {len(b)} boxes, {len(k)} poses")
        checked.append((b, k, s))
    return checked
