# Snakemake glue for rule video_kpfiles.
from skeleton.datasets.package import write_video_kpfiles
from skeleton.logs import log_to

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    write_video_kpfiles(list(sm.input), sm.output[0])
