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
        inputs_state=inputs_state(NTU_INPUTS),
    script:
        "../scripts/ntu_index.py"


rule ntu_parse_shard:
    input:
        # ancient: the index is rewritten whenever a folder changes, which must not rerun every
        # shard; the raw files a shard reads are tracked by `state` (see shard_state)
        ancient(NTU_INDEX),
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
        denoise=DENOISE,
        state=shard_state,
    script:
        "../scripts/ntu_parse_shard.py"
