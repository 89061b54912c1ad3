# Config, model tag and input functions of the 2D rules (rules/pose.smk, rules/datasets.smk).
# Every video source (NTU RGB+D, UCF101, HMDB51, Diving48, FineGYM, Kinetics-400, custom lists)
# has its reader in skeleton/datasets/ and its config section named after it.

import functools
import os

from snakemake.exceptions import WorkflowError

import skeleton.datasets.index as video_index
from skeleton.datasets import SOURCES, ConfigError, dataset_filter, source_of
from skeleton.datasets import reader as source_reader
from skeleton.datasets import sources as video_sources
from skeleton.pose.tag_cache import TagError, cached_tag

POSE = config["pose"]


def repo_relative(path):
    """A configured path as given when it exists here, else relative to the workflow's folder."""
    if not path or os.path.isabs(path) or os.path.exists(path) or os.sep not in path:
        return path
    return os.path.join(WORKFLOW_DIR, path)


POSE_PYTHON = repo_relative(POSE["python"])
POSE_MODELS = repo_relative(POSE.get("models"))
CONFIGURED_SOURCES = [s for s in SOURCES if video_sources.configured(s, config)]
NTU_VIDEO_INDEX = "results/ntu/videos.tsv"
# Rough costs of one NTU video (~100 frames of 1080p), for cluster job sizes.
POSE_SECONDS_PER_VIDEO = {"cuda": 10, "cpu": 120}
POSE_MB = 8000  # models + a batch of decoded 1080p frames


def pose_tag():
    """The model tag, computed by the pose interpreter only when what it hashes has changed."""
    cmd = [POSE_PYTHON, "-m", "skeleton", "pose-tag"]
    cmd += video_sources.pose_tag_arguments(POSE, POSE_MODELS)
    try:
        return cached_tag(cmd)
    except TagError as exc:
        raise WorkflowError(
            f"{exc}\npose.python={POSE_PYTHON!r}: build the pose env with "
            "`skeleton make-env pose` or set pose.python"
        )


POSE_TAG = pose_tag() if CONFIGURED_SOURCES else "none"
POSE_DIR = f"results/pose/{POSE_TAG}"


wildcard_constraints:
    source="|".join(SOURCES),


def source_settings(source):
    try:
        return video_sources.settings(source, config)
    except ConfigError as exc:
        raise WorkflowError(str(exc))


@functools.lru_cache(maxsize=16)
def _video_rows(path, mtime):
    return video_index.read_index(path)


def source_rows(source):
    """The video index of `source` (its checkpoint's table, read once per DAG build)."""
    path = checkpoints.video_index.get(source=source).output.index
    return _video_rows(path, os.path.getmtime(path))


def pose_shard_rows(wildcards):
    return video_index.shard_rows(source_rows(wildcards.source), int(wildcards.shard))


def pose_shard_videos(wildcards):
    """The shard's video files: touching one reruns only its shard."""
    return [r.path for r in pose_shard_rows(wildcards)]


def pose_shard_members(wildcards):
    return [f"{r.sample}={r.path}" for r in pose_shard_rows(wildcards)]


def pose_shard_boxes(wildcards):
    boxes = source_settings(wildcards.source).boxes
    return [boxes] if boxes else []


def pose_options(wildcards):
    """`skeleton pose` options of the source's shards: assembled in one place, as a list."""
    boxes = source_settings(wildcards.source).boxes
    return video_sources.pose_arguments(POSE, wildcards.source, boxes, POSE_MODELS)


def dataset_pose_shards(pattern):
    """Input function: `pattern` ({source}, {dataset}, {k}) for each pose shard holding a usable
    video of the dataset (wildcard `dataset` or `ds`)."""

    def inputs(wildcards):
        dataset = getattr(wildcards, "dataset", None) or wildcards.ds
        source = source_of(dataset)
        member = dataset_filter(dataset)
        shards = {
            r.shard for r in source_rows(source) if r.shard >= 0 and member(r.sample)
        }
        return expand(pattern, source=source, dataset=dataset, k=sorted(shards))

    return inputs


def pose_device_kind():
    return "cuda" if POSE["device"].startswith("cuda") else "cpu"
