"""The defaults of the settings the workflow's config and the command line share: change one here.

One frozen dataclass per config section, one attribute per key, named as in
config/schema/config.schema.yaml. The schema states the same value as the key's `default`
(Snakemake fills it in where a config leaves the key out), the command options for the key
default to the attribute, and the library's own defaults refer to it; tests/test_defaults.py
checks the schema and every such option against this module, key by key. A setting only the
workflow has (the video datasets' folders, pictures, downloads' offline mode) keeps its default
in the schema alone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ntu:
    denoise: str = "pyskl"  # the algorithm behind PYSKL's released 3D pickles
    # samples per parse job at NTU120's full size: ceil(114480 / 2000) = 58 hash buckets
    shard_size: int = 2000
    # largest raw file read (MB, uncompressed). Real NTU files are under 2 MB (the biggest of
    # 114,480 is ~1.9 MB); the cap keeps a zip bomb or a huge stray file from filling memory.
    max_raw_mb: int = 32


@dataclass(frozen=True)
class Pose:
    backend: str = "mmpose"  # Faster R-CNN + HRNet-w32, as the released 2D pickles
    checkpoint: str = "default"  # the models' configured weights
    fp16: bool = False
    batch_size: int = 16  # frames per backend call
    in_flight: int = 2  # videos at once on one loaded model
    max_persons: int = 2  # person slots (NTU: actors per action class, at most this)
    postproc: str = "mmaction2"  # NTU videos: MMAction2's ntu_pose_extraction boxes
    # videos per pose job at a source's reference size (skeleton.datasets.index)
    shard_size: int = 200


@dataclass(frozen=True)
class Top:
    """Keys at the config's top level."""

    strict: bool = False  # a rejected sample fails the packaging


NTU = Ntu()
POSE = Pose()
TOP = Top()
# config section -> its defaults ("" is the top level)
SECTIONS: dict[str, object] = {"ntu": NTU, "pose": POSE, "": TOP}
