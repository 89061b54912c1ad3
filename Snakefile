# skeleton: reproducible builds of skeleton action-recognition datasets.
#   snakemake --cores 8 ntu120_xset                     (workstation)
#   snakemake --profile profiles/slurm ntu120_xset      (cluster)
# Targets are defined here; stages live in rules/*.smk; logic lives in the `skeleton` package.

import time

from snakemake.utils import min_version

from skeleton.core.summary import print_summaries

min_version("9.0")
# Summaries written after this (less 1 s of file-time rounding) belong to this run.
RUN_STARTED = time.time() - 1


configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/ntu_raw.smk"
include: "rules/splits.smk"
include: "rules/package.smk"
include: "rules/download.smk"
include: "rules/pose.smk"
include: "rules/visualize.smk"
include: "rules/report.smk"
include: "rules/datasets.smk"


if "demo" in config:

    include: "rules/demo.smk"


# Each packaging job's summary (samples, rejects by reason, report), once more at the end.
onsuccess:
    print_summaries("logs", since=RUN_STARTED)


onerror:
    print_summaries("logs", since=RUN_STARTED)


# Each NTU target draws its figures of `snakemake --report` too (rules/report.smk), so the
# report works after any of them; a report-only run lists only what is built.
rule all:
    default_target: True
    input:
        ntu_outputs(report_datasets(NTU_DATASETS, default_target=True)),
        report_outputs(report_datasets(NTU_DATASETS, default_target=True)),


rule ntu60:
    input:
        ntu_outputs(["ntu60"]),
        report_outputs(report_datasets(["ntu60"])),


rule ntu120:
    input:
        ntu_outputs(["ntu120"]),
        report_outputs(report_datasets(["ntu120"])),


# Benchmarks share their dataset's pickle, which holds both benchmarks' splits.
rule ntu60_xsub:
    input:
        rules.ntu60.input,


rule ntu60_xview:
    input:
        rules.ntu60.input,


rule ntu120_xsub:
    input:
        rules.ntu120.input,


rule ntu120_xset:
    input:
        rules.ntu120.input,
