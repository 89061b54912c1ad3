"""The model tag without starting the pose interpreter on every DAG build.

The tag is computed in the pose environment (`skeleton pose-tag`, skeleton.pose.tag), which
imports torch, mmengine or ultralytics: seconds per start. `pose-tag --inputs` also prints the
state (size, mtime) of everything the computation read: the modules it imported, the checkpoint
it hashed, the model configs, the package metadata behind the library versions, the folders
searched on sys.path. The workflow keeps that record under the exact command line, working
directory and PYTHON* / SKELETON_* environment, and reuses the tag while every recorded file and
folder still has the same state: a new checkpoint, config, library or edit of the backend code
misses the cache and reruns `pose-tag`. Needs no numpy: the Snakefile imports it.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from skeleton.core.files import atomic_write
from skeleton.core.members import path_state

CACHE_FILE = ".snakemake/skeleton/pose_tags.json"  # relative to the workflow's working directory
MAX_ENTRIES = 16  # configurations kept (switching back and forth stays cached)
ENV_PREFIXES = ("PYTHON", "SKELETON_")  # variables that change what the interpreter imports
TIMEOUT_S = 600


class TagError(RuntimeError):
    """`pose-tag` could not run or failed; the message says how."""


def cache_key(cmd: Sequence[str], env: Mapping[str, str]) -> str:
    relevant = {k: v for k, v in env.items() if k.startswith(ENV_PREFIXES)}
    return json.dumps([list(cmd), os.getcwd(), sorted(relevant.items())])


def _load(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # absent or damaged: recompute
    return data if isinstance(data, dict) else {}


def _fresh(entry: object) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("inputs"), dict):
        return False
    return bool(entry["inputs"]) and all(
        path_state(p) == state for p, state in entry["inputs"].items()
    )


def run_tag_command(cmd: Sequence[str], env: Mapping[str, str] | None = None) -> dict:
    """Run `cmd` (a `pose-tag` command line) with `--inputs`: {'tag': ..., 'inputs': {...}}."""
    try:
        done = subprocess.run(
            [*cmd, "--inputs"], capture_output=True, text=True, timeout=TIMEOUT_S, env=env
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TagError(f"{cmd[0]} cannot run ({exc})") from exc
    if done.returncode != 0:
        raise TagError(f"{' '.join(cmd)} failed:\n{done.stderr.strip()}")
    try:
        record = json.loads(done.stdout)
        if not isinstance(record["tag"], str) or not isinstance(record["inputs"], dict):
            raise TypeError("tag / inputs")
    except (ValueError, KeyError, TypeError) as exc:
        raise TagError(f"{' '.join(cmd)} --inputs printed no tag record ({exc})") from exc
    return record


def cached_tag(
    cmd: Sequence[str],
    cache: str | os.PathLike = CACHE_FILE,
    env: Mapping[str, str] | None = None,
) -> str:
    """The model tag `cmd` prints, from the cache while what it was computed from is unchanged.

    The cache is a small JSON file, replaced atomically; a damaged or foreign one is ignored.
    """
    env = dict(os.environ if env is None else env)
    path = Path(cache)
    key = cache_key(cmd, env)
    entries = _load(path)
    if _fresh(entries.get(key)):
        return entries[key]["tag"]
    record = run_tag_command(cmd, env)
    entries.pop(key, None)
    entries[key] = {"tag": record["tag"], "inputs": record["inputs"]}
    while len(entries) > MAX_ENTRIES:  # oldest first (dicts keep insertion order)
        entries.pop(next(iter(entries)))
    try:  # concurrent runs (cluster jobs parse the workflow too) leave one complete file
        with atomic_write(path, "w") as f:
            json.dump(entries, f, indent=1)
            f.write("\n")
    except OSError:  # a cache that cannot be written costs the next build a start, no more
        pass
    return record["tag"]
