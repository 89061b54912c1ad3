# 2D poses of NTU RGB+D videos: video index (checkpoint), one GPU job per shard of videos, and the
# <ds>_2d.pkl packages with the 3D pickles' splits. Active when config ntu.videos is not empty.
#
# Outputs live under results/pose/<model_tag>/: the tag hashes backend, model configs, checkpoint
# hashes and library versions as seen by the pose interpreter (config pose.python), so a new
# model or an upgraded mmpose reruns only 2D work, and older results stay for
# `skeleton pose-drift`.

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
    return os.path.join(workflow.basedir, path)


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


checkpoint ntu_video_index:
    input:
        NTU.get("videos", []),
    output:
        NTU_VIDEO_INDEX,
    log:
        "logs/ntu/video_index.log",
    benchmark:
        "benchmarks/ntu/video_index.tsv"
    conda:
        "../envs/parse.yaml"
    params:
        shard_size=POSE["shard_size"],
    script:
        "../scripts/ntu_video_index.py"


rule pose_shard:
    input:
        pose_shard_videos,
    output:
        pkl=f"{POSE_DIR}/shard_{{shard}}.pkl",
        rejects=f"{POSE_DIR}/shard_{{shard}}.rejects.tsv",
    log:
        f"logs/pose/{POSE_TAG}/ntu/shard_{{shard}}.log",
    benchmark:
        f"benchmarks/pose/{POSE_TAG}/ntu/shard_{{shard}}.tsv"
    conda:
        "../envs/pose.yaml"
    resources:
        gpu=1 if pose_device_kind() == "cuda" else 0,
        mem_mb=lambda wc, attempt: POSE_MB * attempt,
        runtime=lambda wc, attempt: attempt
        * (10 + POSE["shard_size"] * POSE_SECONDS_PER_VIDEO[pose_device_kind()] // 60),
    params:
        python=POSE_PYTHON,
        members=pose_shard_members,
        # finished videos are kept here, so a killed or preempted job resumes
        work=f"{POSE_DIR}/shard_{{shard}}.work",
        options=lambda wc: (
            f"--backend {POSE['backend']} --device {POSE['device']} "
            f"--checkpoint {POSE['checkpoint']} --batch-size {POSE['batch_size']} "
            f"--max-persons {POSE['max_persons']} --dataset ntu"
            + (" --fp16" if POSE["fp16"] else "")
            + (f" --models {POSE_MODELS}" if POSE_MODELS else "")
        ),
    shell:
        "{params.python} -m skeleton pose {input:q} {params.options} --out {output.pkl} "
        "--rejects {output.rejects} --work-dir {params.work} > {log} 2>&1 "
        "&& rm -rf {params.work}"


rule ntu_package_2d:
    input:
        videos=NTU_VIDEO_INDEX,
        index=NTU_INDEX,
        splits="results/{ds}/splits.json",
        shards=dataset_pose_shards("pkl"),
        shard_rejects=dataset_pose_shards("rejects.tsv"),
    output:
        pkl="results/{ds}/{ds}_2d.pkl",
        rejects="results/{ds}/rejects_2d.tsv",
        quality="results/{ds}/pose_quality.tsv",
        summary="results/{ds}/summary_2d.json",
    log:
        "logs/{ds}/package_2d.log",
    benchmark:
        "benchmarks/{ds}/package_2d.tsv"
    conda:
        "../envs/parse.yaml"
    params:
        tag=POSE_TAG,
    script:
        "../scripts/ntu_package_2d.py"
