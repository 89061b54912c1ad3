# Official benchmark splits (xsub/xview for NTU60, xsub/xset for NTU120) of the indexed samples;
# packaging keeps those it packaged and writes them beside the pickle (splits.json).


rule ntu_splits:
    input:
        NTU_INDEX,
    output:
        "results/{ds}/official_splits.json",
    log:
        "logs/{ds}/splits.log",
    benchmark:
        "benchmarks/{ds}/splits.tsv"
    conda:
        "../envs/parse.yaml"
    script:
        "../scripts/ntu_splits.py"
