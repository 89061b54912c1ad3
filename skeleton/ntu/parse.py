"""NTU raw skeletons -> 3D annotations: parse and denoise the files of one shard (rule
ntu_parse_shard), reading ahead of the parser (skeleton.core.readahead). One bad file is one
reject, with its file, line and reason; it never stops the shard."""

from __future__ import annotations

import contextlib
import gc
import os
from typing import Any

import numpy as np

from skeleton.core import reasons
from skeleton.core.errors import UsageError
from skeleton.core.files import DEFAULT_MAX_RAW_BYTES, RawFileError, raw_size_limit
from skeleton.core.members import Member, read_members
from skeleton.core.progress import Progress
from skeleton.core.readahead import read_ahead
from skeleton.core.rejects import Reject, RejectError
from skeleton.ntu import shards
from skeleton.ntu.denoise import DENOISE_MODES, denoise
from skeleton.ntu.index import SkeletonRow
from skeleton.ntu.names import parse_name
from skeleton.ntu.reader import XYZ, parse_skeleton
from skeleton.ntu.shards import ShardResult


def annotation(name: str, keypoint: np.ndarray) -> dict[str, Any]:
    """One 3D annotation, keys in PYSKL's order."""
    return {
        "frame_dir": name,
        "label": parse_name(name).label,
        "keypoint": keypoint,
        "total_frames": int(keypoint.shape[1]),
    }


def process_sample(name: str, data: bytes, source: str, mode: str) -> dict[str, Any] | Reject:
    """Parse + denoise one file; a Reject (with file, line and reason) instead of raising."""
    try:
        sk = parse_skeleton(data, source, columns=XYZ)  # every token checked, x y z converted
        return annotation(name, denoise(sk, mode))
    except RejectError as exc:  # SkeletonFormatError, NoSkeleton
        return exc.rejected(name, source)


def parse_shard(
    rows: list[SkeletonRow] | list[Member],
    mode: str,
    progress: bool = False,
    checksums: bool = True,
) -> ShardResult:
    """Read, parse and denoise the rows' files; `checksums`: record each file's sha256 (for the
    manifest)."""
    if mode not in DENOISE_MODES:
        raise ValueError(f"unknown denoise mode {mode!r}; expected one of {DENOISE_MODES}")
    out = ShardResult()
    # What exists before the loop (modules, numpy) is left out of the cyclic collections the
    # loop's allocations trigger: their pauses hold the GIL the read-ahead threads need. Undone
    # after, so the library leaves the process's GC as it found it.
    gc.freeze()
    try:
        bar = Progress(len(rows), "parse", enabled=progress)
        with contextlib.closing(read_ahead([r.source for r in rows], checksums=checksums)) as files:
            for r, got in zip(rows, files, strict=True):
                bar.update()
                if isinstance(got, OSError):  # RawFileError's reason, else unreadable
                    reason = got.reason if isinstance(got, RawFileError) else reasons.UNREADABLE
                    out.rejects.append(Reject(r.sample, r.source, reason, str(got)))
                    continue
                data, digest = got
                if digest is not None:
                    out.checksums[r.source] = digest
                res = process_sample(r.sample, data, r.source, mode)
                (out.rejects if isinstance(res, Reject) else out.annotations).append(res)
        bar.close()
    finally:
        gc.unfreeze()
    return out


def ntu_parse_shard(
    members: str | os.PathLike,
    mode: str,
    out: str | os.PathLike,
    max_raw_bytes: int = DEFAULT_MAX_RAW_BYTES,
) -> ShardResult:
    """The `ntu_parse_shard` step (rule and command): parse the samples of one shard's members
    file (written by the index step, skeleton.core.members) and write the shard and its digest
    (skeleton.ntu.shards). Raw files over `max_raw_bytes` are rejected, not read; a members
    file that cannot be read is a UsageError naming it."""
    try:
        rows = read_members(members)
    except OSError as exc:
        raise UsageError(f"cannot read {members}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    with raw_size_limit(max_raw_bytes):
        res = parse_shard(rows, mode, progress=True)
    shards.write(out, res)
    return res
