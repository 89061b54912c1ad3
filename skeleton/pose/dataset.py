"""NTU RGB+D videos in the workflow: the video index (pose shards) and the 2D dataset pickles.

The video index lists every `<sample>_rgb.avi` under the configured folders, sorted by sample
name, with its pose shard (position // shard_size among usable videos): a pure function of the
sorted sample list, stable across runs and machines. Pose shards are computed once for all
videos; `package_2d` then builds `<ds>_2d.pkl` for NTU60 / NTU120 with the 3D pickles' splits,
a rejects report and a per-sample quality table (PCK against the Kinect file where the sample's
`.skeleton` is indexed).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skeleton.files import atomic_write, find_sources
from skeleton.rejects import Reject, count_reasons, write_rejects
from skeleton.summary import write_summary
from skeleton.tables import STATUS_OK, assign_shards, read_table, write_table

VIDEO_SUFFIX = "_rgb.avi"  # NTU RGB+D video file names: <sample>_rgb.avi


@dataclass(frozen=True)
class VideoRow:
    sample: str
    ntu60: int  # 1 when the sample belongs to NTU60
    status: str  # ok, bad_name, duplicate, in_archive
    shard: int  # -1 for videos that are not processed
    path: str
    detail: str


def build_video_index(inputs: list[str], shard_size: int) -> list[VideoRow]:
    from skeleton.ntu import parse_name

    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size}")
    rows: list[VideoRow] = []
    seen: dict[str, str] = {}
    for src in find_sources(inputs, VIDEO_SUFFIX):
        name = src.filename[: -len(VIDEO_SUFFIX)]
        status, detail, ntu60 = STATUS_OK, "", 0
        try:
            ntu60 = int(parse_name(name).in_ntu60)
        except ValueError as exc:
            status, detail = "bad_name", str(exc)
        if src.member is not None:
            status, detail = "in_archive", "videos are decoded from files: extract the archive"
        elif status == STATUS_OK and name in seen:
            status, detail = "duplicate", f"also at {seen[name]}; that one is used"
        if status == STATUS_OK:
            seen[name] = src.id
        rows.append(VideoRow(name, ntu60, status, -1, src.id, detail))
    rows.sort(key=lambda r: (r.sample, r.status != STATUS_OK, r.path))
    return assign_shards(rows, shard_size)


def write_video_index(rows: Iterable[VideoRow], path: str | os.PathLike) -> None:
    write_table(rows, VideoRow, path)


def read_video_index(path: str | os.PathLike) -> list[VideoRow]:
    return read_table(path, VideoRow)


def run_video_index(inputs: list[str], shard_size: int, out: str | os.PathLike) -> None:
    write_video_index(build_video_index(inputs, shard_size), out)


def shard_videos(rows: list[VideoRow], shard: int) -> list[VideoRow]:
    return [r for r in rows if r.shard == shard]


def pose_shards(rows: list[VideoRow], dataset: str) -> list[int]:
    """Pose shards holding at least one usable video of `dataset` (ntu60 / ntu120)."""
    return sorted({r.shard for r in rows if r.shard >= 0 and (dataset == "ntu120" or r.ntu60)})


def _skeleton_sources(index_path: str | os.PathLike | None) -> dict[str, str]:
    if not index_path:
        return {}
    from skeleton.index import read_index

    return {r.sample: r.source for r in read_index(index_path) if r.status == "ok"}


def package_2d(
    video_index: str | os.PathLike,
    shard_paths: list[str],
    splits_path: str | os.PathLike,
    dataset: str,
    out_pkl: str | os.PathLike,
    rejects_tsv: str | os.PathLike,
    quality_tsv: str | os.PathLike | None = None,
    skeleton_index: str | os.PathLike | None = None,
    summary_json: str | os.PathLike | None = None,
    model_tag: str = "",
    summary: str | None = None,
    log: str | None = None,
) -> dict[str, Any]:
    """`<ds>_2d.pkl`: the pose annotations of the samples in the dataset's (3D) splits.

    Rejects: pose rejects of the dataset's videos, videos of samples outside the splits
    (`no_3d_sample`, e.g. on the missing-skeleton list), split samples without a video
    (`no_video`) and unusable index rows. Quality: PCK@0.2 per sample against its `.skeleton`.
    """
    from skeleton.annotations import AnnotationWriter, load
    from skeleton.files import Source
    from skeleton.ntu import in_dataset, parse_name
    from skeleton.pose.quality import annotation_pck
    from skeleton.reader import parse_skeleton
    from skeleton.rejects import read_rejects

    with open(splits_path) as f:
        splits: dict[str, list[str]] = json.load(f)
    in_splits = set().union(*splits.values()) if splits else set()
    rows = read_video_index(video_index)
    mine = [r for r in rows if r.status != "bad_name" and in_dataset(parse_name(r.sample), dataset)]
    rejects = [Reject(r.sample, r.path, r.status, r.detail) for r in mine if r.status != STATUS_OK]
    have_video = {r.sample for r in mine if r.status == STATUS_OK}
    skeletons = _skeleton_sources(skeleton_index) if quality_tsv else {}
    quality_rows = []
    names: list[str] = []
    shard_paths = sorted(shard_paths, key=lambda p: int("".join(filter(str.isdigit, Path(p).name))))
    with AnnotationWriter(out_pkl) as w:
        for path in shard_paths:
            rej_path = Path(str(path).removesuffix(".pkl") + ".rejects.tsv")
            if rej_path.exists():
                rejects += [r for r in read_rejects(rej_path) if r.sample in have_video]
            for a in sorted(load(path), key=lambda a: a["frame_dir"]):
                name = a["frame_dir"]
                if name not in have_video:
                    continue
                if name not in in_splits:
                    rejects.append(
                        Reject(name, "", "no_3d_sample", "no usable skeleton: not in the splits")
                    )
                    continue
                w.add(a)
                names.append(name)
                src = skeletons.get(name)
                if src is not None:
                    data = parse_skeleton(Source.from_id(src).read(), src)
                    r = annotation_pck(a, data)
                    quality_rows.append((name, r.pck, r.frames, r.missed_frames))
        got = set(names)
        w.split = {k: [n for n in v if n in got] for k, v in splits.items()}
    rejects += [
        Reject(n, "", "no_video", f"no {n}{VIDEO_SUFFIX} in ntu.videos")
        for n in sorted(in_splits - have_video)
    ]
    write_rejects(rejects, rejects_tsv)
    write_summary(summary, dataset, "2d", len(names), rejects, rejects_tsv, log)
    mean_pck = sum(q[1] for q in quality_rows) / len(quality_rows) if quality_rows else float("nan")
    if quality_tsv:
        with atomic_write(quality_tsv, "w") as f:
            f.write("sample\tpck\tframes\tmissed_frames\n")
            for name, p, fr, miss in quality_rows:
                f.write(f"{name}\t{p:.4f}\t{fr}\t{miss}\n")
    counts = {
        "dataset": dataset,
        "kind": "2d",
        "model_tag": model_tag,
        "samples": len(names),
        "splits": {k: len(v) for k, v in w.split.items()},
        "rejects": count_reasons(rejects),
        "rejected": len(rejects),
        "pck@0.2": {"samples": len(quality_rows), "mean": mean_pck},
    }
    if summary_json:
        with atomic_write(summary_json, "w") as f:
            json.dump(counts, f, indent=2, sort_keys=True)
            f.write("\n")
    return counts
