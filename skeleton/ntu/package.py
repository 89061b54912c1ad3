"""NTU 3D packaging: a dataset's official splits (rule ntu_splits) and its pickle from the parse
shards (rule ntu_package), with the rejects report, manifest and the pickle's own split, through
the one packaging flow of skeleton.core.packaging."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from skeleton.core.files import atomic_write
from skeleton.core.packaging import Report, restricted, write_pickle
from skeleton.core.rejects import Reject, write_rejects
from skeleton.core.tables import STATUS_OK, shard_number
from skeleton.ntu import shards
from skeleton.ntu.index import SkeletonRow, read_index, usable_names
from skeleton.ntu.manifest import write_manifest
from skeleton.ntu.names import in_dataset, make_splits, parse_name
from skeleton.ntu.rejects import dataset_rejects
from skeleton.ntu.shards import ShardResult


def package(
    rows: list[SkeletonRow],
    shard_results: Iterable[ShardResult] | Iterable[str | os.PathLike],
    out_pkl: str | os.PathLike,
    report: Report,
    manifest: str | os.PathLike | None = None,
    config: dict[str, Any] | None = None,
    splits: dict[str, list[str]] | None = None,
    strict: bool = False,
    write_report: bool = True,
    discard_damaged: bool = False,
    splits_out: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """Stream shard results into `<ds>_3d.pkl` (samples of `report.dataset` only, sorted by name).

    `shard_results` are ShardResults or paths to shard files, in any order; `splits` the split
    assignment from `ntu_splits` (computed from the packaged names when None), restricted to
    the packaged samples. Returns the counts. The rejects report is written to `report.rejects`
    first (with `write_report`; the workflow builds it in its own job, rule ntu_rejects, so that
    it survives a failure here); with `strict`, any reject then fails, as does a dataset with no
    usable sample, each naming the report. A shard file that differs from its digest or does
    not load raises ShardDamaged; with `discard_damaged` (the workflow) it is removed first, so
    the next run rebuilds it. With `splits_out`, the pickle's split (packaged samples only) is
    written there as JSON.
    """
    dataset = report.dataset
    wanted = set(usable_names(rows, dataset))
    # the files of the dataset's samples: a shard may still hold samples removed since it ran
    # (skeleton.core.members), whose files are not the dataset's inputs any more
    sources = {r.source for r in rows if r.sample in wanted}
    shard_rejects: list[list[Reject]] = []
    checksums: dict[str, str] = {}

    def annotations() -> Iterable[dict[str, Any]]:
        for sh in shard_results:
            if isinstance(sh, ShardResult):
                res = sh
            else:
                res = shards.read_or_discard(sh) if discard_damaged else shards.read(sh)
            checksums.update((k, v) for k, v in res.checksums.items() if k in sources)
            shard_rejects.append(res.rejects)
            yield from (a for a in res.annotations if a["frame_dir"] in wanted)

    def rejects_of() -> list[Reject]:
        rejects = dataset_rejects(rows, shard_rejects, dataset)
        if report.rejects and write_report:
            write_rejects(rejects, report.rejects)
        return rejects

    def split_of(names: list[str]) -> dict[str, list[str]]:
        return make_splits(names, dataset) if splits is None else restricted(splits, names)

    got = write_pickle(
        report, out_pkl, annotations(), split_of, rejects_of, lambda _: _outside_hint(rows, dataset)
    )
    counts = got.counts()
    if manifest:
        write_manifest(manifest, dataset, counts, checksums, config or {})
    if splits_out:
        write_splits(got.split, splits_out)
    if strict:
        report.check_strict(got.rejects, len(got.names), out_pkl, got.split)
    report.summarize(len(got.names), got.rejects, output=out_pkl, splits=got.split)
    return counts


def _outside_hint(rows: list[SkeletonRow], dataset: str) -> str:
    """Why nothing could be packaged, when the inputs hold samples outside the dataset only."""
    outside = sum(
        r.status == STATUS_OK and not in_dataset(parse_name(r.sample), dataset) for r in rows
    )
    if outside and not usable_names(rows, dataset):
        return f": {outside} sample(s) outside {dataset}, which needs S001-S017 / A001-A060"
    return ""


def write_splits(splits: dict[str, list[str]], out: str | os.PathLike) -> None:
    with atomic_write(out, "w") as f:
        json.dump(splits, f, indent=1)
        f.write("\n")


def ntu_splits(
    index_path: str | os.PathLike, dataset: str, out: str | os.PathLike
) -> dict[str, list[str]]:
    """The `ntu_splits` step (rule and command): the official benchmark splits of every usable
    indexed sample (`official_splits.json`; packaging keeps the samples it packaged,
    `splits.json`)."""
    splits = make_splits(usable_names(read_index(index_path), dataset), dataset)
    write_splits(splits, out)
    return splits


def ntu_package(
    index_path: str | os.PathLike,
    shard_paths: list[str],
    splits_path: str | os.PathLike,
    out_pkl: str | os.PathLike,
    report: Report,
    manifest: str | os.PathLike,
    config: dict[str, Any],
    strict: bool = False,
    workflow: bool = False,
    splits_out: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """The `ntu_package` step (rule and command): `splits_path` is the official assignment
    (ntu_splits), and `splits_out` gets the pickle's own split. In the workflow (`workflow`),
    the rejects report is an input (rule ntu_rejects made it) and a damaged shard is removed
    for the next run to rebuild."""
    with open(splits_path) as f:
        splits = json.load(f)
    return package(
        read_index(index_path), sorted(shard_paths, key=shard_number), out_pkl, report,
        manifest, config, splits, strict, write_report=not workflow, discard_damaged=workflow,
        splits_out=splits_out,
    )  # fmt: skip
