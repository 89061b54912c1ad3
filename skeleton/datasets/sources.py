"""The workflow's view of a video source: its config section and the pose stage's options.

Each source is configured by the config section named after it (`ntu`, `ucf101`, ..., `custom`);
its VideoSource (skeleton.datasets) turns the section into what the index needs. `pose_arguments`
is the one place where the options of a pose shard's `skeleton pose` command are assembled from
config `pose` and the source (NTU's post-processing, FineGYM's boxes): a list of arguments, so
no config value ever passes through a shell unquoted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skeleton.datasets import SourceSettings, video_source


def section(source: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The source's config section ({} when the config has none: the schema's defaults fill
    every section in the workflow; a library caller may leave one out)."""
    return dict(config.get(source) or {})


def configured(source: str, config: Mapping[str, Any]) -> bool:
    """Whether the config asks for this source (its videos, or custom's list, are set)."""
    return video_source(source).configured(section(source, config))


def settings(source: str, config: Mapping[str, Any]) -> SourceSettings:
    """The source's index settings; ConfigError naming the keys to set when some are missing."""
    return video_source(source).settings(section(source, config))


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
    mode = video_source(source).pose_dataset
    args += ["--dataset", mode]
    if mode == "ntu":  # NTU box post-processing (mmaction2 | tracks)
        args += ["--postproc", str(pose["postproc"])]
    if boxes:  # ground-truth person boxes instead of the detector (FineGYM)
        args += ["--boxes", boxes]
    return args
