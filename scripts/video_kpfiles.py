# Snakemake glue for rule video_kpfiles.
from skeleton.core.logs import log_to
from skeleton.datasets.package import write_video_kpfiles

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    write_video_kpfiles(list(sm.input.kpfiles), sm.output[0], sm.input.index)
