"""Workflow config checks that explain themselves: a few lines naming each bad key or value,
what is allowed there and which config source set it (rules/common.smk calls these around
Snakemake's schema validation, whose own report dumps the whole schema).
"""

from __future__ import annotations

import copy
import difflib
import os
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

MAX_ERRORS = 8  # errors listed; the whole message stays under 20 lines
# A config holds a few hundred values. YAML anchors and aliases repeat a node without copying it,
# so a file of a few hundred bytes can stand for 10^9 values ("billion laughs"), and the schema
# validation walks, and its error message prints, every one of them. Such a config (or one that
# contains itself, or nests this deep) is refused before it is checked.
MAX_CONFIG_VALUES = 100_000  # values in the expanded config, text counted per 64 characters
MAX_CONFIG_DEPTH = 64
VALUE_CHARS = 60  # a bad value is shown cut to this length
SCALAR_TYPES = {"boolean": bool, "integer": int, "number": (int, float), "null": type(None)}

Source = tuple[str, Mapping[str, Any]]  # (where it came from, the config it holds)


def _types(schema: Mapping[str, Any]) -> set[str]:
    types = schema.get("type", [])
    out = {types} if isinstance(types, str) else set(types)
    for alt in schema.get("oneOf", []) + schema.get("anyOf", []):
        out |= _types(alt)
    return out


def _fits(value: Any, types: set[str]) -> bool:
    if isinstance(value, bool):
        return "boolean" in types
    return any(t in types and isinstance(value, SCALAR_TYPES[t]) for t in SCALAR_TYPES)


def coerce_strings(value: Any, schema: Mapping[str, Any]) -> Any:
    """`value` with strings turned into booleans, numbers or null where the schema wants one
    and no string: `--config strict=true` (and nested `--config ntu='{"shard_size": 50}'`)
    arrive as strings. Dicts and lists are changed in place."""
    if isinstance(value, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            if sub:
                value[key] = coerce_strings(item, sub)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        value[:] = [coerce_strings(item, schema["items"]) for item in value]
    elif isinstance(value, str):
        types = _types(schema)
        if types and "string" not in types:
            try:
                parsed = yaml.safe_load(value)
            except yaml.YAMLError:
                return value
            if _fits(parsed, types):
                return parsed
    return value


def size_problem(config: Any) -> str | None:
    """Why `config` is too big to check, or None: expanded (each alias counted where it is
    used) it holds more than MAX_CONFIG_VALUES values, or it nests deeper than MAX_CONFIG_DEPTH
    levels (a node that contains itself does)."""
    count = 0
    stack: list[tuple[Any, int]] = [(config, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Mapping):
            items: Any = [*node.keys(), *node.values()]
        elif isinstance(node, list | tuple):
            items = node
        else:
            count += 1 + (len(node) // 64 if isinstance(node, str | bytes) else 0)
            items = ()
        if items:
            if depth >= MAX_CONFIG_DEPTH:
                return (
                    f"it nests deeper than {MAX_CONFIG_DEPTH} levels (a YAML anchor used "
                    "inside itself?)"
                )
            count += len(items)
            if count > MAX_CONFIG_VALUES:
                break
            stack.extend((item, depth + 1) for item in items)
        if count > MAX_CONFIG_VALUES:
            break
    if count > MAX_CONFIG_VALUES:
        return (
            f"it expands to more than {MAX_CONFIG_VALUES} values (YAML aliases repeating an "
            "anchored node?)"
        )
    return None


def config_sources(
    files: Sequence[str | os.PathLike],
    cli_files: Sequence[str | os.PathLike],
    cli_config: Mapping[str, Any],
    base: str | os.PathLike,
) -> list[Source]:
    """Config sources, most important first: `--config`, then `--configfile` files (last one
    first), then the workflow's own `configfile:` files (relative paths are taken in `base`
    when absent here)."""
    cli = [os.path.abspath(f) for f in cli_files]
    own = [f for f in files if os.path.abspath(f) not in cli]
    out: list[Source] = [("--config", cli_config)] if cli_config else []
    for f in [*reversed(cli), *reversed(own)]:
        path = f if os.path.exists(f) else os.path.join(base, f)
        try:
            with open(path, encoding="utf-8") as fh:
                data = yaml.safe_load(fh) or {}
        except (OSError, yaml.YAMLError):
            data = {}
        out.append((_display(path), data))
    return out


def _display(path: str | os.PathLike) -> str:
    rel = os.path.relpath(path)
    return os.path.abspath(path) if rel.startswith("..") else rel


def _origin(path: Sequence[str], sources: Sequence[Source]) -> str | None:
    """The most important source that sets the key `path`."""
    for name, data in sources:
        node: Any = data
        for key in path:
            if isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            elif isinstance(node, Mapping) and key in node:
                node = node[key]
            else:
                break
        else:
            return name
    return None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 3] + "..."


def _where(path: Sequence[str], sources: Sequence[Source]) -> str:
    origin = _origin(path, sources)
    return f" (set in {origin})" if origin else ""


def _explain(error: Any, sources: Sequence[Source], root: Mapping[str, Any]) -> list[str]:
    path = [str(p) for p in error.absolute_path]
    name = ".".join(path) or "the config"
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        # a section built on a shared block ($ref, e.g. the video datasets' video_source) also
        # allows the block's keys
        allowed = sorted(_allowed_keys(schema, root))
        out = []
        for key in sorted(set(error.instance) - set(allowed)):
            full = path + [key]
            line = f"unknown key {'.'.join(full)}{_where(full, sources)}"
            close = difflib.get_close_matches(key, allowed, n=1)
            if close:
                line += f": did you mean {close[0]}?"
            out.append(line + f" Allowed in {name}: {', '.join(allowed)}")
        return out
    if error.validator == "required":
        return [f"{name}: {error.message}"]
    line = f"{name} = {_show(error.instance)}{_where(path, sources)}: "
    if error.validator == "enum":
        line += "allowed: " + ", ".join(map(str, error.validator_value))
    else:
        line += error.message if len(error.message) <= 120 else error.message[:117] + "..."
    if schema.get("description"):
        line += f" ({' '.join(str(schema['description']).split())})"
    return [line]


def _allowed_keys(schema: Mapping[str, Any], root: Mapping[str, Any]) -> set[str]:
    """The property names `schema` allows, through a local `$ref` (into `root`) too."""
    keys = set(schema.get("properties", {}))
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        node: Any = root
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, Mapping) else {}
        if isinstance(node, Mapping):
            keys |= set(node.get("properties", {}))
    return keys


def with_defaults(value: Any, schema: Mapping[str, Any]) -> Any:
    """A copy of `value` with the schema's defaults filled in where keys are absent (as
    Snakemake's validation does), so a missing key with a default is not reported."""
    if not isinstance(value, Mapping):
        return value
    out = dict(value)
    for key, sub in schema.get("properties", {}).items():
        if key not in out and "default" in sub:
            out[key] = copy.deepcopy(sub["default"])
        if key in out:
            out[key] = with_defaults(out[key], sub)
    return out


def config_errors(config: Mapping[str, Any], schema: Mapping[str, Any]) -> list[Any]:
    from jsonschema import Draft202012Validator

    errors = Draft202012Validator(schema).iter_errors(with_defaults(config, schema))
    return sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])


