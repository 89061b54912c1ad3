"""The NTU parse-shard files under results/: plain data the restricted loader reads, plus a
digest beside each, so a damaged shard is found (and rebuilt) instead of breaking every rerun.

`shard_<k>.pkl` holds the shard's annotations in one compact form: the frame_dir list, label
and (M, T, V, C) shape arrays, and every keypoint array concatenated (float16), so loading it
is a few big arrays, not thousands of small objects. It is read with `skeleton.core.safeload` like
any pickle from elsewhere (a planted shard cannot run code).

`shard_<k>.json`, written after the pickle, records the pickle's sha256 and size and the
shard's rejects and raw-file checksums (small: the rejects report is built from these alone;
no time stamp, so reruns write the same bytes). `damage(path)` compares a shard with its
record by size, and by sha256 when the pickle is newer than its digest; the workflow calls
`discard_damaged_in` before it builds the DAG (main process only, so no job races it),
so a truncated or half-written shard is removed and rebuilt by the same run. Reading checks
the full sha256 again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skeleton.core import safeload
from skeleton.core.files import atomic_write
from skeleton.core.rejects import Reject

SHARD_FORMAT = "skeleton/ntu3d-shard/1"
KEYPOINT_DTYPE = np.dtype(np.float16)  # what both denoisers return


@dataclass
class ShardResult:
    """One parse shard: its annotations, its rejects and the raw files' sha256 (Source id ->)."""

    annotations: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    checksums: dict[str, str] = field(default_factory=dict)


class ShardError(ValueError):
    """A shard file that cannot be used; the message is one line naming it."""


class ShardDamaged(ShardError):
    """A shard that differs from its digest or does not load: it must be rebuilt."""


def digest_path(pkl: str | os.PathLike) -> Path:
    """`.../shard_3.pkl` -> `.../shard_3.json`."""
    return Path(pkl).with_suffix(".json")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(path: str | os.PathLike, result: ShardResult) -> None:
    """Write `shard_<k>.pkl` and then its digest `shard_<k>.json` (both atomically)."""
    import pickle

    annotations, rejects, checksums = result.annotations, result.rejects, result.checksums

    if any(a["keypoint"].dtype != KEYPOINT_DTYPE for a in annotations):
        raise ValueError(f"{path}: shard keypoints must be {KEYPOINT_DTYPE}")
    doc = {
        "format": SHARD_FORMAT,
        "frame_dir": [a["frame_dir"] for a in annotations],
        "label": np.array([a["label"] for a in annotations], np.int64),
        "shape": np.array([a["keypoint"].shape for a in annotations], np.int64).reshape(-1, 4),
        "keypoint": np.concatenate(
            [a["keypoint"].ravel() for a in annotations] or [np.zeros(0, KEYPOINT_DTYPE)]
        ),
    }
    data = pickle.dumps(doc, protocol=4)
    with atomic_write(path) as f:
        f.write(data)
    record = {
        "format": SHARD_FORMAT,
        "pkl": {"sha256": _sha256(data), "size": len(data)},
        "samples": len(annotations),
        "rejects": [[r.sample, r.source, r.reason, r.detail] for r in rejects],
        "checksums": dict(sorted(checksums.items())),
    }
    with atomic_write(digest_path(path), "w") as f:
        json.dump(record, f, indent=0)
        f.write("\n")


def _str_list(value: Any, n: int | None = None) -> bool:
    return (
        isinstance(value, list)
        and all(isinstance(v, str) for v in value)
        and (n is None or len(value) == n)
    )


def read_record(path: str | os.PathLike) -> dict[str, Any]:
    """The digest beside shard `path` (or the .json itself); ShardError when unusable."""
    json_path = digest_path(path)
    try:
        with open(json_path, encoding="utf-8") as f:
            record = json.load(f)
    except FileNotFoundError:
        raise ShardError(f"{path}: no digest {json_path.name} beside it") from None
    except (OSError, ValueError, RecursionError) as exc:
        raise ShardDamaged(f"{json_path}: unreadable ({type(exc).__name__})") from None
    pkl = record.get("pkl") if isinstance(record, dict) else None
    ok = (
        isinstance(record, dict)
        and record.get("format") == SHARD_FORMAT
        and isinstance(pkl, dict)
        and isinstance(pkl.get("sha256"), str)
        and isinstance(pkl.get("size"), int)
        and isinstance(record.get("rejects"), list)
        and all(_str_list(r, 4) for r in record["rejects"])
        and isinstance(record.get("checksums"), dict)
        and all(isinstance(v, str) for v in record["checksums"].values())
    )
    if not ok:
        raise ShardDamaged(f"{json_path}: not a shard digest this version writes")
    return record


