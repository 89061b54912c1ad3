# Snakemake glue for rule ntu_splits.
from skeleton.core.blas import single_threaded_blas

single_threaded_blas()  # before numpy is imported

from skeleton.core.logs import log_to  # noqa: E402
from skeleton.ntu.package import ntu_splits  # noqa: E402

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    ntu_splits(sm.input[0], sm.wildcards.ds, sm.output[0])
