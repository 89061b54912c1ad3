# Snakemake glue for rule check_release.
from skeleton.core.logs import log_to
from skeleton.release.releases import check_release

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    check_release(sm.input[0], sm.output[0], sm.params.kind, sm.params.num_classes)
