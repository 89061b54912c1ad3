"""The video index of a dataset: its samples, where their videos are, and their pose shards.

Videos are found under the configured root folders, searched recursively by file name (any
common video extension): a sample's video is the file whose base name without extension is its
frame_dir or one of its alternative names; the sample keeps its frame_dir either way (the row's
path is the video found; packaging maps the pose stage's file-named results back). The index is a
TSV sorted by sample. Samples without a video get status `missing_video` and go to the rejects
report. Every source (NTU included) has an index of this shape.

Pose shards: a usable video's shard is a stable hash of its sample name into a fixed number of
buckets (skeleton.core.tables), so adding, removing or renaming one video changes the members
of one shard only and never moves another video: GPU work is done once per video and model.
The bucket count is `ceil(reference / pose.shard_size)`, where the reference is
- NTU RGB+D: NTU120's 114,480 samples (the index lists the videos found, so the count is fixed
  in advance: 573 shards at 200, filled as downloads complete);
- every list source (UCF101, HMDB51, Diving48, FineGYM, Kinetics-400, custom lists): the
  samples the list files name, missing videos included, rounded up to a power of two, at least
  MIN_REFERENCE. An official release never changes that count; a list that gains or loses a
  line keeps it too (a fixture, a corrected list, a user's growing custom list), until it
  outgrows its power of two: then the count doubles and every shard is formed anew once (each
  splits in two).
Shards then grow with the dataset (a source twice its reference holds about 2 x shard_size
videos per shard) rather than move. Each shard's members file (skeleton.core.members) is what
its pose job reads.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from skeleton.core import reasons
from skeleton.core.files import atomic_write
from skeleton.core.members import record_inputs, sync_members
from skeleton.core.rejects import Reject, write_rejects
from skeleton.core.tables import (
    STATUS_OK,
    assign_shards,
    check_shard_size,
    read_table,
    shard_count,
    write_table,
)
from skeleton.core.videos import VIDEO_EXTENSIONS, file_stem
from skeleton.datasets import SampleTable, read_dataset, video_source
from skeleton.ntu.names import DATASET_SIZES

SPLIT_SEP = ","
MEMBERS_PREFIX = "videos"  # <members folder>/videos_<k>.tsv
# Reference sizes of the pose shard count (see the module's docstring)
FIXED_REFERENCE = {"ntu": DATASET_SIZES["ntu120"]}
MIN_REFERENCE = 1024  # small lists: no count change until they pass this many lines


@dataclass(frozen=True)
class VideoRow:
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
                found.setdefault(file_stem(f.name), []).append(str(f))
    return {k: sorted(v) for k, v in found.items()}


def build_index(
    table: SampleTable, roots: Iterable[str | os.PathLike], shard_size: int
) -> list[VideoRow]:
    """The index rows of `table`'s samples, their videos found under `roots`. Where the
    source's files list its videos (VideoSource.lists_videos), video files there that no
    sample names are added to `table.rejects` (`not_listed`, left out)."""
    check_shard_size(shard_size)  # before the folders are walked
    videos = find_videos(roots)
    if video_source(table.dataset).lists_videos:
        table.rejects.extend(unlisted(table, videos))
    rows: list[VideoRow] = []
    for key in sorted(table.samples):
        s = table.samples[key]
        splits = SPLIT_SEP.join(s.splits)
        if s.path:
            status = STATUS_OK if Path(s.path).is_file() else reasons.MISSING_VIDEO
            detail = "" if status == STATUS_OK else f"{s.path}: no such file ({s.source})"
            rows.append(VideoRow(s.frame_dir, s.label, splits, status, -1, s.path, detail))
            continue
        name = next((n for n in (s.frame_dir, *s.names) if n in videos), None)
        if name is None:
            rows.append(
                VideoRow(
                    s.frame_dir,
                    s.label,
                    splits,
                    reasons.MISSING_VIDEO,
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
        rows.append(VideoRow(s.frame_dir, s.label, splits, STATUS_OK, -1, paths[0], detail))
    rows.sort(key=lambda r: (r.sample, r.status != STATUS_OK))
    return assign_shards(rows, n_shards(table, shard_size))


def unlisted(table: SampleTable, videos: dict[str, list[str]]) -> list[Reject]:
    """A `not_listed` reject for each video file found that is no sample's: its name is none
    the files mention (kept or rejected) and no list gives its path (a clip of another split,
    a typo in a list, a video a list line was forgotten for). Left out, as MMAction2's list
    tools leave them, but not without a word."""
    names = table.mentioned | {r.sample for r in table.rejects}  # rejects: reported already
    given = {os.path.abspath(s.path) for s in table.samples.values() if s.path}
    return [
        Reject(stem, path, reasons.NOT_LISTED, "a video under the video folders no list names")
        for stem in sorted(videos.keys() - names)
        for path in videos[stem]
        if os.path.abspath(path) not in given
    ]


def reference_size(table: SampleTable) -> int:
    """The sample count the source's pose shard count is sized for (module docstring)."""
    fixed = FIXED_REFERENCE.get(table.dataset)
    if fixed is not None:
        return fixed
    return max(MIN_REFERENCE, 1 << max(len(table.samples) - 1, 0).bit_length())


def n_shards(table: SampleTable, shard_size: int) -> int:
    return shard_count(reference_size(table), shard_size)


def member_rows(rows: Iterable[VideoRow]) -> list[tuple[int, str, str, str]]:
    """(shard, sample, video, video) of each video to pose."""
    return [(r.shard, r.sample, r.path, r.path) for r in rows if r.shard >= 0]


def write_members(
    rows: Iterable[VideoRow], folder: str | os.PathLike, keep_absent: bool = False
) -> dict[int, list[str]]:
    """Bring the pose shards' members files in `folder` up to date (skeleton.core.members)."""
    return sync_members(folder, MEMBERS_PREFIX, member_rows(rows), keep_absent)


def write_index(rows: Iterable[VideoRow], path: str | os.PathLike) -> None:
    write_table(rows, VideoRow, path)


def read_index(path: str | os.PathLike) -> list[VideoRow]:
    return read_table(path, VideoRow)


def index_rejects(rows: Iterable[VideoRow]) -> list[Reject]:
    return [Reject(r.sample, r.path, r.status, r.detail) for r in rows if r.status != STATUS_OK]


def write_label_map(classes: list[str], path: str | os.PathLike) -> None:
    with atomic_write(path, "w") as f:
        f.write("".join(f"{c}\n" for c in classes))


def video_index(
    source: str,
    annotations: str | os.PathLike | list[str],
    videos: list[str],
    shard_size: int,
    out: str | os.PathLike,
    rejects: str | os.PathLike,
    label_map_out: str | os.PathLike | None = None,
    members: str | os.PathLike | None = None,
    seen: tuple[str | os.PathLike, list[str]] | None = None,
    **options,
) -> list[VideoRow]:
    """The `video_index` step (rule, and command `dataset-index`): read the official files,
    find the videos, write the index, the annotation rejects (bad lines of the official files,
    unusable NTU video names), the label map and, with `members`, each pose shard's members
    file into that folder; with `seen` (path, configured files), the files' state as found
    before reading them (skeleton.core.members.refresh compares it). An index without a usable
    sample is written too: packaging reports it (NoUsableSamples)."""
    if seen is not None:
        record_inputs(*seen)
    table = read_dataset(source, annotations, **options)
    rows = build_index(table, videos, shard_size)
    if members is not None:
        write_members(rows, members)
    write_index(rows, out)
    write_rejects(table.rejects, rejects)
    if label_map_out:
        write_label_map(table.classes, label_map_out)
    return rows
