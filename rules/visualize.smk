# Pictures of a few samples per NTU pickle: pose overlays on the videos, PoseC3D heatmap volumes
# (2D), 3D skeleton plots (3D). Not part of `all`: run `snakemake --cores 2 visualize` (or
# viz_ntu60 / viz_ntu120). Config `visualize.samples`: a list of sample names, or a count drawn
# per class (stable order); `visualize.format`: mp4 or gif (each comes with a middle-frame .png).


rule ntu_visualize:
    input:
        pkl="results/{ds}/{ds}_{dim}.pkl",
        videos=viz_video_index,
        skeleton_index=NTU_INDEX,  # Kinect colour joints drawn on the overlays as reference
    output:
        directory("results/{ds}/viz/{dim}"),
    log:
        "logs/{ds}/visualize_{dim}.log",
    benchmark:
        "benchmarks/{ds}/visualize_{dim}.tsv"
    wildcard_constraints:
        dim="2d|3d",
    conda:
        "../envs/viz.yaml"
    params:
        samples=VIZ["samples"],
        format=VIZ["format"],
        label_map=lambda wc: str(label_map_path(wc.ds)),
    script:
        "../scripts/visualize.py"


rule visualize:
    input:
        viz_outputs(NTU_DATASETS),


rule viz_ntu60:
    input:
        viz_outputs(["ntu60"]),


rule viz_ntu120:
    input:
        viz_outputs(["ntu120"]),
