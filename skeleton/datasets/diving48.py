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

from skeleton.core.rejects import Reject
from skeleton.datasets import AnnotationError, Sample, SampleTable, label_map, need_file

FILES = {"train": "Diving48_V2_train.json", "test": "Diving48_V2_test.json"}
SPLITS = tuple(FILES)
NUM_CLASSES = 48


def read(annotations: str | os.PathLike, **_options) -> SampleTable:
    classes = label_map("diving48") or [str(i) for i in range(NUM_CLASSES)]
    table = SampleTable("diving48", list(FILES), classes=classes)
    for split, name in FILES.items():
        path = need_file(annotations, name)
        try:
            with open(path, encoding="utf-8-sig") as f:
                items = json.load(f)
        except (OSError, ValueError) as exc:
            raise AnnotationError(f"{path}: not readable JSON ({exc})") from exc
        if not isinstance(items, list):
            raise AnnotationError(f"{path}: expected a JSON list of videos")
        for i, item in enumerate(items):
            where = f"{path}[{i}]"
            vid = item.get("vid_name") if isinstance(item, dict) else None
            label = item.get("label") if isinstance(item, dict) else None
            if not isinstance(vid, str) or not vid:
                table.rejects.append(Reject(f"#{i}", where, "bad_entry", "no vid_name"))
                continue
            if not isinstance(label, int) or not 0 <= label < len(classes):
                table.rejects.append(
                    Reject(
                        vid, where, "unknown_label", f"label {label!r} not in 0..{len(classes) - 1}"
                    )
                )
                continue
            table.add(Sample(vid, label, source=where), split)
    return table
