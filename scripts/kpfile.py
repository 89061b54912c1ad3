# Snakemake glue for rule kpfile.
from skeleton.core.logs import log_to
from skeleton.datasets.package import compress_shard, member_names

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    compress_shard(
        member_names(sm.input.members),
        sm.input.shard,
        sm.output.kpfile,
        sm.output.toc,
        sm.params.raw_file,
    )
