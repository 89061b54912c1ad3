"""The model tag: a short, stable name for "these 2D poses came from exactly this model".

The tag hashes a description of the backend: its name, model configs, checkpoint identities
(file sha256, or the sha256 prefix an OpenMMLab checkpoint name carries), inference options and
the versions of the libraries that run it. Results live under `results/pose/<model_tag>/`, so a
new checkpoint, config or library version gets a new folder: only 2D work reruns and old results
stay for `skeleton pose-drift`.

The description is computed without loading a model (`describe_static`), in the interpreter
that runs the backend (the pose environment), so the workflow can name its outputs before any
job runs: `python -m skeleton pose-tag --backend yolo`.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import json
from typing import Any

from skeleton.pose.base import BACKEND_MODULES

TAG_DIGITS = 12  # hex digits of sha256 kept in the tag


def canonical_json(description: dict[str, Any]) -> str:
    return json.dumps(description, sort_keys=True, separators=(",", ":"), default=str)


def model_tag(description: dict[str, Any]) -> str:
    """`<backend>-<12 hex digits>` from a description dict."""
    digest = hashlib.sha256(canonical_json(description).encode()).hexdigest()
    return f"{description.get('backend', 'pose')}-{digest[:TAG_DIGITS]}"


def _versions(names: tuple[str, ...]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for lib in names:
        try:
            out[lib] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            out[lib] = None
    return out


def _mmpose_static(
    checkpoint: str | None = "default",
    models: dict[str, dict[str, Any]] | None = None,
    fp16: bool = False,
    device: str = "cpu",
    score_threshold: float | None = None,
    max_boxes_per_frame: int | None = None,
    **_ignored: Any,
) -> dict[str, Any]:
    """mmpose description from configuration alone (config names, checkpoint hash prefixes).

    The bundled config files are pinned by the mmdet / mmpose versions in `libraries`.
    """
    from skeleton.fetch import checkpoint_sha256_prefix
    from skeleton.pose import mmpose_backend as mb

    random = checkpoint is None or str(checkpoint).lower() == "none"
    merged = {
        key: {**mb.DEFAULT_MODELS[key], **(models or {}).get(key, {})} for key in mb.DEFAULT_MODELS
    }
    det = dict(merged["detector"])
    if score_threshold is not None:
        det["score_threshold"] = float(score_threshold)
    if max_boxes_per_frame is not None:
        det["max_boxes_per_frame"] = int(max_boxes_per_frame)
    out: dict[str, Any] = {"backend": "mmpose"}
    for key, spec in (("detector", det), ("pose", merged["pose"])):
        spec = dict(spec)
        url = None if random else spec.pop("checkpoint")
        spec.pop("checkpoint", None)
        spec["checkpoint"] = {
            "url": url,
            "sha256_prefix": None if url is None else checkpoint_sha256_prefix(url),
        }
        out[key] = spec
    out["fp16"] = bool(fp16) and str(device).startswith("cuda")
    out["libraries"] = _versions(tuple(mb.LIBRARIES))
    return out


def describe_static(backend: str, **options: Any) -> dict[str, Any]:
    """Description of `backend` with `options` (checkpoint, device, fp16, ...), no model loaded."""
    if backend not in BACKEND_MODULES:
        raise ValueError(
            f"unknown pose backend {backend!r}; choose from {', '.join(BACKEND_MODULES)}"
        )
    if backend == "mmpose":
        module = importlib.import_module(BACKEND_MODULES[backend])
        if hasattr(module, "describe_static"):
            return module.describe_static(**options)
        return _mmpose_static(**options)
    module = importlib.import_module(BACKEND_MODULES[backend])
    return module.describe_static(**options)


def tag_for(backend: str, **options: Any) -> str:
    return model_tag(describe_static(backend, **options))
