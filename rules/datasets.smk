# Video datasets: UCF101, HMDB51, Diving48, FineGYM, Kinetics-400 and custom video lists -> 2D
# skeleton pickles results/<vds>/<vds>_2d.pkl (targets ucf101 hmdb51 diving48 gym k400 custom).
#
# Per dataset: a video index (checkpoint) from the official split files and the video folders,
# one pose job per shard of videos under results/pose/<model_tag>/<vds>/ (the pose stage's model
# tag, shard size and resume; FineGYM runs the pose model inside its ground-truth boxes), then
# packaging with the index's labels and splits. Kinetics-400 is packaged in its compressed form:
# one kpfile per pose shard plus a table-of-contents pickle, and one kpfile per video for
# MMAction2. Needs rules/pose.smk (pose config, model tag); configured by the <vds> config
# sections.


include: "datasets_common.smk"


checkpoint video_dataset_index:
    input:
        vds_index_inputs,
    output:
        index="results/{vds}/videos.tsv",
        rejects="results/{vds}/annotation_rejects.tsv",
        label_map="results/{vds}/label_map.txt",
    log:
        "logs/{vds}/video_index.log",
    benchmark:
        "benchmarks/{vds}/video_index.tsv"
    conda:
        "../envs/parse.yaml"
    params:
        shard_size=POSE["shard_size"],
        source=lambda wc: vds_config(wc.vds),
    script:
        "../scripts/dataset_index.py"


rule video_pose_shard:
    input:
        videos=vds_shard_videos,
        boxes=lambda wc: [gym_boxes()] if wc.vds == "gym" else [],
    output:
        pkl=f"{VDS_POSE_DIR}/{{vds}}/shard_{{shard}}.pkl",
        rejects=f"{VDS_POSE_DIR}/{{vds}}/shard_{{shard}}.rejects.tsv",
    log:
        f"logs/pose/{VDS_POSE_TAG}/{{vds}}/shard_{{shard}}.log",
    benchmark:
        f"benchmarks/pose/{VDS_POSE_TAG}/{{vds}}/shard_{{shard}}.tsv"
    conda:
        "../envs/pose.yaml"
    resources:
        gpu=1 if pose_device_kind() == "cuda" else 0,
        mem_mb=lambda wc, attempt: POSE_MB * attempt,
        runtime=lambda wc, attempt: attempt
        * (10 + POSE["shard_size"] * POSE_SECONDS_PER_VIDEO[pose_device_kind()] // 60),
    params:
        python=POSE_PYTHON,
        members=vds_shard_members,
        command=vds_pose_command,
        # finished videos are kept here, so a killed or preempted job resumes
        work=f"{VDS_POSE_DIR}/{{vds}}/shard_{{shard}}.work",
    # exit 1 with the pickle written: every video of the shard was rejected (an empty pickle and
    # its rejects are the shard's result); other failures keep the work folder for a rerun
    shell:
        "{params.python} -m skeleton {params.command} {input.videos:q} --out {output.pkl} "
        "--rejects {output.rejects} --work-dir {params.work} > {log} 2>&1 "
        "|| test -s {output.pkl}; rm -rf {params.work}"


rule video_package_2d:
    input:
        index="results/{vds}/videos.tsv",
        annotation_rejects="results/{vds}/annotation_rejects.tsv",
        shards=vds_pose_shards(f"{VDS_POSE_DIR}/{{vds}}/shard_{{k}}.pkl"),
        shard_rejects=vds_pose_shards(f"{VDS_POSE_DIR}/{{vds}}/shard_{{k}}.rejects.tsv"),
    output:
        pkl="results/{vds}/{vds}_2d.pkl",
        rejects="results/{vds}/rejects_2d.tsv",
        summary="results/{vds}/summary_2d.json",
    log:
        "logs/{vds}/package_2d.log",
        summary="logs/{vds}/package_2d.summary.json",
    benchmark:
        "benchmarks/{vds}/package_2d.tsv"
    wildcard_constraints:
        vds="|".join(VDS_DENSE),
    conda:
        "../envs/parse.yaml"
    params:
        tag=VDS_POSE_TAG,
        strict=config["strict"],
    script:
        "../scripts/dataset_package_2d.py"


rule k400_kpfile:
    input:
        index="results/k400/videos.tsv",
        shard=f"{VDS_POSE_DIR}/k400/shard_{{shard}}.pkl",
    output:
        kpfile="results/k400/kpfiles/shard_{shard}.pkl",
        toc="results/k400/toc/shard_{shard}.pkl",
    log:
        "logs/k400/kpfile_{shard}.log",
    benchmark:
        "benchmarks/k400/kpfile_{shard}.tsv"
    conda:
        "../envs/parse.yaml"
    params:
        raw_file="kpfiles/shard_{shard}.pkl",  # relative to k400_2d.pkl's folder
    script:
        "../scripts/k400_kpfile.py"


rule k400_package_2d:
    input:
        index="results/k400/videos.tsv",
        annotation_rejects="results/k400/annotation_rejects.tsv",
        tocs=vds_pose_shards("results/k400/toc/shard_{k}.pkl"),
        kpfiles=vds_pose_shards("results/k400/kpfiles/shard_{k}.pkl"),
        shard_rejects=vds_pose_shards(f"{VDS_POSE_DIR}/k400/shard_{{k}}.rejects.tsv"),
    output:
        pkl="results/k400/k400_2d.pkl",
        rejects="results/k400/rejects_2d.tsv",
        summary="results/k400/summary_2d.json",
    log:
        "logs/k400/package_2d.log",
        summary="logs/k400/package_2d.summary.json",
    benchmark:
        "benchmarks/k400/package_2d.tsv"
    conda:
        "../envs/parse.yaml"
    params:
        tag=VDS_POSE_TAG,
        strict=config["strict"],
    script:
        "../scripts/k400_package_2d.py"


# MMAction2 1.x reads K400 skeletons from one kpfile per video:
# PoseDataset(data_prefix=dict(skeleton="results/k400/video_kpfiles"), ...)
rule k400_video_kpfiles:
    input:
        vds_pose_shards("results/k400/kpfiles/shard_{k}.pkl"),
    output:
        directory("results/k400/video_kpfiles"),
    log:
        "logs/k400/video_kpfiles.log",
    benchmark:
        "benchmarks/k400/video_kpfiles.tsv"
    conda:
        "../envs/parse.yaml"
    script:
        "../scripts/k400_video_kpfiles.py"


rule ucf101:
    input:
        "results/ucf101/ucf101_2d.pkl",


rule hmdb51:
    input:
        "results/hmdb51/hmdb51_2d.pkl",


rule diving48:
    input:
        "results/diving48/diving48_2d.pkl",


rule gym:
    input:
        "results/gym/gym_2d.pkl",


rule k400:
    input:
        "results/k400/k400_2d.pkl",
        "results/k400/video_kpfiles",


rule custom:
    input:
        "results/custom/custom_2d.pkl",