def explain_config_errors(
    config: Mapping[str, Any],
    schema: Mapping[str, Any],
    sources: Sequence[Source],
    documented_in: str | os.PathLike | None = None,
) -> list[str]:
    """The config's schema errors as at most 20 short lines (empty when it is valid);
    `documented_in`: the file that describes every key, named last."""
    lines: list[str] = []
    for error in config_errors(config, schema):
        lines += _explain(error, sources, schema)
    if not lines:
        return []
    shown = lines[:MAX_ERRORS]
    if len(lines) > len(shown):
        shown.append(f"... and {len(lines) - len(shown)} more")
    origin = ", ".join(name for name, _ in reversed(sources)) or "the schema's defaults"
    lines = [f"Config error (config from {origin}, later ones win):"]
    lines += [f"  {line}" for line in shown]
    if documented_in and os.path.exists(documented_in):
        lines.append(f"Every key is described in {_display(documented_in)}.")
    return lines


class ConfigError(ValueError):
    """The workflow config does not match its schema; the message explains it in a few lines."""


def check_config(
    config: dict[str, Any],
    schema_path: str | os.PathLike,
    validate: Any,
    sources: Sequence[Source] = (),
    documented_in: str | os.PathLike | None = None,
) -> None:
    """Coerce `--config` strings, then run `validate(config, schema_path)` (Snakemake's, which
    also fills in defaults); on failure raise ConfigError with a short explanation."""
    problem = size_problem(config)
    if problem is not None:
        raise ConfigError(f"Config error: the config is not checked: {problem}")
    with open(schema_path, encoding="utf-8") as f:
        schema = yaml.safe_load(f)
    coerce_strings(config, schema)
    try:
        validate(config, schema_path)
    except Exception as exc:
        lines = explain_config_errors(config, schema, sources, documented_in)
        if not lines:
            raise
        raise ConfigError("\n".join(lines)) from exc
