# Config, model tag and input functions of the pose rules (rules/pose.smk).

import functools
import os
import subprocess

from snakemake.exceptions import WorkflowError

from skeleton.pose.dataset import pose_shards, read_video_index, shard_videos

POSE = config["pose"]


def repo_relative(path):
    """A configured path as given when it exists here, else relative to the workflow's folder."""
    if not path or os.path.isabs(path) or os.path.exists(path) or os.sep not in path:
        return path
    return os.path.join(WORKFLOW_DIR, path)


POSE_PYTHON = repo_relative(POSE["python"])
POSE_MODELS = repo_relative(POSE.get("models"))
NTU_VIDEO_INDEX = "results/ntu/videos.tsv"
# Rough costs of one NTU video (~100 frames of 1080p), for cluster job sizes.
POSE_SECONDS_PER_VIDEO = {"cuda": 10, "cpu": 120}
POSE_MB = 8000  # models + a batch of decoded 1080p frames


def pose_tag_command():
    cmd = [POSE_PYTHON, "-m", "skeleton", "pose-tag"]
    cmd += ["--backend", POSE["backend"], "--checkpoint", str(POSE["checkpoint"])]
    cmd += ["--device", POSE["device"]] + (["--fp16"] if POSE["fp16"] else [])
    return cmd + (["--models", POSE_MODELS] if POSE_MODELS else [])


def compute_pose_tag():
    cmd = pose_tag_command()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except OSError as exc:
        raise WorkflowError(
            f"pose.python={POSE_PYTHON!r} cannot run ({exc}); build the pose env with "
            "`skeleton make-env pose` or set pose.python"
        )
    if done.returncode != 0:
        raise WorkflowError(f"{' '.join(cmd)} failed:\n{done.stderr.strip()}")
    return done.stdout.strip()


POSE_TAG = compute_pose_tag() if NTU.get("videos") else "none"
POSE_DIR = f"results/pose/{POSE_TAG}/ntu"


@functools.lru_cache(maxsize=4)
def _video_rows(path, mtime):
    return read_video_index(path)


def video_index_rows():
    """The video table written by the ntu_video_index checkpoint (read once per DAG build)."""
    path = checkpoints.ntu_video_index.get().output[0]
    return _video_rows(path, os.path.getmtime(path))


def pose_shard_videos(wildcards):
    """The shard's video files: touching one reruns only its shard."""
    return [r.path for r in shard_videos(video_index_rows(), int(wildcards.shard))]


def pose_shard_members(wildcards):
    return [
        f"{r.sample}={r.path}"
        for r in shard_videos(video_index_rows(), int(wildcards.shard))
    ]


def dataset_pose_shards(ext):
    def inputs(wildcards):
        shards = pose_shards(video_index_rows(), wildcards.ds)
        return expand(f"{POSE_DIR}/shard_{{k}}.{ext}", k=shards)

    return inputs


def pose_device_kind():
    return "cuda" if POSE["device"].startswith("cuda") else "cpu"
