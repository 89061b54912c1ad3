"""Video sources: official annotation files -> the sample table the pose pipeline uses.

Every source of videos (NTU RGB+D, UCF101, HMDB51, Diving48, FineGYM, Kinetics-400, custom
lists) has one reader module. Its `read(annotations, **options)` reads the split / annotation
files exactly as released and returns a `SampleTable`: one `Sample` per video, named (frame_dir)
as the released PYSKL / MMAction2 pickles name it, its 0-based label and the splits it belongs
to, plus `Reject`s for lines it could not use and `notes` for the index log (which form of the
files was found). UCF101, HMDB51, Diving48 and custom lists name a sample after its video file
(`video_stem`); Kinetics-400 and FineGYM build the name from the annotation's ids, so it does
not depend on what the clip file is called. `skeleton.datasets.index` then finds the videos
under the root folders (searched recursively by file name, the sample's frame_dir or one of its
`names`), assigns pose shards and records missing videos; `skeleton.datasets.package` turns pose
shards into `<ds>_2d.pkl` (dense, or Kinetics-400's compressed kpfile form).

Each reader module ends with its `SOURCE`, a `VideoSource`: what the workflow, the index and the
packager need to know of it besides `read` (which pickles it makes, its split names, how its
config section is read, the pose mode, ground-truth boxes, the compressed form), each with its
default in that one class; a source that reads its config section another way (NTU, custom
lists) or keeps samples out of a dataset (NTU60) subclasses it.

Adding a dataset `foo` with videos and official split files:

1. `skeleton/datasets/foo.py`: `read(annotations, **options) -> SampleTable` (build it with
   `SampleTable`, `Sample`, `text_lines`, `need_file`, `quote`; a line it cannot use is a
   `Reject` with a code of skeleton.core.reasons), `SPLITS` (the official split names in order)
   and last `SOURCE = VideoSource("foo", read, SPLITS)`; its class names in
   `label_maps/foo.txt` when the files do not name them. Then one line in ADAPTERS below:
   `"foo": "skeleton.datasets.foo"`.
2. One line in config/schema/config.schema.yaml, beside ucf101's:
   `foo: {$ref: "#/$defs/video_source", default: {}, unevaluatedProperties: false,
   description: ...}` (options of its `read` go in `properties` there, as gym's do).
3. One row in README.md's table of video datasets (target, official files, splits).

The workflow then has the target `foo` (rules/datasets.smk makes one per dataset), the config
section `foo: {videos: ..., annotations: ...}` and `skeleton dataset-index foo`;
tests/test_video_sources.py checks the three agree.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skeleton.core import reasons
from skeleton.core.files import name_problem
from skeleton.core.rejects import Reject, count_reasons, reasons_text

# <dataset>.txt: class names, line k = label k; shipped in the package, read by the rules too
LABEL_MAP_DIR = Path(__file__).resolve().parent / "label_maps"

# source (its config section) -> reader module, which defines `SOURCE`, a VideoSource
ADAPTERS: dict[str, str] = {
    "ntu": "skeleton.datasets.ntu",
    "ucf101": "skeleton.datasets.ucf101",
    "hmdb51": "skeleton.datasets.hmdb51",
    "diving48": "skeleton.datasets.diving48",
    "gym": "skeleton.datasets.finegym",
    "k400": "skeleton.datasets.kinetics",
    "custom": "skeleton.datasets.custom",
}
SOURCES = tuple(ADAPTERS)
CONFLICT_PLACES = 3  # places of a sample listed with different labels named in its reject
# characters of a file's text quoted in a reject or an error (a report stays shareable and short)
QUOTE_CHARS = 80


class AnnotationError(ValueError):
    """An official file that is missing or cannot be parsed at all (not one bad line)."""


class ConfigError(ValueError):
    """A source's config section lacks what its index needs; the message says what to set."""


@dataclass(frozen=True)
class SourceSettings:
    """What a source's config section asks for (skeleton.datasets.sources)."""

    annotations: str | list[str]  # official files (folder, list file); NTU: the video folders
    videos: list[str]  # root folders searched for the videos by name
    options: dict = field(default_factory=dict)  # keyword options of the reader's `read`
    boxes: str | None = None  # ground-truth person boxes used instead of the detector
    files: list[str] = field(default_factory=list)  # every path the index reads (rule inputs)


ROOT_KEYS = ("videos", "annotations", "boxes")  # section keys that are not reader options


def as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value or []]


