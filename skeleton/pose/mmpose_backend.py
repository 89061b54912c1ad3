"""The `mmpose` pose backend: mmdet person detector + mmpose top-down HRNet, batched.

Both models load once per backend. `detect` runs the detector on all frames of a call as one
batch (each frame through the detector's test pipeline, then one `model.test_step`), `estimate`
crops every box of every frame of the call and runs HRNet over them in batches of
`pose_batch_size` through the pose model's test pipeline and `test_step`. The public inference
helpers do neither: mmdet's `inference_detector` loops over images and mmpose's
`inference_topdown` takes one image at a time.

On a GPU the CPU side is kept off the models' path: `detect_stream` / `estimate_stream` prepare
the next batch (test pipelines in threads, inputs in pinned memory) while the models run the
current one, and inputs reach the GPU by asynchronous copies (on a CPU they run the batches one
after another: the models use every core already). The models see the same input
bytes in the same batches as through `detect` / `estimate`, so the results are the same.
`cudnn_benchmark` (default: on with fp16 on CUDA) lets cuDNN pick its fastest convolution
algorithms, which may differ between runs in the last bits; fp32 leaves it off, so fp32 results
stay reproducible run to run.

Runs only inside the pose environment (envs/pose.yaml or `skeleton make-env pose`): torch,
mmcv, mmdet and mmpose are imported when a backend is built, not when this module is imported.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import yaml

from skeleton.core.fetch import checkpoint_sha256_prefix
from skeleton.core.versions import module_versions
from skeleton.pose.base import NUM_KEYPOINTS

NAME = "mmpose"

# The models of PYSKL's / MMAction2's NTU RGB+D 2D skeletons, as shipped in
# skeleton/pose/models.yaml (its `mmpose` section; sources there). A `pose.models` file of the
# user's merges over them.
MODELS_FILE = Path(__file__).resolve().parent / "models.yaml"
DEFAULT_MODELS: dict[str, dict[str, Any]] = yaml.safe_load(MODELS_FILE.read_text())["mmpose"]
# The modules the backend runs on (decoding included): the tag records their versions as
# imported, so an upgrade of any of them names a new results folder.
MODULES = ("torch", "torchvision", "mmcv", "mmengine", "mmdet", "mmpose", "numpy", "cv2")
DEFAULT = "default"  # checkpoint option: the configured URL; None/"none": random weights
RANDOM_INIT_SEED = 0  # torch seed before building each model with random weights
MAX_PREPROCESS_WORKERS = 8  # CPU threads preparing inputs when the models run on a GPU

In = TypeVar("In")
Prepared = TypeVar("Prepared")
Out = TypeVar("Out")


def staged(
    prepare: Callable[[In], Prepared], run: Callable[[Prepared], Out], inputs: Iterable[In]
) -> Iterator[Out]:
    """run(prepare(x)) for each x in order, preparing the next x in a thread while run works.

    Pulling the next input (e.g. from a decoding thread) and preparing it overlap with the
    current `run`; one input is prepared ahead, so memory stays at two batches.
    """
    with ThreadPoolExecutor(1, "pose-stage") as stage:
        it = iter(inputs)
        pending = None
        for first in it:
            pending = stage.submit(prepare, first)
            break
        while pending is not None:
            current = pending.result()
            pending = None
            for nxt in it:
                pending = stage.submit(prepare, nxt)
                break
            yield run(current)


def resolve_config(package: str, config: str) -> Path:
    """A config path as given if it exists, else relative to `package`'s bundled `.mim/`."""
    path = Path(config)
    if path.is_file():
        return path.resolve()
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(f"{config}: not a file, and package {package} is not installed")
    bundled = Path(spec.origin).parent / ".mim" / config
    if not bundled.is_file():
        raise FileNotFoundError(f"{config}: neither a file nor in {package}'s .mim/ folder")
    return bundled


def checkpoint_cache() -> Path:
    root = os.environ.get("SKELETON_CACHE") or Path.home() / ".cache" / "skeleton"
    return Path(root) / "checkpoints"


