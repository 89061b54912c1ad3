"""The video index of a dataset: its samples, where their videos are, and their pose shards.

Videos are found under the configured root folders, searched recursively by file name (any
common video extension): a sample's video is the file whose base name without extension is its
frame_dir or one of its alternative names; the sample keeps its frame_dir either way (the row's
path is the video found; packaging maps the pose stage's file-named results back). The index is a
TSV sorted by sample; usable rows get shard = position // shard_size among usable rows, a pure
function of the sorted sample list. Samples without a video get status `missing_video` and go
to the rejects report. Every source (NTU included) has an index of this shape.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from skeleton.core.files import atomic_write
from skeleton.core.rejects import Reject, write_rejects
from skeleton.core.tables import (
    STATUS_OK,
    assign_shards,
    check_shard_size,
    read_table,
    write_table,
)
from skeleton.datasets import SampleTable, read_dataset

# Containers the released datasets come in (UCF101/HMDB51 .avi, Diving48/FineGYM/K400 .mp4,
# some K400 mirrors .webm/.mkv) and a few other common ones.
VIDEO_EXTENSIONS = (".avi", ".mp4", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".flv")
SPLIT_SEP = ","
# videos per pose job (one model load, one GPU), the default of the workflow
# (pose.shard_size) and the CLI
SHARD_SIZE = 200


@dataclass(frozen=True)
class IndexRow:
    sample: str  # frame_dir
    label: int
    splits: str  # comma-separated split names ('' when the sample is in none)
    status: str  # ok, missing_video
    shard: int  # -1 when not processed
    path: str
    detail: str

    @property
    def split_list(self) -> list[str]:
        return [s for s in self.splits.split(SPLIT_SEP) if s]


def find_videos(roots: Iterable[str | os.PathLike]) -> dict[str, list[str]]:
    """Video stem -> sorted paths of every video file under the roots (folders or files)."""
    found: dict[str, list[str]] = {}
    for root in roots:
        p = Path(root)
        if p.is_file():
            files = [p]
        elif p.is_dir():
            files = [f for f in p.rglob("*") if f.suffix.lower() in VIDEO_EXTENSIONS]
        else:
            raise FileNotFoundError(f"{root}: no such video folder or file")
        for f in files:
            if f.is_file():
                found.setdefault(f.name.rsplit(".", 1)[0], []).append(str(f))
    return {k: sorted(v) for k, v in found.items()}


def build_index(
    table: SampleTable, roots: Iterable[str | os.PathLike], shard_size: int
) -> list[IndexRow]:
    check_shard_size(shard_size)  # before the folders are walked
    videos = find_videos(roots)
    rows: list[IndexRow] = []
    for key in sorted(table.samples):
        s = table.samples[key]
        splits = SPLIT_SEP.join(s.splits)
        if s.path:
            status = STATUS_OK if Path(s.path).is_file() else "missing_video"
            detail = "" if status == STATUS_OK else f"{s.path}: no such file ({s.source})"
            rows.append(IndexRow(s.frame_dir, s.label, splits, status, -1, s.path, detail))
            continue
        name = next((n for n in (s.frame_dir, *s.names) if n in videos), None)
        if name is None:
            rows.append(
                IndexRow(
                    s.frame_dir,
                    s.label,
                    splits,
                    "missing_video",
                    -1,
                    "",
                    f"no video named {' or '.join(f'{n}.*' for n in (s.frame_dir, *s.names))} "
                    f"under the video folders ({s.source})",
                )
            )
            continue
        paths = videos[name]
        detail = (
            f"{len(paths) - 1} more file(s) with this name, e.g. {paths[1]}"
            if len(paths) > 1
            else ""
        )
        rows.append(IndexRow(s.frame_dir, s.label, splits, STATUS_OK, -1, paths[0], detail))
    rows.sort(key=lambda r: (r.sample, r.status != STATUS_OK))
    return assign_shards(rows, shard_size)


def write_index(rows: Iterable[IndexRow], path: str | os.PathLike) -> None:
    write_table(rows, IndexRow, path)


def read_index(path: str | os.PathLike) -> list[IndexRow]:
    return read_table(path, IndexRow)


def shard_rows(rows: Iterable[IndexRow], shard: int) -> list[IndexRow]:
    return [r for r in rows if r.shard == shard]


def shards(rows: Iterable[IndexRow]) -> list[int]:
    return sorted({r.shard for r in rows if r.shard >= 0})


def index_rejects(rows: Iterable[IndexRow]) -> list[Reject]:
    return [Reject(r.sample, r.path, r.status, r.detail) for r in rows if r.status != STATUS_OK]


def write_label_map(classes: list[str], path: str | os.PathLike) -> None:
    with atomic_write(path, "w") as f:
        f.write("".join(f"{c}\n" for c in classes))


def run_index(
    source: str,
    annotations: str | os.PathLike | list[str],
    videos: list[str],
    shard_size: int,
    out: str | os.PathLike,
    rejects: str | os.PathLike,
    label_map_out: str | os.PathLike | None = None,
    **options,
) -> list[IndexRow]:
    """Read the official files, find the videos, write the index, the annotation rejects (bad
    lines of the official files, unusable NTU video names) and the label map. An index without
    a usable sample is written too: packaging reports it (NoUsableSamples) with every reject."""
    table = read_dataset(source, annotations, **options)
    rows = build_index(table, videos, shard_size)
    write_index(rows, out)
    write_rejects(table.rejects, rejects)
    if label_map_out:
        write_label_map(table.classes, label_map_out)
    return rows
