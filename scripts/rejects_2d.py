# Snakemake glue for rule rejects_2d.
from skeleton.core.logs import log_to
from skeleton.datasets.package import rejects_2d

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    rejects_2d(
        sm.wildcards.dataset,
        sm.input.index,
        list(sm.input.shard_rejects),
        sm.output[0],
        annotation_rejects=sm.input.annotation_rejects,
        splits_json=sm.input.splits[0] if sm.input.splits else None,
    )
