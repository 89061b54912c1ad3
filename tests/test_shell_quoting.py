"""Config strings cannot inject shell commands: every string config value holds spaces, quotes
and shell metacharacters (`$(...)`, backticks, `;`, `|`, `&`, `>`, globs, backslashes), and
every rule with a `shell:` directive runs for real on them (the yolo backend on tiny videos,
CPU; `--until` those rules). Nothing may execute (the marker file stays absent) and every job
must succeed.

Needs the pose environment (`pose-tag` and `pose` run there); ~2 min of CPU.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

pytestmark = pytest.mark.pose

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))

INJECTED = "INJECTED"  # what every payload would create in the working folder
# a piece of every configured string: each shell construct that an unquoted value would run
NASTY = f"a b'c\"d $(touch {INJECTED}) `touch {INJECTED}` ;touch {INJECTED}; |&<>*?~#!\\x"
# ultralytics globs its weights path and drops quotes from it: the checkpoint's folder does
# without * ? ' and " (spaces, $(...), backticks, ; | & < > still test the quoting)
NASTY_FILE = NASTY.replace("*?", "").replace("'", "").replace('"', "")


def shell_rules() -> set[str]:
    """Every rule and checkpoint of the workflow with a `shell:` directive."""
    found = set()
    for smk in [REPO / "Snakefile", *sorted((REPO / "rules").glob("*.smk"))]:
        rule = None
        for line in smk.read_text().splitlines():
            m = re.match(r"(?:rule|checkpoint)\s+(\w+)\s*:", line)
            if m:
                rule = m.group(1)
            elif rule and re.match(r"\s+shell\s*:", line):
                found.add(rule)
    return found


def write_video(path: Path, frames: int = 3) -> Path:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (64, 48))
    for i in range(frames):
        out.write(np.full((48, 64, 3), 40 * i, np.uint8))
    out.release()
    return path


def nasty_dir(root: Path, what: str, nasty: str = NASTY) -> Path:
    d = root / f"{what} {nasty}"
    d.mkdir(parents=True, exist_ok=True)
    return d


def test_every_shell_rule_quotes_every_config_string(tmp_path: Path) -> None:
    pytest.importorskip("cv2")
    from test_datasets import write_gym
    from test_pose_yolo import pose_python

    from skeleton.datasets.finegym import compact_id
    from skeleton.ntu.names import parse_name
    from skeleton.ntu.synth import write_names

    pose_py = pose_python()
    rules = shell_rules()
    assert "pose_shard" in rules  # one pose-shard rule for every video source
    wd = tmp_path / "wd"
    wd.mkdir()
    data = tmp_path / "data"

    # the pose interpreter, its weights and model configs at paths that are shell code
    wrapper = nasty_dir(data, "python") / "python"
    wrapper.write_text(f'#!/bin/sh\nexec "{pose_py}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    weights = subprocess.run(
        [pose_py, "-c", "from skeleton.pose.yolo import default_weights; print(default_weights())"],
        capture_output=True, text=True, check=True, env=dict(os.environ, PYTHONPATH=str(REPO)),
    ).stdout.strip()  # fmt: skip
    checkpoint = nasty_dir(data, "weights", NASTY_FILE) / "yolo.pt"
    shutil.copy(weights, checkpoint)
    models = nasty_dir(data, "models") / "models.yaml"
    shutil.copy(REPO / "skeleton" / "pose" / "models.yaml", models)

    sample = "S001C001P001R001A001"
    skeletons = nasty_dir(data, "skeletons")
    write_names(skeletons, [parse_name(sample)], seed=0, frames=(40, 41))
    ntu_videos = nasty_dir(data, "ntu videos")
    write_video(ntu_videos / f"{sample}_rgb.avi")
    custom = nasty_dir(data, "custom")
    write_video(custom / "clip.avi")
    (custom / "list.csv").write_text("video,label\nclip.avi,wave\n")
    (custom / "labels.txt").write_text("wave\n")
    gym = write_gym(nasty_dir(data, "gym annotations"))
    element = "A0xAXXysHUo_E_002184_002237_A_0035_0036"
    gym_videos = nasty_dir(data, "gym videos")
    write_video(gym_videos / f"{element}.avi")
    boxes = nasty_dir(data, "boxes") / "boxes.pkl"
    whole = np.tile(np.array([[0, 0, 64, 48, 1]], np.float32), (3, 1))
    boxes.write_bytes(pickle.dumps({compact_id(element): whole}))

    config = {
        "ntu": {"skeletons": [str(skeletons)], "videos": [str(ntu_videos)], "datasets": ["ntu60"]},
        "pose": {
            "backend": "yolo",
            "device": "cpu",
            "python": str(wrapper),
            "checkpoint": str(checkpoint),
            "models": str(models),
            "batch_size": 4,
            "shard_size": 1,
        },  # fmt: skip
        "custom": {
            "list": str(custom / "list.csv"),
            "videos": [str(custom)],
            "label_map": str(custom / "labels.txt"),
        },  # fmt: skip
        "gym": {"videos": [str(gym_videos)], "annotations": str(gym), "boxes": str(boxes)},
        "visualize": {"samples": [NASTY]},
        "releases": {"ntu60_3d": {"url": f"file:///{NASTY}", "description": NASTY}},
        "strict": False,
    }
    strings = []

    def collect(value: object) -> None:
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                collect(v)
        elif isinstance(value, list):
            for v in value:
                collect(v)

    collect(config)
    no_string_choice = {"yolo", "cpu", "ntu60"}  # enums / patterns in the schema: no free text
    assert all(NASTY in s or NASTY_FILE in s for s in strings if s not in no_string_choice), strings
    (wd / "config.yaml").write_text(yaml.safe_dump(config))
    env = dict(os.environ, PYTHONPATH=str(REPO))
    base = [
        sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(wd),
        "--configfile", str(wd / "config.yaml"), "--cores", "2", "-p",
    ]  # fmt: skip
    # the checkpoints first (the shard jobs exist once they ran), then every shell rule's job
    # (packaging is left out: the tiny videos show no person, which packaging rejects)
    indexes = ["results/ntu/index.tsv", "results/ntu/videos.tsv"]
    indexes += ["results/custom/videos.tsv", "results/gym/videos.tsv"]
    log = ""
    for step in ("index", "plan", "shards"):
        if step == "index":
            args = indexes
        elif step == "plan":
            args = ["-n", "results/ntu60/ntu60_2d.pkl", "custom", "gym"]
        else:
            args = sorted(set(re.findall(r"output: (results/pose/\S+?/shard_\d+\.pkl)", log)))
            assert args, log[-3000:]
        run = subprocess.run(
            base + args, capture_output=True, text=True, env=env, timeout=1800, cwd=wd
        )
        log += run.stdout + run.stderr
        if run.returncode:
            break
    injected = [p for p in tmp_path.rglob(INJECTED)] + [p for p in REPO.glob(INJECTED)]
    assert not injected, f"a config value ran as shell code: {injected}\n{log[-3000:]}"
    assert run.returncode == 0, log[-4000:]
    ran = set(re.findall(r"^(?:local)?(?:rule|checkpoint) (\w+):", log, re.M))
    assert rules <= ran, f"shell rules not exercised: {sorted(rules - ran)}"
    shards = {p.parent.name for p in (wd / "results" / "pose").glob("*/*/shard_*.pkl")}
    assert shards == {"ntu", "custom", "gym"}, log[-3000:]
