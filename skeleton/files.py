"""Input enumeration (files, folders, zip archives), checksums and atomic writes."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ZIP_SEP = "::"  # "archive.zip::member/path" names a member of a zip input


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Write to a temporary file beside `path`, fsync, then rename over it.

    A killed writer leaves at most a hidden `.name.*.tmp` file, never a partial `path`; the next
    write of `path` removes such leftovers (one writer per output, as in the workflow).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    stale = re.compile(re.escape(f".{path.name}.") + r"[a-z0-9_]{8}\.tmp")  # mkstemp's names
    for old in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        if stale.fullmatch(old.name):
            with contextlib.suppress(FileNotFoundError):
                old.unlink()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True, order=True)
class Source:
    """One input file: a plain path, or a member of a zip archive."""

    path: str  # file path, or the zip archive's path
    member: str | None = None  # member name inside the zip

    @property
    def id(self) -> str:
        return self.path if self.member is None else f"{self.path}{ZIP_SEP}{self.member}"

    @property
    def filename(self) -> str:
        return os.path.basename(self.member if self.member is not None else self.path)

    @classmethod
    def from_id(cls, sid: str) -> Source:
        if ZIP_SEP in sid:
            path, member = sid.split(ZIP_SEP, 1)
            return cls(path, member)
        return cls(sid)

    def read(self) -> bytes:
        if self.member is None:
            with open(self.path, "rb") as f:
                return f.read()
        with zipfile.ZipFile(self.path) as z:
            return z.read(self.member)


class ZipReader:
    """Reads many members of the same archives without reopening them for each file."""

    def __init__(self) -> None:
        self._open: dict[str, zipfile.ZipFile] = {}

    def read(self, src: Source) -> bytes:
        if src.member is None:
            return src.read()
        z = self._open.get(src.path)
        if z is None:
            z = self._open[src.path] = zipfile.ZipFile(src.path)
        return z.read(src.member)

    def close(self) -> None:
        for z in self._open.values():
            z.close()
        self._open.clear()

    def __enter__(self) -> ZipReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def find_sources(inputs: list[str], suffix: str) -> list[Source]:
    """Every file ending in `suffix` under the inputs (files, folders searched recursively, zips).

    Raises FileNotFoundError / ValueError for an input that does not exist or is not usable.
    Sorted by id, so the order never depends on the file system.
    """
    found: list[Source] = []
    for inp in inputs:
        p = Path(inp)
        if p.is_dir():
            found += [Source(str(f)) for f in p.rglob(f"*{suffix}") if f.is_file()]
        elif p.is_file() and zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as z:
                found += [
                    Source(str(p), i.filename)
                    for i in z.infolist()
                    if not i.is_dir() and i.filename.endswith(suffix)
                ]
        elif p.is_file():
            if not p.name.endswith(suffix):
                raise ValueError(f"{inp}: not a {suffix} file, a folder or a zip archive")
            found.append(Source(str(p)))
        elif not p.exists():
            raise FileNotFoundError(f"{inp}: no such file or folder")
        else:
            raise ValueError(f"{inp}: not a regular file or folder")
    return sorted(set(found))
