# Shards + splits -> the dataset pickle MMAction2 / PYSKL load, its rejects report and manifest.


rule ntu_package:
    input:
        index=NTU_INDEX,
        splits="results/{ds}/splits.json",
        shards=dataset_shards,
    output:
        pkl="results/{ds}/{ds}_3d.pkl",
        rejects="results/{ds}/rejects.tsv",
        manifest="results/{ds}/manifest.json",
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
        # 3D settings only: 2D ones (pose, ntu.videos) and pictures (visualize) must not rerun
        # the 3D package
        config={
            k: {kk: vv for kk, vv in v.items() if kk != "videos"} if k == "ntu" else v
            for k, v in config.items()
            if k not in ("pose", "visualize")
        },
        strict=config["strict"],
    script:
        "../scripts/ntu_package.py"
