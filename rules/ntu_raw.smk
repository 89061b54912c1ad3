# NTU RGB+D raw skeletons: index (checkpoint) and per-shard parse + denoise.


checkpoint ntu_index:
    input:
        raw=ntu_raw_inputs,
        state=NTU_INPUTS_STATE,  # rewritten when files are added, removed or renamed below
    output:
        index=NTU_INDEX,
        seen=NTU_SEEN,  # the inputs' state it was built from
    log:
        "logs/ntu/index.log",
    benchmark:
        "benchmarks/ntu/index.tsv"
    conda:
        "../envs/parse.yaml"
    params:
        shard_size=NTU["shard_size"],
        max_raw_bytes=MAX_RAW_BYTES,
        members=NTU_MEMBERS,  # and one members file per shard (skeleton.core.members)
    script:
        "../scripts/ntu_index.py"


rule ntu_parse_shard:
    input:
        # the shard's samples and the size and mtime of their raw files, rewritten by the
        # index and at each start only when they change. A shard that differs from its digest
        # is removed before the DAG is built (rules/common.smk).
        members=NTU_SHARD_MEMBERS,
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
    script:
        "../scripts/ntu_parse_shard.py"
