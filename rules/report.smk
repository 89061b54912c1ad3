# Figures of `snakemake --report report.html`: per NTU dataset, what its pickles hold (splits,
# class balance, lengths, persons, rejects; 2D: keypoint scores, PCK@0.2 against the Kinect
# colour joints with the best and worst samples drawn). Captions live in report/. Every NTU
# target (ntu60, ntu60_xsub, ..., all) draws its datasets' figures.


rule ntu_report_plots:
    input:
        pkl="results/{ds}/{ds}_3d.pkl",
        rejects="results/{ds}/rejects.tsv",
    output:
        **{n: report_png("3d", n, "3D skeletons") for n in REPORT_3D},
    log:
        "logs/{ds}/report_3d.log",
    benchmark:
        "benchmarks/{ds}/report_3d.tsv"
    conda:
        "../envs/viz.yaml"
    params:
        kind="3d",
        title=lambda wc: f"{wc.ds} 3D",
        label_map=lambda wc: str(label_map_path(wc.ds)),
    script:
        "../scripts/report_plots.py"


rule ntu_report_plots_2d:
    input:
        pkl="results/{ds}/{ds}_2d.pkl",
        rejects="results/{ds}/rejects_2d.tsv",
        quality="results/{ds}/pose_quality.tsv",
        videos=NTU_VIDEO_INDEX,
        skeleton_index=NTU_INDEX,  # the Kinect joints drawn with the best / worst samples
    output:
        **{n: report_png("2d", n, "2D poses") for n in REPORT_2D},
    log:
        "logs/{ds}/report_2d.log",
    benchmark:
        "benchmarks/{ds}/report_2d.tsv"
    conda:
        "../envs/viz.yaml"
    params:
        kind="2d",
        title=lambda wc: f"{wc.ds} 2D",
        label_map=lambda wc: str(label_map_path(wc.ds)),
    script:
        "../scripts/report_plots.py"
