"""Kinetics-400: the train and validation CSVs, in any of their distributed forms -> `train val`.

The same CSVs come under three sets of names; the annotations folder must hold exactly one:

* DeepMind (storage.googleapis.com/deepmind-media/Datasets/kinetics400.tar.gz): `train.csv`,
  `validate.csv`, `test.csv`;
* the CVDF mirror (s3.amazonaws.com/kinetics/400/annotations/, as github.com/cvdfoundation/
  kinetics-dataset k400_downloader.sh fetches them): `train.csv`, `val.csv`, `test.csv`;
* MMAction2 (tools/data/kinetics/download_annotations.sh renames DeepMind's files;
  download_backup_annotations.sh fetches the same names): `kinetics_train.csv`,
  `kinetics_val.csv`, `kinetics_test.csv`.

The form found is written to the index log. The test list is not read: the released K400
skeleton pickles (PYSKL k400_hrnet.pkl, MMAction2 k400_2d.pkl) have the splits `train` and `val`.

Format: a header `label,youtube_id,time_start,time_end,split[,is_cc]`, label a class name
(quoted when it holds a comma or quote), times in whole seconds (ActivityNet's Crawler/Kinetics
reads the same columns). Labels: index of the class name in skeleton/datasets/label_maps/k400.txt.

Sample names: frame_dir is always the clip name `<youtube_id>_<time_start:06d>_<time_end:06d>`.
That is the name the distributed clips carry (the CVDF tarballs; MMAction2's tools/data/kinetics/
download.py writes `'%s_%s_%s.mp4' % (youtube_id, '%06d' % start, '%06d' % end)`), and PYSKL
names a sample after its video file (tools/data/custom_2d_skeleton.py, also with `--compress`,
its K400 form), so it is the frame_dir such clips get in the released pickles. A video saved as
just `<youtube_id>.*` is found as well and keeps the clip name, unless that youtube id names
more than one clip in the lists.
"""

from __future__ import annotations

import csv
import math
import os
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from skeleton.core import reasons
from skeleton.core.rejects import Reject
from skeleton.datasets import (
    AnnotationError,
    Sample,
    SampleTable,
    VideoSource,
    label_map,
    quote,
    require_samples,
)

SPLITS = ("train", "val")
COLUMNS = ("label", "youtube_id", "time_start", "time_end")
# latest time taken (s): the clip name's `%06d` holds six digits (a YouTube video is hours long)
MAX_SECONDS = 999_999


@dataclass(frozen=True)
class Form:
    name: str
    source: str
    files: dict[str, str]  # split -> file name
    test: str  # the test list's name (not read)


FORMS = (
    Form(
        "DeepMind",
        "kinetics400.tar.gz",
        {"train": "train.csv", "val": "validate.csv"},
        "test.csv",
    ),
    Form(
        "CVDF mirror",
        "s3.amazonaws.com/kinetics/400/annotations",
        {"train": "train.csv", "val": "val.csv"},
        "test.csv",
    ),
    Form(
        "MMAction2",
        "tools/data/kinetics/download_annotations.sh",
        {"train": "kinetics_train.csv", "val": "kinetics_val.csv"},
        "kinetics_test.csv",
    ),
)


def clip_time(text: str | None) -> int:
    """A CSV time (whole seconds, maybe written as a float) as the clip name writes it;
    ValueError saying what is wrong with it."""
    try:
        seconds = float((text or "").strip())
    except ValueError:
        raise ValueError(f"{quote(text or '')} is not a number of seconds") from None
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_SECONDS:
        raise ValueError(f"{quote(text or '')} is not a time in 0..{MAX_SECONDS} s")
    return int(seconds)  # MMAction2's int(float(x)): 3.9 -> 3


def clip_name(youtube_id: str, start: str | None, end: str | None) -> str:
    """`<youtube_id>_<start:06d>_<end:06d>`; ValueError naming the bad time."""
    times = []
    for column, text in (("time_start", start), ("time_end", end)):
        try:
            times.append(clip_time(text))
        except ValueError as exc:
            raise ValueError(f"{column} {exc}") from None
    if times[1] < times[0]:
        raise ValueError(f"time_end {times[1]} is before time_start {times[0]}")
    return f"{youtube_id}_{times[0]:06d}_{times[1]:06d}"


