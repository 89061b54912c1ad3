"""The pose rules with hostile config values: nothing reaches a shell unquoted.

Real Snakemake on a custom video list. The pose interpreter is a folder whose name holds a
command substitution, the checkpoint a weights file named like one, and so is a listed video:
the model tag is computed without a shell, and the pose shard's command line quotes every
value. The interpreter folder holds a wrapper that runs the pose env's python (the model tag
needs the pose libraries); the shard job's video is not a video, so it is rejected: what matters
is that no substituted command ever ran. About 30 s.
"""

from __future__ import annotations

import os

import pytest
import yaml
from conftest import REPO, pose_python, run_snakemake


@pytest.mark.pose
def test_config_values_never_reach_a_shell_unquoted(tmp_path):
    bin_dir = tmp_path / "py $(touch pwned_python)"
    bin_dir.mkdir()
    wrapper = bin_dir / "python"  # a wrapper, not a symlink: a venv's python finds its venv by path
    wrapper.write_text(f'#!/bin/sh\nexec "{pose_python()}" "$@"\n')
    wrapper.chmod(0o755)
    weights = tmp_path / "w $(touch pwned_checkpoint);.pt"
    weights.write_bytes(b"not real weights")
    (tmp_path / "v").mkdir()
    video = tmp_path / "v" / "clip `touch pwned_video`.mp4"
    video.write_bytes(b"not a video")
    (tmp_path / "list.csv").write_text(f"video,label\n{video},wave\n")
    config = {
        "ntu": {"skeletons": []},
        "pose": {
            "backend": "yolo",
            "device": "cpu",
            "checkpoint": str(weights),
            "python": str(bin_dir / "python"),
        },
        "custom": {"list": str(tmp_path / "list.csv")},
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    args = ["--cores", "1", "-p", "--", "custom"]
    p = run_snakemake(tmp_path, *args, configfile="c.yaml", check=False, timeout=600, env=env)
    out = p.stdout + p.stderr
    assert "localrule pose_shard" in out, out[-4000:]  # the shard's shell command ran
    assert f"--checkpoint '{weights}'" in out, out[-4000:]
    assert not list(tmp_path.rglob("pwned*")), out[-4000:]
