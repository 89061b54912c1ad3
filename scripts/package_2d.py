# Snakemake glue for rules package_2d (dense keypoints) and package_2d_compressed (kpfiles).
from skeleton.core.logs import log_to
from skeleton.core.packaging import Report
from skeleton.datasets.package import package_compressed, package_dense

sm = snakemake  # noqa: F821
compressed = sm.rule == "package_2d_compressed"
kind = "2d-compressed" if compressed else "2d"
report = Report(sm.wildcards.dataset, kind, sm.input.rejects, sm.log.summary, sm.log[0])
options = dict(summary_json=sm.output.summary, model_tag=sm.params.tag, strict=sm.params.strict)
with log_to(sm.log[0]):
    if compressed:
        package_compressed(sm.input.index, list(sm.input.tocs), sm.output.pkl, report, **options)
    else:
        splits = sm.input.splits[0] if sm.input.splits else None
        package_dense(
            sm.input.index, list(sm.input.shards), sm.output.pkl, report, splits_json=splits,
            **options,
        )  # fmt: skip
