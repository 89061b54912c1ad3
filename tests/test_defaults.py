"""One home per default: the command line and the workflow agree on the settings both have.

A default the command line shares with the workflow's config lives in skeleton/core/defaults.py;
the schema (config/schema/config.schema.yaml) states it too, for Snakemake to fill in, and these
tests hold the two, every command option of the key, and the tables of config/README.md to one
value. config/config.yaml sets no key that has a default, so changing a default is one edit
there plus the schema's line these tests point at. A user who tries a step by hand (`skeleton
pose ...`) and then runs the workflow with its defaults gets the same thing; where a default
differs on purpose (the pose device) the command's help says why.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from typing import Any

import pytest
import yaml
from conftest import REPO

from skeleton.cli import build_parser
from skeleton.core import defaults

SCHEMA = yaml.safe_load((REPO / "config/schema/config.schema.yaml").read_text())
CONFIG = yaml.safe_load((REPO / "config/config.yaml").read_text())

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


def schema_node(key: str) -> dict[str, Any]:
    node: dict[str, Any] = SCHEMA
    for part in key.split("."):
        node = node["properties"][part]
        if "$ref" in node:  # a block shared through $defs: its own keys, then the shared ones
            shared = SCHEMA["$defs"][node["$ref"].rpartition("/")[2]]
            node = {**node, "properties": {**shared["properties"], **node.get("properties", {})}}
    return node


NO_DEFAULT = object()  # a key without a default (None is a default: null, "decide from data")


def schema_default(key: str) -> Any:
    return schema_node(key).get("default", NO_DEFAULT)


def config_value(key: str) -> Any:
    node: Any = CONFIG
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return schema_default(key)  # not in config.yaml: the schema's
        node = node[part]
    return node


def library_defaults() -> dict[str, Any]:
    """{config key: value} of skeleton.core.defaults."""
    return {
        f"{section}.{f.name}".lstrip("."): getattr(values, f.name)
        for section, values in defaults.SECTIONS.items()
        for f in dataclasses.fields(values)
    }


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


@pytest.mark.parametrize("key", sorted(library_defaults()))
def test_the_library_defaults_are_the_schemas(key):
    """skeleton.core.defaults and the schema state the same value for every key it has."""
    assert schema_default(key) == library_defaults()[key], (
        f"{key}: the schema's default {schema_default(key)!r}, skeleton.core.defaults "
        f"{library_defaults()[key]!r}: change both"
    )


def test_every_shared_option_is_checked():
    """Each key of skeleton.core.defaults has a command option checked above (or is the
    workflow's only through the library, as pose.shard_size through dataset-index)."""
    assert set(library_defaults()) <= {key for _, _, key, _ in SHARED}


def _keys_with_defaults(node: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for name, sub in node.get("properties", {}).items():
        key = f"{prefix}{name}"
        if "default" in schema_node(key) and not schema_node(key).get("properties"):
            out.append(key)
        if "properties" in schema_node(key) or "$ref" in sub:
            out += _keys_with_defaults(schema_node(key), f"{key}.")
    return out


def test_config_yaml_sets_no_key_that_has_a_default():
    """config.yaml, read by the workflow first, does not repeat a default: a value there would
    be the one a run uses, a second home that silently outlives a change of the default."""
    repeated = []
    for key in _keys_with_defaults(SCHEMA):
        node: Any = CONFIG
        for part in key.split("."):
            node = node.get(part, KeyError) if isinstance(node, dict) else KeyError
        if node is not KeyError:
            repeated.append(key)
    assert repeated == []


def readme_defaults() -> dict[str, str]:
    """{section.key: default} from the `| key | default | meaning |` tables of config/README.md."""
    found, section = {}, None
    for line in (REPO / "config/README.md").read_text().splitlines():
        if line.startswith("## "):
            section = m.group(1) if (m := re.match(r"## `(\w+)`", line)) else None
        elif section and (m := re.match(r"\| `(\w+)` \| `([^`]*)`", line)):
            found[f"{section}.{m.group(1)}"] = m.group(2)
    return found


def test_config_readme_tables_state_the_schemas_defaults():
    rows = readme_defaults()
    assert {"ntu.shard_size", "pose.in_flight", "visualize.format"} <= set(rows)
    for key, text in rows.items():
        if "default" in schema_node(key):
            assert yaml.safe_load(text) == schema_default(key), f"config/README.md: {key}"
