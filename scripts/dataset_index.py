# Snakemake glue for checkpoint video_dataset_index.
from skeleton.datasets.index import run_index
from skeleton.logs import log_to

sm = snakemake  # noqa: F821
annotations, videos, options = sm.params.source
with log_to(sm.log[0]):
    run_index(
        sm.wildcards.vds,
        annotations,
        videos,
        sm.params.shard_size,
        sm.output.index,
        sm.output.rejects,
        sm.output.label_map,
        **options,
    )
