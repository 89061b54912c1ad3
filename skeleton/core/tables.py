"""The sample tables (NTU index, video indexes): frozen dataclass rows <-> TSV, and sharding.

Every table has `status` and `shard` columns: rows whose status is "ok" are numbered in table
order and get shard = number // shard_size (a pure function of the sorted table), the others -1.
"""

from __future__ import annotations

import csv
import dataclasses
import os
from collections.abc import Iterable
from typing import TypeVar

from skeleton.core.files import atomic_write

STATUS_OK = "ok"

Row = TypeVar("Row")


def check_shard_size(shard_size: int) -> None:
    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size}")


def assign_shards(rows: Iterable[Row], shard_size: int) -> list[Row]:
    check_shard_size(shard_size)
    out, k = [], 0
    for r in rows:
        if r.status == STATUS_OK:  # type: ignore[attr-defined]
            r = dataclasses.replace(r, shard=k // shard_size)
            k += 1
        out.append(r)
    return out


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
    ints = {f.name for f in dataclasses.fields(cls) if f.type in ("int", int)}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            cls(**{k: int(v) if k in ints else (v or "") for k, v in row.items()}) for row in reader
        ]
