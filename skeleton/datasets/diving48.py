"""Diving48 (V2): `Diving48_V2_train.json`, `Diving48_V2_test.json`.

Format (the V2 annotations from www.svcl.ucsd.edu/projects/resound/dataset.html, as read by
MMAction2's tools/data/diving48): a JSON list of objects `{"vid_name": ..., "label": <0-based
int>, "start_frame": ..., "end_frame": ...}`; videos are `<vid_name>.mp4`, frame_dir is
`vid_name`. A leading UTF-8 BOM (files re-saved by some editors) is accepted, as the text
readers accept one. Splits `train test`; class names from
skeleton/datasets/label_maps/diving48.txt (Diving48_vocab.json order).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from skeleton.core import reasons
from skeleton.core.rejects import Reject
from skeleton.datasets import (
    QUOTE_CHARS,
    AnnotationError,
    Sample,
    SampleTable,
    VideoSource,
    label_map,
    need_file,
    quote,
    require_samples,
)

FILES = {"train": "Diving48_V2_train.json", "test": "Diving48_V2_test.json"}
SPLITS = tuple(FILES)
NUM_CLASSES = 48


def _load(path: Path) -> list:
    """The file's JSON list; AnnotationError (one line) for anything else."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            items = json.load(f)
    except RecursionError:  # json nests by recursion: a deeply nested file must not crash
        raise AnnotationError(f"{path}: JSON nested too deeply to be Diving48's list") from None
    except (OSError, ValueError) as exc:
        raise AnnotationError(f"{path}: not readable JSON ({exc})") from exc
    if not isinstance(items, list):
        raise AnnotationError(f"{path}: expected a JSON list of videos, got a JSON {_kind(items)}")
    return items


def _kind(value: object) -> str:
    names = {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def _shown(value: object) -> str:
    """A JSON value as a reject quotes it: short, escaped; containers by their kind only."""
    if isinstance(value, str):
        return quote(value)
    if value is None or isinstance(value, bool | int | float):
        text = json.dumps(value)  # as the file writes it: true, null, 12.0
        return text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS] + "..."
    return f"a JSON {_kind(value)}"


def read(annotations: str | os.PathLike, **_options) -> SampleTable:
    classes = label_map("diving48") or [str(i) for i in range(NUM_CLASSES)]
    table = SampleTable("diving48", list(FILES), classes=classes)
    for split, name in FILES.items():
        path = need_file(annotations, name)
        for i, item in enumerate(_load(path)):
            where = f"{path}[{i}]"
            if not isinstance(item, dict):
                detail = f"element {i} is a JSON {_kind(item)}, not a video object"
                table.rejects.append(Reject(f"#{i}", where, reasons.BAD_ENTRY, detail))
                continue
            vid, label = item.get("vid_name"), item.get("label")
            if not isinstance(vid, str) or not vid:
                why = "no vid_name" if vid is None else f"vid_name {_shown(vid)} is not a name"
                table.rejects.append(Reject(f"#{i}", where, reasons.BAD_ENTRY, why))
                continue
            where = f"{where} (vid_name {quote(vid)})"  # the element as a user finds it
            # a bool is an int to Python, not a class to Diving48
            if isinstance(label, bool) or not isinstance(label, int):
                shown = "no label" if label is None else f"label {_shown(label)}"
                table.rejects.append(
                    Reject(
                        vid,
                        where,
                        reasons.UNKNOWN_LABEL,
                        f"{shown}: expected an int class 0..{len(classes) - 1}",
                    )
                )
                continue
            if not 0 <= label < len(classes):
                table.rejects.append(
                    Reject(
                        vid,
                        where,
                        reasons.UNKNOWN_LABEL,
                        f"label {_shown(label)} not in 0..{len(classes) - 1}",
                    )
                )
                continue
            table.add(Sample(vid, label, source=where), split)
    return require_samples(table, annotations)


SOURCE = VideoSource("diving48", read, SPLITS)
