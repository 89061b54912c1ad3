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


def describe_static(backend: str, **options: Any) -> dict[str, Any]:
    """Description of `backend` with `options` (checkpoint, device, fp16, ...), no model loaded.

    Each backend module defines `describe_static(**options)`; its backend's `describe()` adds
    what only the loaded model knows.
    """
    if backend not in BACKEND_MODULES:
        raise ValueError(
            f"unknown pose backend {backend!r}; choose from {', '.join(BACKEND_MODULES)}"
        )
    module = importlib.import_module(BACKEND_MODULES[backend])
    return module.describe_static(**options)


def tag_for(backend: str, **options: Any) -> str:
    return model_tag(describe_static(backend, **options))
