"""MMAction2 1.2.0 as a consumer of our pickles, for any test (3D backbone, 2D pose work).

    from mmaction_consumer import load_with_mmaction
    summary = load_with_mmaction(pickle_path, "--kind", "2d")  # fails the test on any problem

The consumer runs in its own venv (torch CPU, mmcv-lite, mmengine, mmaction2 --no-deps) built or
reused by `.ci/mmaction-env.sh` outside the clone (~2-4 min once per machine, then ~5 s), so the
project's venv never gets torch. tests/consumers/mmaction_load.py builds PoseDataset for every
split with the ST-GCN training and 10-clip test pipelines and prints a JSON summary.

When the venv cannot be built (no network, say) callers skip with the build log's tail as the
reason, except under CI=true or SKELETON_REQUIRE_MMACTION=1, where they fail.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

ENV_SCRIPT = REPO / ".ci" / "mmaction-env.sh"
LOADER = REPO / "tests" / "consumers" / "mmaction_load.py"
BUILD_TIMEOUT_S = 3600

_python: str | None = None
_failure: str | None = None


def mmaction_python() -> str:
    """The consumer venv's interpreter; skips (or fails under CI) when it cannot be built."""
    global _python, _failure
    if _python is None and _failure is None:
        try:
            proc = subprocess.run(
                ["bash", str(ENV_SCRIPT)], capture_output=True, text=True, timeout=BUILD_TIMEOUT_S
            )
            if proc.returncode == 0:
                _python = proc.stdout.strip().splitlines()[-1]
            else:
                _failure = "\n".join(proc.stderr.strip().splitlines()[-15:])
        except subprocess.TimeoutExpired:
            _failure = f"timed out after {BUILD_TIMEOUT_S} s"
    if _python is not None:
        return _python
    reason = f"cannot build the MMAction2 venv with {ENV_SCRIPT}:\n{_failure}"
    if os.environ.get("CI") == "true" or os.environ.get("SKELETON_REQUIRE_MMACTION") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def run_loader(pickle_path: Path | str, *args: str) -> tuple[int, dict[str, Any], str]:
    """(exit code, JSON summary, stderr) of the loader on one pickle; see its --help for args."""
    proc = subprocess.run(
        [mmaction_python(), str(LOADER), str(pickle_path), *args],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    try:
        summary = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"loader printed no JSON (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.returncode, summary, proc.stderr


def load_with_mmaction(pickle_path: Path | str, *args: str) -> dict[str, Any]:
    """The loader's summary; fails the calling test with every problem found."""
    rc, summary, stderr = run_loader(pickle_path, *args)
    if rc != 0 or not summary.get("ok"):
        problems = "\n".join(summary.get("problems", []))
        pytest.fail(
            f"MMAction2 cannot use {pickle_path} (exit {rc}):\n{problems}\n{stderr[-2000:]}"
        )
    return summary
