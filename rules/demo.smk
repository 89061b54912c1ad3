# Synthetic raw data for the bundled demo (config/demo.yaml).


rule demo_data:
    output:
        directory("demo/ntu_raw"),
    params:
        samples=config["demo"]["samples"],
        seed=config["demo"]["seed"],
    log:
        "logs/demo/demo_data.log",
    benchmark:
        "benchmarks/demo/demo_data.tsv"
    conda:
        "../envs/parse.yaml"
    script:
        "../scripts/demo_data.py"
