"""Checks that an output can be written, made before any work that would be lost otherwise.

A command that parses a whole dataset and only then finds that `--out` names a folder, a path
under a regular file or a read-only place would waste the parse and end in a traceback; these
checks say it in one line first. They probe the way `core.files.atomic_write` writes: a
temporary file created in the target's folder (made if missing), removed at once.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


class OutputError(ValueError):
    """An output that cannot be written; the message is one line naming it and why."""


def _why(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "read-only file system"
    if exc.errno == errno.ENOSPC:
        return "no space left on device"
    return exc.strerror or str(exc)


def _blocking_file(folder: Path) -> Path | None:
    """The first part of `folder` that exists but is not a folder (then nothing can go under it)."""
    for part in [*reversed(folder.parents), folder]:
        if _exists(part) and not os.path.isdir(part):
            return part
    return None


def _exists(path: Path) -> bool:
    try:
        os.stat(path)
    except OSError:  # missing, or a parent we may not search (judged at the parent)
        return False
    return True


def folder_problem(folder: str | os.PathLike) -> str | None:
    """Why no file can be written in `folder`, or None. Probes the folder, or its nearest
    existing parent when it is missing (the write would make it there), with a temporary file
    removed at once; creates nothing else."""
    path = Path(os.path.abspath(folder))
    blocker = _blocking_file(path)
    if blocker is not None:
        return f"{blocker} is a file, not a folder"
    existing = next(p for p in [path, *path.parents] if _exists(p))
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-check.", suffix=".tmp", dir=existing)
    except OSError as exc:
        return f"{_why(exc)} (in {existing})"
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return None


def check_file(path: str | os.PathLike, option: str = "") -> None:
    """`path` can be written as `atomic_write` writes it (a new file in its folder, renamed over
    it): its folder can be made and written, and `path` is not a folder. `option` names it in
    the message (e.g. --out). Raises OutputError."""
    p = Path(path)
    why = "it is a folder (give a file name)" if os.path.isdir(p) else folder_problem(p.parent)
    if why:
        raise OutputError(f"cannot write {option + ' ' if option else ''}{path}: {why}")


def check_folder(folder: str | os.PathLike, option: str = "") -> None:
    """`folder` exists or can be made, and files can be written in it. Raises OutputError."""
    why = folder_problem(folder)
    if why:
        raise OutputError(f"cannot write {option + ' ' if option else ''}{folder}: {why}")


def unwritable_folders(folders: Iterable[str | os.PathLike]) -> list[str]:
    """One line per folder of `folders` that no file could be written in (the workflow's
    results/, logs/, benchmarks/, checked before any job: folder_problem, creating nothing)."""
    return [f"cannot write in {f}: {why}" for f in folders if (why := folder_problem(f))]
