"""Custom video lists: a CSV or TSV of `video,label[,split]`.

`video` is a path (absolute, or relative to the list's folder) or a bare file name searched
under `custom.videos` (frame_dir: the name without its last extension, `video_stem`); `label` a
class name or a 0-based int; `split` any split name (default `all`). A first row reading
`video,label[,split]` is a header. Class names get labels from the given label map when there is
one (names not in it are rejected), else from the sorted set of names; int labels are used as
given. Mixing names and ints needs a label map. The label map used is written beside the pickle.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from skeleton.core.rejects import Reject
from skeleton.datasets import (
    AnnotationError,
    ConfigError,
    Sample,
    SampleTable,
    SourceSettings,
    read_label_map,
    video_stem,
)

DEFAULT_SPLIT = "all"
SPLITS: tuple[str, ...] = ()  # whatever the list names (sorted in the pickle)
HEADER = ("video", "label")


def settings(section: Mapping[str, Any]) -> SourceSettings:
    """Config `custom`: `list` (the CSV/TSV), `videos` (where bare names are searched; default
    the list's folder), `label_map`."""
    from skeleton.datasets.sources import as_list

    if not section.get("list"):
        raise ConfigError("target custom: set custom.list (a CSV/TSV video,label[,split])")
    listed = str(section["list"])
    videos = as_list(section.get("videos")) or [os.path.dirname(listed) or "."]
    options = {"label_map": str(section["label_map"])} if section.get("label_map") else {}
    return SourceSettings(listed, videos, options, None, [listed, *videos, *options.values()])


def configured(section: Mapping[str, Any]) -> bool:
    return bool(section.get("list"))


def _rows(path: Path) -> list[tuple[int, list[str]]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        text = f.read()
    first = text.splitlines()[0] if text.strip() else ""
    delim = "\t" if path.suffix.lower() == ".tsv" or "\t" in first else ","
    rows = []
    for no, row in enumerate(csv.reader(text.splitlines(), delimiter=delim), 1):
        row = [c.strip() for c in row]
        if not any(row) or row[0].startswith("#"):
            continue
        if not rows and tuple(c.lower() for c in row[:2]) == HEADER:
            continue
        rows.append((no, row))
    return rows


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


def read(
    annotations: str | os.PathLike, label_map: str | os.PathLike | None = None, **_options
) -> SampleTable:
    """`annotations` is the list file itself."""
    path = Path(annotations)
    if not path.is_file():
        raise AnnotationError(f"{path}: no such video list (custom.list)")
    rows = _rows(path)
    names = read_label_map(label_map) if label_map else []
    labels = [r[1] for _, r in rows if len(r) >= 2 and r[1]]
    named = sorted({x for x in labels if not _is_int(x)})
    if named and any(_is_int(x) for x in labels) and not names:
        raise AnnotationError(
            f"{path}: labels mix class names and ints; give custom.label_map to fix their order"
        )
    if not names:
        if named:
            names = named
        else:
            top = max((int(x) for x in labels), default=-1)
            names = [str(i) for i in range(top + 1)]
    index = {c: i for i, c in enumerate(names)}
    splits: list[str] = []
    table = SampleTable("custom", splits, classes=names)
    for no, row in rows:
        where = f"{path}:{no}"
        if len(row) < 2 or not row[0] or not row[1]:
            table.rejects.append(
                Reject(
                    video_stem(row[0]) if row else "?",
                    where,
                    "bad_line",
                    "expected video,label[,split]",
                )
            )
            continue
        video, text = row[0], row[1]
        split = row[2] if len(row) > 2 and row[2] else DEFAULT_SPLIT
        label = int(text) if _is_int(text) else index.get(text)
        if label is None or not 0 <= label < len(names):
            table.rejects.append(
                Reject(
                    video_stem(video),
                    where,
                    "unknown_label",
                    f"label {text!r} not in the label map",
                )
            )
            continue
        explicit = ""
        if "/" in video or "\\" in video or os.path.isabs(video):
            explicit = str(Path(video) if os.path.isabs(video) else path.parent / video)
        if split not in splits:
            splits.append(split)
        table.add(Sample(video_stem(video), label, path=explicit, source=where), split)
    return table
