# 2D poses of NTU RGB+D videos: video index (checkpoint), one GPU job per shard of videos, and the
# <ds>_2d.pkl packages with the 3D pickles' splits. Active when config ntu.videos is not empty.
#
# Outputs live under results/pose/<model_tag>/: the tag hashes backend, model configs, checkpoint
# hashes and library versions as seen by the pose interpreter (config pose.python), so a new
# model or an upgraded mmpose reruns only 2D work, and older results stay for
# `skeleton pose-drift`.


include: "pose_common.smk"


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
        "--rejects {output.rejects} --work-dir {params.work} --allow-empty > {log} 2>&1 "
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
        summary="logs/{ds}/package_2d.summary.json",
    benchmark:
        "benchmarks/{ds}/package_2d.tsv"
    conda:
        "../envs/parse.yaml"
    params:
        tag=POSE_TAG,
    script:
        "../scripts/ntu_package_2d.py"
