# Snakemake glue for rule ntu_index.
from skeleton.index import run_index
from skeleton.logs import log_to

with log_to(snakemake.log[0]):  # noqa: F821
    run_index(
        list(snakemake.input),  # noqa: F821
        snakemake.params.shard_size,  # noqa: F821
        snakemake.output[0],  # noqa: F821
        snakemake.params.max_raw_bytes,  # noqa: F821
    )
