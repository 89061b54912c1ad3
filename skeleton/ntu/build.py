"""`skeleton ntu3d`: NTU raw skeletons -> one 3D pickle in one process, without the workflow.

The same steps as the workflow's (skeleton.ntu.index, parse, package), in memory: the inputs
are indexed, every usable sample of the dataset parsed in chunks by a pool of `jobs` processes,
and the results packaged with the report and manifest asked for.
"""

from __future__ import annotations

from typing import Any

from skeleton.core.packaging import Report
from skeleton.core.progress import Progress
from skeleton.core.tables import shard_rows
from skeleton.ntu.index import SkeletonRow, shards_for
from skeleton.ntu.package import package
from skeleton.ntu.parse import parse_shard
from skeleton.ntu.shards import ShardResult

CHUNK = 200  # samples per task of a worker process


def _parse_job(args: tuple[list[SkeletonRow], str, bool]) -> ShardResult:
    rows, mode, checksums = args
    return parse_shard(rows, mode, checksums=checksums)


def build(
    rows: list[SkeletonRow],
    mode: str,
    out_pkl: str,
    report: Report,
    jobs: int = 1,
    manifest: str | None = None,
    chunk: int = CHUNK,
    strict: bool = False,
) -> dict[str, Any]:
    """Parse every usable sample of `report.dataset` (in `jobs` processes) and package it in
    memory. The files are checksummed only for a manifest."""
    todo = [r for s in shards_for(rows, report.dataset) for r in shard_rows(rows, s)]
    checksums = manifest is not None
    chunks = [(todo[i : i + chunk], mode, checksums) for i in range(0, len(todo), chunk)]
    bar = Progress(len(todo), "parse")
    results: list[ShardResult] = []
    if jobs > 1 and len(chunks) > 1:
        from concurrent.futures import ProcessPoolExecutor  # imported only when asked for

        with ProcessPoolExecutor(jobs) as ex:
            for res, (c, _, _) in zip(ex.map(_parse_job, chunks), chunks, strict=True):
                results.append(res)
                bar.update(len(c))
    else:
        for c in chunks:
            results.append(_parse_job(c))
            bar.update(len(c[0]))
    bar.close()
    return package(rows, results, out_pkl, report, manifest, {"denoise": mode}, strict=strict)
