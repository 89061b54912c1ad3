"""Custom video lists: a CSV or TSV of `video,label[,split]`, or PYSKL's `<video> <label>` list.

Forms (the first line that is not blank or a `#` comment decides; the index log names it):
* CSV `video,label[,split]` (fields holding a comma quoted, as csv writes them);
* TSV, the same with tabs (a `.tsv` file, or a tab in that first line);
* PYSKL's video list (`--video-list` of PYSKL's tools/data/custom_2d_skeleton.py, what PYSKL
  users have): `<video> <label>` separated by whitespace, exactly two fields (PYSKL splits a
  line on whitespace, so a path cannot hold a space there: use the CSV or TSV form for such
  paths, or for splits); every sample is in split `all`. PYSKL's inference-only lines
  (`<video>` without a label) cannot make a training set: rejected.

`video` is a path (absolute, or relative to the list's folder) or a bare file name searched
under `custom.videos` (frame_dir: the name without its last extension, `video_stem`); `label` a
class name or a 0-based int; `split` any split name (default `all`) that `skeleton validate`
accepts and the index can hold (`split_name_problem`), checked where it is read: a line with
another is rejected (`bad_split`, file:line). A first row reading `video,label[,split]` is a
header. Class names get labels from the given label map when there is one (names not in it are
rejected), else from the sorted set of names; int labels are used as given (at most
MAX_INT_LABEL without a label map). Mixing names and ints needs a label map. The label map used
is written beside the pickle. A list without a usable line is an error at the index step, with
the reasons of its rejects.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from skeleton.core import reasons
from skeleton.core.rejects import Reject
from skeleton.core.videos import video_stem
from skeleton.datasets import (
    AnnotationError,
    ConfigError,
    Sample,
    SampleTable,
    SourceSettings,
    VideoSource,
    as_list,
    quote,
    read_label_map,
    require_samples,
)
from skeleton.datasets.index import SPLIT_SEP

DEFAULT_SPLIT = "all"
SPLITS: tuple[str, ...] = ()  # whatever the list names (sorted in the pickle)
HEADER = ("video", "label")
MAX_FIELDS = {"csv": 3, "tsv": 3, "pyskl": 2}  # video, label[, split]
DELIMITERS = {"csv": ",", "tsv": "\t"}
FORMS = {
    "csv": "CSV video,label[,split]",
    "tsv": "TSV video<TAB>label[<TAB>split]",
    "pyskl": "PYSKL's video list '<video> <label>'",
}
SEPARATOR_HINTS = {
    "csv": "quote a field that holds a comma",
    "tsv": "a field cannot hold a tab",
    "pyskl": "whitespace separates its fields: a path with spaces needs the CSV or TSV form",
}
INT_RE = re.compile(r"-?[0-9]+")
INT_CHARS = 9  # an int label longer than this is out of any label map's range
MAX_INT_LABEL = 99_999  # largest int label taken without a label map (names 0..N are made)


def split_name_problem(name: str) -> str | None:
    """Why `name` cannot be a split name, or None: the rule `skeleton validate` applies to a
    pickle's split names (skeleton.core.validate.split_name_problem), plus the index's split
    separator (index.SPLIT_SEP: `tr,ain` would come back as the two splits `tr` and `ain`)."""
    from skeleton.core.validate import split_name_problem as validate_rule

    why = validate_rule(name)
    if why is None and SPLIT_SEP in name:
        why = f"holds {SPLIT_SEP!r}, which separates split names in the index"
    return why


def _form(path: Path, first: str) -> str:
    if path.suffix.lower() == ".tsv" or "\t" in first:
        return "tsv"
    return "csv" if "," in first else "pyskl"


def _is_header(row: list[str]) -> bool:
    return tuple(c.lower() for c in row[:2]) == HEADER


def _rows(path: Path) -> tuple[str, list[tuple[int, list[str]]]]:
    """(form, [(line number, fields)]) of the list's data lines."""
    # undecodable bytes become U+FFFD: that line's name or label is then unknown, not fatal
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
        text = f.read()
    lines = list(io.StringIO(text, newline=None))  # \n, \r\n or \r: the lines an editor shows
    first = next((x for x in lines if x.strip() and not x.lstrip().startswith("#")), "")
    form = _form(path, first)
    rows: list[tuple[int, list[str]]] = []
    if form == "pyskl":
        numbered = ((no, x.split()) for no, x in enumerate(lines, 1))
    else:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[form])
        numbered = _csv_rows(path, reader)
    for no, row in numbered:
        row = [c.strip() for c in row]
        if not any(row) or row[0].startswith("#"):
            continue
        if not rows and _is_header(row):
            continue
        rows.append((no, row))
    return form, rows


def _csv_rows(path: Path, reader: Any) -> Iterator[tuple[int, list[str]]]:
    done = 0  # the last line of the last row read (csv's line_num is unreliable on an error)
    try:
        for row in reader:
            done = reader.line_num
            yield done, row
    except csv.Error as exc:  # a field over csv's size limit
        raise AnnotationError(f"{path}:{done + 1}: not CSV ({exc})") from None


