# Snakemake glue for checkpoint video_index.
from skeleton.core.logs import log_to
from skeleton.datasets.index import video_index

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    video_index(
        sm.wildcards.source,
        sm.params.annotations,
        list(sm.params.videos),
        sm.params.shard_size,
        sm.output.index,
        sm.output.rejects,
        sm.output.label_map,
        members=sm.params.members,
        seen=(sm.output.seen, list(sm.input.files)),
        **dict(sm.params.options),
    )
