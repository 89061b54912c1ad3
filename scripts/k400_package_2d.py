# Snakemake glue for rule k400_package_2d.
from skeleton.datasets.package import package_compressed
from skeleton.logs import log_to

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    package_compressed(
        "k400",
        sm.input.index,
        list(sm.input.tocs),
        [p.removesuffix(".rejects.tsv") + ".pkl" for p in sm.input.shard_rejects],
        sm.output.pkl,
        sm.output.rejects,
        annotation_rejects=sm.input.annotation_rejects,
        summary_json=sm.output.summary,
        model_tag=sm.params.tag,
        summary=sm.log.summary,
        log=sm.log[0],
        strict=sm.params.strict,
    )
