"""Kinetics-400: `train.csv` / `validate.csv` -> splits `train val`.

Format (the official annotations, e.g. s3.amazonaws.com/kinetics/400/annotations/train.csv as
listed by github.com/cvdfoundation/kinetics-dataset; ActivityNet's Crawler/Kinetics reads the
same columns): a header `label,youtube_id,time_start,time_end,split[,is_cc]`, label a class
name (quoted when it holds a comma or quote), times in whole seconds. Clips are conventionally
saved as `<youtube_id>_<time_start:06d>_<time_end:06d>.mp4` (ActivityNet's downloader, the
cvdfoundation tarballs); a video named just `<youtube_id>.*` is found as well. Labels: index of
the class name in config/label_maps/k400.txt.
"""

from __future__ import annotations

import csv
import os

from skeleton.datasets import AnnotationError, Sample, SampleTable, label_map, need_file
from skeleton.rejects import Reject

FILES = {"train": "train.csv", "val": "validate.csv"}
SPLITS = tuple(FILES)
COMPRESSED = True  # packaged in PYSKL's compressed kpfile form (skeleton.datasets.package)
COLUMNS = ("label", "youtube_id", "time_start", "time_end")


def clip_name(youtube_id: str, start: str, end: str) -> str:
    return f"{youtube_id}_{int(float(start)):06d}_{int(float(end)):06d}"


def read(annotations: str | os.PathLike, **_options) -> SampleTable:
    classes = label_map("k400")
    if not classes:
        raise AnnotationError("config/label_maps/k400.txt is missing")
    index = {c: i for i, c in enumerate(classes)}
    table = SampleTable("k400", list(FILES), classes=classes)
    for split, name in FILES.items():
        path = need_file(annotations, name)
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise AnnotationError(f"{path}: no column {', '.join(missing)} in the header")
            for row in reader:
                where = f"{path}:{reader.line_num}"
                yid = (row["youtube_id"] or "").strip()
                try:
                    stem = clip_name(yid, row["time_start"], row["time_end"])
                except (TypeError, ValueError):
                    table.rejects.append(Reject(yid or "?", where, "bad_line", f"times {row}"))
                    continue
                label = index.get((row["label"] or "").strip())
                if label is None:
                    table.rejects.append(
                        Reject(stem, where, "unknown_label", f"class {row['label']!r} not in k400")
                    )
                    continue
                table.add(Sample(stem, label, names=(yid,), source=where), split)
    return table
