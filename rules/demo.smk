# Synthetic raw data for the bundled demo (config/demo.yaml, run by .ci/demo in its own folder).


rule demo_data:
    output:
        directory(DEMO_RAW),
    log:
        "logs/demo/demo_data.log",
    benchmark:
        "benchmarks/demo/demo_data.tsv"
    conda:
        "../envs/parse.yaml"
    params:
        samples=config["demo"]["samples"],
        seed=config["demo"]["seed"],
    script:
        "../scripts/demo_data.py"
