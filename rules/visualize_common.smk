# Config and input functions of the visualize rules (rules/visualize.smk).

VIZ = config["visualize"]
VIZ_DIMS = ["3d", "2d"] if NTU.get("videos") else ["3d"]


def viz_outputs(datasets):
    return [f"results/{ds}/viz/{dim}" for ds in datasets for dim in VIZ_DIMS]


def viz_video_index(wildcards):
    """Overlays draw on the videos of the video index when ntu.videos is set."""
    return [NTU_VIDEO_INDEX] if NTU.get("videos") else []
