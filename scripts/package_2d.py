# Snakemake glue for rule package_2d.
from skeleton.datasets.package import package_dense
from skeleton.logs import log_to

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    package_dense(
        sm.wildcards.dataset,
        sm.input.index,
        list(sm.input.shards),
        sm.output.pkl,
        sm.input.rejects,
        summary_json=sm.output.summary,
        model_tag=sm.params.tag,
        summary=sm.log.summary,
        log=sm.log[0],
        strict=sm.params.strict,
        splits_json=sm.input.splits[0] if sm.input.splits else None,
    )
