# Snakemake glue for rule package_2d_compressed.
from skeleton.datasets.package import package_compressed
from skeleton.logs import log_to

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    package_compressed(
        sm.wildcards.dataset,
        sm.input.index,
        list(sm.input.tocs),
        sm.output.pkl,
        sm.input.rejects,
        summary_json=sm.output.summary,
        model_tag=sm.params.tag,
        summary=sm.log.summary,
        log=sm.log[0],
        strict=sm.params.strict,
    )
