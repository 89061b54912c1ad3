# Snakemake glue for rule ntu_rejects.
from skeleton.core.logs import log_to
from skeleton.ntu.rejects import ntu_rejects

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    ntu_rejects(sm.input.index, list(sm.input.digests), sm.wildcards.ds, sm.output[0])
