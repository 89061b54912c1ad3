"""Reading many small files in order, ahead of their consumer, in bounded memory.

A parse job reads every raw file of its shard once, in order, and parses each as it comes. A
thread reads (and checksums) the next files a few at a time while the consumer parses, and asks
the kernel (posix_fadvise WILLNEED) for the files after them, so several reads are in flight at
the disk and reading overlaps parsing (file reads, sha256 and the C reader release the GIL).
One reader thread with hints ahead keeps the disk about as busy as several threads do, at less
CPU (bench/scale.py compares the build's reads with the disk's limit).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from skeleton.core.files import Source, ZipReader, sha256_bytes

READERS = 1  # reader threads
READ_AHEAD = 16  # files read ahead of the consumer
# ... and bytes: a raw file may be up to ntu.max_raw_mb, and READ_AHEAD of those at once would
# be gigabytes; real NTU files are under 2 MB, so READ_AHEAD of them always fit
READ_AHEAD_BYTES = 32 << 20
READ_BATCH = 8  # files per task of a reader thread
HINT_AHEAD = 16  # files hinted to the kernel beyond those being read

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
