"""Input enumeration (files, folders, zip archives), checksums and atomic writes."""

from __future__ import annotations

import bisect
import bz2
import contextlib
import glob
import hashlib
import os
import re
import stat
import struct
import tempfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from skeleton.core import reasons
from skeleton.core.defaults import NTU

ZIP_SEP = "::"  # "archive.zip::member/path" names a member of a zip input (see Source.id)
ZIP_SUFFIX = ".zip"  # archives found in input folders are read (any case: .ZIP too)


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike, mode: str = "wb", encoding: str | None = None
) -> Iterator[IO]:
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
        with os.fdopen(fd, mode, encoding=encoding) as f:
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


def raw_bytes(mb: float) -> int:
    """The byte cap of a raw file read, from a size in MB (ntu.max_raw_mb, --max-raw-mb)."""
    return int(mb * (1 << 20))


# Largest raw file read (plain or zip member, uncompressed): skeleton.core.defaults.
DEFAULT_MAX_RAW_BYTES = raw_bytes(NTU.max_raw_mb)
_CHUNK = 1 << 16
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # zip local file header (APPNOTE 4.3.7)
_ENCRYPTED = 0x1  # general purpose flag bit 0

_max_raw_bytes = DEFAULT_MAX_RAW_BYTES


class RawFileError(OSError):
    """A raw input that cannot be read: `reason` is a code of skeleton.core.reasons, the message
    one line (its rejects row's detail). An OSError, as every read error is: reads hand it on as
    one, and any other OSError of a read is `unreadable`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason

    def __str__(self) -> str:
        return self.args[0]


@contextlib.contextmanager
def raw_size_limit(max_bytes: int) -> Iterator[None]:
    """Readers created inside use `max_bytes` as their cap (the shard job's setting)."""
    global _max_raw_bytes
    old, _max_raw_bytes = _max_raw_bytes, max_bytes
    try:
        yield
    finally:
        _max_raw_bytes = old


def display(path: str) -> str:
    """A path as it can be printed and written to a table: escapes for what is not text."""
    data = os.fsencode(path).decode("utf-8", "backslashreplace")
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in data)


# Longest file name most file systems take (bytes: ext4, XFS, APFS).
MAX_NAME_BYTES = 255


def name_problem(name: str) -> str | None:
    """Why `name`, taken from data (a split name, a URL), is not one plain file name in a
    folder, or None: no folder part, not '.' or '..', no control character, not too long.
    Checked before writing, so such a name can never steer a write out of its folder."""
    if not name or name in (".", ".."):
        return "is empty or a folder reference"
    if "/" in name or "\\" in name or "\0" in name:
        return "holds a path separator"
    if not name.isprintable():
        return "holds a control or non-text character"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"is longer than {MAX_NAME_BYTES} bytes"
    return None


def path_problem(path: str) -> str | None:
    """Why `path` cannot be named in the index / rejects tables, or None.

    Tables are tab-separated UTF-8 lines: a tab, newline or other non-printable character, or
    bytes that are not UTF-8 (surrogate escapes), cannot be carried.
    """
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in path):
        return "its name holds bytes that are not UTF-8"
    if not path.isprintable():
        return "its name holds a tab, newline or other non-printable character"
    return None


def _kind(st_mode: int) -> str:
    if stat.S_ISDIR(st_mode):
        return "a folder"
    if stat.S_ISFIFO(st_mode):
        return "a FIFO"
    if stat.S_ISSOCK(st_mode):
        return "a socket"
    if stat.S_ISCHR(st_mode) or stat.S_ISBLK(st_mode):
        return "a device"
    return "not a regular file"


