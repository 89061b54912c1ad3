"""NTU RGB+D raw skeletons -> 3D annotation pickles: parse shards, then package per dataset."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import platform
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from skeleton import __version__
from skeleton.core import reasons
from skeleton.core.annotations import AnnotationWriter
from skeleton.core.files import (
    DEFAULT_MAX_RAW_BYTES,
    RawFileError,
    Source,
    ZipReader,
    atomic_write,
    raw_size_limit,
    sha256_bytes,
)
from skeleton.core.members import Member, read_members
from skeleton.core.rejects import (
    NoUsableSamples,
    Reject,
    RejectError,
    StrictModeError,
    count_reasons,
    failures,
    write_rejects,
)
from skeleton.core.summary import write_summary
from skeleton.core.tables import shard_number
from skeleton.ntu import shards as ntu_shards
from skeleton.ntu.denoise import DENOISE_MODES, denoise
from skeleton.ntu.index import STATUS_OK, IndexRow, read_index, shard_rows, shards_for
from skeleton.ntu.names import in_dataset, make_splits, parse_name
from skeleton.ntu.reader import XYZ, parse_skeleton

# Read-ahead of a parse job: a thread reads (and checksums) the next files, 8 at a time, while
# this one is parsed, and asks the kernel (posix_fadvise WILLNEED) for the 16 files after them,
# so several reads are in flight at the disk: cold NTU files here, one reader: ~350 MB/s, with
# 16 files hinted ahead ~575 MB/s (4 reader threads: ~610 MB/s, but ~15% more CPU warm).
# 24 files ahead are ~6 MB of memory.
READERS = 1
READ_AHEAD = 16  # files read ahead of the parser
# ... and bytes: a raw file may be up to the 32 MB cap (ntu.max_raw_mb), and 16 of them held at
# once were 512 MB; real files are under 2 MB, so 16 of them always fit
READ_AHEAD_BYTES = 32 << 20
READ_BATCH = 8  # files per task of a reader thread
HINT_AHEAD = 16  # files hinted to the kernel beyond those being read
PROGRESS_INTERVAL = 1.0  # seconds between progress lines


class Progress:
    """`desc: done/total files` on stderr, at most every PROGRESS_INTERVAL seconds and at the
    end (one line rewritten on a terminal). Not tqdm: importing it takes ~35 ms, as long as a
    parse job spends on 30 files (it reads its own version from the installed packages)."""

    def __init__(self, total: int, desc: str, enabled: bool = True) -> None:
        self.total, self.desc, self.enabled = total, desc, enabled
        self.done = 0
        self._start = self._shown = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.done += n
        if self.enabled and time.monotonic() - self._shown >= PROGRESS_INTERVAL:
            self._show(final=False)

    def close(self) -> None:
        if self.enabled:
            self._show(final=True)

    def _show(self, final: bool) -> None:
        now = time.monotonic()
        self._shown = now
        rate = self.done / max(now - self._start, 1e-9)
        line = f"{self.desc}: {self.done}/{self.total} files, {rate:.0f} files/s"
        tty = sys.stderr.isatty()
        end = "\n" if final or not tty else ""
        print(("\r" if tty else "") + line, end=end, file=sys.stderr, flush=True)


@dataclass
class ShardResult:
    annotations: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    checksums: dict[str, str] = field(default_factory=dict)  # Source.id -> sha256


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


Read = tuple[bytes, str | None] | OSError  # (data, sha256) of a file, or why it was not read


@dataclass(frozen=True)
class _Raised:
    """An error other than OSError met reading a file: raised where the consumer reaches it."""

    error: BaseException


def read_ahead(
    sources: list[str],
    readers: int = READERS,
    ahead: int = READ_AHEAD,
    batch: int = READ_BATCH,
    hint: int = HINT_AHEAD,
    checksums: bool = True,
    budget: int = READ_AHEAD_BYTES,
    stats: dict[str, int] | None = None,
) -> Iterator[Read]:
    """Read and checksum the files (Source ids), in order, in front of the consumer: at most
    `ahead` files (rounded to whole batches) and, before each read, fewer than `budget` bytes
    read and not yet taken (the file the consumer waits for is always read), so what is held
    is bounded in bytes whatever the files' sizes (at most budget + one file per reader).
    `readers` threads take `batch` consecutive files at a time, each first hinting the `hint`
    plain files after the queued ones to the kernel: reading overlaps the caller's parsing
    (file reads, sha256 and the C reader release the GIL). Each thread reads zip members
    through its own ZipReader. Errors other than OSError are raised where the consumer
    reaches that file. Without `checksums`, the sha256 is None. `stats`, when given, gets
    "peak": the most bytes held at once (read, not yet taken by the consumer)."""
    n = len(sources)
    queued = max(1, ahead // batch) * batch  # files in the claimed batches, ahead of the consumer
    cond = threading.Condition()
    done: dict[int, Read | _Raised] = {}
    # want: the file the consumer waits for; held: bytes read, not yet taken; claimed: the
    # first file of the next batch to claim
    state = {"want": 0, "held": 0, "claimed": 0, "stop": False}

    def read_one(zr: ZipReader, sid: str) -> Read | _Raised:
        try:
            data = zr.read(Source.from_id(sid))
            return data, sha256_bytes(data) if checksums else None
        except OSError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, raised there
            return _Raised(exc)

    def claim() -> int | None:
        with cond:
            while not state["stop"] and n > state["claimed"] >= state["want"] + queued:
                cond.wait()
            if state["stop"] or state["claimed"] >= n:
                return None
            i = state["claimed"]
            state["claimed"] = i + batch
            return i

    def worker() -> None:
        with ZipReader() as zr:
            while (i := claim()) is not None:
                # the first batch hints everything up to `hint` past the queue, later ones
                # their share
                lo = i + batch if i == 0 else i + queued + hint - batch
                for sid in sources[lo : i + queued + hint]:
                    _will_need(sid)
                for j in range(i, min(n, i + batch)):
                    with cond:
                        while not (state["stop"] or j == state["want"] or state["held"] < budget):
                            cond.wait()
                        if state["stop"]:
                            return
                    got = read_one(zr, sources[j])
                    with cond:
                        done[j] = got
                        state["held"] += len(got[0]) if isinstance(got, tuple) else 0
                        if stats is not None:
                            stats["peak"] = max(stats.get("peak", 0), state["held"])
                        cond.notify_all()

    threads = [
        threading.Thread(target=worker, name=f"read-ahead-{k}", daemon=True)
        for k in range(max(1, readers))
    ]
    for t in threads:
        t.start()
    try:
        for i in range(n):
            with cond:
                state["want"] = i
                cond.notify_all()
                while i not in done:
                    cond.wait()
                got = done.pop(i)
                if isinstance(got, tuple):
                    state["held"] -= len(got[0])
            if isinstance(got, _Raised):
                raise got.error
            yield got
    finally:
        with cond:
            state["stop"] = True
            cond.notify_all()
        for t in threads:
            t.join()


def _will_need(sid: str) -> None:
    """Ask the kernel to start reading a plain file now (zip members: the archive is read in
    order anyway). Only a hint: any error is left for the real read to report."""
    src = Source.from_id(sid)
    if src.member is not None:
        return
    with contextlib.suppress(OSError):
        fd = os.open(src.path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        finally:
            os.close(fd)


def parse_shard(
    rows: list[IndexRow] | list[Member], mode: str, progress: bool = False, checksums: bool = True
) -> ShardResult:
    """Read, parse and denoise the rows' files; `checksums`: record each file's sha256 (for the
    manifest; ~0.7 CPU s per GB)."""
    if mode not in DENOISE_MODES:
        raise ValueError(f"unknown denoise mode {mode!r}; expected one of {DENOISE_MODES}")
    out = ShardResult()
    # What exists before the loop (modules, numpy) is left out of the cyclic collections the
    # loop's allocations trigger: their pauses hold the GIL the read-ahead threads need (wall
    # time of `skeleton ntu3d` on 270 MB: 0.61 -> 0.52 s; CPU time unchanged). Undone after, so
    # the library leaves the process's GC as it found it.
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


def write_shard(result: ShardResult, path: str | os.PathLike) -> None:
    """`shard_<k>.pkl` (plain data) and its digest `shard_<k>.json` (skeleton.ntu.shards)."""
    ntu_shards.write(path, result.annotations, result.rejects, result.checksums)


def read_shard(path: str | os.PathLike) -> ShardResult:
    """A shard checked against its digest and read with the restricted loader.

    Raises ntu_shards.ShardDamaged / ShardError with a one-line message.
    """
    annotations, rejects, checksums = ntu_shards.read(path)
    return ShardResult(annotations, rejects, checksums)


def run_shard(
    members: str | os.PathLike, mode: str, out: str, max_raw_bytes: int = DEFAULT_MAX_RAW_BYTES
) -> ShardResult:
    """The `ntu_parse_shard` step: parse the samples of one shard's members file (written by
    the index step, skeleton.core.members) and write the shard (raw files over
    `max_raw_bytes` are rejected, not read)."""
    rows = read_members(members)
    with raw_size_limit(max_raw_bytes):
        res = parse_shard(rows, mode, progress=True)
    write_shard(res, out)
    return res


def _index_rejects(rows: Iterable[IndexRow], dataset: str) -> list[Reject]:
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


def collect_rejects(
    rows: list[IndexRow], shard_rejects: Iterable[Iterable[Reject]], dataset: str
) -> list[Reject]:
    """The dataset's rejects: the index's (listed, bad names, conflicts) and the shards' for
    samples of the dataset."""
    wanted = set(usable_names(rows, dataset))
    rejects = _index_rejects(rows, dataset)
    for found in shard_rejects:
        rejects.extend(r for r in found if r.sample in wanted)
    return rejects


def _load_shard(path: str | os.PathLike, discard_damaged: bool) -> ShardResult:
    try:
        return read_shard(path)
    except ntu_shards.ShardDamaged as exc:
        if not discard_damaged:
            raise
        ntu_shards.discard(path)  # so the next run rebuilds it
        raise ntu_shards.ShardDamaged(
            f"{exc}; removed it and its digest: run again to rebuild it"
        ) from None


def package(
    rows: list[IndexRow],
    shards: Iterable[ShardResult] | Iterable[str],
    dataset: str,
    out_pkl: str,
    rejects_tsv: str | None = None,
    manifest: str | None = None,
    config: dict[str, Any] | None = None,
    splits: dict[str, list[str]] | None = None,
    strict: bool = False,
    summary: str | None = None,
    log: str | None = None,
    write_report: bool = True,
    discard_damaged: bool = False,
    splits_out: str | None = None,
) -> dict[str, Any]:
    """Stream shard results into `<ds>_3d.pkl` (samples of `dataset` only, sorted by name).

    `shards` are ShardResults or paths to shard files, in any order; `splits` the split
    assignment from `ntu_splits` (computed from the packaged names when None), restricted to the
    packaged samples. Returns the counts. The rejects report is written to `rejects_tsv` first
    (with `write_report`; the workflow builds it in its own job, rule ntu_rejects, so that it
    survives a failure here); with `strict`, any reject then fails, as does a dataset with no
    usable sample, each naming the report. A shard file that differs from its digest or does
    not load raises ShardDamaged; with `discard_damaged` (the workflow) it is removed first, so
    the next run rebuilds it. With `summary` (a file beside the job's log), the summary
    (skeleton.core.summary) is printed and written there, on success and failure alike. With
    `splits_out`, the pickle's split (packaged samples only) is written there as JSON.
    """
    wanted = set(usable_names(rows, dataset))
    # the files of the dataset's samples: a shard may still hold samples removed since it ran
    # (skeleton.core.members), whose files are not the dataset's inputs any more
    sources = {r.source for r in rows if r.sample in wanted}
    shard_rejects: list[list[Reject]] = []
    checksums: dict[str, str] = {}
    names: list[str] = []
    see = f"see {rejects_tsv}" if rejects_tsv else "--rejects FILE lists them"
    with AnnotationWriter(out_pkl, sort_by="frame_dir") as w:  # shards are hash buckets
        for sh in shards:
            res = _load_shard(sh, discard_damaged) if isinstance(sh, (str, os.PathLike)) else sh
            checksums.update((k, v) for k, v in res.checksums.items() if k in sources)
            shard_rejects.append(res.rejects)
            for a in res.annotations:
                if a["frame_dir"] in wanted:
                    names.append(a["frame_dir"])
                    w.add(a)
        names.sort()
        rejects = collect_rejects(rows, shard_rejects, dataset)
        if rejects_tsv and write_report:
            write_rejects(rejects, rejects_tsv)
        if not names:  # abort the write: no empty pickle is left behind
            error = no_usable_message(rows, dataset, len(rejects))
            write_summary(summary, dataset, "3d", 0, rejects, rejects_tsv, log, error)
            raise NoUsableSamples(f"{error}; {see}", rejects)
        if splits is None:
            split = make_splits(names, dataset)
        else:
            have = set(names)
            split = {k: [n for n in v if n in have] for k, v in splits.items()}
        w.split = split
    counts = {
        "samples": w.count,
        "splits": {k: len(v) for k, v in split.items()},
        "rejects": count_reasons(rejects),
        "rejected": len(rejects),
    }
    if manifest:
        write_manifest(manifest, dataset, counts, checksums, config or {})
    if splits_out:
        write_splits(split, splits_out)
    error = None
    failed = failures(rejects)
    if strict and failed:
        error = f"strict: {len(failed)} sample(s) rejected"
    write_summary(
        summary, dataset, "3d", w.count, rejects, rejects_tsv, log, error,
        output=out_pkl, splits=split,
    )  # fmt: skip
    if error:
        shown = sorted(set(failed))
        if summary:  # the workflow job's log (the CLI prints its own list, after its summary)
            for r in shown[:STRICT_SHOWN]:
                print(f"rejected: {r}", file=sys.stderr)
            if len(shown) > STRICT_SHOWN:
                print(f"... and {len(shown) - STRICT_SHOWN} more", file=sys.stderr)
        reasons = ", ".join(f"{k} {v}" for k, v in count_reasons(failed).items())
        raise StrictModeError(
            f"{dataset}: {len(failed)} sample(s) rejected ({reasons}); {see}", failed
        )
    return counts


# Rejects printed to the log when strict mode fails (the report lists them all).
STRICT_SHOWN = 20


def no_usable_message(rows: list[IndexRow], dataset: str, rejected: int) -> str:
    """Why nothing could be packaged; the NTU60 range hint only when that is the cause."""
    msg = f"no usable {dataset} sample among the inputs ({rejected} rejected)"
    outside = sum(
        r.status == STATUS_OK and not in_dataset(parse_name(r.sample), dataset) for r in rows
    )
    if outside and not usable_names(rows, dataset):
        msg += f": {outside} sample(s) outside {dataset}, which needs S001-S017 / A001-A060"
    return msg


def run_rejects(index_path: str, shard_paths: list[str], dataset: str, out: str) -> list[Reject]:
    """The `ntu_rejects` step: the dataset's rejects report, from the index and the shards'
    digests (small files). Its own job, which succeeds, so a packaging that fails in strict
    mode or for want of a usable sample leaves the report in place."""
    rows = read_index(index_path)
    records = (
        ntu_shards.rejects_of(ntu_shards.read_record(p))
        for p in sorted(shard_paths, key=shard_number)
    )
    rejects = collect_rejects(rows, records, dataset)
    write_rejects(rejects, out)
    return rejects


def auto_dataset(rows: list[IndexRow]) -> str:
    """ntu60 when every sample with an NTU name is in NTU60's range (S001-S017, A001-A060),
    else ntu120: what `skeleton ntu3d --dataset auto` packages."""
    named = [r for r in rows if r.action]
    return "ntu60" if named and all(r.ntu60 for r in named) else "ntu120"


def usable_names(rows: list[IndexRow], dataset: str) -> list[str]:
    return [
        r.sample
        for r in rows
        if r.status == STATUS_OK and in_dataset(parse_name(r.sample), dataset)
    ]


def run_splits(index_path: str, dataset: str, out: str) -> dict[str, list[str]]:
    """The `ntu_splits` step: the official benchmark splits of every usable indexed sample
    (`official_splits.json`; packaging keeps the samples it packaged, `splits.json`)."""
    splits = make_splits(usable_names(read_index(index_path), dataset), dataset)
    write_splits(splits, out)
    return splits


def write_splits(splits: dict[str, list[str]], out: str | os.PathLike) -> None:
    with atomic_write(out, "w") as f:
        json.dump(splits, f, indent=1)
        f.write("\n")


def run_package(
    index_path: str,
    shard_paths: list[str],
    splits_path: str,
    dataset: str,
    out_pkl: str,
    rejects_tsv: str,
    manifest: str,
    config: dict[str, Any],
    strict: bool = False,
    summary: str | None = None,
    log: str | None = None,
    workflow: bool = False,
    splits_out: str | None = None,
) -> dict[str, Any]:
    """The `ntu_package` step: `splits_path` is the official assignment (ntu_splits), and
    `splits_out` gets the pickle's own split. In the workflow (`workflow`), the rejects report
    is an input (rule ntu_rejects made it) and a damaged shard is removed for the next run to
    rebuild."""
    with open(splits_path) as f:
        splits = json.load(f)
    shard_paths = sorted(shard_paths, key=shard_number)
    return package(
        read_index(index_path), shard_paths, dataset, out_pkl, rejects_tsv, manifest, config,
        splits, strict, summary, log, write_report=not workflow, discard_damaged=workflow,
        splits_out=splits_out,
    )  # fmt: skip


def _input_digest(checksums: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Per input (folder or zip archive): file count and a sha256 over sorted (file, sha256)."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for sid, digest in sorted(checksums.items()):
        src = Source.from_id(sid)
        root = src.path if src.member is not None else os.path.dirname(src.path)
        groups.setdefault(root, []).append((src.filename, digest))
    return {
        root: {"files": len(items), "sha256": sha256_bytes(json.dumps(items).encode())}
        for root, items in groups.items()
    }


def write_manifest(
    path: str, dataset: str, counts: dict[str, Any], checksums: dict[str, str], config: dict
) -> None:
    from skeleton.core.versions import library_versions

    doc = {
        "dataset": dataset,
        "kind": "3d",
        "versions": {
            "skeleton": __version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            **library_versions(["snakemake"]),
        },
        "config": config,
        "counts": counts,
        "inputs": _input_digest(checksums),
    }
    with atomic_write(path, "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")


def _parse_job(args: tuple[list[IndexRow], str, bool]) -> ShardResult:
    rows, mode, checksums = args
    return parse_shard(rows, mode, checksums=checksums)


def build(
    rows: list[IndexRow],
    mode: str,
    dataset: str,
    out_pkl: str,
    jobs: int = 1,
    rejects_tsv: str | None = None,
    manifest: str | None = None,
    chunk: int = 200,
    strict: bool = False,
) -> dict[str, Any]:
    """Parse every usable sample (in `jobs` processes) and package one dataset in memory.
    The files are checksummed only for a manifest."""
    todo = [r for s in shards_for(rows, dataset) for r in shard_rows(rows, s)]
    checksums = manifest is not None
    chunks = [(todo[i : i + chunk], mode, checksums) for i in range(0, len(todo), chunk)]
    bar = Progress(len(todo), "parse")
    results: list[ShardResult] = []
    if jobs > 1 and len(chunks) > 1:
        from concurrent.futures import ProcessPoolExecutor  # multiprocessing: ~20 ms to import

        with ProcessPoolExecutor(jobs) as ex:
            for res, (c, _, _) in zip(ex.map(_parse_job, chunks), chunks, strict=True):
                results.append(res)
                bar.update(len(c))
    else:
        for c in chunks:
            results.append(_parse_job(c))
            bar.update(len(c[0]))
    bar.close()
    return package(
        rows, results, dataset, out_pkl, rejects_tsv, manifest, {"denoise": mode}, strict=strict
    )
