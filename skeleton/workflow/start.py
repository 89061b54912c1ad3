"""What the workflow does while Snakemake parses it, behind one call (rules/common.smk).

`start` checks the config against its schema (which fills in every default), removes parse
shards that differ from their digest (so this run rebuilds them), checks the configured inputs
and that the output folders can be written, brings the shards' members files up to date with
the files on disk (skeleton.core.members.refresh), and computes the pose model tag with the pose
interpreter when a video source is configured. What it finds is a `Start`; the rules' input
functions only read it and the index tables (`cached_rows`).

Work that writes (damaged shards, members files, the unwritable check) is done in the main
process only: cluster jobs parse the Snakefile too, while other jobs may be writing. The files
below are the workflow's layout for what is read or written here.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from skeleton.core.files import check_inputs, check_no_braces, raw_bytes
from skeleton.core.members import refresh
from skeleton.core.outputs import unwritable_folders
from skeleton.datasets import SOURCES, ConfigError, dataset_filter
from skeleton.datasets import index as video_index
from skeleton.datasets import sources as video_sources
from skeleton.ntu import index as ntu_index
from skeleton.ntu import shards as ntu_shards
from skeleton.pose.tag_cache import TagError, cached_tag
from skeleton.release.releases import local_inputs, raw_downloads
from skeleton.workflow.configcheck import ConfigError as ConfigSchemaError
from skeleton.workflow.configcheck import Source, check_config

NTU_INDEX = "results/ntu/index.tsv"
# The state of the configured inputs (folder modification times, recursively): an input of
# the index, rewritten when it differs from the state the index was built from (NTU_SEEN), i.e.
# when a file was added, removed or renamed anywhere below them (skeleton.core.members.refresh).
NTU_INPUTS_STATE = "results/ntu/inputs.state"
NTU_SEEN = "results/ntu/index.inputs"
# What a shard job reads, and what makes it rerun (skeleton.core.members): one members file per
# shard, rewritten only when a member is added, replaced, touched or moved.
MEMBERS_DIR = "results/{source}/members"
DEMO_RAW = "ntu_raw"  # rule demo_data's output (config/demo.yaml)
OUTPUT_FOLDERS = ("results", "logs", "benchmarks")


def ntu_shard_dir(denoise: str) -> str:
    return f"results/ntu/3d_{denoise}"


def members_dir(source: str) -> str:
    return MEMBERS_DIR.format(source=source)


def video_index_path(source: str) -> str:
    return f"results/{source}/videos.tsv"


def video_inputs_state(source: str) -> str:
    """An input of the source's index: its configured files' state (see NTU_INPUTS_STATE)."""
    return f"results/{source}/video_inputs.state"


def video_seen(source: str) -> str:
    return f"results/{source}/videos.inputs"


class StartError(Exception):
    """The run cannot start (a config error, an output folder it cannot write): the message,
    a few lines, is all the user needs (common.smk exits with it)."""


class InputError(Exception):
    """A configured input or the pose interpreter cannot be used (common.smk stops the DAG
    build with it, as a WorkflowError)."""


@dataclass(frozen=True)
class Start:
    """What the rules need of the start: the config's derived settings and the model tag."""

    ntu_inputs: list[str]  # ntu.skeletons, each URL replaced by where rule fetch_raw puts it
    max_raw_bytes: int
    configured_sources: list[str]  # the video sources the config asks for
    pose_python: str
    pose_models: str | None
    pose_tag: str  # "none" without a configured video source


@functools.lru_cache(maxsize=16)
def _rows(read: Callable[[str], list], path: str, mtime: float) -> list:
    return read(path)


def cached_rows(read: Callable[[str], list], path: str | os.PathLike) -> list:
    """`read(path)` (an index table), parsed once per file version for a whole DAG build."""
    path = os.fspath(path)
    return _rows(read, path, os.path.getmtime(path))


@functools.lru_cache(maxsize=16)
def _pose_shards(dataset: str, path: str, mtime: float) -> list[int]:
    member = dataset_filter(dataset)
    rows = _rows(video_index.read_index, path, mtime)
    return sorted({r.shard for r in rows if r.shard >= 0 and member(r.sample)})


def pose_shards_of(dataset: str, index_path: str | os.PathLike) -> list[int]:
    """The pose shards of a video index holding a usable video of `dataset` (once per DAG
    build and dataset)."""
    path = os.fspath(index_path)
    return _pose_shards(dataset, path, os.path.getmtime(path))


