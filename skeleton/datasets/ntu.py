"""NTU RGB+D videos as a video source: the file names are the annotations.

A video is `<sample>_rgb.avi` (the released `nturgb+d_rgb` archives), searched recursively under
the configured folders (`ntu.videos`); the name `SsssCcccPpppRrrrAaaa` carries the action (label
= action - 1) and the setup, camera and performer the official benchmarks split on. One video
index and one set of pose shards serve both packaged datasets, NTU60 (S001-S017 / A001-A060) and
NTU120 (all); each 2D pickle takes the splits of its 3D pickle (`results/<ds>/splits.json`), so
both hold the same samples. Rejected here: names that are not NTU sample names (`bad_name`),
videos inside archives (`in_archive`: decoding needs files) and a second video of a sample
(`duplicate`: the first in sorted path order is used).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from skeleton.core import reasons
from skeleton.core.files import find_sources
from skeleton.core.rejects import Reject
from skeleton.datasets import Sample, SampleTable, SourceSettings, VideoSource, label_map

VIDEO_SUFFIX = "_rgb.avi"  # NTU RGB+D video file names: <sample>_rgb.avi
# split names of each dataset, in the order of its 3D pickle (skeleton.ntu.names.BENCHMARKS)
DATASET_SPLITS = {
    "ntu60": ("xsub_train", "xsub_val", "xview_train", "xview_val"),
    "ntu120": ("xsub_train", "xsub_val", "xset_train", "xset_val"),
}
SPLITS = ("xsub_train", "xsub_val", "xview_train", "xview_val", "xset_train", "xset_val")


def official_splits(name: str) -> list[str]:
    """Every official split the sample is in: xsub and xset (NTU120), xview (NTU60 samples).

    An NTU60 sample's xsub split is the same in both datasets: NTU120's extra training
    performers (45 and up) appear in setups 18-32 only.
    """
    from skeleton.ntu.names import parse_name, split_membership

    s = parse_name(name)
    member = split_membership(s, "ntu120")
    if s.in_ntu60:
        member = {**split_membership(s, "ntu60"), **member}
    order = [b for b in ("xsub", "xview", "xset") if b in member]
    return [f"{b}_{'train' if member[b] else 'val'}" for b in order]


def read(annotations: str | os.PathLike | list[str], **_options: Any) -> SampleTable:
    """The videos under `annotations` (folders searched recursively, or files)."""
    from skeleton.ntu.names import parse_name

    inputs = [os.fspath(annotations)] if isinstance(annotations, str | os.PathLike) else annotations
    table = SampleTable("ntu", list(SPLITS), classes=label_map("ntu120"))
    used: dict[str, str] = {}
    for src in find_sources([os.fspath(p) for p in inputs], VIDEO_SUFFIX):
        name = src.filename[: -len(VIDEO_SUFFIX)]
        try:
            action = parse_name(name).action
        except ValueError as exc:
            table.rejects.append(Reject(name, src.id, reasons.BAD_NAME, str(exc)))
            continue
        if src.member is not None:
            detail = "videos are decoded from files: extract the archive"
            table.rejects.append(Reject(name, src.id, reasons.IN_ARCHIVE, detail))
        elif name in used:
            detail = f"also at {used[name]}; that one is used"
            table.rejects.append(Reject(name, src.id, reasons.DUPLICATE, detail))
        else:
            used[name] = src.id
            sample = Sample(name, action - 1, official_splits(name), path=src.path, source=src.id)
            table.add(sample, None)
    return table


class NtuVideos(VideoSource):
    """One video index for two datasets: NTU60 takes the samples of its range."""

    def settings(self, section: Mapping[str, Any]) -> SourceSettings:
        """Config `ntu`: `videos` (folders or files) are both the annotations and the videos."""
        videos = list(section["videos"])
        return SourceSettings(annotations=videos, videos=[], files=videos)

    def in_dataset(self, dataset: str, sample: str) -> bool:
        """Whether `sample` belongs to `dataset`; names that are not NTU names concern both."""
        from skeleton.ntu.names import in_dataset as ntu_in_dataset
        from skeleton.ntu.names import parse_name

        try:
            return ntu_in_dataset(parse_name(sample), dataset)
        except ValueError:
            return True


# two pickles, ntu60 and ntu120; `skeleton pose --dataset ntu`: actors by action class
SOURCE = NtuVideos(
    "ntu", read, SPLITS, ("ntu60", "ntu120"), DATASET_SPLITS, pose_dataset="ntu", lists_videos=False
)