def _read_plain(path: str, max_bytes: int) -> bytes:
    """A regular file's bytes; never blocks on a FIFO, never reads past the cap."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        if os.path.islink(path):
            raise RawFileError(reasons.NOT_A_FILE, f"{display(path)}: a dangling symlink") from None
        raise RawFileError(reasons.UNREADABLE, f"{display(path)}: no such file") from None
    except OSError as exc:
        raise RawFileError(reasons.UNREADABLE, f"{display(path)}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise RawFileError(reasons.NOT_A_FILE, f"{display(path)}: {_kind(st.st_mode)}")
        if st.st_size > max_bytes:
            raise RawFileError(reasons.TOO_LARGE, _too_large(path, st.st_size, max_bytes))
        os.set_blocking(fd, True)
        # ask for the size fstat gave (+1 to see growth), not the cap: a cap-sized request is
        # a fresh cap-sized mapping per file, faulted in and unmapped again
        want = min(st.st_size, max_bytes) + 1
        data = f.read(want)
        if len(data) == want:  # the file grew since fstat: read on, up to the cap
            data += f.read(max_bytes + 1 - len(data))
    if len(data) > max_bytes:
        raise RawFileError(reasons.TOO_LARGE, _too_large(path, None, max_bytes))
    return data


def _too_large(name: str, size: int | None, max_bytes: int) -> str:
    if size is None:
        return f"{display(name)}: too large: inflates past the {max_bytes}-byte cap on raw files"
    return f"{display(name)}: too large: {size} bytes, over the {max_bytes}-byte cap on raw files"


def _member_decompressor(info: zipfile.ZipInfo, where: str) -> Callable[[bytes, int], bytes]:
    """decompress(chunk, max_length) for the member's method; every call is bounded."""
    method = info.compress_type
    if method == zipfile.ZIP_STORED:
        return lambda data, n: data
    if method == zipfile.ZIP_DEFLATED:
        obj = zlib.decompressobj(-15)
    elif method == zipfile.ZIP_BZIP2:
        obj = bz2.BZ2Decompressor()
    else:
        name = zipfile.compressor_names.get(method, "unknown")
        raise RawFileError(reasons.UNREADABLE, f"{where}: compression method {method} ({name})")

    def decompress(data: bytes, n: int) -> bytes:
        if method == zipfile.ZIP_DEFLATED:  # zlib keeps input it has not used: feed it again
            return obj.decompress(obj.unconsumed_tail + data, n)
        if obj.eof or (not data and obj.needs_input):
            return b""
        return obj.decompress(data, n)

    return decompress


def read_member(
    z: zipfile.ZipFile, info: zipfile.ZipInfo, max_bytes: int, layout: _Layout | None = None
) -> bytes:
    """One member's bytes, decompressed as a stream into at most `max_bytes` and checked
    against its CRC-32 and size. zipfile's own reader decompresses bzip2 / LZMA members a
    whole input chunk at a time (a 1.7 KB bzip2 bomb becomes gigabytes in one call), so this
    reads the compressed bytes and bounds every decompression step. Its data must end before
    the next member's local header (`layout`, computed when not given): members that share
    data are refused. RawFileError otherwise."""
    where = display(Source(z.filename or "", info.filename).id)
    if info.flag_bits & _ENCRYPTED:
        raise RawFileError(reasons.ENCRYPTED, f"{where}: an encrypted member")
    if info.file_size > max_bytes:
        raise RawFileError(reasons.TOO_LARGE, _too_large(where, info.file_size, max_bytes))
    try:
        # a file handle of its own: readers in several threads never share a position
        with open(z.filename or "", "rb") as fp:
            data = _inflate(fp, info, max_bytes, where, layout or _Layout.of(z))
    except RawFileError:
        raise
    except (OSError, EOFError, ValueError, zlib.error) as exc:
        raise RawFileError(reasons.UNREADABLE, f"{where}: {type(exc).__name__}: {exc}") from None
    return data


@dataclass(frozen=True)
class _Layout:
    """Where an archive's members start, to check at read time (with the local header's own
    name and extra lengths) that a member's data ends before the next member or the central
    directory: zip bombs point many directory entries at one compressed stream."""

    starts: list[int]  # the distinct local-header offsets, sorted
    shared: frozenset[int]  # offsets more than one entry starts at
    end: int  # where the central directory starts

    @classmethod
    def of(cls, z: zipfile.ZipFile) -> _Layout:
        counts = Counter(i.header_offset for i in z.infolist())
        end = getattr(z, "start_dir", None)  # zipfile's own field (CPython 2.x and later)
        if not isinstance(end, int):
            end = os.path.getsize(z.filename or "")
        return cls(sorted(counts), frozenset(o for o, n in counts.items() if n > 1), end)

    def bound(self, offset: int) -> int:
        """The first byte after `offset` that belongs to another member or the directory."""
        i = bisect.bisect_right(self.starts, offset)
        return self.starts[i] if i < len(self.starts) else self.end


