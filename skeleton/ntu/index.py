"""The NTU sample table: which raw file holds which sample, what is excluded, which shard parses it.

A usable sample's shard is a stable hash of its name into `shard_count(NTU120 size, shard_size)`
buckets (skeleton.core.tables): 58 at the default 2,000, whatever subset of NTU is present, so
a raw file added, removed or replaced changes the members of one shard only, and shards fill up
as a download completes. Each shard's members file (skeleton.core.members) is what its parse
job reads.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass

from skeleton.core import reasons
from skeleton.core.files import (
    DEFAULT_MAX_RAW_BYTES,
    RawFileError,
    Source,
    ZipReader,
    scan_sources,
    sha256_bytes,
)
from skeleton.core.members import Row as MemberRow
from skeleton.core.members import record_inputs, sync_members
from skeleton.core.rejects import Reject
from skeleton.core.tables import (
    STATUS_OK,
    assign_shards,
    read_table,
    shard_count,
    shards,
    write_table,
)
from skeleton.ntu.names import DATASET_SIZES, in_dataset, missing_samples, parse_name

MEMBERS_PREFIX = "skeletons"  # <members folder>/skeletons_<k>.tsv
SKELETON_SUFFIX = ".skeleton"


@dataclass(frozen=True)
class SkeletonRow:
    sample: str
    setup: int
    camera: int
    performer: int
    replication: int
    action: int
    ntu60: int  # 1 when the sample belongs to NTU60 (S001-S017, A001-A060)
    missing: int  # 1 when on the official missing-skeleton list
    status: str  # ok, or the reason it is not parsed (skeleton.core.reasons)
    shard: int  # -1 for rows that are not parsed
    source: str  # Source.id of the file to parse
    detail: str

    def reject(self) -> Reject:
        return Reject(self.sample, self.source, self.status, self.detail)


def _problem_row(name: str, where: str, status: str, detail: str) -> SkeletonRow:
    return SkeletonRow(name, 0, 0, 0, 0, 0, 0, 0, status, -1, where, detail)


@dataclass
class _Copies:
    """The copies of one sample by what they hold: the well-formed contents (each with its
    sources, in order) and the copies that cannot be used (source, reason, detail)."""

    valid: list[list[Source]]
    bad: list[tuple[Source, str, str]]


def _copies(zr: ZipReader, srcs: list[Source]) -> _Copies | None:
    """None when every copy reads and holds the same bytes (the usual duplicate: parsed once,
    from the first copy); else the copies classified. Contents are checked with the reader
    (every token, as the parse job does) only when the copies differ, and one file at a time
    is held, whatever the number of copies."""
    from skeleton.ntu.reader import XYZ, SkeletonFormatError, parse_skeleton

    digests: dict[Source, str] = {}
    bad: list[tuple[Source, str, str]] = []
    for src in srcs:
        try:
            digests[src] = sha256_bytes(zr.read(src))
        except RawFileError as exc:
            bad.append((src, exc.reason, str(exc)))
    if len(set(digests.values())) <= 1 and not bad:
        return None
    valid: list[list[Source]] = []
    for digest in dict.fromkeys(digests.values()):  # in the order of their first copy
        same = [s for s in srcs if digests.get(s) == digest]
        try:
            parse_skeleton(zr.read(same[0]), same[0].id, columns=XYZ)
        except SkeletonFormatError as exc:
            bad.append((same[0], reasons.MALFORMED, str(exc)))
            bad += [(s, reasons.MALFORMED, f"{s.id}: the same bytes as {exc}") for s in same[1:]]
            continue
        except RawFileError as exc:  # it changed since it was first read
            bad += [(s, exc.reason, str(exc)) for s in same]
            continue
        valid.append(same)
    return _Copies(valid, sorted(bad))


def build_index(
    inputs: list[str], shard_size: int, max_raw_bytes: int = DEFAULT_MAX_RAW_BYTES
) -> list[SkeletonRow]:
    """Scan the inputs and return the sorted sample table.

    Files that cannot be used (a folder that cannot be listed, an archive that cannot be
    opened, a folder or FIFO named like a raw file, a name the table cannot carry, a duplicate,
    overlapping or encrypted zip member, a file over `max_raw_bytes`) get a row with their
    reason, as rejects.

    A sample found more than once (in several inputs, or folders and archives): identical
    copies are one sample, parsed from the first. Copies that differ are read with the
    reader: when exactly one content is well formed, the sample is built from it and every
    other copy gets a `duplicate_malformed` row naming what is wrong with it and the copy used
    (a half-written or damaged copy beside a good one should not cost the sample, and the
    damaged file must be seen). Two or more well-formed contents are a `duplicate_conflict`
    naming them (there is no telling which is right), the bad copies beside them
    `duplicate_malformed`; with no well-formed copy each copy is rejected for its own reason
    (`malformed` with file and line, `unreadable`, ...).
    """
    by_name: dict[str, list[Source]] = defaultdict(list)
    sources, problems = scan_sources(inputs, SKELETON_SUFFIX, max_raw_bytes)
    for src in sources:
        by_name[src.filename[: -len(SKELETON_SUFFIX)]].append(src)
    missing = missing_samples("ntu120")
    rows: list[SkeletonRow] = [
        _problem_row(p.name.removesuffix(SKELETON_SUFFIX), p.where, p.reason, p.detail)
        for p in problems
    ]
    with ZipReader(max_raw_bytes) as zr:
        for name in sorted(by_name):
            srcs = sorted(by_name[name])
            try:
                s = parse_name(name)
            except ValueError as exc:
                for src in srcs:
                    rows.append(
                        SkeletonRow(
                            name, 0, 0, 0, 0, 0, 0, 0, reasons.BAD_NAME, -1, src.id, str(exc)
                        )
                    )
                continue

            def row(status: str, src: Source, detail: str, s=s, name=name) -> SkeletonRow:
                return SkeletonRow(
                    name, s.setup, s.camera, s.performer, s.replication, s.action,
                    int(s.in_ntu60), int(name in missing), status, -1, src.id, detail,
                )  # fmt: skip

            if name in missing:
                detail = "on the official list of samples with missing skeletons"
                rows.append(row(reasons.MISSING_LISTED, srcs[0], detail))
                continue
            copies = _copies(zr, srcs) if len(srcs) > 1 else None
            if copies is None:
                rows.append(row(STATUS_OK, srcs[0], ""))
                continue
            if len(copies.valid) == 1:
                used = copies.valid[0][0]
                rows.append(row(STATUS_OK, used, ""))
                for src, _, why in copies.bad:
                    note = f"{why}; not used: the sample is built from {used.id}"
                    rows.append(row(reasons.DUPLICATE_MALFORMED, src, note))
            elif copies.valid:
                ids = ", ".join(x.id for same in copies.valid for x in same)
                rows.append(
                    row(reasons.DUPLICATE_CONFLICT, srcs[0], f"different content in: {ids}")
                )
                for src, _, why in copies.bad:
                    note = f"{why}; a bad copy beside conflicting ones ({ids})"
                    rows.append(row(reasons.DUPLICATE_MALFORMED, src, note))
            else:
                rows += [row(reason, src, why) for src, reason, why in copies.bad]
    rows.sort(key=lambda r: (r.sample, r.source))
    return assign_shards(rows, n_shards(shard_size))


def n_shards(shard_size: int) -> int:
    """Parse shards at `shard_size` samples each for NTU120's full size."""
    return shard_count(DATASET_SIZES["ntu120"], shard_size)


