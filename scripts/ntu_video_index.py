# Snakemake glue for rule ntu_video_index.
from skeleton.logs import log_to
from skeleton.pose.dataset import run_video_index

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    run_video_index(list(sm.input), sm.params.shard_size, sm.output[0])
