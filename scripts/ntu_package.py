# Snakemake glue for rule ntu_package.
from skeleton.logs import log_to
from skeleton.ntu3d import run_package

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    run_package(
        sm.input.index,
        list(sm.input.shards),
        sm.input.splits,
        sm.wildcards.ds,
        sm.output.pkl,
        sm.input.rejects,
        sm.output.manifest,
        dict(sm.params.config),
        sm.params.strict,
        summary=sm.log.summary,
        log=sm.log[0],
        workflow=True,
    )