def resolve_checkpoint(url_or_path: str, offline: bool = False) -> Path:
    """A local checkpoint file, verified against the sha256 prefix in its OpenMMLab name.

    URLs are downloaded once into $SKELETON_CACHE/checkpoints (default ~/.cache/skeleton).
    """
    from skeleton.core.fetch import fetch, verify

    prefix = checkpoint_sha256_prefix(url_or_path)
    if "://" in url_or_path and not url_or_path.startswith("file://"):
        out = checkpoint_cache() / Path(url_or_path.split("?")[0]).name
        return fetch(url_or_path, out, sha256_prefix=prefix, offline=offline)
    path = Path(url_or_path.removeprefix("file://"))
    verify(path, sha256_prefix=prefix)
    return path


def config_id(path: Path) -> str:
    """`mmdet:configs/...` for a config bundled in a package, else the path itself."""
    parts = path.parts
    if ".mim" in parts:
        at = len(parts) - 1 - parts[::-1].index(".mim")
        return f"{parts[at - 1]}:{'/'.join(parts[at + 1 :])}"
    return str(path)


def config_sha256(cfg: Any) -> str:
    """Hash of a loaded mmengine Config with its bases merged (what the model is built from)."""
    blob = json.dumps(cfg.to_dict(), sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def _settings(
    checkpoint: str | None, models: dict[str, dict[str, Any]] | None
) -> tuple[bool, dict[str, dict[str, Any]]]:
    """(random weights?, models merged over DEFAULT_MODELS)."""
    random_weights = checkpoint is None or str(checkpoint).lower() == "none"
    if not random_weights and checkpoint != DEFAULT:
        raise ValueError(f"checkpoint={checkpoint!r}: 'default' or 'none' (URLs go in models=)")
    merged = {key: {**DEFAULT_MODELS[key], **(models or {}).get(key, {})} for key in DEFAULT_MODELS}
    return random_weights, merged


def describe_static(
    checkpoint: str | None = DEFAULT,
    models: dict[str, dict[str, Any]] | None = None,
    fp16: bool = False,
    device: str = "cpu",
    score_threshold: float | None = None,
    max_boxes_per_frame: int | None = None,
    **_ignored: Any,
) -> dict[str, Any]:
    """What identifies the model, without loading it (the model tag is computed from this).

    Configs by package-relative name and by hash of their merged content (bases included);
    checkpoints by URL and the sha256 prefix in their name (downloads are verified against it).
    Needs mmengine and the config's package installed (the pose env).
    """
    from mmengine.config import Config

    random_weights, models = _settings(checkpoint, models)
    out: dict[str, Any] = {"backend": NAME}
    for key in ("detector", "pose"):
        spec = models[key]
        path = resolve_config(spec["package"], spec["config"])
        url = None if random_weights else spec["checkpoint"]
        out[key] = {
            "config": config_id(path),
            "config_sha256": config_sha256(Config.fromfile(str(path))),
            "checkpoint": url,
            "checkpoint_sha256_prefix": None if url is None else checkpoint_sha256_prefix(url),
        }
    det = models["detector"]
    out["detector"]["person_label"] = int(det["person_label"])
    out["detector"]["score_threshold"] = float(
        det["score_threshold"] if score_threshold is None else score_threshold
    )
    out["detector"]["max_boxes_per_frame"] = int(
        det["max_boxes_per_frame"] if max_boxes_per_frame is None else max_boxes_per_frame
    )
    out["fp16"] = bool(fp16) and str(device).startswith("cuda")
    out["modules"] = module_versions(MODULES)
    return out


def detector_pipeline(cfg: Any) -> list[dict]:
    """The detector config's test pipeline for decoded frames, as `detect` runs it.

    Frames arrive as arrays: the loading step becomes mmdet.LoadImageFromNDArray (what mmdet's
    `inference_detector` does for an array), and there is no ground truth to load.
    """
    steps = [dict(s) for s in cfg.test_dataloader.dataset.pipeline]
    steps = [s for s in steps if "LoadAnnotations" not in s["type"]]
    steps[0] = dict(type="mmdet.LoadImageFromNDArray")
    return steps


def pose_pipeline(cfg: Any) -> list[dict]:
    """The pose config's test pipeline as `estimate` runs it (LoadImage takes arrays as is)."""
    return [dict(s) for s in cfg.test_dataloader.dataset.pipeline]


class MMPoseBackend:
    """Faster R-CNN person boxes + top-down HRNet COCO-17 keypoints (PoseBackend)."""

    name = NAME

    def __init__(
        self,
        device: str = "cpu",
        checkpoint: str | None = DEFAULT,
        models: dict[str, dict[str, Any]] | None = None,
        fp16: bool = False,
        score_threshold: float | None = None,
        max_boxes_per_frame: int | None = None,
        pose_batch_size: int = 64,
        preprocess_workers: int | None = None,
        offline: bool = False,
        cudnn_benchmark: bool | None = None,
        pin_memory: bool | None = None,
        stage: bool | None = None,
        **_ignored: Any,
    ) -> None:
        import torch
        from mmdet.apis import init_detector
        from mmengine.dataset import Compose
        from mmpose.apis import init_model
        from mmpose.utils import adapt_mmdet_pipeline

        self._description = describe_static(
            checkpoint, models, fp16, device, score_threshold, max_boxes_per_frame
        )
        random_weights, models = _settings(checkpoint, models)
        det, pose = models["detector"], models["pose"]
        self.device = device
        self.fp16 = self._description["fp16"]
        self.person_label = self._description["detector"]["person_label"]
        self.score_threshold = self._description["detector"]["score_threshold"]
        self.max_boxes = self._description["detector"]["max_boxes_per_frame"]
        self.pose_batch_size = max(1, int(pose_batch_size))
        # Per-frame resizing and per-box cropping run on the CPU; with the models on a GPU they
        # dominate a batch unless spread over cores. On a CPU the models use every core already.
        workers = preprocess_workers
        if workers is None:
            workers = min(MAX_PREPROCESS_WORKERS, os.cpu_count() or 1) if device != "cpu" else 1
        self._pool = ThreadPoolExecutor(workers, "pose-preprocess") if workers > 1 else None
        self._torch = torch
        on_cuda = str(device).startswith("cuda") and torch.cuda.is_available()
        # Preparing the next batch beside a model that runs on the CPU only takes its cores.
        self._stage = on_cuda if stage is None else bool(stage)
        # Pinned (page-locked) inputs make the copies to the GPU asynchronous; same bytes.
        self._pin = on_cuda if pin_memory is None else bool(pin_memory) and on_cuda
        if cudnn_benchmark is None:
            cudnn_benchmark = self.fp16
        if cudnn_benchmark and on_cuda:
            torch.backends.cudnn.benchmark = True  # process-wide, as cuDNN's setting is

        loaded: dict[str, str | None] = {"detector": None, "pose": None}
        if not random_weights:
            for key, spec in (("detector", det), ("pose", pose)):
                loaded[key] = str(resolve_checkpoint(spec["checkpoint"], offline=offline))
        det_config = resolve_config(det["package"], det["config"])
        pose_config = resolve_config(pose["package"], pose["config"])
        if random_weights:  # `--checkpoint none`: the same random weights on every run
            torch.manual_seed(RANDOM_INIT_SEED)
        self.detector = init_detector(str(det_config), loaded["detector"], device=device)
        adapt_mmdet_pipeline(self.detector.cfg)  # mmdet transforms, resolved in mmpose's scope
        self._det_pipeline = Compose(detector_pipeline(self.detector.cfg))

        if random_weights:
            torch.manual_seed(RANDOM_INIT_SEED)
        self.pose_model = init_model(str(pose_config), loaded["pose"], device=device)
        self._pose_pipeline = Compose(pose_pipeline(self.pose_model.cfg))
        self._pose_meta = dict(self.pose_model.dataset_meta)

    def _map(self, transform: Any, infos: list[dict]) -> list[dict]:
        """The test pipeline over many inputs; in threads (OpenCV releases the GIL) on a GPU."""
        if self._pool is None or len(infos) < 2:
            return [transform(info) for info in infos]
        return list(self._pool.map(transform, infos))

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.fp16:
            return self._torch.autocast("cuda", dtype=self._torch.float16)
        return contextlib.nullcontext()

    def _pinned(self, item: dict) -> dict:
        if self._pin:
            item["inputs"] = item["inputs"].pin_memory()
        return item

    def _to_device(self, inputs: list) -> list:
        if not self._pin:
            return inputs  # the data preprocessor copies them (synchronously)
        return [t.to(self.device, non_blocking=True) for t in inputs]

    def _prepare_detect(self, frames: list[np.ndarray]) -> dict:
        """The detector's test pipeline on every frame (CPU): one batch for `_run_detect`."""
        infos = [dict(img=f, img_id=i) for i, f in enumerate(frames)]
        items = self._map(lambda info: self._pinned(self._det_pipeline(info)), infos)
        return {
            "inputs": [item["inputs"] for item in items],
            "data_samples": [item["data_samples"] for item in items],
        }

    def _run_detect(self, batch: dict) -> list[np.ndarray]:
        if not batch["inputs"]:
            return []
        batch = dict(batch, inputs=self._to_device(batch["inputs"]))
        with self._torch.no_grad(), self._autocast():
            results = self.detector.test_step(batch)
        out = []
        for result in results:
            inst = result.pred_instances
            boxes = inst.bboxes.float().cpu().numpy()
            scores = inst.scores.float().cpu().numpy()
            labels = inst.labels.cpu().numpy()
            keep = (labels == self.person_label) & (scores >= self.score_threshold)
            boxes, scores = boxes[keep], scores[keep]
            order = np.argsort(-scores, kind="stable")[: self.max_boxes]
            out.append(
                np.concatenate([boxes[order], scores[order, None]], axis=1).astype(np.float32)
            )
        return out

    def detect(self, frames: list[np.ndarray]) -> list[np.ndarray]:
        """Person boxes per frame: (N, 5) float32 [x1, y1, x2, y2, score], best first."""
        if not frames:
            return []
        return self._run_detect(self._prepare_detect(frames))

    def detect_stream(self, batches: Iterable[list[np.ndarray]]) -> Iterator[list[np.ndarray]]:
        """`detect` of each batch in order, the next batch prepared while the detector runs."""
        if not self._stage:
            return map(self.detect, batches)
        return staged(self._prepare_detect, self._run_detect, batches)

    def _prepare_estimate(
        self, frames_boxes: tuple[list[np.ndarray], list[np.ndarray]]
    ) -> tuple[list[dict], np.ndarray, int]:
        """The pose test pipeline on every box (CPU): (items, owning frame of each, frames)."""
        frames, boxes = frames_boxes
        if len(frames) != len(boxes):
            raise ValueError(f"{len(frames)} frames but {len(boxes)} box arrays")
        owners: list[int] = []
        infos = []
        for index, (frame, frame_boxes) in enumerate(zip(frames, boxes, strict=True)):
            arr = np.asarray(frame_boxes, dtype=np.float32)
            for box in arr.reshape(-1, arr.shape[-1]) if arr.size else ():
                info = dict(img=frame, bbox=box[None, :4], bbox_score=np.ones(1, np.float32))
                info.update(self._pose_meta)
                infos.append(info)
                owners.append(index)
        items = self._map(lambda info: self._pinned(self._pose_pipeline(info)), infos)
        return items, np.asarray(owners, dtype=np.int64), len(frames)

    def _run_estimate(
        self, prepared: tuple[list[dict], np.ndarray, int]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        from mmengine.dataset import pseudo_collate

        items, owner, n_frames = prepared
        keypoints = np.zeros((len(items), NUM_KEYPOINTS, 2), np.float32)
        scores = np.zeros((len(items), NUM_KEYPOINTS), np.float32)
        for start in range(0, len(items), self.pose_batch_size):
            batch = pseudo_collate(items[start : start + self.pose_batch_size])
            batch["inputs"] = self._to_device(batch["inputs"])
            with self._torch.no_grad(), self._autocast():
                results = self.pose_model.test_step(batch)
            for offset, result in enumerate(results):
                inst = result.pred_instances
                keypoints[start + offset] = np.asarray(inst.keypoints, np.float32)[0]
                scores[start + offset] = np.asarray(inst.keypoint_scores, np.float32)[0]
        return [(keypoints[owner == i], scores[owner == i]) for i in range(n_frames)]

    def estimate(
        self, frames: list[np.ndarray], boxes: list[np.ndarray]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """COCO-17 keypoints (N, 17, 2) and scores (N, 17) per frame, rows aligned with `boxes`."""
        return self._run_estimate(self._prepare_estimate((frames, boxes)))

    def estimate_stream(
        self, batches: Iterable[tuple[list[np.ndarray], list[np.ndarray]]]
    ) -> Iterator[list[tuple[np.ndarray, np.ndarray]]]:
        """`estimate` of each (frames, boxes) in order, the next one prepared meanwhile."""
        if not self._stage:
            return (self.estimate(f, b) for f, b in batches)
        return staged(self._prepare_estimate, self._run_estimate, batches)

    def describe(self) -> dict[str, Any]:
        """What identifies the model: configs (name, content hash), weights, libraries."""
        return dict(self._description)
