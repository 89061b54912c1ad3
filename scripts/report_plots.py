# Snakemake glue for rules ntu_report_plots and ntu_report_plots_2d.
from skeleton.core.logs import log_to
from skeleton.pictures.report import plot_2d, plot_3d

sm = snakemake  # noqa: F821
out = {k: v for k, v in sm.output.items()}
with log_to(sm.log[0]):
    if sm.params.kind == "3d":
        plot_3d(sm.input.pkl, sm.input.rejects, out, sm.params.title, sm.params.label_map)
    else:
        plot_2d(
            sm.input.pkl,
            sm.input.rejects,
            sm.input.quality,
            sm.input.videos,
            out,
            sm.params.title,
            sm.params.label_map,
            sm.input.skeleton_index,
        )
