# Snakemake glue for rules package_2d (dense keypoints) and package_2d_compressed (kpfiles).
from skeleton.core.logs import log_to
from skeleton.datasets.package import package_compressed, package_dense

sm = snakemake  # noqa: F821
compressed = sm.rule == "package_2d_compressed"
package = package_compressed if compressed else package_dense
extra = {} if compressed else {"splits_json": sm.input.splits[0] if sm.input.splits else None}
with log_to(sm.log[0]):
    package(
        sm.wildcards.dataset,
        sm.input.index,
        list(sm.input.tocs if compressed else sm.input.shards),
        sm.output.pkl,
        sm.input.rejects,
        summary_json=sm.output.summary,
        model_tag=sm.params.tag,
        summary=sm.log.summary,
        log=sm.log[0],
        strict=sm.params.strict,
        **extra,
    )