def rejects_of(record: dict[str, Any]) -> list[Reject]:
    return [Reject(*r) for r in record["rejects"]]


def damage(path: str | os.PathLike) -> str | None:
    """Why the shard at `path` cannot be used as it is (None: fine, or simply not built)."""
    pkl = Path(path)
    if not pkl.exists():
        return None
    try:
        record = read_record(pkl)
    except ShardError as exc:
        return str(exc)
    want = record["pkl"]
    try:
        st, digest_st = pkl.stat(), digest_path(pkl).stat()
    except OSError as exc:
        return f"{pkl}: {exc.strerror}"
    if st.st_size != want["size"]:
        return f"{pkl}: {st.st_size} bytes, its digest says {want['size']} (truncated?)"
    # the digest is written after the pickle: a pickle changed since is hashed again
    changed = st.st_mtime_ns > digest_st.st_mtime_ns
    if changed and _sha256(pkl.read_bytes()) != want["sha256"]:
        return f"{pkl}: content differs from its digest"
    return None


def discard(path: str | os.PathLike) -> None:
    for p in (Path(path), digest_path(path)):
        p.unlink(missing_ok=True)


def discard_if_damaged(path: str | os.PathLike) -> str | None:
    """Remove a damaged shard and its digest, so the workflow rebuilds it; returns why."""
    reason = damage(path)
    if reason is not None:
        discard(path)
    return reason


def discard_damaged_in(folder: str | os.PathLike) -> list[str]:
    """`discard_if_damaged` on every shard in `folder`; the reasons of those removed."""
    found = sorted(Path(folder).glob("shard_*.pkl"))
    return [why for p in found if (why := discard_if_damaged(p)) is not None]


def _annotations(doc: Any, path: str) -> list[dict[str, Any]]:
    def bad(why: str) -> ShardDamaged:
        return ShardDamaged(f"{path}: not a shard this version writes ({why})")

    if not isinstance(doc, dict) or doc.get("format") != SHARD_FORMAT:
        raise bad("format")
    names, label, shape, keypoint = (
        doc.get(k) for k in ("frame_dir", "label", "shape", "keypoint")
    )
    if not _str_list(names):
        raise bad("frame_dir")
    n = len(names)
    for what, arr, want in (("label", label, (n,)), ("shape", shape, (n, 4))):
        if not isinstance(arr, np.ndarray) or arr.dtype.kind != "i" or arr.shape != want:
            raise bad(what)
    if (shape < 0).any() or (label < 0).any():
        raise bad("negative shape or label")
    sizes = shape.prod(axis=1)
    if (
        not isinstance(keypoint, np.ndarray)
        or keypoint.dtype != KEYPOINT_DTYPE
        or keypoint.ndim != 1
        or keypoint.size != int(sizes.sum())
    ):
        raise bad("keypoint")
    out = []
    ends = np.cumsum(sizes)
    for name, lab, shp, end, size in zip(names, label, shape, ends, sizes, strict=True):
        kp = keypoint[end - size : end].reshape(tuple(int(x) for x in shp))
        out.append(
            {"frame_dir": name, "label": int(lab), "keypoint": kp, "total_frames": int(shp[1])}
        )
    return out


def read(path: str | os.PathLike) -> ShardResult:
    """A shard, checked against its digest and read with the restricted loader.

    Raises ShardDamaged (differs from its digest, or not a shard) or ShardError (no digest),
    each with a one-line message.
    """
    source = os.fspath(path)
    record = read_record(source)
    try:
        data = Path(source).read_bytes()
    except OSError as exc:
        raise ShardError(f"{source}: cannot read: {exc.strerror or exc}") from None
    if _sha256(data) != record["pkl"]["sha256"]:
        raise ShardDamaged(f"{source}: content differs from its digest {digest_path(source).name}")
    try:
        doc = safeload.loads(data, source)
    except safeload.PickleError as exc:
        raise ShardDamaged(str(exc)) from None
    return ShardResult(_annotations(doc, source), rejects_of(record), dict(record["checksums"]))


def read_or_discard(path: str | os.PathLike) -> ShardResult:
    """`read`, and a damaged shard removed (with its digest) for the next run to rebuild."""
    try:
        return read(path)
    except ShardDamaged as exc:
        discard(path)
        raise ShardDamaged(f"{exc}; removed it and its digest: run again to rebuild it") from None