def member_rows(rows: list[SkeletonRow]) -> list[MemberRow]:
    """(shard, sample, Source id, file to stat) of each parsed sample (zip members: the zip)."""
    return [
        (r.shard, r.sample, r.source, Source.from_id(r.source).path) for r in rows if r.shard >= 0
    ]


def write_members(
    rows: list[SkeletonRow], folder: str | os.PathLike, keep_absent: bool = False
) -> dict[int, list[str]]:
    """Bring the shards' members files in `folder` up to date (skeleton.core.members)."""
    return sync_members(folder, MEMBERS_PREFIX, member_rows(rows), keep_absent)


def write_index(rows: list[SkeletonRow], path: str | os.PathLike) -> None:
    write_table(rows, SkeletonRow, path)


def read_index(path: str | os.PathLike) -> list[SkeletonRow]:
    return read_table(path, SkeletonRow)


def shards_for(rows: list[SkeletonRow], dataset: str) -> list[int]:
    """Shards holding at least one usable sample of the dataset."""
    return shards(r for r in rows if dataset == "ntu120" or r.ntu60)


def usable_names(rows: list[SkeletonRow], dataset: str) -> list[str]:
    """The samples of `dataset` the index parses (status ok)."""
    return [
        r.sample
        for r in rows
        if r.status == STATUS_OK and in_dataset(parse_name(r.sample), dataset)
    ]


def auto_dataset(rows: list[SkeletonRow]) -> str:
    """ntu60 when every sample with an NTU name is in NTU60's range (S001-S017, A001-A060),
    else ntu120: what `skeleton ntu3d --dataset auto` packages."""
    named = [r for r in rows if r.action]
    return "ntu60" if named and all(r.ntu60 for r in named) else "ntu120"


def ntu_index(
    inputs: list[str],
    shard_size: int,
    out: str | os.PathLike,
    max_raw_bytes: int = DEFAULT_MAX_RAW_BYTES,
    members: str | os.PathLike | None = None,
    seen: str | os.PathLike | None = None,
) -> list[SkeletonRow]:
    """The `ntu_index` step (rule and command): scan the inputs and write the sample table;
    with `members`, each shard's members file into that folder (only those whose content
    changes); with `seen`, the inputs' state as found before the scan
    (skeleton.core.members.refresh compares it)."""
    if not inputs:
        raise ValueError("no NTU inputs configured: set ntu.skeletons to your raw folders or zips")
    if seen is not None:
        record_inputs(seen, inputs)
    rows = build_index(inputs, shard_size, max_raw_bytes)
    if not rows:
        raise ValueError(f"no {SKELETON_SUFFIX} files found in: {', '.join(inputs)}")
    if members is not None:
        write_members(rows, members)
    write_index(rows, out)
    return rows
