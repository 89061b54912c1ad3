# 2D datasets from the pose shards of rules/pose.smk: ntu60 and ntu120 (with the 3D pickles'
# splits), ucf101, hmdb51, diving48, gym, k400 (compressed: one kpfile per pose shard plus a
# table-of-contents pickle) and custom -> results/<ds>/<ds>_2d.pkl.
#
# The rejects report is its own step: it needs no pose result, and when a strict packaging
# (config strict) fails on it, Snakemake deletes only the packaging's outputs, so the report
# naming the rejected samples stays under results/.


rule rejects_2d:
    input:
        index=dataset_index,
        annotation_rejects=dataset_annotation_rejects,
        shard_rejects=dataset_pose_shards(
            f"{POSE_DIR}/{{source}}/shard_{{k}}.rejects.tsv"
        ),
        splits=dataset_splits,
    output:
        "results/{dataset}/rejects_2d.tsv",
    log:
        "logs/{dataset}/rejects_2d.log",
    benchmark:
        "benchmarks/{dataset}/rejects_2d.tsv"
    wildcard_constraints:
        dataset="|".join(DATASET_SOURCE),
    conda:
        "../envs/parse.yaml"
    script:
        "../scripts/rejects_2d.py"


rule package_2d:
    input:
        index=dataset_index,
        rejects="results/{dataset}/rejects_2d.tsv",
        shards=dataset_pose_shards(f"{POSE_DIR}/{{source}}/shard_{{k}}.pkl"),
        splits=dataset_splits,
    output:
        pkl="results/{dataset}/{dataset}_2d.pkl",
        summary="results/{dataset}/summary_2d.json",
    log:
        "logs/{dataset}/package_2d.log",
        summary="logs/{dataset}/package_2d.summary.json",
    benchmark:
        "benchmarks/{dataset}/package_2d.tsv"
    wildcard_constraints:
        dataset="|".join(DENSE),
    conda:
        "../envs/parse.yaml"
    params:
        tag=POSE_TAG,
        strict=config["strict"],
    script:
        "../scripts/package_2d.py"


rule kpfile:
    input:
        # the shard's members name its samples: a kpfile changes only with its shard
        members=lambda wc: video_members(source_of(wc.dataset), wc.shard),
        shard=lambda wc: f"{POSE_DIR}/{source_of(wc.dataset)}/shard_{wc.shard}.pkl",
    output:
        kpfile="results/{dataset}/kpfiles/shard_{shard}.pkl",
        toc="results/{dataset}/toc/shard_{shard}.pkl",
    log:
        "logs/{dataset}/kpfile_{shard}.log",
    benchmark:
        "benchmarks/{dataset}/kpfile_{shard}.tsv"
    wildcard_constraints:
        dataset="|".join(COMPRESSED),
    conda:
        "../envs/parse.yaml"
    params:
        raw_file="kpfiles/shard_{shard}.pkl",  # relative to <ds>_2d.pkl's folder
    script:
        "../scripts/kpfile.py"


rule package_2d_compressed:
    input:
        index=dataset_index,
        rejects="results/{dataset}/rejects_2d.tsv",
        tocs=dataset_pose_shards("results/{dataset}/toc/shard_{k}.pkl"),
        kpfiles=dataset_pose_shards("results/{dataset}/kpfiles/shard_{k}.pkl"),
    output:
        pkl="results/{dataset}/{dataset}_2d.pkl",
        summary="results/{dataset}/summary_2d.json",
    log:
        "logs/{dataset}/package_2d.log",
        summary="logs/{dataset}/package_2d.summary.json",
    benchmark:
        "benchmarks/{dataset}/package_2d.tsv"
    wildcard_constraints:
        dataset="|".join(COMPRESSED),
    conda:
        "../envs/parse.yaml"
    params:
        tag=POSE_TAG,
        strict=config["strict"],
    script:
        "../scripts/package_2d.py"


# MMAction2 1.x reads the compressed form's skeletons from one kpfile per video:
# PoseDataset(data_prefix=dict(skeleton="results/k400/video_kpfiles"), ...)
rule video_kpfiles:
    input:
        kpfiles=dataset_pose_shards("results/{dataset}/kpfiles/shard_{k}.pkl"),
        index=dataset_index,
    output:
        directory("results/{dataset}/video_kpfiles"),
    log:
        "logs/{dataset}/video_kpfiles.log",
    benchmark:
        "benchmarks/{dataset}/video_kpfiles.tsv"
    wildcard_constraints:
        dataset="|".join(COMPRESSED),
    conda:
        "../envs/parse.yaml"
    script:
        "../scripts/video_kpfiles.py"


# PCK@0.2 of each NTU 2D sample against its Kinect colour-space joints (the report's figures).
rule ntu_pose_quality:
    input:
        pkl="results/{ds}/{ds}_2d.pkl",
        index=NTU_INDEX,
    output:
        "results/{ds}/pose_quality.tsv",
    log:
        "logs/{ds}/pose_quality.log",
    benchmark:
        "benchmarks/{ds}/pose_quality.tsv"
    conda:
        "../envs/parse.yaml"
    script:
        "../scripts/ntu_pose_quality.py"


# A target per video dataset (NTU's are in the Snakefile, with the 3D pickles).
for _ds in (d for d, s in DATASET_SOURCE.items() if s != "ntu"):

    rule:
        name:
            _ds
        input:
            f"results/{_ds}/{_ds}_2d.pkl",
            [f"results/{_ds}/video_kpfiles"] if _ds in COMPRESSED else [],
