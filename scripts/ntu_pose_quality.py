# Snakemake glue for rule ntu_pose_quality.
from skeleton.core.logs import log_to
from skeleton.datasets.ntu_quality import pose_quality

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    pose_quality(sm.input.pkl, sm.input.index, sm.output[0])
