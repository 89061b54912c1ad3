"""Video datasets: official annotation files -> the sample table the pose pipeline uses.

Each adapter reads a dataset's split / annotation files exactly as released and returns a
`SampleTable`: one `Sample` per video, named (frame_dir) as the released PYSKL / MMAction2
pickles name it, its 0-based label and the splits it belongs to, plus `Reject`s for lines it
could not use and `notes` for the index log (which form of the files was found). UCF101,
HMDB51, Diving48 and custom lists name a sample after its video file (`video_stem`);
Kinetics-400 and FineGYM build the name from the annotation's ids, so it does not depend on
what the clip file is called. `skeleton.datasets.index` then finds the videos under a root
folder (searched recursively by file name, the sample's frame_dir or one of its `names`),
assigns pose shards and records missing videos; `skeleton.datasets.package` turns pose shards
into `<ds>_2d.pkl` (dense, or Kinetics-400's compressed kpfile form).
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from skeleton.rejects import Reject
from skeleton.resources import label_map_path

# dataset -> module with `read(annotations, **options) -> SampleTable`
ADAPTERS: dict[str, str] = {
    "ucf101": "skeleton.datasets.ucf101",
    "hmdb51": "skeleton.datasets.hmdb51",
    "diving48": "skeleton.datasets.diving48",
    "gym": "skeleton.datasets.finegym",
    "k400": "skeleton.datasets.kinetics",
    "custom": "skeleton.datasets.custom",
}
VIDEO_DATASETS = tuple(ADAPTERS)


class AnnotationError(ValueError):
    """An official file that is missing or cannot be parsed at all (not one bad line)."""


@dataclass
class Sample:
    frame_dir: str  # the sample's name in the released pickles
    label: int  # 0-based
    splits: list[str] = field(default_factory=list)
    # other video stems that are this sample (K400: the youtube id; FineGYM: the element id)
    names: tuple[str, ...] = ()
    path: str = ""  # an explicit video path (custom lists); else searched by name
    source: str = ""  # file:line it came from

    def add_split(self, split: str) -> None:
        if split not in self.splits:
            self.splits.append(split)


@dataclass
class SampleTable:
    dataset: str
    split_names: list[str]  # in the order the official files define them
    samples: dict[str, Sample] = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)  # label -> class name ('' if unknown)
    rejects: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # for the index log: files and forms found

    def add(self, sample: Sample, split: str | None) -> None:
        """Add `sample` (or its split membership, when it is already known)."""
        have = self.samples.get(sample.frame_dir)
        if have is None:
            have = self.samples[sample.frame_dir] = sample
        elif have.label != sample.label:
            self.rejects.append(
                Reject(
                    sample.frame_dir,
                    sample.source,
                    "label_conflict",
                    f"label {sample.label} here, {have.label} at {have.source}; first kept",
                )
            )
        if split is not None:
            have.add_split(split)

    def split(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {name: [] for name in self.split_names}
        for name in sorted(self.samples):
            for s in self.samples[name].splits:
                out.setdefault(s, []).append(name)
        return out


def video_stem(name: str) -> str:
    """frame_dir of a video file name or path: the base name without its extension.

    Only the last dot starts the extension: `my.clip.v2.mp4` is `my.clip.v2`, the same rule as
    the video search (`index.find_videos`) and the pose stage (`pose.extract.sample_name`), so
    `clip.1.mp4` and `clip.2.mp4` stay two samples. PYSKL's tools/data/custom_2d_skeleton.py
    cuts at the first dot instead (`osp.basename(path).split('.')[0]`: `my`), which merges
    such names. A name listed without its extension loses its last dotted part.
    """
    base = os.path.basename(name.replace("\\", "/"))
    return base.rsplit(".", 1)[0] if "." in base else base


def read_label_map(path: str | os.PathLike) -> list[str]:
    """Class names, one a line (blank lines ignored); line k is label k."""
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def label_map(name: str) -> list[str]:
    """A shipped label map (skeleton/data/label_maps/<name>.txt), [] when there is none."""
    path = label_map_path(name)
    return read_label_map(path) if path.is_file() else []


def read_dataset(dataset: str, annotations: str | os.PathLike, **options) -> SampleTable:
    if dataset not in ADAPTERS:
        raise ValueError(f"unknown dataset {dataset!r}; choose from {', '.join(ADAPTERS)}")
    table = importlib.import_module(ADAPTERS[dataset]).read(annotations, **options)
    for note in table.notes:  # stderr: the index step's log
        print(f"{dataset}: {note}", file=sys.stderr)
    return table


def need_file(folder: str | os.PathLike, name: str) -> Path:
    path = Path(folder) / name
    if not path.is_file():
        raise AnnotationError(f"{path}: missing (expected the official {name})")
    return path


def text_lines(path: str | os.PathLike) -> list[tuple[int, str]]:
    """(1-based line number, stripped text) of the non-blank lines; CRLF/LF and a BOM allowed."""
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        return [(i, line.strip()) for i, line in enumerate(f, 1) if line.strip()]


def split_order(dataset: str, names: set[str] | list[str]) -> list[str]:
    """The dataset's split names in official order (known ones always present), then others."""
    known = list(getattr(importlib.import_module(ADAPTERS[dataset]), "SPLITS", ()))
    return known + [n for n in sorted(set(names)) if n not in known]
