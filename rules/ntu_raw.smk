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
    script:
        "../scripts/ntu_index.py"


rule ntu_parse_shard:
    # no input: the raw files a shard reads are tracked by `state` (see shard_state), and the
    # index is rewritten whenever a folder changes, which must not rerun every shard
    output:
        NTU_SHARD,
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
        index=NTU_INDEX,
        denoise=DENOISE,
        state=shard_state,
    script:
        "../scripts/ntu_parse_shard.py"
