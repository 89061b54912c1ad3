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

import contextlib
import hashlib
import importlib
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

from skeleton.pose.base import BACKENDS
from skeleton.pose.tag_cache import path_state

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
    if backend not in BACKENDS:
        raise ValueError(f"unknown pose backend {backend!r}; choose from {', '.join(BACKENDS)}")
    module = importlib.import_module(BACKENDS[backend][0])
    return module.describe_static(**options)


def tag_for(backend: str, **options: Any) -> str:
    return model_tag(describe_static(backend, **options))


# ---- what the tag was computed from (the workflow's tag cache, skeleton.pose.tag_cache) -------

_reads: dict[str, str] | None = None  # path -> state, while `recorded_inputs` records
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _audit(event: str, args: tuple) -> None:
    if _reads is None:
        return
    if event == "open":
        path, mode, flags = args
        if isinstance(mode, str) and any(c in mode for c in "wax+"):
            return
        if mode is None and isinstance(flags, int) and flags & _WRITE_FLAGS:
            return
    elif event in ("os.listdir", "os.scandir"):
        path = args[0] if args[0] is not None else "."
    else:
        return
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if isinstance(path, str | os.PathLike):
        path = os.path.abspath(path)
        if path not in _reads and "__pycache__" not in path:
            _reads[path] = path_state(path)  # its state before it is read


@contextlib.contextmanager
def recorded_inputs() -> Iterator[dict[str, str]]:
    """Record the state of everything read inside the block: every file opened for reading
    (modules, checkpoint, model configs, package metadata), every folder listed (the sys.path
    entries searched for modules and metadata), plus the modules loaded before and the
    interpreter. Around `describe_static`, that is everything the model tag is a function of,
    options aside: while none of it changes, neither does the tag (skeleton.pose.tag_cache).
    What changed while inside (a scratch file written and read back, e.g. mmengine's temporary
    copy of each config, and the temporary folder holding it) is output, not input: left out.
    """
    global _reads
    if not getattr(_audit, "installed", False):  # audit hooks cannot be removed: install once
        sys.addaudithook(_audit)
        _audit.installed = True  # type: ignore[attr-defined]
    reads: dict[str, str] = {}
    _reads = reads
    try:
        yield reads
    finally:
        _reads = None
    for path, state in list(reads.items()):
        if path_state(path) != state:
            del reads[path]
    loaded = {getattr(m, "__file__", None) for m in list(sys.modules.values())}
    for path in [sys.executable, os.path.realpath(sys.executable), *filter(None, loaded)]:
        path = os.path.abspath(path)
        if "__pycache__" not in path:
            reads.setdefault(path, path_state(path))
