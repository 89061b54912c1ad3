"""The workflow's view of a video source: its config section and the pose stage's options.

Each source is configured by the config section named after it (`ntu`, `ucf101`, ..., `custom`).
`settings` turns the section into what the index needs (annotations, video roots, reader
options, ground-truth boxes); `pose_arguments` is the one place where the options of a pose
shard's `skeleton pose` command are assembled from config `pose` and the source (NTU's
post-processing, FineGYM's boxes): a list of arguments, so no config value ever passes through
a shell unquoted.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from skeleton.datasets import ConfigError, SourceSettings, reader

ROOT_KEYS = ("videos", "annotations", "boxes")  # section keys that are not reader options


def as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value or []]


def section(source: str, config: Mapping[str, Any]) -> dict[str, Any]:
    return dict(config.get(source) or {})


def configured(source: str, config: Mapping[str, Any]) -> bool:
    """Whether the config asks for this source (its videos, or custom's list, are set)."""
    hook = getattr(reader(source), "configured", None)
    sec = section(source, config)
    return bool(hook(sec) if hook is not None else sec.get("videos"))


def settings(source: str, config: Mapping[str, Any]) -> SourceSettings:
    """The source's index settings; ConfigError naming the keys to set when some are missing."""
    module = reader(source)
    sec = section(source, config)
    hook = getattr(module, "settings", None)
    if hook is not None:
        return hook(sec)
    if not sec.get("videos") or not sec.get("annotations"):
        raise ConfigError(
            f"target {source}: set {source}.videos (root folder of the videos) and "
            f"{source}.annotations (folder holding the official split files)"
        )
    annotations, videos = str(sec["annotations"]), as_list(sec["videos"])
    options = {k: v for k, v in sec.items() if k not in ROOT_KEYS and v is not None}
    boxes_file = getattr(module, "BOXES_FILE", None)
    boxes = sec.get("boxes") or (os.path.join(annotations, boxes_file) if boxes_file else None)
    return SourceSettings(annotations, videos, options, boxes, [annotations, *videos])


def pose_tag_arguments(pose: Mapping[str, Any], models: str | None) -> list[str]:
    """`skeleton pose-tag` options: what names the model (results/pose/<tag>/)."""
    args = ["--backend", pose["backend"], "--checkpoint", str(pose["checkpoint"])]
    args += ["--device", pose["device"]] + (["--fp16"] if pose["fp16"] else [])
    return args + (["--models", models] if models else [])


def pose_arguments(
    pose: Mapping[str, Any], source: str, boxes: str | None, models: str | None
) -> list[str]:
    """`skeleton pose` options of one pose shard of `source` (videos, outputs aside)."""
    args = pose_tag_arguments(pose, models)
    args += ["--batch-size", str(pose["batch_size"]), "--max-persons", str(pose["max_persons"])]
    args += ["--in-flight", str(pose["in_flight"])]
    mode = getattr(reader(source), "POSE_DATASET", "generic")
    args += ["--dataset", mode]
    if mode == "ntu":  # NTU box post-processing (mmaction2 | tracks)
        args += ["--postproc", str(pose["postproc"])]
    if boxes:  # ground-truth person boxes instead of the detector (FineGYM)
        args += ["--boxes", boxes]
    return args
