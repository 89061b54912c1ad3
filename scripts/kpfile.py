# Snakemake glue for rule kpfile.
from skeleton.core.logs import log_to
from skeleton.datasets.package import compress_shard

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    compress_shard(
        sm.input.index, sm.input.shard, sm.output.kpfile, sm.output.toc, sm.params.raw_file
    )