def _inflate(
    fp: IO[bytes], info: zipfile.ZipInfo, max_bytes: int, where: str, layout: _Layout
) -> bytes:
    if info.header_offset in layout.shared:
        raise RawFileError(
            reasons.OVERLAPPING_MEMBER, f"{where}: shares its local header with another member"
        )
    fp.seek(info.header_offset)
    header = fp.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise RawFileError(reasons.UNREADABLE, f"{where}: no local header")
    fields = _LOCAL_HEADER.unpack(header)
    start = info.header_offset + _LOCAL_HEADER.size + fields[-2] + fields[-1]  # name, extra
    if start + info.compress_size > layout.bound(info.header_offset):
        raise RawFileError(
            reasons.OVERLAPPING_MEMBER,
            f"{where}: its data overlaps the next member or the archive's directory",
        )
    fp.seek(start)
    decompress = _member_decompressor(info, where)
    out, crc, left = bytearray(), 0, info.compress_size
    while True:
        chunk = fp.read(min(_CHUNK, left)) if left else b""
        left -= len(chunk)
        piece = decompress(chunk, max_bytes + 1 - len(out))
        out += piece
        crc = zlib.crc32(piece, crc)
        if len(out) > max_bytes:
            raise RawFileError(reasons.TOO_LARGE, _too_large(where, None, max_bytes))
        if not chunk and not piece:
            break
    if len(out) != info.file_size or crc != info.CRC:
        raise RawFileError(
            reasons.UNREADABLE,
            f"{where}: bad CRC-32 or size ({len(out)} bytes, the archive says {info.file_size})",
        )
    return bytes(out)


