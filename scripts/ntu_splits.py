# Snakemake glue for rule ntu_splits.
from skeleton.logs import log_to
from skeleton.ntu3d import run_splits

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    run_splits(sm.input[0], sm.wildcards.ds, sm.output[0])
