"""The model tag cache: the workflow reuses a tag while everything it was computed from is unchanged.

`skeleton pose-tag --inputs` runs in the pose env's interpreter (pose-tag refuses an interpreter
without the backend's libraries). A wrapper script stands between the
cache and the interpreter and counts its starts, so the tests see when the cache really ran the
command and when it did not. Well under a second each.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, pose_python

from skeleton.pose.tag_cache import TagError, cached_tag, run_tag_command


@pytest.fixture
def interpreter(tmp_path: Path) -> tuple[Path, Path]:
    """A pose interpreter that records every start (one line per start in `starts`)."""
    starts = tmp_path / "starts"
    script = tmp_path / "python"
    script.write_text(f'#!/bin/sh\necho start >> "{starts}"\nexec "{pose_python()}" "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, starts


def n_starts(starts: Path) -> int:
    return len(starts.read_text().splitlines()) if starts.exists() else 0


def tag_cmd(python: Path, weights: Path) -> list[str]:
    return [str(python), "-m", "skeleton", "pose-tag", "--backend", "yolo"] + [
        "--checkpoint",
        str(weights),
    ]


def env_for_repo() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


@pytest.mark.pose
def test_pose_tag_inputs_name_what_the_tag_hashes(tmp_path, interpreter):
    python, _ = interpreter
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"weights v1")
    record = run_tag_command(tag_cmd(python, weights), env_for_repo())
    inputs = record["inputs"]
    assert record["tag"].startswith("yolo-")
    assert str(weights) in inputs  # the checkpoint it hashed
    assert str(REPO / "skeleton" / "pose" / "yolo.py") in inputs  # the code that describes it
    assert str(REPO / "skeleton" / "pose" / "tag.py") in inputs
    probe = "import json, os, sys; print(json.dumps([os.path.realpath(sys.executable), sys.path]))"
    out = subprocess.run([pose_python(), "-c", probe], capture_output=True, text=True, check=True)
    executable, path = json.loads(out.stdout)
    assert executable in inputs  # the interpreter
    # the folders searched for the libraries' metadata (versions in the tag)
    site = [p for p in path if p.endswith("site-packages")]
    assert site and all(p in inputs for p in site)
    assert not any("__pycache__" in p for p in inputs)
    assert all(state == "-" or ":" in state for state in inputs.values())


@pytest.mark.pose
def test_cached_tag_starts_the_interpreter_only_after_a_change(tmp_path, interpreter):
    python, starts = interpreter
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"weights v1")
    cache = tmp_path / "cache" / "pose_tags.json"
    env = env_for_repo()
    cmd = tag_cmd(python, weights)

    first = cached_tag(cmd, cache, env)
    assert n_starts(starts) == 1 and json.loads(cache.read_text())
    assert cached_tag(cmd, cache, env) == first and n_starts(starts) == 1  # cached

    weights.write_bytes(b"weights v2")  # what the tag hashes changed: recomputed, new tag
    second = cached_tag(cmd, cache, env)
    assert n_starts(starts) == 2 and second != first
    assert cached_tag(cmd, cache, env) == second and n_starts(starts) == 2

    other = cmd[:-1] + ["none"]  # other options: another entry; the first stays cached
    assert cached_tag(other, cache, env) not in (first, second) and n_starts(starts) == 3
    assert cached_tag(cmd, cache, env) == second and n_starts(starts) == 3

    moved = {**env, "PYTHONPATH": env["PYTHONPATH"] + os.pathsep + str(tmp_path)}
    assert cached_tag(cmd, cache, moved) == second and n_starts(starts) == 4  # other imports

    cache.write_text("{not json")  # a damaged cache is recomputed, then replaced
    assert cached_tag(cmd, cache, env) == second and n_starts(starts) == 5
    assert cached_tag(cmd, cache, env) == second and n_starts(starts) == 5


def test_cached_tag_reports_a_failing_interpreter(tmp_path):
    with pytest.raises(TagError, match="cannot run"):
        cached_tag([str(tmp_path / "no-python"), "-m", "skeleton", "pose-tag"], tmp_path / "c")
    cmd = [sys.executable, "-m", "skeleton", "pose-tag", "--backend", "yolo"]
    cmd += ["--checkpoint", str(tmp_path / "missing.pt")]
    with pytest.raises(TagError, match="missing.pt"):
        cached_tag(cmd, tmp_path / "c", env_for_repo())
    assert not (tmp_path / "c").exists()


def test_scratch_files_written_while_recording_are_not_inputs(tmp_path):
    """mmengine writes each config to a temporary file and reads it back: not an input."""
    code = f"""
import json, os, tempfile
from skeleton.pose.tag import recorded_inputs
stable = {str(tmp_path / "stable.txt")!r}
open(stable, "w").write("x")
with recorded_inputs() as inputs:
    open(stable).read()
    with tempfile.TemporaryDirectory(dir={str(tmp_path)!r}) as scratch:
        path = os.path.join(scratch, "copy.py")
        open(path, "w").write("y")
        open(path).read()
        os.listdir(scratch)
print(json.dumps(inputs))
"""
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env_for_repo()
    )
    assert p.returncode == 0, p.stderr
    inputs = json.loads(p.stdout)
    assert str(tmp_path / "stable.txt") in inputs
    assert not [k for k in inputs if k.startswith(str(tmp_path)) and "stable" not in k], inputs


@pytest.mark.pose
@pytest.mark.slow
def test_another_library_version_in_the_pose_env_names_another_tag(tmp_path):
    """A real install of another ultralytics release (pip, into a folder the interpreter
    imports first) changes the tag: versions come from the modules as imported, and the
    distribution they belong to (opencv-python vs opencv-python-headless both give `cv2`)."""
    python = pose_python()

    def describe(env: dict[str, str]) -> tuple[str, dict]:
        args = [python, "-m", "skeleton", "pose-tag", "--backend", "yolo"]
        tag = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
        desc = subprocess.run(args + ["--json"], env=env, capture_output=True, text=True)
        return tag.stdout.strip(), json.loads(desc.stdout)

    base_tag, base = describe(dict(os.environ))
    installed = base["modules"]["ultralytics"]["version"]
    other = "8.4.189" if installed != "8.4.189" else "8.4.188"
    overlay = tmp_path / "overlay"
    pip = [python, "-m", "pip", "install", "-q", "--no-deps", "--target", str(overlay)]
    subprocess.run(pip + [f"ultralytics=={other}"], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(overlay)}
    tag, desc = describe(env)
    assert desc["modules"]["ultralytics"] == {
        "version": other,
        "distribution": f"ultralytics=={other}",
    }
    assert base["modules"]["cv2"]["distribution"].startswith("opencv-python")
    assert tag != base_tag and tag.startswith("yolo-")
