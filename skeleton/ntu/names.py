"""NTU RGB+D sample names, the official missing-skeleton lists and the benchmark protocols.

Facts from the dataset papers (Shahroudy et al. CVPR 2016, Liu et al. TPAMI 2019) and the official
repository's lists, as summarised in DESIGN.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

# the official lists of samples with missing skeletons, shipped in the package
NTU_MISSING_DIR = Path(__file__).resolve().parent / "missing"

NAME_RE = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})")

# Valid field ranges of NTU RGB+D 120 (NTU60 is the S001-S017 / A001-A060 subset).
N_SETUPS, N_CAMERAS, N_PERFORMERS, N_REPLICATIONS, N_ACTIONS = 32, 3, 106, 2, 120
NTU60_MAX_SETUP, NTU60_MAX_ACTION = 17, 60

# Two-person (mutual) actions.
TWO_PERSON_ACTIONS = frozenset(range(50, 61)) | frozenset(range(106, 121))

# Cross-subject training performers (NTU60 list, then the NTU120 additions).
XSUB_TRAIN_60 = frozenset(
    [1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38]
)
XSUB_TRAIN_120 = XSUB_TRAIN_60 | frozenset(
    [45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84, 85, 86]
    + [89, 91, 92, 93, 94, 95, 97, 98, 100, 103]
)
XVIEW_TRAIN_CAMERAS = frozenset([2, 3])  # camera 1 is the cross-view test set (NTU60 only)
# Cross-setup: even setup numbers train (NTU120 only).

DATASETS = ("ntu60", "ntu120")
# Samples of each dataset as released (DESIGN.md; missing skeletons included); NTU60 is part of
# NTU120. Shard buckets are sized for NTU120's count, so they stay put as a download completes.
DATASET_SIZES = {"ntu60": 56_880, "ntu120": 114_480}
BENCHMARKS = {"ntu60": ("xsub", "xview"), "ntu120": ("xsub", "xset")}

MISSING_LISTS = {
    "ntu60": NTU_MISSING_DIR / "NTU_RGBD_samples_with_missing_skeletons.txt",
    "ntu120": NTU_MISSING_DIR / "NTU_RGBD120_samples_with_missing_skeletons.txt",
}
MISSING_HEADER_LINES = 3  # the official lists start with a two-line note and a blank line


@dataclass(frozen=True, order=True)
class SampleName:
    setup: int
    camera: int
    performer: int
    replication: int
    action: int

    @property
    def name(self) -> str:
        return (
            f"S{self.setup:03d}C{self.camera:03d}P{self.performer:03d}"
            f"R{self.replication:03d}A{self.action:03d}"
        )

    @property
    def label(self) -> int:
        return self.action - 1

    @property
    def in_ntu60(self) -> bool:
        return self.setup <= NTU60_MAX_SETUP and self.action <= NTU60_MAX_ACTION

    @property
    def n_actors(self) -> int:
        return 2 if self.action in TWO_PERSON_ACTIONS else 1


def parse_name(name: str) -> SampleName:
    """`SsssCcccPpppRrrrAaaa` -> fields; ValueError naming what is wrong otherwise."""
    m = NAME_RE.fullmatch(name)
    if not m:
        raise ValueError(f"'{name}' is not an NTU sample name (SsssCcccPpppRrrrAaaa)")
    s = SampleName(*(int(g) for g in m.groups()))
    limits = zip(
        ("setup", "camera", "performer", "replication", "action"),
        (s.setup, s.camera, s.performer, s.replication, s.action),
        (N_SETUPS, N_CAMERAS, N_PERFORMERS, N_REPLICATIONS, N_ACTIONS),
        strict=True,
    )
    for field, value, hi in limits:
        if not 1 <= value <= hi:
            raise ValueError(f"'{name}': {field} {value} outside 1..{hi}")
    return s


def in_dataset(s: SampleName, dataset: str) -> bool:
    return s.in_ntu60 if dataset == "ntu60" else True


@cache
def missing_samples(dataset: str = "ntu120") -> frozenset[str]:
    """The official list of samples with missing or incomplete skeletons (ntu120 ⊇ ntu60)."""
    lines = MISSING_LISTS[dataset].read_text().splitlines()[MISSING_HEADER_LINES:]
    return frozenset(x.strip() for x in lines if x.strip())


def split_membership(s: SampleName, dataset: str) -> dict[str, bool]:
    """benchmark -> True when the sample is in that benchmark's training split."""
    out = {}
    for bench in BENCHMARKS[dataset]:
        if bench == "xsub":
            train = XSUB_TRAIN_60 if dataset == "ntu60" else XSUB_TRAIN_120
            out[bench] = s.performer in train
        elif bench == "xview":
            out[bench] = s.camera in XVIEW_TRAIN_CAMERAS
        else:  # xset
            out[bench] = s.setup % 2 == 0
    return out


def make_splits(names: list[str], dataset: str) -> dict[str, list[str]]:
    """Split dict `<bench>_train` / `<bench>_val` in the order of `names`."""
    splits: dict[str, list[str]] = {}
    for bench in BENCHMARKS[dataset]:
        splits[f"{bench}_train"] = []
        splits[f"{bench}_val"] = []
    for n in names:
        for bench, train in split_membership(parse_name(n), dataset).items():
            splits[f"{bench}_{'train' if train else 'val'}"].append(n)
    return splits