def class_label(text: str | None, index: dict[str, int]) -> int | None:
    """The label of a CSV class name: as written, or in MMAction2's spelling (quotes removed,
    spaces as underscores: `air_drumming`, tools/data/kinetics/rename_classnames.sh and
    parse_file_list.py's convert_label). No K400 class name holds an underscore."""
    name = (text or "").strip()
    if name in index:
        return index[name]
    return index.get(name.replace('"', "").replace("_", " "))


def _files(form: Form) -> str:
    return " + ".join(form.files.values())


def find_form(annotations: str | os.PathLike) -> Form:
    """The one distributed form whose train and validation files are all in `annotations`."""
    folder = Path(annotations)
    if not folder.is_dir():
        raise AnnotationError(f"{folder}: no such folder (the Kinetics-400 annotation CSVs)")
    found = [f for f in FORMS if all((folder / n).is_file() for n in f.files.values())]
    if len(found) > 1:
        raise AnnotationError(
            f"{folder}: holds the lists of several forms ("
            + "; ".join(f"{_files(f)} ({f.name})" for f in found)
            + "): keep one"
        )
    if not found:
        have = sorted(p.name for p in folder.glob("*.csv")) or ["no .csv file"]
        raise AnnotationError(
            f"{folder}: no Kinetics-400 train/validation lists; expected "
            + ", or ".join(f"{_files(f)} ({f.name})" for f in FORMS)
            + f"; found {', '.join(have)}"
        )
    return found[0]


def read(annotations: str | os.PathLike, **_options) -> SampleTable:
    classes = label_map("k400")
    if not classes:
        raise AnnotationError("skeleton/datasets/label_maps/k400.txt is missing")
    index = {c: i for i, c in enumerate(classes)}
    form = find_form(annotations)
    table = SampleTable("k400", list(SPLITS), classes=classes)
    note = f"{form.name} form of the annotations ({form.source}): {_files(form)}"
    if (Path(annotations) / form.test).is_file():
        note += f"; {form.test} not read (the released pickles have train and val only)"
    table.notes.append(note)
    for split, name in form.files.items():
        _read_csv(Path(annotations) / name, split, index, table)
    _drop_shared_ids(table)
    return require_samples(table, annotations)


def _read_csv(path: Path, split: str, index: dict[str, int], table: SampleTable) -> None:
    # undecodable bytes become U+FFFD: that row's class is then unknown, the rest still read
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
        reader = csv.DictReader(f)
        done = 0  # the last line of the last row read (csv's line_num is unreliable on an error)
        try:
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise AnnotationError(f"{path}: no column {', '.join(missing)} in the header")
            for row in reader:
                done = reader.line_num
                _read_row(row, f"{path}:{done}", split, index, table)
        except csv.Error as exc:  # a field over csv's size limit
            raise AnnotationError(f"{path}:{done + 1}: not CSV ({exc})") from None


def _read_row(
    row: dict[str, str | None], where: str, split: str, index: dict[str, int], table: SampleTable
) -> None:
    yid = (row["youtube_id"] or "").strip()
    if not yid:
        table.rejects.append(Reject("?", where, reasons.BAD_LINE, "no youtube_id"))
        return
    try:
        stem = clip_name(yid, row["time_start"], row["time_end"])
    except ValueError as exc:
        table.rejects.append(Reject(yid, where, reasons.BAD_LINE, f"{exc}"))
        return
    label = class_label(row["label"], index)
    if label is None:
        cls = quote(row["label"] or "")
        table.rejects.append(Reject(stem, where, reasons.UNKNOWN_LABEL, f"class {cls} not in k400"))
        return
    table.add(Sample(stem, label, names=(yid,), source=where), split)


def _drop_shared_ids(table: SampleTable) -> None:
    """A youtube id that names several clips cannot tell which one `<id>.mp4` is."""
    uses = Counter(n for s in table.samples.values() for n in s.names)
    shared = sorted(n for n, k in uses.items() if k > 1)
    for key, s in table.samples.items():
        if any(n in shared for n in s.names):
            table.samples[key] = replace(s, names=())
    if shared:
        table.notes.append(
            f"{len(shared)} youtube id(s) name more than one clip (e.g. {shared[0]}): their "
            "videos are found only under the clip name <id>_<start>_<end>"
        )


# packaged in PYSKL's compressed kpfile form (skeleton.datasets.package)
SOURCE = VideoSource("k400", read, SPLITS, compressed=True)
