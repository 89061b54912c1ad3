"""The sample tables (NTU index, video indexes): frozen dataclass rows <-> TSV, and sharding.

Every table has `status` and `shard` columns. A row whose status is "ok" goes to shard
`shard_of(sample, n_shards)`: a stable hash of its sample name into a fixed number of buckets,
so a sample's shard depends on its name alone, never on which other samples exist (a video or
raw file added late changes one shard, not every shard after it). Other rows get -1.

The number of buckets is fixed per source from a reference size (`shard_count`): the dataset's
official size where it has one, so shards fill up as a dataset grows instead of moving.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import math
import os
from collections.abc import Iterable
from typing import TypeVar

from skeleton.core.files import atomic_write

STATUS_OK = "ok"

Row = TypeVar("Row")


def check_shard_size(shard_size: int) -> None:
    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size}")


def shard_count(reference: int, shard_size: int) -> int:
    """Buckets for a source of `reference` samples at about `shard_size` samples each."""
    check_shard_size(shard_size)
    return max(1, math.ceil(reference / shard_size))


def shard_of(sample: str, n_shards: int) -> int:
    """The bucket of `sample`: the first 8 bytes of the SHA-256 of its UTF-8 name, modulo
    `n_shards`. The same on every machine, Python version and run (no salted hash())."""
    digest = hashlib.sha256(sample.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % n_shards


def assign_shards(rows: Iterable[Row], n_shards: int) -> list[Row]:
    """Rows with status "ok" get `shard_of(sample, n_shards)`, the others -1."""
    if n_shards < 1:
        raise ValueError(f"need at least one shard, got {n_shards}")
    out = []
    for r in rows:
        shard = shard_of(r.sample, n_shards) if r.status == STATUS_OK else -1  # type: ignore[attr-defined]
        out.append(r if r.shard == shard else dataclasses.replace(r, shard=shard))  # type: ignore[attr-defined]
    return out


def shards(rows: Iterable[Row]) -> list[int]:
    """The shards the rows fill (rows that are not parsed have -1)."""
    return sorted({r.shard for r in rows if r.shard >= 0})  # type: ignore[attr-defined]


def shard_rows(rows: Iterable[Row], shard: int) -> list[Row]:
    return [r for r in rows if r.shard == shard]  # type: ignore[attr-defined]


def shard_number(path: str | os.PathLike) -> int:
    """The shard a shard file holds, from the digits of its name (`shard_12.pkl` -> 12)."""
    digits = "".join(filter(str.isdigit, os.path.basename(path)))
    return int(digits) if digits else -1


def columns(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _cell(value: object) -> str:
    # a tab, newline or other non-printable character becomes a space; spaces stay as they are
    # (a path with two spaces in a row must still name its file)
    text = str(value)
    return text if text.isprintable() else "".join(c if c.isprintable() else " " for c in text)


def write_table(rows: Iterable[object], cls: type, path: str | os.PathLike) -> None:
    """One header line, one line per row (UTF-8); non-printable characters become spaces."""
    names = columns(cls)
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write("\t".join(names) + "\n")
        for r in rows:
            f.write("\t".join(_cell(getattr(r, c)) for c in names) + "\n")


def read_table(path: str | os.PathLike, cls: type[Row]) -> list[Row]:
    """The rows of a table `write_table` wrote (cells missing at a line's end read as empty)."""
    ints = {f.name for f in dataclasses.fields(cls) if f.type in ("int", int)}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header is None:
            return []
        width = len(header)
        # cells in the dataclass's field order (the workflow reads 114,480-row indexes at each
        # start: positional arguments, no dict per row)
        missing = [name for name in columns(cls) if name not in header]
        if missing:
            raise ValueError(f"{path}: no column {', '.join(missing)} (not a table of this kind)")
        order = [header.index(name) for name in columns(cls)]
        int_cells = [i for i, name in enumerate(columns(cls)) if name in ints]
        out = []
        for line in reader:
            if len(line) < width:
                line += [""] * (width - len(line))
            elif len(line) > width:
                raise ValueError(f"{path}:{reader.line_num}: {len(line)} cells, {width} expected")
            cells = [line[i] for i in order]
            for i in int_cells:
                cells[i] = int(cells[i])
            out.append(cls(*cells))
        return out
