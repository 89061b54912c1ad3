# Config, model tag and input functions of the video-dataset rules (rules/datasets.smk).

from skeleton.datasets import VIDEO_DATASETS

# a module, not names: common.smk imports read_index / shard_rows of the NTU index
import skeleton.datasets.index as vds_index

VDS = {ds: dict(config.get(ds) or {}) for ds in VIDEO_DATASETS}
VDS_DENSE = [ds for ds in VIDEO_DATASETS if ds != "k400"]


def as_list(value):
    return [value] if isinstance(value, str) else list(value or [])


def vds_configured(ds):
    return bool(VDS[ds].get("list") if ds == "custom" else VDS[ds].get("videos"))


# The same tag as the NTU pose rules; computed here too when only video datasets are configured.
VDS_POSE_TAG = (
    POSE_TAG
    if POSE_TAG != "none"
    else (compute_pose_tag() if any(map(vds_configured, VIDEO_DATASETS)) else "none")
)
VDS_POSE_DIR = f"results/pose/{VDS_POSE_TAG}"


wildcard_constraints:
    vds="|".join(VIDEO_DATASETS),


def vds_config(ds):
    """Annotations (folder, or custom's list file), video roots and reader options of `ds`."""
    c = VDS[ds]
    if ds == "custom":
        if not c.get("list"):
            raise WorkflowError(
                "target custom: set custom.list (a CSV/TSV video,label[,split])"
            )
        videos = as_list(c.get("videos")) or [os.path.dirname(c["list"]) or "."]
        options = {"label_map": c["label_map"]} if c.get("label_map") else {}
        return c["list"], videos, options
    if not c.get("videos") or not c.get("annotations"):
        raise WorkflowError(
            f"target {ds}: set {ds}.videos (root folder of the videos) and {ds}.annotations "
            "(folder holding the official split files)"
        )
    options = (
        {"subset": c.get("subset", "gym99"), "boxes": gym_boxes()}
        if ds == "gym"
        else {}
    )
    return c["annotations"], as_list(c["videos"]), options


def vds_index_inputs(wildcards):
    """The index reads the official files (FineGYM: also its box file, whose elements without
    boxes it rejects) and lists the video folders."""
    annotations, videos, options = vds_config(wildcards.vds)
    return [annotations, *videos] + [
        options[k] for k in ("label_map", "boxes") if k in options
    ]


def gym_boxes():
    c = VDS["gym"]
    return c.get("boxes") or os.path.join(
        c.get("annotations") or ".", "gym_gt_bboxes.pkl"
    )


def vds_rows(ds):
    return vds_index.read_index(
        checkpoints.video_dataset_index.get(vds=ds).output.index
    )


def vds_shard_videos(wildcards):
    """The shard's video files: touching one reruns only its shard."""
    return [
        r.path
        for r in vds_index.shard_rows(vds_rows(wildcards.vds), int(wildcards.shard))
    ]


def vds_shard_members(wildcards):
    rows = vds_index.shard_rows(vds_rows(wildcards.vds), int(wildcards.shard))
    return [f"{r.sample}={r.path}" for r in rows]


def vds_pose_shards(pattern):
    def inputs(wildcards):
        ds = getattr(wildcards, "vds", "k400")
        return expand(pattern, vds=ds, k=vds_index.shards(vds_rows(ds)))

    return inputs


def vds_pose_command(wildcards):
    options = (
        f"--backend {POSE['backend']} --device {POSE['device']} "
        f"--checkpoint {POSE['checkpoint']} --batch-size {POSE['batch_size']} "
        f"--max-persons {POSE['max_persons']}"
        + (" --fp16" if POSE["fp16"] else "")
        + (f" --models {POSE_MODELS}" if POSE_MODELS else "")
    )
    if wildcards.vds == "gym":  # ground-truth athlete boxes instead of the detector
        return f"gym-pose --boxes {gym_boxes()} {options}"
    return f"pose --dataset generic {options}"
