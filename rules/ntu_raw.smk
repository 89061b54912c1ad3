# NTU RGB+D raw skeletons: index (checkpoint) and per-shard parse + denoise.


checkpoint ntu_index:
    input:
        NTU_INPUTS,
    output:
        NTU_INDEX,
    log:
        "logs/ntu/index.log",
    benchmark:
        "benchmarks/ntu/index.tsv"
    conda:
        "../envs/parse.yaml"
    params:
        shard_size=NTU["shard_size"],
        max_raw_bytes=MAX_RAW_BYTES,
        inputs_state=inputs_state(NTU_INPUTS),
    script:
        "../scripts/ntu_index.py"


rule ntu_parse_shard:
    input:
        # ancient: the index is rewritten whenever a folder changes, which must not rerun every
        # shard; the raw files a shard reads are tracked by `state` (see shard_state). A shard
        # that differs from its digest is removed before the DAG is built (rules/common.smk).
        ancient(NTU_INDEX),
    output:
        pkl=NTU_SHARD,
        digest=NTU_SHARD_DIGEST,
    log:
        f"logs/ntu/3d_{DENOISE}/shard_{{shard}}.log",
    benchmark:
        f"benchmarks/ntu/3d_{DENOISE}/shard_{{shard}}.tsv"
    conda:
        "../envs/parse.yaml"
    resources:
        mem_mb=shard_mem_mb,
        runtime=shard_runtime,
    params:
        denoise=DENOISE,
        max_raw_bytes=MAX_RAW_BYTES,
        state=shard_state,
    script:
        "../scripts/ntu_parse_shard.py"
