# Snakemake glue for rule ntu_package.
from skeleton.core.blas import single_threaded_blas

single_threaded_blas()  # before numpy is imported

from skeleton.core.logs import log_to  # noqa: E402
from skeleton.core.packaging import Report  # noqa: E402
from skeleton.ntu.package import ntu_package  # noqa: E402

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    ntu_package(
        sm.input.index,
        list(sm.input.shards),
        sm.input.splits,
        sm.output.pkl,
        Report(sm.wildcards.ds, "3d", sm.input.rejects, sm.log.summary, sm.log[0]),
        sm.output.manifest,
        dict(sm.params.config),
        sm.params.strict,
        workflow=True,
        splits_out=sm.output.splits,
    )
