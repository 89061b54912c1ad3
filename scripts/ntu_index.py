# Snakemake glue for rule ntu_index.
from skeleton.core.blas import single_threaded_blas

single_threaded_blas()  # before numpy is imported

from skeleton.core.logs import log_to  # noqa: E402
from skeleton.ntu.index import run_index  # noqa: E402

with log_to(snakemake.log[0]):  # noqa: F821
    run_index(
        list(snakemake.input.raw),  # noqa: F821
        snakemake.params.shard_size,  # noqa: F821
        snakemake.output.index,  # noqa: F821
        snakemake.params.max_raw_bytes,  # noqa: F821
        snakemake.params.members,  # noqa: F821
        snakemake.output.seen,  # noqa: F821
    )
