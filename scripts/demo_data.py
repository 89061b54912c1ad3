# Snakemake glue for rule demo_data: NTU60 + NTU120-only synthetic samples.
from skeleton.core.logs import log_to
from skeleton.ntu.synth import write_demo

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    write_demo(sm.output[0], sm.params.samples, sm.params.seed)
