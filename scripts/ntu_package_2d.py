# Snakemake glue for rule ntu_package_2d.
from skeleton.logs import log_to
from skeleton.pose.dataset import package_2d

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    package_2d(
        sm.input.videos,
        list(sm.input.shards),
        sm.input.splits,
        sm.wildcards.ds,
        sm.output.pkl,
        sm.output.rejects,
        quality_tsv=sm.output.quality,
        skeleton_index=sm.input.index,
        summary_json=sm.output.summary,
        model_tag=sm.params.tag,
        summary=sm.log.summary,
        log=sm.log[0],
    )