def _int_label(text: str) -> int | None:
    """The int a label field writes, None when it is a class name."""
    return int(text) if INT_RE.fullmatch(text) and len(text) <= INT_CHARS else None


def _is_int(text: str) -> bool:
    return INT_RE.fullmatch(text) is not None


def _label_map(path: str | os.PathLike) -> list[str]:
    try:
        names = read_label_map(path)
    except (OSError, ValueError) as exc:
        raise AnnotationError(
            f"{path}: not a readable label map (custom.label_map: {exc})"
        ) from None
    seen: dict[str, int] = {}
    for k, name in enumerate(names):
        if name in seen:
            raise AnnotationError(
                f"{path}: class {quote(name)} listed twice (labels {seen[name]} and {k})"
            )
        seen[name] = k
    return names


def _bad_line(form: str, row: list[str]) -> str | None:
    """What is wrong with a line's fields, None when they are usable."""
    if len(row) > MAX_FIELDS[form]:
        hint = SEPARATOR_HINTS[form]
        return f"{len(row)} fields: expected {FORMS[form]} ({hint})"
    if len(row) < 2 or not row[1]:
        if form == "pyskl":
            return f"no label (PYSKL's inference-only form <video>): expected {FORMS[form]}"
        return f"no label: expected {FORMS[form]}"
    if not row[0]:
        return f"no video: expected {FORMS[form]}"
    return None


def read(
    annotations: str | os.PathLike, label_map: str | os.PathLike | None = None, **_options
) -> SampleTable:
    """`annotations` is the list file itself."""
    path = Path(annotations)
    if not path.is_file():
        raise AnnotationError(f"{path}: no such video list (custom.list)")
    form, rows = _rows(path)
    names = _label_map(label_map) if label_map else []
    labels = [r[1] for _, r in rows if _bad_line(form, r) is None]
    named = sorted({x for x in labels if not _is_int(x)})
    if named and any(_is_int(x) for x in labels) and not names:
        raise AnnotationError(
            f"{path}: labels mix class names and ints; give custom.label_map to fix their order"
        )
    if not names:
        if named:
            names = named
        else:
            ints = (_int_label(x) for x in labels)
            top = max((v for v in ints if v is not None and v <= MAX_INT_LABEL), default=-1)
            names = [str(i) for i in range(top + 1)]
    index = {c: i for i, c in enumerate(names)}
    splits: list[str] = []
    table = SampleTable("custom", splits, classes=names)
    table.notes.append(f"{path.name}: {FORMS[form]}")
    for no, row in rows:
        where = f"{path}:{no}"
        sample = video_stem(row[0]) if row and row[0] else "?"
        why = _bad_line(form, row)
        if why is not None:
            table.rejects.append(Reject(sample, where, reasons.BAD_LINE, why))
            continue
        video, text = row[0], row[1]
        split = row[2] if len(row) > 2 and row[2] else DEFAULT_SPLIT
        why = split_name_problem(split)
        if why is not None:
            table.rejects.append(
                Reject(sample, where, reasons.BAD_SPLIT, f"split {quote(split)} {why}")
            )
            continue
        label = _int_label(text) if _is_int(text) else index.get(text)
        if label is None or not 0 <= label < len(names):
            table.rejects.append(
                Reject(
                    sample,
                    where,
                    reasons.UNKNOWN_LABEL,
                    f"label {quote(text)} not in the label map",
                )
            )
            continue
        explicit = ""
        if "/" in video or "\\" in video or os.path.isabs(video):
            explicit = str(Path(video) if os.path.isabs(video) else path.parent / video)
        if split not in splits:
            splits.append(split)
        table.add(Sample(sample, label, path=explicit, source=where), split)
    shared = sorted(n for n, s in table.samples.items() if len(s.splits) > 1)
    if shared:  # allowed (an `all` split beside `train`), but a train/val overlap is a leak
        first = table.samples[shared[0]]
        table.notes.append(
            f"{len(shared)} sample(s) listed in more than one split, e.g. {shared[0]} "
            f"({', '.join(first.splits)})"
        )
    return require_samples(table, path)


class CustomList(VideoSource):
    """Config `custom` names a list, not a folder of official files."""

    def configured(self, section: Mapping[str, Any]) -> bool:
        return bool(section.get("list"))

    def settings(self, section: Mapping[str, Any]) -> SourceSettings:
        """`list` (the CSV/TSV), `videos` (where bare names are searched; default the list's
        folder), `label_map`."""
        if not section.get("list"):
            raise ConfigError("target custom: set custom.list (a CSV/TSV video,label[,split])")
        listed = str(section["list"])
        videos = as_list(section.get("videos")) or [os.path.dirname(listed) or "."]
        options = {"label_map": str(section["label_map"])} if section.get("label_map") else {}
        return SourceSettings(listed, videos, options, None, [listed, *videos, *options.values()])


SOURCE = CustomList("custom", read, SPLITS)
