# Snakemake glue for rule ntu_package.
from skeleton.core.blas import single_threaded_blas

single_threaded_blas()  # before numpy is imported

from skeleton.core.logs import log_to  # noqa: E402
from skeleton.ntu.build import run_package  # noqa: E402

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
        splits_out=sm.output.splits,
    )
