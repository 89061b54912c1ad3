"""Per-shard members files: the one input of a shard job, and what makes it rerun.

A shard job (an NTU parse shard, a pose shard) reads the samples of its members file, a small
TSV beside the index (`<folder>/<prefix>_<k>.tsv`): one row per sample with its file (a Source
id or a video path) and that file's state, `size:mtime_ns` (`-` when it is absent). The raw
files and videos themselves are not rule inputs: at NTU120 size that would be 114,480 inputs a
DAG build must stat and track.

A members file is rewritten only when its content would change (`write_members`): a member
added, replaced, touched or moved. Snakemake then sees an input newer than the shard's output,
and its modification-time check runs under every `--rerun-triggers` setting. A shard whose
members only went away keeps its file as it is, and so its output: that output still holds the
samples removed since, which packaging skips (it takes the index's samples), so removing or
renaming one video costs no job for the shard it left. The next change that adds to the shard
drops them.

The index step writes the members files of the index it builds; `sync_members` brings them up to
date from an existing index with one stat per file, when the workflow starts (a raw file
replaced in place changes no folder, so the index does not rerun, but its shard's members file
does). `inputs_state` is the matching record for the index itself: the configured inputs, each
folder's modification time, searched recursively.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from skeleton.core.files import atomic_write

ABSENT = "-"  # the state of a file that does not exist (or cannot be stat'ed)
HEADER = "sample\tsource\tstate\n"


@dataclass(frozen=True)
class Member:
    sample: str
    source: str  # what the shard job reads: a Source id (NTU raw files) or a video path
    state: str  # size:mtime_ns of the file, ABSENT when missing


def path_state(path: str | os.PathLike) -> str:
    """`size:mtime_ns` of a file or folder, ABSENT when it does not exist."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):  # ValueError: a NUL byte in the name
        return ABSENT
    return f"{st.st_size}:{st.st_mtime_ns}"


def members_path(folder: str | os.PathLike, prefix: str, shard: int) -> Path:
    return Path(folder) / f"{prefix}_{shard}.tsv"


def _clean(text: str) -> str:
    # the TSV's cells: a tab or newline in a name (refused earlier as bad_path) never splits a row
    return text if text.isprintable() else "".join(c if c.isprintable() else " " for c in text)


def _line(m: Member) -> str:
    return f"{_clean(m.sample)}\t{_clean(m.source)}\t{m.state}\n"


def _old_lines(path: Path) -> list[str] | None:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape", newline="") as f:
            lines = f.readlines()
    except FileNotFoundError:
        return None
    return lines[1:] if lines and lines[0] == HEADER else []


def read_members(path: str | os.PathLike) -> list[Member]:
    """The rows of a members file; ValueError naming the file and line when one is not a row."""
    out = []
    for i, line in enumerate(_old_lines(Path(path)) or [], 2):
        cells = line.rstrip("\n").split("\t")
        if len(cells) != 3:
            raise ValueError(f"{path}:{i}: not a members row (sample, source, state)")
        out.append(Member(*cells))
    return out


def write_members(path: str | os.PathLike, members: list[Member]) -> bool:
    """Write the shard's members unless the file already lists them all (the same rows, or
    more: members that only went away change nothing). Returns whether it was written."""
    path = Path(path)
    lines = _lines(members)
    if _covers(_old_lines(path), lines):
        return False
    _write(path, HEADER + "".join(lines))
    return True


def _lines(members: list[Member]) -> list[str]:
    return [_line(m) for m in sorted(members, key=lambda m: (m.sample, m.source))]


def _covers(old: list[str] | None, lines: list[str]) -> bool:
    return old is not None and (old == lines or set(lines) <= set(old))


def _write(path: Path, text: str) -> None:
    with atomic_write(path) as f:  # names that are not UTF-8 keep their bytes
        f.write(text.encode("utf-8", "surrogateescape"))


Row = tuple[int, str, str, str]  # (shard, sample, source, path whose state is recorded)


