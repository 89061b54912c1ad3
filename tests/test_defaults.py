"""The command line and the workflow agree on the defaults of the settings both have.

A user who tries a step by hand (`skeleton pose ...`) and then runs the workflow with its
defaults must get the same thing; where a default differs on purpose (the pose device) the
command's help says why.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

import pytest
import yaml
from conftest import REPO

from skeleton.cli import build_parser
from skeleton.datasets.index import SHARD_SIZE as VIDEO_SHARD_SIZE
from skeleton.ntu.index import SHARD_SIZE as NTU_SHARD_SIZE

SCHEMA = yaml.safe_load((REPO / "config/schema/config.schema.yaml").read_text())
CONFIG = yaml.safe_load((REPO / "config/config.yaml").read_text())
# Defaults the workflow takes from the library, not the schema (rules/common.smk)
LIBRARY_DEFAULTS = {"ntu.shard_size": NTU_SHARD_SIZE, "pose.shard_size": VIDEO_SHARD_SIZE}

# (command, option dest, config key, config value -> CLI value)
SHARED: list[tuple[tuple[str, ...], str, str, Any]] = [
    (("ntu3d",), "denoise", "ntu.denoise", None),
    (("ntu-parse-shard",), "denoise", "ntu.denoise", None),
    (("ntu3d",), "max_raw_mb", "ntu.max_raw_mb", None),
    (("ntu-index",), "max_raw_mb", "ntu.max_raw_mb", None),
    (("ntu-parse-shard",), "max_raw_mb", "ntu.max_raw_mb", None),
    (("ntu-index",), "shard_size", "ntu.shard_size", None),
    (("ntu3d",), "strict", "strict", None),
    (("ntu-package",), "strict", "strict", None),
    (("dataset-package",), "strict", "strict", None),
    (("pose",), "backend", "pose.backend", None),
    (("pose",), "checkpoint", "pose.checkpoint", None),
    (("pose",), "fp16", "pose.fp16", None),
    (("pose",), "batch_size", "pose.batch_size", None),
    (("pose",), "in_flight", "pose.in_flight", None),
    (("pose",), "max_persons", "pose.max_persons", None),
    (("pose",), "postproc", "pose.postproc", None),
    (("pose-tag",), "backend", "pose.backend", None),
    (("pose-tag",), "checkpoint", "pose.checkpoint", None),
    (("pose-tag",), "fp16", "pose.fp16", None),
    (("dataset-index",), "shard_size", "pose.shard_size", None),
    (("dataset-index",), "subset", "gym.subset", None),
    (("fetch",), "deadline", "download.deadline_h", lambda hours: hours * 3600),
    (("fetch",), "max_gb", "download.max_gb", None),
]
# Options whose default differs from the config's on purpose; the help must say why, naming
# the config key.
DIFFERENT = [(("pose",), "device", "pose.device"), (("pose-tag",), "device", "pose.device")]


NO_DEFAULT = object()  # a key without a default (None is a default: null, "decide from data")


def schema_default(key: str) -> Any:
    node: dict[str, Any] = SCHEMA
    for part in key.split("."):
        node = node["properties"][part]
    return node.get("default", LIBRARY_DEFAULTS.get(key, NO_DEFAULT))


def config_value(key: str) -> Any:
    node: Any = CONFIG
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return schema_default(key)  # not in config.yaml: the schema's (or library's)
        node = node[part]
    return node


def option(path: tuple[str, ...], dest: str) -> argparse.Action:
    parser = build_parser()
    for name in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return next(a for a in parser._actions if a.dest == dest)


@pytest.mark.parametrize(("path", "dest", "key", "convert"), SHARED, ids=lambda x: str(x))
def test_cli_and_config_defaults_agree(path, dest, key, convert):
    action = option(path, dest)
    for source, value in (("schema", schema_default(key)), ("config.yaml", config_value(key))):
        assert value is not NO_DEFAULT, f"{key}: no default in the {source}"
        want = convert(value) if convert else value
        assert action.default == want, (
            f"skeleton {' '.join(path)} --{dest.replace('_', '-')} defaults to "
            f"{action.default!r}, the workflow's {key} ({source}) to {want!r}"
        )


@pytest.mark.parametrize(("path", "dest", "key"), DIFFERENT, ids=lambda x: str(x))
def test_a_different_default_is_explained_in_the_help(path, dest, key):
    action = option(path, dest)
    assert action.default != config_value(key)
    assert re.search(rf"{re.escape(key)} defaults to {config_value(key)}", action.help)


def test_every_config_default_matches_config_yaml():
    """config.yaml, read by the workflow first, repeats the schema's defaults (no silent drift
    between what the comments document and what a run without the key uses)."""
    pose = ("backend", "device", "checkpoint", "fp16", "batch_size", "in_flight", "max_persons")
    for key in ("ntu.denoise", "ntu.max_raw_mb", "strict", *(f"pose.{k}" for k in pose)):
        assert config_value(key) == schema_default(key), key