def _open_zip(path: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except Exception as exc:  # noqa: BLE001 - any failure to list an archive is a reject
        why = _zip_problem(path, exc)
        raise RawFileError(reasons.UNREADABLE, f"{display(path)}: {why}") from None


def _zip_problem(path: str, exc: Exception) -> str:
    """What is wrong with an archive zipfile cannot open, in words."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot be read: {exc.strerror[:1].lower()}{exc.strerror[1:]}"
    why = f"{type(exc).__name__}: {exc}" if not isinstance(exc, zipfile.BadZipFile) else str(exc)
    try:
        with open(path, "rb") as f:
            starts_like_zip = f.read(4) == b"PK\x03\x04"
    except OSError:
        starts_like_zip = False
    if starts_like_zip:
        return (
            "not a readable zip archive: it starts like one but its central directory (the "
            f"archive's end) is missing or damaged, as in a download cut short ({why})"
        )
    return f"not a readable zip archive ({why})"


def _escape(path: str) -> str:
    return path.replace("\\", "\\\\").replace(":", "\\:")


@dataclass(frozen=True, order=True)
class Source:
    """One input file: a plain path, or a member of a zip archive."""

    path: str  # file path, or the zip archive's path
    member: str | None = None  # member name inside the zip

    @property
    def id(self) -> str:
        """One string for the index and the reports, `from_id`'s exact inverse: the path with
        each '\\' and ':' escaped by a '\\' (ordinary paths read unchanged), then for a member
        '::' and the member name as it is. So the first unescaped '::' is always the archive's
        end: a folder named 'x.zip::' beside an archive 'x.zip' cannot be taken for it."""
        path = _escape(self.path) if ("\\" in self.path or ":" in self.path) else self.path
        return path if self.member is None else f"{path}{ZIP_SEP}{self.member}"

    @property
    def filename(self) -> str:
        return os.path.basename(self.member if self.member is not None else self.path)

    @classmethod
    def from_id(cls, sid: str) -> Source:
        """The Source an id names (Source.id's inverse; the file system is not consulted)."""
        if "\\" not in sid:  # nothing escaped: the path holds no ':', the first '::' ends it
            i = sid.find(ZIP_SEP)
            return cls(sid) if i < 0 else cls(sid[:i], sid[i + len(ZIP_SEP) :])
        out, i = [], 0
        while i < len(sid):
            ch = sid[i]
            if ch == "\\" and i + 1 < len(sid):
                out.append(sid[i + 1])
                i += 2
                continue
            if sid.startswith(ZIP_SEP, i):
                return cls("".join(out), sid[i + len(ZIP_SEP) :])
            out.append(ch)
            i += 1
        return cls("".join(out))

    def read(self, max_bytes: int | None = None) -> bytes:
        """The file's bytes (at most `max_bytes`, default the raw-file cap); RawFileError
        (an OSError with a reject reason) when it cannot be read."""
        cap = _max_raw_bytes if max_bytes is None else max_bytes
        if self.member is None:
            return _read_plain(self.path, cap)
        with _open_zip(self.path) as z:
            return read_member(z, _member_info(z, self), cap)


def _member_info(z: zipfile.ZipFile, src: Source) -> zipfile.ZipInfo:
    try:
        return z.getinfo(src.member or "")
    except KeyError:
        raise RawFileError(reasons.UNREADABLE, f"{display(src.id)}: no such member") from None


class ZipReader:
    """Reads many members of the same archives without reopening them for each file."""

    def __init__(self, max_bytes: int | None = None) -> None:
        self._open: dict[str, tuple[zipfile.ZipFile, _Layout]] = {}
        self.max_bytes = _max_raw_bytes if max_bytes is None else max_bytes

    def read(self, src: Source) -> bytes:
        if src.member is None:
            return src.read(self.max_bytes)
        got = self._open.get(src.path)
        if got is None:
            z = _open_zip(src.path)
            got = self._open[src.path] = (z, _Layout.of(z))
        z, layout = got
        return read_member(z, _member_info(z, src), self.max_bytes, layout)

    def close(self) -> None:
        for z, _ in self._open.values():
            z.close()
        self._open.clear()

    def __enter__(self) -> ZipReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True, order=True)
class Problem:
    """A file found under the inputs that cannot be used: what it is and why."""

    name: str  # its file name (printable), the sample it would be
    where: str  # its Source.id (printable), or the printable path for a bad_path
    reason: str  # a code of skeleton.core.reasons
    detail: str


def input_problem(entry: str) -> str | None:
    """Why a configured input (file, folder or zip) cannot be used, or None. An archive that
    cannot be opened (cut short, damaged) is not refused here: scanning makes it an
    `unreadable` reject, as one found inside a folder."""
    why = path_problem(entry)
    if why is not None:
        return f"{display(entry)}: {why}; rename it"
    if not os.path.lexists(entry):
        return f"{entry}: no such file or folder"
    if not os.path.exists(entry):
        return f"{entry}: a dangling symlink"
    mode = os.stat(entry).st_mode
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        return f"{entry}: {_kind(mode)}, not a file or folder"
    return None


def check_inputs(entries: list[str], key: str) -> None:
    """ValueError naming the first configured input of `key` that cannot be used."""
    for entry in entries:
        why = input_problem(entry)
        if why is not None:
            raise ValueError(f"{key}: {why}")


def check_no_braces(entries: list[str], key: str) -> None:
    """ValueError naming the first configured path of `key` holding a brace: Snakemake reads
    `{name}` in an input path as a wildcard, so such a path cannot be a workflow input."""
    for entry in entries:
        if "{" in entry or "}" in entry:
            raise ValueError(
                f"{key}: {display(entry)}: a path with '{{' or '}}' cannot be a workflow input "
                "(Snakemake reads braces as wildcards): rename it, or link it under another name"
            )


def _where(path: str) -> str:
    return display(Source(path).id)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _folder_sources(folder: str, suffix: str, max_bytes: int | None) -> tuple[list, list]:
    """Every file named like a raw file (`suffix`) and every zip archive under `folder`, and a
    problem for each folder that cannot be listed (permission denied) and each file that
    cannot be used. Symlinked folders are followed after the real ones, each folder listed
    once (a link to a folder seen already, or a loop, adds nothing), in name order: the paths
    found do not depend on the file system's order. Iterative: a deep tree cannot exhaust the
    stack."""
    found: list[Source] = []
    problems: list[Problem] = []
    seen: set[tuple[int, int]] = set()
    todo = [str(Path(folder))]  # pathlib's spelling of the path: the ids of earlier versions
    links: list[str] = []
    while todo or links:
        current = todo.pop() if todo else links.pop()
        try:
            st = os.stat(current)
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            with os.scandir(current) as it:
                entries = sorted(it, key=lambda e: e.name, reverse=True)  # popped in order
        except OSError as exc:
            problems.append(_folder_problem(current, exc))
            continue
        for e in entries:
            try:
                is_dir = e.is_dir()  # follows symlinks; no stat for plain entries
                (links if is_dir and e.is_symlink() else todo if is_dir else []).append(e.path)
            except OSError:
                is_dir = False
            if e.name.endswith(suffix):
                _raw_entry(e.path, max_bytes, found, problems)
            elif e.name.lower().endswith(ZIP_SUFFIX) and not is_dir:
                _archive_entry(e.path, suffix, max_bytes, found, problems)
    return found, problems


def _folder_problem(path: str, exc: OSError) -> Problem:
    why = _lower_first(exc.strerror or type(exc).__name__)
    name = display(os.path.basename(path.rstrip("/")) or path)
    where = _where(path) if path_problem(path) is None else display(path)
    return Problem(name, where, reasons.UNREADABLE, f"{where}: cannot list this folder: {why}")


def _regular_file(path: str, problems: list) -> tuple[str, os.stat_result] | None:
    """(where, stat) of a file found in a folder, or None with its problem recorded: a name
    the tables cannot carry, a dangling link, something that is not a regular file (a FIFO, a
    device; folders are listed, not read)."""
    name = display(os.path.basename(path))
    why = path_problem(path)
    if why is not None:
        problems.append(Problem(name, display(path), reasons.BAD_PATH, f"{display(path)}: {why}"))
        return None
    where = _where(path)
    try:
        st = os.stat(path)
    except OSError:
        kind = "a dangling symlink" if os.path.islink(path) else "cannot be read"
        problems.append(Problem(name, where, reasons.NOT_A_FILE, f"{where}: {kind}"))
        return None
    if not stat.S_ISREG(st.st_mode):
        problems.append(Problem(name, where, reasons.NOT_A_FILE, f"{where}: {_kind(st.st_mode)}"))
        return None
    return where, st


def _raw_entry(path: str, max_bytes: int | None, found: list, problems: list) -> None:
    checked = _regular_file(path, problems)
    if checked is None:
        return
    where, st = checked
    if max_bytes is not None and st.st_size > max_bytes:
        name = display(os.path.basename(path))
        problems.append(
            Problem(name, where, reasons.TOO_LARGE, _too_large(where, st.st_size, max_bytes))
        )
    else:
        found.append(Source(path))


def _archive_entry(
    path: str, suffix: str, max_bytes: int | None, found: list, problems: list
) -> None:
    """A zip archive found in a folder: its members, as if it were given directly."""
    if _regular_file(path, problems) is None:
        return
    more, bad = _zip_sources(path, suffix, max_bytes)
    found += more
    problems += bad


# Fixed part of a zip local file header (APPNOTE 4.3.7): a member takes at least this many
# bytes plus its compressed data from its header offset on.
_LOCAL_HEADER_MIN = _LOCAL_HEADER.size


def _overlaps(infos: list[zipfile.ZipInfo], end: int) -> dict[int, str]:
    """Index -> what it overlaps, for each entry whose extent (local header offset + the fixed
    header + its compressed size: a lower bound of the real extent, so legitimate archives
    never trip it) overlaps another entry's or the central directory at `end`."""
    out: dict[int, str] = {}
    order = sorted(range(len(infos)), key=lambda k: (infos[k].header_offset, k))
    reach, owner = -1, -1
    for k in order:
        info = infos[k]
        if info.header_offset < reach:
            out.setdefault(k, f"member '{display(infos[owner].filename)}'")
            out.setdefault(owner, f"member '{display(info.filename)}'")
        stop = info.header_offset + _LOCAL_HEADER_MIN + info.compress_size
        if stop > end:
            out.setdefault(k, "the archive's central directory")
        if stop > reach:
            reach, owner = stop, k
    return out


def _zip_sources(path: str, suffix: str, max_bytes: int | None) -> tuple[list, list]:
    found: list[Source] = []
    problems: list[Problem] = []
    try:
        z = _open_zip(path)
    except RawFileError as exc:
        name = display(os.path.basename(path))
        return [], [Problem(name, _where(path), exc.reason, str(exc))]
    with z:
        every = z.infolist()
        end = _Layout.of(z).end
    overlaps = _overlaps(every, end)
    infos = [(k, i) for k, i in enumerate(every) if i.filename.rstrip("/").endswith(suffix)]
    counts = Counter(i.filename for _, i in infos)
    first: dict[str, int] = {}
    for k, info in infos:
        first.setdefault(info.filename, k)
    for k, info in infos:
        src = Source(path, info.filename)
        where = display(src.id)
        name = display(os.path.basename(info.filename.rstrip("/")))
        if counts[info.filename] > 1:
            if first[info.filename] == k:
                detail = f"{where}: the archive holds {counts[info.filename]} members of this name"
                problems.append(Problem(name, where, reasons.DUPLICATE_MEMBER, detail))
            continue
        why = path_problem(info.filename)
        if info.is_dir():
            problems.append(Problem(name, where, reasons.NOT_A_FILE, f"{where}: a folder entry"))
        elif why is not None:
            problems.append(Problem(name, where, reasons.BAD_PATH, f"{where}: {why}"))
        elif k in overlaps:
            detail = (
                f"{where}: its local header or data overlaps {overlaps[k]} (members that "
                "share compressed data inflate many times from one copy)"
            )
            problems.append(Problem(name, where, reasons.OVERLAPPING_MEMBER, detail))
        elif info.flag_bits & _ENCRYPTED:
            problems.append(
                Problem(name, where, reasons.ENCRYPTED, f"{where}: an encrypted member")
            )
        elif max_bytes is not None and info.file_size > max_bytes:
            detail = _too_large(where, info.file_size, max_bytes)
            problems.append(Problem(name, where, reasons.TOO_LARGE, detail))
        else:
            found.append(src)
    return found, problems


def _is_archive(path: str) -> bool:
    """A given input file read as a zip archive: named .zip, or starting like one (a cut
    archive, whose end zipfile looks for, is still an archive: an `unreadable` one)."""
    if path.lower().endswith(ZIP_SUFFIX) or zipfile.is_zipfile(path):
        return True
    try:
        with open(path, "rb") as f:
            return f.read(4) in (b"PK\x03\x04", b"PK\x05\x06")
    except OSError:
        return False


def scan_sources(
    inputs: list[str], suffix: str, max_bytes: int | None = None
) -> tuple[list[Source], list[Problem]]:
    """The files ending in `suffix` under the inputs (files, folders searched recursively with
    the zip archives found in them, zips), and those found that cannot be used, each with its
    reason: a folder that cannot be listed, an archive that cannot be opened, a folder, FIFO or
    dangling link named like a raw file, a name the tables cannot carry, a duplicate,
    overlapping or encrypted zip member, a file over `max_bytes`. Nothing found is dropped
    silently.

    Raises FileNotFoundError / ValueError for an input that does not exist or is not a file or
    folder. Both lists are sorted, so the order never depends on the file system.
    """
    found: list[Source] = []
    problems: list[Problem] = []
    for inp in inputs:
        why = input_problem(inp)
        if why is not None:
            if not os.path.lexists(inp):
                raise FileNotFoundError(why)
            raise ValueError(why)
        if os.path.isdir(inp):
            more, bad = _folder_sources(inp, suffix, max_bytes)
        elif _is_archive(inp):
            more, bad = _zip_sources(inp, suffix, max_bytes)
        elif inp.endswith(suffix):
            more, bad = _folder_sources_file(Path(inp), max_bytes)
        else:
            raise ValueError(f"{inp}: not a {suffix} file, a folder or a zip archive")
        found += more
        problems += bad
    return sorted(set(found)), sorted(set(problems))


def _folder_sources_file(p: Path, max_bytes: int | None) -> tuple[list, list]:
    size = p.stat().st_size
    if max_bytes is not None and size > max_bytes:
        where = _where(str(p))
        problem = Problem(p.name, where, reasons.TOO_LARGE, _too_large(where, size, max_bytes))
        return [], [problem]
    return [Source(str(p))], []


def find_sources(inputs: list[str], suffix: str) -> list[Source]:
    """The usable files of `scan_sources` (no size cap). A folder that cannot be listed or an
    archive that cannot be opened is a ValueError naming it: callers that report problems
    as rejects use scan_sources."""
    found, problems = scan_sources(inputs, suffix)
    for p in problems:
        if p.reason == reasons.UNREADABLE:
            raise ValueError(p.detail)
    return found