def repo_relative(path: str | None, workflow_dir: str) -> str | None:
    """A configured path as given when it exists here, else relative to the workflow's folder."""
    if not path or os.path.isabs(path) or os.path.exists(path) or os.sep not in path:
        return path
    return os.path.join(workflow_dir, path)


def start(
    config: dict[str, Any],
    validate: Callable[..., Any],
    sources: Sequence[Source],
    workflow_dir: str,
    main_process: bool,
) -> Start:
    """The workflow's start; StartError or InputError with a message for the user."""
    schema = os.path.join(workflow_dir, "config/schema/config.schema.yaml")
    documented = os.path.join(workflow_dir, "config/config.yaml")
    try:  # a short message naming the bad key, not Snakemake's dump of the whole schema
        check_config(config, schema, validate, sources, documented)
    except ConfigSchemaError as exc:
        raise StartError(str(exc)) from None
    ntu = config["ntu"]  # every key is set: the schema's defaults were filled in
    ntu_inputs = local_inputs(ntu["skeletons"])
    if main_process:
        for why in ntu_shards.discard_damaged_in(ntu_shard_dir(ntu["denoise"])):
            say(f"rebuilding a damaged shard: {why}")
    _check_inputs(config, ntu_inputs)
    if main_process and (unwritable := unwritable_folders(list(OUTPUT_FOLDERS))):
        raise StartError("; ".join(unwritable))
    if main_process and ntu_inputs:
        for line in refresh(
            NTU_INPUTS_STATE, NTU_SEEN, ntu_inputs, NTU_INDEX, _ntu_member_rows,
            members_dir("ntu"), ntu_index.MEMBERS_PREFIX,
        ):  # fmt: skip
            say(line)
    pose = config["pose"]
    python = repo_relative(pose["python"], workflow_dir)
    models = repo_relative(pose["models"], workflow_dir)
    configured = [s for s in SOURCES if video_sources.configured(s, config)]
    tag = pose_tag(pose, python, models) if configured else "none"
    if main_process:
        _refresh_videos(config, configured)
    return Start(ntu_inputs, raw_bytes(ntu["max_raw_mb"]), configured, python, models, tag)


def say(line: str) -> None:
    print(line, file=sys.stderr)


def _check_inputs(config: Mapping[str, Any], ntu_inputs: list[str]) -> None:
    """A configured input that does not exist (or cannot be used) stops the DAG build, naming
    it: otherwise the index would keep the old listing and the run would repackage stale
    data. URLs are downloaded by a rule, and so is the demo's raw data (rules/demo.smk)."""
    ntu = config["ntu"]
    downloads = raw_downloads(ntu["skeletons"])
    demo = "demo" in config
    try:
        check_no_braces(ntu_inputs, "ntu.skeletons")
        check_no_braces(ntu["videos"], "ntu.videos")
        check_inputs(
            [p for p in ntu_inputs if p not in downloads and not (demo and p == DEMO_RAW)],
            "ntu.skeletons",
        )
        check_inputs(ntu["videos"], "ntu.videos")
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _ntu_member_rows(index_path: str) -> list:
    return ntu_index.member_rows(cached_rows(ntu_index.read_index, index_path))


def _video_member_rows(index_path: str) -> list:
    return video_index.member_rows(cached_rows(video_index.read_index, index_path))


def _refresh_videos(config: Mapping[str, Any], configured: list[str]) -> None:
    """The video sources' members files, as NTU's raw files' (a source whose section lacks what
    its index needs is said when a target needs it)."""
    for source in configured:
        try:
            files = video_sources.settings(source, config).files
        except ConfigError:
            continue
        try:
            check_no_braces(files, source)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        for line in refresh(
            video_inputs_state(source), video_seen(source), files, video_index_path(source),
            _video_member_rows, members_dir(source), video_index.MEMBERS_PREFIX,
        ):  # fmt: skip
            say(f"{source}: {line}")


def pose_tag(pose: Mapping[str, Any], python: str, models: str | None) -> str:
    """The model tag, computed by the pose interpreter only when what it hashes has changed."""
    cmd = [python, "-m", "skeleton", "pose-tag", *video_sources.pose_tag_arguments(pose, models)]
    try:
        return cached_tag(cmd)
    except TagError as exc:
        raise InputError(
            f"{exc}\npose.python={python!r}: build the pose env with "
            "`skeleton make-env pose` or set pose.python"
        ) from None
