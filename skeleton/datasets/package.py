"""Pose shards -> `<ds>_2d.pkl`: the dense form, and Kinetics-400's compressed kpfile form.

Dense: every usable video's annotation (keypoint (M, T, 17, 2), keypoint_score (M, T, 17),
img_shape, original_shape, total_frames) with the label from the index, split by the index's
split membership (only samples that made it). Streams shard by shard.

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
The pose stage keeps no detector box score per slot, so `box_score` is the skeleton's mean
keypoint score.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from skeleton.annotations import AnnotationWriter, _Pickler, load, write_annotations
from skeleton.datasets import split_order
from skeleton.datasets.index import STATUS_OK, IndexRow, index_rejects, read_index
from skeleton.files import atomic_write
from skeleton.rejects import Reject, count_reasons, read_rejects, write_rejects
from skeleton.tables import shard_number

BOX_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
KPFILE_DTYPE = np.float32  # dense keypoints are float32: the round trip stays exact


def _shard_rejects(path: str | os.PathLike, ours: Mapping[str, IndexRow]) -> list[Reject]:
    rej = Path(str(path).removesuffix(".pkl") + ".rejects.tsv")
    if not rej.exists():
        return []
    return [replace(r, sample=ours[r.sample].sample) for r in read_rejects(rej) if r.sample in ours]


def _usable(rows: list[IndexRow]) -> dict[str, IndexRow]:
    """Usable rows by frame_dir and by the name the pose stage gives their video (a video named
    like an NTU sample loses `_rgb` there)."""
    from skeleton.pose.extract import sample_name

    ok: dict[str, IndexRow] = {}
    for r in rows:
        if r.status == STATUS_OK:
            ok[r.sample] = r
            ok.setdefault(sample_name(r.path), r)
    return ok


def _gather(
    index_path: str | os.PathLike, annotation_rejects: str | os.PathLike | None
) -> tuple[dict[str, IndexRow], list[Reject]]:
    rows = read_index(index_path)
    ok = _usable(rows)
    rejects = index_rejects(rows)
    if annotation_rejects and Path(annotation_rejects).exists():
        rejects += read_rejects(annotation_rejects)
    return ok, rejects


def _split(dataset: str, rows: Mapping[str, IndexRow], got: set[str]) -> dict[str, list[str]]:
    names = {s for r in rows.values() for s in r.split_list}
    split: dict[str, list[str]] = {n: [] for n in split_order(dataset, names)}
    for name in sorted(got):
        for s in rows[name].split_list:
            split[s].append(name)
    return split


def _summary(path, dataset, kind, tag, split, rejects) -> dict[str, Any]:
    counts = {
        "dataset": dataset,
        "kind": kind,
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


def package_dense(
    dataset: str,
    index_path: str | os.PathLike,
    shard_paths: list[str],
    out_pkl: str | os.PathLike,
    rejects_tsv: str | os.PathLike,
    annotation_rejects: str | os.PathLike | None = None,
    summary_json: str | os.PathLike | None = None,
    model_tag: str = "",
    strict: bool = False,
) -> dict[str, Any]:
    ok, rejects = _gather(index_path, annotation_rejects)
    got: set[str] = set()
    with AnnotationWriter(out_pkl) as w:
        for path in sorted(shard_paths, key=shard_number):
            rejects += _shard_rejects(path, ok)
            for a in sorted(load(path), key=lambda a: a["frame_dir"]):
                row = ok.get(a["frame_dir"])
                if row is None or row.sample in got:
                    continue
                w.add({**a, "frame_dir": row.sample, "label": row.label})
                got.add(row.sample)
        w.split = _split(dataset, ok, got)
    _check_no_sample(dataset, got, out_pkl, rejects, rejects_tsv)
    write_rejects(rejects, rejects_tsv)
    counts = _summary(summary_json, dataset, "2d", model_tag, w.split, rejects)
    _check_strict(strict, dataset, rejects, rejects_tsv)
    return counts


def _check_no_sample(dataset, got, out_pkl, rejects, rejects_tsv) -> None:
    if got:
        return
    write_rejects(rejects, rejects_tsv)
    Path(out_pkl).unlink(missing_ok=True)
    raise ValueError(f"{dataset}: no usable sample ({len(rejects)} rejected, see {rejects_tsv})")


def _check_strict(strict: bool, dataset: str, rejects: list[Reject], rejects_tsv) -> None:
    """config strict: any reject fails the step, after the report is written (as NTU's)."""
    if strict and rejects:
        from skeleton.ntu3d import StrictModeError

        raise StrictModeError(f"{dataset}: {len(rejects)} sample(s) rejected; see {rejects_tsv}")


# ---- Kinetics-400 compressed form -----------------------------------------------------------


def compress(annotation: Mapping[str, Any]) -> tuple[dict[str, Any], np.ndarray]:
    """A dense 2D annotation -> (its table-of-contents entry without raw_file, (N, 17, 3))."""
    kp = np.asarray(annotation["keypoint"], np.float32)
    sc = np.asarray(annotation["keypoint_score"], np.float32)
    present = sc.sum(axis=-1) > 0  # (M, T)
    frames, persons = np.nonzero(present.T)  # frame-major: frame 0's persons first
    skeletons = np.concatenate([kp[persons, frames], sc[persons, frames][..., None]], axis=-1)
    box_score = sc[persons, frames].mean(axis=-1).astype(np.float32)
    valid = {thr: int(np.unique(frames[box_score >= thr]).size) for thr in BOX_THRESHOLDS}
    entry = {k: v for k, v in annotation.items() if k not in ("keypoint", "keypoint_score")}
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


def compress_shard(
    index_path: str | os.PathLike,
    shard_pkl: str | os.PathLike,
    kpfile: str | os.PathLike,
    toc: str | os.PathLike,
    raw_file: str,
) -> int:
    """One pose shard -> its kpfile and its table-of-contents entries (a plain list)."""
    rows = _usable(read_index(index_path))
    kpfiles: dict[str, dict[str, np.ndarray]] = {}
    entries = []
    for a in sorted(load(shard_pkl), key=lambda a: a["frame_dir"]):
        row = rows.get(a["frame_dir"])
        if row is None or row.sample in kpfiles:
            continue
        entry, skeletons = compress({**a, "frame_dir": row.sample, "label": row.label})
        entry["raw_file"] = raw_file
        kpfiles[row.sample] = {"keypoint": skeletons}
        entries.append(entry)
    with atomic_write(kpfile) as f:
        _Pickler(f).dump(kpfiles)  # numpy-1.x-loadable globals, as the annotation pickles
    write_annotations(toc, entries, split=None)
    return len(entries)


def package_compressed(
    dataset: str,
    index_path: str | os.PathLike,
    toc_paths: list[str],
    shard_paths: list[str],
    out_pkl: str | os.PathLike,
    rejects_tsv: str | os.PathLike,
    annotation_rejects: str | os.PathLike | None = None,
    summary_json: str | os.PathLike | None = None,
    model_tag: str = "",
    strict: bool = False,
) -> dict[str, Any]:
    """The main pickle of the compressed form from the per-shard table-of-contents files."""
    ok, rejects = _gather(index_path, annotation_rejects)
    for path in shard_paths:
        rejects += _shard_rejects(path, ok)
    got: set[str] = set()
    with AnnotationWriter(out_pkl) as w:
        for path in sorted(toc_paths, key=shard_number):
            for entry in load(path):
                if entry["frame_dir"] in ok and entry["frame_dir"] not in got:
                    w.add(entry)
                    got.add(entry["frame_dir"])
        w.split = _split(dataset, ok, got)
    _check_no_sample(dataset, got, out_pkl, rejects, rejects_tsv)
    write_rejects(rejects, rejects_tsv)
    counts = _summary(summary_json, dataset, "2d-compressed", model_tag, w.split, rejects)
    _check_strict(strict, dataset, rejects, rejects_tsv)
    return counts


def dense_video(main_pkl: str | os.PathLike, frame_dir: str) -> dict[str, Any]:
    """One video of a compressed pickle in the dense form (its kpfile read from raw_file).

    Both pickles are checked before use (`skeleton.validate.load_valid`); raw_file must name a
    file inside the pickle's folder (as written by `package_compressed`), so a crafted pickle
    cannot make this read elsewhere. Raises InvalidAnnotations or KeyError (one line).
    """
    from skeleton.validate import InvalidAnnotations, load_valid, show

    data = load_valid(main_pkl)
    annotations = data["annotations"] if isinstance(data, dict) else data
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
