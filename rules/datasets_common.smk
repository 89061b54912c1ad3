# Packaged 2D datasets and input functions of rules/datasets.smk.

from skeleton.datasets import datasets_of

# dataset -> its video source: ntu60 and ntu120 share the NTU video index and pose shards
DATASET_SOURCE = {d: s for s in SOURCES for d in datasets_of(s)}
COMPRESSED = [
    d
    for d, s in DATASET_SOURCE.items()
    if getattr(source_reader(s), "COMPRESSED", False)
]
DENSE = [d for d in DATASET_SOURCE if d not in COMPRESSED]


def dataset_index(wildcards):
    return f"results/{source_of(wildcards.dataset)}/videos.tsv"


def dataset_annotation_rejects(wildcards):
    return f"results/{source_of(wildcards.dataset)}/annotation_rejects.tsv"


def dataset_splits(wildcards):
    """NTU's 2D pickles take the splits of the 3D ones (samples with a usable skeleton)."""
    if source_of(wildcards.dataset) == "ntu":
        return [f"results/{wildcards.dataset}/splits.json"]
    return []
