# Snakemake glue for rule ntu_visualize.
from skeleton.core.logs import log_to
from skeleton.pictures.render import run_visualize

sm = snakemake  # noqa: F821
with log_to(sm.log[0]):
    run_visualize(
        sm.input.pkl,
        sm.output[0],
        sm.params.samples,
        sm.params.format,
        sm.params.label_map,
        sm.input.videos[0] if sm.input.videos else None,
        sm.input.skeleton_index,
    )