def sync_members(
    folder: str | os.PathLike,
    prefix: str,
    rows: Iterable[Row],
    keep_absent: bool = False,
) -> dict[int, list[str]]:
    """Bring the members files of `rows` up to date; {shard: samples added or changed} of the
    files rewritten. Each path is stat'ed once (the members of one zip archive share it).

    With `keep_absent` (the start of a workflow, from an index that may be rebuilt in the same
    run), a member whose file is gone keeps its old row: a removal reruns nothing, and if the
    file was deleted its folder changed, so the index is rebuilt without it."""
    states: dict[str, str] = {}
    by_shard: dict[int, list[Member]] = defaultdict(list)
    for shard, sample, source, path in rows:
        state = states.get(path)
        if state is None:
            state = states[path] = path_state(path)
        by_shard[shard].append(Member(sample, source, state))
    changed: dict[int, list[str]] = {}
    for shard in sorted(by_shard):
        members = by_shard[shard]
        target = members_path(folder, prefix, shard)
        old_lines = _old_lines(target)  # each file read once: 631 of them at NTU120 size
        if keep_absent and any(m.state == ABSENT for m in members):
            members = _keep_old_rows(old_lines or [], members)
        members = sorted(members, key=lambda m: (m.sample, m.source))
        lines = _lines(members)
        if _covers(old_lines, lines):
            continue
        _write(target, HEADER + "".join(lines))
        before = set(old_lines or [])
        changed[shard] = [m.sample for m, line in zip(members, lines, strict=True)
                          if line not in before]  # fmt: skip
    return changed


def _parse(lines: list[str]) -> dict[str, Member]:
    rows = (line.rstrip("\n").split("\t") for line in lines)
    return {cells[0]: Member(*cells) for cells in rows if len(cells) == 3}


def _keep_old_rows(old_lines: list[str], members: list[Member]) -> list[Member]:
    old = _parse(old_lines)
    return [old.get(m.sample, m) if m.state == ABSENT else m for m in members]


# The workflow's own folders (relative to its working directory): never inputs, and written by
# every run, so a video folder that contains them (custom.videos defaults to the list's folder)
# must not count them.
OWN_FOLDERS = ("results", "logs", "benchmarks", ".snakemake")


def inputs_state(paths: Iterable[str]) -> str:
    """The state of the configured inputs, one line each: a file's size and mtime, and for a
    folder the modification time of it and of every folder below it (a file added, removed or
    renamed anywhere changes one of them). Files changed in place are the members files' job."""
    skip = {os.path.realpath(d) for d in OWN_FOLDERS}
    lines = []
    for path in paths:
        if not os.path.isdir(path):
            lines.append(f"{path}\t{path_state(path)}")
            continue
        # symlinked folders are followed, as the scan follows them; each real folder once
        for root, dirs, _ in os.walk(path, followlinks=True):
            skip.add(os.path.realpath(root))
            dirs[:] = sorted(d for d in dirs if os.path.realpath(os.path.join(root, d)) not in skip)
            lines.append(f"{root}\t{path_state(root).split(':')[-1]}")
    return "".join(_clean(line) + "\n" for line in lines)


def write_if_changed(path: str | os.PathLike, text: str) -> bool:
    """Write `text` to `path` unless it already holds exactly that; whether it was written."""
    path = Path(path)
    try:
        if path.read_text(encoding="utf-8", errors="surrogateescape") == text:
            return False
    except FileNotFoundError:
        pass
    _write(path, text)
    return True


SHOWN_CHANGES = 5  # changed samples named when the workflow starts


def refresh(
    trigger: str | os.PathLike,
    seen: str | os.PathLike,
    inputs: list[str],
    index_path: str | os.PathLike,
    rows_of: Callable[[str], Iterable[Row]],
    folder: str | os.PathLike,
    prefix: str,
) -> list[str]:
    """The workflow's start (main process). `trigger`, an input of the index step, gets the
    inputs' state when it differs from `seen`, the state the index was built from (an output
    of the index step): so the index reruns exactly when a file was added, removed or renamed
    below the inputs since. When the index exists, its shards' members files are brought up
    to date. Returns lines for the console naming what changed."""
    lines = []
    now = inputs_state(inputs)
    try:
        built_from = Path(seen).read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        built_from = None
    index_exists = os.path.exists(index_path)
    if not os.path.exists(trigger) or built_from is None:
        write_if_changed(trigger, now)
    elif built_from != now and not _newer(trigger, index_path):
        _write(Path(trigger), now)  # even when it already holds this text: rerun the index
        if index_exists:
            lines.append(f"{', '.join(inputs)}: files added, removed or renamed since the index")
    if not index_exists:
        return lines
    changed = sync_members(folder, prefix, rows_of(os.fspath(index_path)), keep_absent=True)
    names = [(k, n) for k, found in changed.items() for n in found]
    if names:
        shown = ", ".join(f"{n} (shard {k})" for k, n in names[:SHOWN_CHANGES])
        more = f" and {len(names) - SHOWN_CHANGES} more" if len(names) > SHOWN_CHANGES else ""
        lines.append(f"changed since the last run: {shown}{more}")
    return lines


def _newer(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        return os.stat(a).st_mtime_ns > os.stat(b).st_mtime_ns
    except OSError:
        return False


def record_inputs(seen: str | os.PathLike, inputs: list[str]) -> None:
    """The index step: the state of the inputs it is about to read (`refresh`'s `seen`)."""
    write_if_changed(seen, inputs_state(inputs))
