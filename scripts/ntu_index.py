# Snakemake glue for rule ntu_index.
from skeleton.core.blas import single_threaded_blas

single_threaded_blas()  # before numpy is imported

from skeleton.core.logs import log_to  # noqa: E402
from skeleton.ntu.index import ntu_index  # noqa: E402

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    ntu_index(
        list(sm.input.raw),
        sm.params.shard_size,
        sm.output.index,
        sm.params.max_raw_bytes,
        sm.params.members,
        sm.output.seen,
    )
