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

from skeleton.core.files import (
    DEFAULT_MAX_RAW_BYTES,
    RawFileError,
    Source,
    ZipReader,
    scan_sources,
)
from skeleton.core.members import Row as MemberRow
from skeleton.core.members import record_inputs, sync_members
from skeleton.core.rejects import Reject
from skeleton.core.tables import STATUS_OK, assign_shards, read_table, shard_count, write_table
from skeleton.ntu.names import DATASET_SIZES, missing_samples, parse_name

# samples per parse job at NTU120's full size, the default of the workflow (ntu.shard_size) and
# the CLI: 58 shards
SHARD_SIZE = 2000
MEMBERS_PREFIX = "skeletons"  # <members folder>/skeletons_<k>.tsv
SKELETON_SUFFIX = ".skeleton"

# index status -> reject reason (status "ok" rows are parsed)
STATUS_MISSING = "missing_listed"  # on the official missing-skeleton list
STATUS_BAD_NAME = "bad_name"  # file name is not an NTU sample name
STATUS_DUPLICATE = "duplicate_conflict"  # same sample in two inputs with different content
STATUS_UNREADABLE = "unreadable"  # a copy of a duplicated sample could not be read
# and skeleton.core.files.REASON_*: not_a_file, bad_path, duplicate_member, encrypted, too_large


@dataclass(frozen=True)
class IndexRow:
    sample: str
    setup: int
    camera: int
    performer: int
    replication: int
    action: int
    ntu60: int  # 1 when the sample belongs to NTU60 (S001-S017, A001-A060)
    missing: int  # 1 when on the official missing-skeleton list
    status: str
    shard: int  # -1 for rows that are not parsed
    source: str  # Source.id of the file to parse
    detail: str

    def reject(self) -> Reject:
        return Reject(self.sample, self.source, self.status, self.detail)


def _problem_row(name: str, where: str, status: str, detail: str) -> IndexRow:
    return IndexRow(name, 0, 0, 0, 0, 0, 0, 0, status, -1, where, detail)


def _contents(zr: ZipReader, srcs: list[Source]) -> tuple[set[bytes], str]:
    """The distinct contents of copies of one sample, or the first read error."""
    contents = set()
    for x in srcs:
        try:
            contents.add(zr.read(x))
        except RawFileError as exc:
            return set(), f"{exc} (one of {len(srcs)} copies)"
    return contents, ""


def build_index(
    inputs: list[str], shard_size: int, max_raw_bytes: int = DEFAULT_MAX_RAW_BYTES
) -> list[IndexRow]:
    """Scan the inputs and return the sorted sample table.

    Files that cannot be used (a folder or FIFO named like a raw file, a name the table cannot
    carry, a duplicate or encrypted zip member, a file over `max_raw_bytes`) get a row with
    their reason, as rejects.
    """
    by_name: dict[str, list[Source]] = defaultdict(list)
    sources, problems = scan_sources(inputs, SKELETON_SUFFIX, max_raw_bytes)
    for src in sources:
        by_name[src.filename[: -len(SKELETON_SUFFIX)]].append(src)
    missing = missing_samples("ntu120")
    rows: list[IndexRow] = [
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
                        IndexRow(name, 0, 0, 0, 0, 0, 0, 0, STATUS_BAD_NAME, -1, src.id, str(exc))
                    )
                continue
            status, detail = STATUS_OK, ""
            if len(srcs) > 1:
                contents, error = _contents(zr, srcs)
                if error:
                    status, detail = STATUS_UNREADABLE, error
                elif len(contents) > 1:
                    status = STATUS_DUPLICATE
                    detail = "different content in: " + ", ".join(x.id for x in srcs)
            if name in missing:
                status = STATUS_MISSING
                detail = "on the official list of samples with missing skeletons"
            rows.append(
                IndexRow(
                    name, s.setup, s.camera, s.performer, s.replication, s.action,
                    int(s.in_ntu60), int(name in missing), status, -1, srcs[0].id, detail,
                )
            )  # fmt: skip
    rows.sort(key=lambda r: (r.sample, r.source))
    return assign_shards(rows, n_shards(shard_size))


def n_shards(shard_size: int) -> int:
    """Parse shards at `shard_size` samples each for NTU120's full size."""
    return shard_count(DATASET_SIZES["ntu120"], shard_size)


def member_rows(rows: list[IndexRow]) -> list[MemberRow]:
    """(shard, sample, Source id, file to stat) of each parsed sample (zip members: the zip)."""
    return [
        (r.shard, r.sample, r.source, Source.from_id(r.source).path) for r in rows if r.shard >= 0
    ]


def write_members(
    rows: list[IndexRow], folder: str | os.PathLike, keep_absent: bool = False
) -> dict[int, list[str]]:
    """Bring the shards' members files in `folder` up to date (skeleton.core.members)."""
    return sync_members(folder, MEMBERS_PREFIX, member_rows(rows), keep_absent)


def write_index(rows: list[IndexRow], path: str | os.PathLike) -> None:
    write_table(rows, IndexRow, path)


def read_index(path: str | os.PathLike) -> list[IndexRow]:
    return read_table(path, IndexRow)


def shard_rows(rows: list[IndexRow], shard: int) -> list[IndexRow]:
    return [r for r in rows if r.shard == shard]


def shards_for(rows: list[IndexRow], dataset: str) -> list[int]:
    """Shards holding at least one usable sample of the dataset."""
    return sorted({r.shard for r in rows if r.shard >= 0 and (dataset == "ntu120" or r.ntu60)})


def run_index(
    inputs: list[str],
    shard_size: int,
    out: str | os.PathLike,
    max_raw_bytes: int = DEFAULT_MAX_RAW_BYTES,
    members: str | os.PathLike | None = None,
    seen: str | os.PathLike | None = None,
) -> list[IndexRow]:
    """The `ntu_index` step: scan the inputs and write the sample table; with `members`, each
    shard's members file into that folder (only those whose content changes); with `seen`, the
    inputs' state as found before the scan (skeleton.core.members.refresh compares it)."""
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
