# Shards + splits -> the dataset pickle MMAction2 / PYSKL load, its rejects report and manifest.


rule ntu_rejects:
    # its own job, which succeeds: a packaging that fails (strict mode, no usable sample) leaves
    # the report in place, and its error message names it
    input:
        index=NTU_INDEX,
        digests=dataset_shard_digests,
    output:
        "results/{ds}/rejects.tsv",
    log:
        "logs/{ds}/rejects_3d.log",
    benchmark:
        "benchmarks/{ds}/rejects_3d.tsv"
    conda:
        "../envs/parse.yaml"
    script:
        "../scripts/ntu_rejects.py"


rule ntu_package:
    input:
        index=NTU_INDEX,
        splits="results/{ds}/official_splits.json",
        shards=dataset_shards,
        digests=dataset_shard_digests,
        rejects="results/{ds}/rejects.tsv",
    output:
        pkl="results/{ds}/{ds}_3d.pkl",
        manifest="results/{ds}/manifest.json",
        splits="results/{ds}/splits.json",  # the pickle's own split
    log:
        "logs/{ds}/package_3d.log",
        summary="logs/{ds}/package_3d.summary.json",  # printed at the end of the run
    benchmark:
        "benchmarks/{ds}/package_3d.tsv"
    conda:
        "../envs/parse.yaml"
    resources:
        # annotations stream from the shards into the pickle: about one shard in memory
        mem_mb=lambda wc: 500 + int(NTU["shard_size"] * PARSE_MB_PER_SAMPLE),
    params:
        # 3D settings only: 2D ones (pose, ntu.videos, the video datasets), pictures and
        # downloads must not rerun the 3D package
        config={
            "ntu": {k: v for k, v in NTU.items() if k != "videos"},
            "strict": config["strict"],
        },
        strict=config["strict"],
    script:
        "../scripts/ntu_package.py"