@dataclass(frozen=True)
class VideoSource:
    """A video source as its reader module declares it (`SOURCE`): the contract between a reader
    and the workflow, the index and the packager, with every default in this one place.

    `read(annotations, **options) -> SampleTable` reads the official files as released. A
    source whose config section is not `{videos, annotations, reader options}`, or whose
    datasets do not take every sample, overrides `settings`, `configured`, `in_dataset`.
    """

    name: str  # the source's name: its config section, `skeleton dataset-index SOURCE`
    read: Callable[..., SampleTable]
    splits: tuple[str, ...]  # the official split names, in order ((): whatever the files name)
    datasets: tuple[str, ...] = ()  # the pickles packaged from it ((): one, named `name`)
    # split names per dataset, in pickle order; a dataset listed here keeps only those
    dataset_splits: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    pose_dataset: str = "generic"  # `skeleton pose --dataset`: ntu sorts actors by class
    boxes_file: str | None = None  # ground-truth person boxes beside the annotations (FineGYM)
    compressed: bool = False  # packaged in Kinetics-400's compressed kpfile form
    # its files list the videos, so a video under its folders that no sample names is reported
    # (`not_listed`); False where the folders are the list (NTU: every *_rgb.avi is a sample)
    lists_videos: bool = True

    def __post_init__(self) -> None:
        if not self.datasets:
            object.__setattr__(self, "datasets", (self.name,))

    def in_dataset(self, dataset: str, sample: str) -> bool:
        """Whether `sample` belongs to `dataset` (one of `datasets`)."""
        return True

    def configured(self, section: Mapping[str, Any]) -> bool:
        """Whether the config asks for this source (its videos are set)."""
        return bool(section.get("videos"))

    def settings(self, section: Mapping[str, Any]) -> SourceSettings:
        """The config section -> what the index needs: `annotations` (a folder of official
        files), `videos` (root folders), the other keys as reader options, and ground-truth
        boxes (`boxes`, else `boxes_file` in the annotations folder). ConfigError naming the
        keys to set when some are missing."""
        if not section.get("videos") or not section.get("annotations"):
            raise ConfigError(
                f"target {self.name}: set {self.name}.videos (root folder of the videos) and "
                f"{self.name}.annotations (folder holding the official split files)"
            )
        annotations, videos = str(section["annotations"]), as_list(section["videos"])
        options = {k: v for k, v in section.items() if k not in ROOT_KEYS and v is not None}
        beside = os.path.join(annotations, self.boxes_file) if self.boxes_file else None
        boxes = section.get("boxes") or beside
        return SourceSettings(annotations, videos, options, boxes, [annotations, *videos])


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
    # frame_dir -> (its label_conflict reject's position in `rejects`, [(label, file:line)])
    conflicts: dict[str, tuple[int, list[tuple[int, str]]]] = field(default_factory=dict)
    # every sample name the files mention, kept or not: a video so named is accounted for (a
    # reader that rejects a sample before `add` names its video stems here)
    mentioned: set[str] = field(default_factory=set)

    def add(self, sample: Sample, split: str | None) -> None:
        """Add `sample` (or its split membership, when it is already known).

        A frame_dir that is not one plain file name is rejected (`bad_name`). A second video
        listed under a known frame_dir (custom lists: `a/clip.mp4` and `b/clip.mp4`) is a
        `duplicate` reject naming the one kept, the first listed. One listed with
        two different labels is left out, whatever its splits: which label is right is not
        known, and a pickle must not train on a guess. It gets one `label_conflict` reject
        naming where it is listed (so the rejects report counts samples, not lines).
        """
        self.mentioned.update((sample.frame_dir, *sample.names))
        why = name_problem(sample.frame_dir)
        if why is not None:
            detail = f"sample name {quote(sample.frame_dir)} {why}"
            self.rejects.append(Reject(sample.frame_dir, sample.source, reasons.BAD_NAME, detail))
            return
        here = (sample.label, sample.source)
        conflict = self.conflicts.get(sample.frame_dir)
        if conflict is not None:
            at, places = conflict
            places.append(here)
            self.rejects[at] = self._conflict(sample.frame_dir, places)
            return
        have = self.samples.get(sample.frame_dir)
        if have is None:
            have = self.samples[sample.frame_dir] = sample
        elif have.label == sample.label and not same_path(have.path, sample.path):
            detail = (
                f"the video {quote(have.path or have.frame_dir)} listed at {have.source} has "
                "this name and is used (a sample is named after its video's base name: rename "
                "one to keep both)"
            )
            self.rejects.append(Reject(sample.frame_dir, sample.source, reasons.DUPLICATE, detail))
            return
        elif have.label != sample.label:
            places = [(have.label, have.source), here]
            del self.samples[sample.frame_dir]
            self.conflicts[sample.frame_dir] = (len(self.rejects), places)
            self.rejects.append(self._conflict(sample.frame_dir, places))
            return
        if split is not None:
            have.add_split(split)

    @staticmethod
    def _conflict(frame_dir: str, places: list[tuple[int, str]]) -> Reject:
        shown = "; ".join(f"label {label} at {src}" for label, src in places[:CONFLICT_PLACES])
        more = f"; {len(places) - CONFLICT_PLACES} more" if len(places) > CONFLICT_PLACES else ""
        detail = (
            f"listed with different labels ({shown}{more}): left out, which is right is unknown"
        )
        return Reject(frame_dir, places[0][1], reasons.LABEL_CONFLICT, detail)

    def split(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {name: [] for name in self.split_names}
        for name in sorted(self.samples):
            for s in self.samples[name].splits:
                out.setdefault(s, []).append(name)
        return out


def same_path(a: str, b: str) -> bool:
    """Whether two listed video paths name one file ('' is "search by name")."""
    return a == b or (bool(a) and bool(b) and os.path.normpath(a) == os.path.normpath(b))


def require_samples(table: SampleTable, where: str | os.PathLike) -> SampleTable:
    """`table`, or an AnnotationError saying why no line of the files at `where` was usable:
    an index without a sample fails at the index step with its reason, not at packaging."""
    if table.samples:
        return table
    if not table.rejects:
        raise AnnotationError(f"{where}: no sample listed")
    first = table.rejects[0]
    raise AnnotationError(
        f"{where}: no usable sample ({len(table.rejects)} rejected: "
        + reasons_text(count_reasons(table.rejects))
        + f"); first: {first.source}: {first}"
    )


def quote(text: str) -> str:
    """Text of an input file as a reject or an error quotes it: a repr (control characters
    escaped), at most QUOTE_CHARS characters of it."""
    return repr(text[:QUOTE_CHARS]) + ("..." if len(text) > QUOTE_CHARS else "")


def label_map_path(name: str) -> Path:
    """The shipped label map of `name` (ntu60, ntu120, ucf101, ...); it may not exist."""
    return LABEL_MAP_DIR / f"{name}.txt"


def read_label_map(path: str | os.PathLike) -> list[str]:
    """Class names, one a line (blank lines ignored); line k is label k."""
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def label_map(name: str) -> list[str]:
    """A shipped label map (skeleton/datasets/label_maps/<name>.txt), [] when there is none."""
    path = label_map_path(name)
    return read_label_map(path) if path.is_file() else []


def video_source(source: str) -> VideoSource:
    """The `SOURCE` of `source`'s reader module."""
    if source not in ADAPTERS:
        raise ValueError(f"unknown video source {source!r}; choose from {', '.join(ADAPTERS)}")
    declared = importlib.import_module(ADAPTERS[source]).SOURCE
    if not isinstance(declared, VideoSource) or declared.name != source:
        raise TypeError(f"{ADAPTERS[source]}.SOURCE is not the VideoSource {source!r}")
    return declared


def read_dataset(source: str, annotations: str | os.PathLike | list[str], **options) -> SampleTable:
    table = video_source(source).read(annotations, **options)
    for note in table.notes:  # stderr: the index step's log
        print(f"{source}: {note}", file=sys.stderr)
    return table


def datasets_of(source: str) -> tuple[str, ...]:
    """The pickles packaged from `source` (NTU: ntu60 and ntu120; others: the source itself)."""
    return video_source(source).datasets


def source_of(dataset: str) -> str:
    """The video source a packaged dataset comes from (ntu60 -> ntu)."""
    for source in ADAPTERS:
        if dataset in datasets_of(source):
            return source
    names = [d for s in ADAPTERS for d in datasets_of(s)]
    raise ValueError(f"unknown dataset {dataset!r}; choose from {', '.join(names)}")


def dataset_filter(dataset: str) -> Callable[[str], bool]:
    """sample -> whether it belongs to `dataset`."""
    source = video_source(source_of(dataset))
    return lambda sample: source.in_dataset(dataset, sample)


def need_file(folder: str | os.PathLike, name: str) -> Path:
    path = Path(folder) / name
    if not path.is_file():
        raise AnnotationError(f"{path}: missing (expected the official {name})")
    return path


def text_lines(path: str | os.PathLike) -> list[tuple[int, str]]:
    """(1-based line number, stripped text) of the non-blank lines; CRLF/LF and a BOM allowed."""
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        return [(i, line.strip()) for i, line in enumerate(f, 1) if line.strip()]


def dataset_splits(dataset: str) -> tuple[str, ...]:
    """The dataset's official split names in order (empty: whatever the index names)."""
    source = video_source(source_of(dataset))
    return tuple(source.dataset_splits.get(dataset, source.splits))


def split_order(dataset: str, names: set[str] | list[str]) -> list[str]:
    """The dataset's split names in official order (known ones always present), then others;
    a dataset with its own split list (NTU60 / NTU120) keeps only those."""
    known = list(dataset_splits(dataset))
    if dataset in video_source(source_of(dataset)).dataset_splits:
        return known
    return known + [n for n in sorted(set(names)) if n not in known]
