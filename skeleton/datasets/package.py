"""Pose shards -> `<ds>_2d.pkl`: the dense form, and Kinetics-400's compressed kpfile form.

Dense: every usable video's annotation (keypoint (M, T, 17, 2), keypoint_score (M, T, 17),
img_shape, original_shape, total_frames) with the label from the index, split by the index's
split membership (only samples that made it), sorted by frame_dir. Streams shard by shard
(shards are hash buckets of the names: the writer sorts). A shard may still hold videos removed
from the index since it ran (skeleton.core.members): packaging takes the index's usable samples.

Compressed (PYSKL tools/data/README.md, "For Kinetics400"): the main pickle holds per video
`frame_dir`, `label`, `total_frames`, `img_shape`, `original_shape`, `raw_file` (the kpfile,
relative to the main pickle's folder), `frame_inds` (N,) int, `box_score` (N,) float32 and
`valid` ({box threshold: frames with a skeleton at least that good}, thresholds 0.5 ... 0.9 as
PYSKL / MMAction2 `PoseDataset(box_thr=...)` accept); each kpfile is `{frame_dir: {'keypoint':
(N, 17, 3) x, y, score}}`, one kpfile per pose shard. A skeleton is one person slot of one frame
where the person is present, stored frame by frame in slot order. We add `person_inds` (N,) (the
slot), so `to_dense` restores the dense arrays exactly; MMAction2's `DecompressPose`
(mmaction/datasets/transforms/pose_transforms.py), which does not know it, fills a frame's
persons in stored order: the same slots, except that a frame missing an earlier slot moves the
later ones up.
`box_score` is the detector's score of the person's box in that frame (the shard's per-person
`bbox_score` (M, T)), the score MMAction2's `PoseDataset` filters on with `box_thr`; shards from
before the pose stage kept boxes have none, and there it is the skeleton's mean keypoint score.
The per-frame boxes (`bbox`) stay in the shards: PYSKL's compressed form has no place for them.
MMAction2 1.x reads the skeletons from one kpfile per video instead
(`PoseDataset(data_prefix=dict(skeleton=DIR))` loads `DIR/<frame_dir>.pkl`): `write_video_kpfiles`
writes that folder from the per-shard kpfiles.

The rejects report is its own step (`rejects_2d`): it needs no pose result, and a strict
packaging that fails after it leaves it in place. Both forms package through
skeleton.core.packaging, with the 3D pickles.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from skeleton.core import reasons
from skeleton.core.annotations import (
    _Pickler,
    annotations_and_split,
    load,
    write_annotations,
)
from skeleton.core.files import atomic_write
from skeleton.core.packaging import Packaged, Report, restricted, write_pickle
from skeleton.core.rejects import Reject, count_reasons, read_rejects, write_rejects
from skeleton.core.tables import shard_number
from skeleton.datasets import dataset_filter, split_order
from skeleton.datasets.index import STATUS_OK, VideoRow, index_rejects, read_index

BOX_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
KPFILE_DTYPE = np.float32  # dense keypoints are float32: the round trip stays exact


def _member_rows(dataset: str, index_path: str | os.PathLike) -> list[VideoRow]:
    member = dataset_filter(dataset)
    return [r for r in read_index(index_path) if member(r.sample)]


def _usable(rows: list[VideoRow]) -> dict[str, VideoRow]:
    """Usable rows by frame_dir and by the name the pose stage gives their video (a video named
    like an NTU sample loses `_rgb` there)."""
    from skeleton.pose.extract import sample_name

    ok: dict[str, VideoRow] = {}
    for r in rows:
        if r.status == STATUS_OK:
            ok[r.sample] = r
            ok.setdefault(sample_name(r.path), r)
    return ok


def read_splits(path: str | os.PathLike | None) -> dict[str, list[str]] | None:
    """A fixed split assignment (NTU: the 3D pickle's splits.json), None without one."""
    if not path:
        return None
    with open(path) as f:
        return json.load(f)


def rejects_2d(
    dataset: str,
    index_path: str | os.PathLike,
    shard_rejects: list[str],
    out_tsv: str | os.PathLike,
    annotation_rejects: str | os.PathLike | None = None,
    splits_json: str | os.PathLike | None = None,
) -> list[Reject]:
    """The `rejects_2d` step: `rejects_2d.tsv` of `dataset`, every sample of its source that
    will not be in its pickle.

    Index rows without a usable video, unusable lines of the official files, pose rejects of
    the shards (`<shard>.rejects.tsv`, written by `skeleton pose`); with a fixed split file:
    usable videos outside it (`not_in_splits`: for NTU, no usable skeleton) and split samples
    without a video (`no_video`). Needs no pose result, so the workflow writes it in its own
    step, which succeeds even when the strict packaging after it fails.
    """
    member = dataset_filter(dataset)
    rows = _member_rows(dataset, index_path)
    ok = _usable(rows)
    rejects = index_rejects(rows)
    if annotation_rejects and Path(annotation_rejects).exists():
        rejects += [r for r in read_rejects(annotation_rejects) if member(r.sample)]
    for path in sorted(shard_rejects, key=shard_number):
        ours = [r for r in read_rejects(path) if r.sample in ok]
        rejects += [replace(r, sample=ok[r.sample].sample) for r in ours]
    splits = read_splits(splits_json)
    if splits is not None:
        in_splits = set().union(*splits.values())
        rejected = {r.sample for r in rejects}
        for name in sorted({r.sample for r in ok.values()} - in_splits - rejected):
            detail = f"in no split of {splits_json} (NTU: its skeleton is missing or rejected)"
            rejects.append(Reject(name, ok[name].path, reasons.NOT_IN_SPLITS, detail))
        indexed = {r.sample for r in rows} | rejected
        for name in sorted(in_splits - indexed):
            rejects.append(Reject(name, "", reasons.NO_VIDEO, f"no video of {name} in the index"))
    write_rejects(rejects, out_tsv)
    return rejects


def _split(dataset: str, rows: Mapping[str, VideoRow], got: Iterable[str]) -> dict[str, list[str]]:
    names = {s for r in rows.values() for s in r.split_list}
    split: dict[str, list[str]] = {n: [] for n in split_order(dataset, names)}
    for name in sorted(got):
        for s in rows[name].split_list:
            if s in split:
                split[s].append(name)
    return split


def write_counts(
    path: str | os.PathLike | None, report: Report, tag: str, got: Packaged
) -> dict[str, Any]:
    """`summary_2d.json`: the pickle's counts per split and reject reason, and the model tag."""
    split, rejects = got.split, got.rejects
    counts = {
        "dataset": report.dataset,
        "kind": report.kind,
        "model_tag": tag,
        "samples": len({n for v in split.values() for n in v}),
        "splits": {k: len(v) for k, v in split.items()},
        "rejects": count_reasons(rejects),
        "rejected": len(rejects),
    }
    if path:
        with atomic_write(path, "w") as f:
            json.dump(counts, f, indent=2, sort_keys=True)
            f.write("\n")
    return counts


def _package(
    index_path: str | os.PathLike,
    out_pkl: str | os.PathLike,
    report: Report,
    strict: bool,
    entries: Callable[[dict[str, VideoRow]], Iterable[dict[str, Any]]],
    split_of: Callable[[dict[str, VideoRow], list[str]], dict[str, list[str]]],
) -> Packaged:
    """Both forms: the report `rejects_2d` wrote (strict mode fails on it before anything is
    written), then the pickle of `entries(usable rows by name)`."""
    rejects = read_rejects(report.rejects)
    ok = _usable(_member_rows(report.dataset, index_path))
    if strict:
        report.check_strict(rejects, len(ok))
    got = write_pickle(
        report, out_pkl, entries(ok), lambda names: split_of(ok, names), lambda: rejects
    )
    report.summarize(len(got.names), rejects, output=out_pkl, splits=got.split)
    return got


def package_dense(
    index_path: str | os.PathLike,
    shard_paths: list[str],
    out_pkl: str | os.PathLike,
    report: Report,
    summary_json: str | os.PathLike | None = None,
    model_tag: str = "",
    strict: bool = False,
    splits_json: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """`<ds>_2d.pkl` from the pose shards: labels and splits from the index (or `splits_json`).

    `report.rejects` is the report `rejects_2d` wrote; with `strict`, any reject in it fails
    before anything is written. No usable sample: NoUsableSamples, and no pickle.
    """
    splits = read_splits(splits_json)
    wanted = None if splits is None else set().union(*splits.values())

    def entries(ok: dict[str, VideoRow]) -> Iterable[dict[str, Any]]:
        got: set[str] = set()
        for path in sorted(shard_paths, key=shard_number):
            for a in sorted(load(path), key=lambda a: a["frame_dir"]):
                row = ok.get(a["frame_dir"])
                if row is None or row.sample in got:
                    continue
                if wanted is not None and row.sample not in wanted:
                    continue
                yield {**a, "frame_dir": row.sample, "label": row.label}
                got.add(row.sample)

    def split_of(ok: dict[str, VideoRow], names: list[str]) -> dict[str, list[str]]:
        return _split(report.dataset, ok, names) if splits is None else restricted(splits, names)

    got = _package(index_path, out_pkl, report, strict, entries, split_of)
    return write_counts(summary_json, report, model_tag, got)


# ---- Kinetics-400 compressed form -----------------------------------------------------------


def compress(annotation: Mapping[str, Any]) -> tuple[dict[str, Any], np.ndarray]:
    """A dense 2D annotation -> (its table-of-contents entry without raw_file, (N, 17, 3)).

    `box_score` comes from `bbox_score` (M, T) when the annotation has it."""
    kp = np.asarray(annotation["keypoint"], np.float32)
    sc = np.asarray(annotation["keypoint_score"], np.float32)
    present = sc.sum(axis=-1) > 0  # (M, T)
    frames, persons = np.nonzero(present.T)  # frame-major: frame 0's persons first
    skeletons = np.concatenate([kp[persons, frames], sc[persons, frames][..., None]], axis=-1)
    if annotation.get("bbox_score") is not None:  # the detector's score of each person's box
        box_score = np.asarray(annotation["bbox_score"], np.float32)[persons, frames]
    else:  # a shard without boxes: the skeleton's mean keypoint score stands in
        box_score = sc[persons, frames].mean(axis=-1).astype(np.float32)
    valid = {thr: int(np.unique(frames[box_score >= thr]).size) for thr in BOX_THRESHOLDS}
    dense = ("keypoint", "keypoint_score", "bbox", "bbox_score")  # per (person, frame) arrays
    entry = {k: v for k, v in annotation.items() if k not in dense}
    entry.update(
        frame_inds=frames.astype(np.int64),
        person_inds=persons.astype(np.int64),
        box_score=box_score,
        valid=valid,
    )
    return entry, skeletons.astype(KPFILE_DTYPE)


def to_dense(entry: Mapping[str, Any], skeletons: np.ndarray) -> dict[str, Any]:
    """Inverse of `compress`: keypoint (M, T, 17, 2), keypoint_score (M, T, 17) float32."""
    skeletons = np.asarray(skeletons, np.float32)
    frames = np.asarray(entry["frame_inds"], np.int64)
    total = int(entry["total_frames"])
    if len(frames) != len(skeletons):
        raise ValueError(
            f"{entry['frame_dir']}: {len(skeletons)} skeletons, {len(frames)} frame_inds"
        )
    persons = entry.get("person_inds")
    if persons is None:  # as DecompressPose (without squeeze): a frame's persons in stored order
        persons = np.zeros(len(frames), np.int64)
        for t in np.unique(frames):
            idx = np.flatnonzero(frames == t)
            persons[idx] = np.arange(len(idx))
    persons = np.asarray(persons, np.int64)
    m = int(persons.max()) + 1 if len(persons) else 1
    v = skeletons.shape[1] if skeletons.ndim == 3 else 17
    keypoint = np.zeros((m, total, v, 2), np.float32)
    score = np.zeros((m, total, v), np.float32)
    keypoint[persons, frames] = skeletons[..., :2]
    score[persons, frames] = skeletons[..., 2]
    drop = ("raw_file", "frame_inds", "person_inds", "box_score", "valid")
    out = {k: val for k, val in entry.items() if k not in drop}
    out.update(keypoint=keypoint, keypoint_score=score)
    return out


def member_names(members: str | os.PathLike) -> dict[str, str]:
    """frame_dir of a pose result (its video's name) -> sample, from a shard's members file."""
    from skeleton.core.members import read_members

    return _names((m.sample, m.source) for m in read_members(members))


def index_names(index_path: str | os.PathLike) -> dict[str, str]:
    """The same mapping for every usable video of an index."""
    return _names((r.sample, r.path) for r in read_index(index_path) if r.status == STATUS_OK)


def _names(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    from skeleton.pose.extract import sample_name

    names: dict[str, str] = {}
    aliases = []
    for sample, video in pairs:
        names[sample] = sample
        aliases.append((sample_name(video), sample))
    for alias, sample in aliases:
        names.setdefault(alias, sample)
    return names


def compress_shard(
    names: Mapping[str, str],
    shard_pkl: str | os.PathLike,
    kpfile: str | os.PathLike,
    toc: str | os.PathLike,
    raw_file: str,
) -> int:
    """One pose shard -> its kpfile and its table-of-contents entries (a plain list).

    `names` maps the shard's frame_dirs to samples (`member_names` of its members file in the
    workflow, so a kpfile changes only with its shard); labels are the index's, set by
    `package_compressed`.
    """
    kpfiles: dict[str, dict[str, np.ndarray]] = {}
    entries = []
    for a in sorted(load(shard_pkl), key=lambda a: a["frame_dir"]):
        sample = names.get(a["frame_dir"])
        if sample is None or sample in kpfiles:
            continue
        entry, skeletons = compress({**a, "frame_dir": sample})
        entry["raw_file"] = raw_file
        kpfiles[sample] = {"keypoint": skeletons}
        entries.append(entry)
    with atomic_write(kpfile) as f:
        _Pickler(f).dump(kpfiles)  # numpy-1.x-loadable globals, as the annotation pickles
    write_annotations(toc, entries, split=None)
    return len(entries)


def package_compressed(
    index_path: str | os.PathLike,
    toc_paths: list[str],
    out_pkl: str | os.PathLike,
    report: Report,
    summary_json: str | os.PathLike | None = None,
    model_tag: str = "",
    strict: bool = False,
) -> dict[str, Any]:
    """The main pickle of the compressed form from the per-shard table-of-contents files
    (`report.rejects`, strict and no usable sample as in `package_dense`)."""

    def entries(ok: dict[str, VideoRow]) -> Iterable[dict[str, Any]]:
        got: set[str] = set()
        for path in sorted(toc_paths, key=shard_number):
            for entry in load(path):
                row = ok.get(entry["frame_dir"])
                if row is not None and row.sample == entry["frame_dir"] and row.sample not in got:
                    yield {**entry, "label": row.label}  # the index's label, in its place
                    got.add(row.sample)

    def split_of(ok: dict[str, VideoRow], names: list[str]) -> dict[str, list[str]]:
        return _split(report.dataset, ok, names)

    got = _package(index_path, out_pkl, report, strict, entries, split_of)
    return write_counts(summary_json, report, model_tag, got)


def dense_video(main_pkl: str | os.PathLike, frame_dir: str) -> dict[str, Any]:
    """One video of a compressed pickle in the dense form (its kpfile read from raw_file).

    Both pickles are checked before use (`skeleton.core.validate.load_valid`); raw_file must name a
    file inside the pickle's folder (as written by `package_compressed`), so a crafted pickle
    cannot make this read elsewhere. Raises InvalidAnnotations or KeyError (one line).
    """
    from skeleton.core.validate import InvalidAnnotations, load_valid, show

    data = load_valid(main_pkl)
    annotations = annotations_and_split(data)[0]
    entry = next((a for a in annotations if a["frame_dir"] == frame_dir), None)
    if entry is None:
        raise KeyError(f"{main_pkl}: no video {show(frame_dir)}")
    if "keypoint" in entry:
        if entry["keypoint"].ndim == 4:
            return dict(entry)  # already dense
        return to_dense(entry, entry["keypoint"])  # kpfile merged in: (N, V, 3)
    folder = Path(main_pkl).resolve().parent
    raw = (folder / entry["raw_file"]).resolve()
    if not raw.is_relative_to(folder) or not raw.is_file():
        raise InvalidAnnotations(
            f"{main_pkl}: {show(frame_dir)}: raw_file {show(entry['raw_file'])} is not a file "
            "inside the pickle's folder"
        )
    kpfile = load(raw)
    item = kpfile.get(frame_dir) if isinstance(kpfile, dict) else None
    if item is None:
        raise KeyError(f"{raw}: kpfile has no {show(frame_dir)}")
    keypoint = item.get("keypoint") if isinstance(item, dict) else None
    if (
        not isinstance(keypoint, np.ndarray)
        or keypoint.ndim != 3
        or keypoint.shape[-1] != 3
        or keypoint.shape[0] != len(entry["frame_inds"])
        or keypoint.dtype.kind != "f"
    ):
        raise InvalidAnnotations(
            f"{raw}: {show(frame_dir)}: keypoint is not (N, V, 3) floats for its "
            f"{len(entry['frame_inds'])} frame_inds"
        )
    return to_dense(entry, keypoint)


def write_video_kpfiles(
    kpfiles: list[str], out_dir: str | os.PathLike, index_path: str | os.PathLike | None = None
) -> int:
    """The per-shard kpfiles -> one kpfile per video, `OUT_DIR/<frame_dir>.pkl` holding
    `{'keypoint': (N, 17, 3)}`: the layout MMAction2 1.x's `PoseDataset` reads with
    `data_prefix=dict(skeleton=OUT_DIR)` (mmaction/datasets/pose_dataset.py, `get_data_info`
    loads `<skeleton>/<frame_dir>.pkl` and merges its keys into the sample). Same arrays as the
    per-shard kpfiles, for the index's usable videos (`index_path`; all without one). The folder
    is written beside `out_dir` and renamed into place whole.
    """
    out = Path(out_dir)
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)  # a killed writer's leftover
    tmp.mkdir(parents=True)
    written = 0
    # a shard may still hold videos removed from the index since it ran (skeleton.core.members)
    wanted = None if index_path is None else set(_usable(read_index(index_path)))
    for path in sorted(kpfiles, key=shard_number):
        for frame_dir, value in sorted(load(path).items()):
            if wanted is not None and frame_dir not in wanted:
                continue
            if not frame_dir or frame_dir in (".", "..") or "/" in frame_dir or os.sep in frame_dir:
                raise ValueError(f"{path}: frame_dir {frame_dir!r} cannot name a file")
            target = tmp / f"{frame_dir}.pkl"
            if target.exists():
                raise ValueError(f"{path}: {frame_dir!r} is in two kpfiles")
            with open(target, "wb") as f:
                _Pickler(f).dump({"keypoint": value["keypoint"]})
            written += 1
    if out.exists():
        shutil.rmtree(out)
    os.replace(tmp, out)
    return written
