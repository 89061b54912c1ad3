"""An NTU dataset's rejects report (rule ntu_rejects): every input file of the dataset that is
not in its pickle, and why. The index's rejects (listed missing, bad names, duplicates, files
that cannot be read) and the parse shards' (malformed files, no skeleton) concern a dataset when
their sample belongs to it; usable samples outside it (NTU120's in an ntu60 build) are listed as
`not_in_dataset`, so the report accounts for every input file."""

from __future__ import annotations

import os
from collections.abc import Iterable

from skeleton.core import reasons
from skeleton.core.rejects import Reject, write_rejects
from skeleton.core.tables import STATUS_OK, shard_number
from skeleton.ntu import shards
from skeleton.ntu.index import SkeletonRow, read_index, usable_names
from skeleton.ntu.names import in_dataset, parse_name


def _index_rejects(rows: Iterable[SkeletonRow], dataset: str) -> list[Reject]:
    out = []
    for r in rows:
        inside = not r.action or in_dataset(parse_name(r.sample), dataset)
        if r.status == STATUS_OK:
            if not inside:  # listed, so a report accounts for every input file
                out.append(Reject(r.sample, r.source, reasons.NOT_IN_DATASET, _outside(dataset)))
            continue
        if inside:  # e.g. a listed NTU120-only sample does not concern the ntu60 report
            out.append(r.reject())
    return out


def _outside(dataset: str) -> str:
    return f"an NTU120 sample (setup S018-S032 or action A061-A120): not part of {dataset}"


def dataset_rejects(
    rows: list[SkeletonRow], shard_rejects: Iterable[Iterable[Reject]], dataset: str
) -> list[Reject]:
    """The dataset's rejects: the index's (listed, bad names, conflicts) and the shards' for
    samples of the dataset."""
    wanted = set(usable_names(rows, dataset))
    rejects = _index_rejects(rows, dataset)
    for found in shard_rejects:
        rejects.extend(r for r in found if r.sample in wanted)
    return rejects


def ntu_rejects(
    index_path: str | os.PathLike, shard_paths: list[str], dataset: str, out: str | os.PathLike
) -> list[Reject]:
    """The `ntu_rejects` step (rule and command): the dataset's rejects report, from the index
    and the shards' digests (small files). Its own job, which succeeds, so a packaging that
    fails in strict mode or for want of a usable sample leaves the report in place."""
    rows = read_index(index_path)
    records = (
        shards.rejects_of(shards.read_record(p)) for p in sorted(shard_paths, key=shard_number)
    )
    rejects = dataset_rejects(rows, records, dataset)
    write_rejects(rejects, out)
    return rejects
