"""Input enumeration (files, folders, zip archives), checksums and atomic writes."""

from __future__ import annotations

import bz2
import contextlib
import functools
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

ZIP_SEP = "::"  # "archive.zip::member/path" names a member of a zip input


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


# Largest raw file read (plain or zip member, uncompressed). Real NTU .skeleton files are
# under 2 MB (the biggest of 114,480 is ~1.9 MB); the cap keeps a zip bomb or a huge stray
# file from filling memory. Configurable: ntu.max_raw_mb, `skeleton ntu-index --max-raw-mb`.
DEFAULT_MAX_RAW_BYTES = 32 << 20
_CHUNK = 1 << 16
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # zip local file header (APPNOTE 4.3.7)
_ENCRYPTED = 0x1  # general purpose flag bit 0

# Reasons a raw file cannot be used (reject codes of the index and shard jobs).
REASON_NOT_A_FILE = "not_a_file"  # a folder, FIFO, device, socket or dangling link
REASON_BAD_PATH = "bad_path"  # a name the tables cannot carry (control, non-UTF-8 bytes)
REASON_DUPLICATE_MEMBER = "duplicate_member"  # one archive holds the name twice
REASON_ENCRYPTED = "encrypted"
REASON_TOO_LARGE = "too_large"
REASON_UNREADABLE = "unreadable"

_max_raw_bytes = DEFAULT_MAX_RAW_BYTES


class RawFileError(OSError):
    """A raw input that cannot be read: `reason` is a reject code, the message one line."""

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
            raise RawFileError(REASON_NOT_A_FILE, f"{display(path)}: a dangling symlink") from None
        raise RawFileError(REASON_UNREADABLE, f"{display(path)}: no such file") from None
    except OSError as exc:
        raise RawFileError(REASON_UNREADABLE, f"{display(path)}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise RawFileError(REASON_NOT_A_FILE, f"{display(path)}: {_kind(st.st_mode)}")
        if st.st_size > max_bytes:
            raise RawFileError(REASON_TOO_LARGE, _too_large(path, st.st_size, max_bytes))
        os.set_blocking(fd, True)
        # ask for the size fstat gave (+1 to see growth), not the cap: a cap-sized request is
        # a fresh 32 MB mapping per file, faulted in and unmapped again (~15% of a parse job)
        want = min(st.st_size, max_bytes) + 1
        data = f.read(want)
        if len(data) == want:  # the file grew since fstat: read on, up to the cap
            data += f.read(max_bytes + 1 - len(data))
    if len(data) > max_bytes:
        raise RawFileError(REASON_TOO_LARGE, _too_large(path, None, max_bytes))
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
        raise RawFileError(REASON_UNREADABLE, f"{where}: compression method {method} ({name})")

    def decompress(data: bytes, n: int) -> bytes:
        if method == zipfile.ZIP_DEFLATED:  # zlib keeps input it has not used: feed it again
            return obj.decompress(obj.unconsumed_tail + data, n)
        if obj.eof or (not data and obj.needs_input):
            return b""
        return obj.decompress(data, n)

    return decompress


def read_member(z: zipfile.ZipFile, info: zipfile.ZipInfo, max_bytes: int) -> bytes:
    """One member's bytes, decompressed as a stream into at most `max_bytes` and checked
    against its CRC-32 and size. zipfile's own reader decompresses bzip2 / LZMA members a
    whole input chunk at a time (a 1.7 KB bzip2 bomb becomes gigabytes in one call), so this
    reads the compressed bytes and bounds every decompression step. RawFileError otherwise."""
    where = f"{display(z.filename or '')}{ZIP_SEP}{display(info.filename)}"
    if info.flag_bits & _ENCRYPTED:
        raise RawFileError(REASON_ENCRYPTED, f"{where}: an encrypted member")
    if info.file_size > max_bytes:
        raise RawFileError(REASON_TOO_LARGE, _too_large(where, info.file_size, max_bytes))
    try:
        # a file handle of its own: readers in several threads never share a position
        with open(z.filename or "", "rb") as fp:
            data = _inflate(fp, info, max_bytes, where)
    except RawFileError:
        raise
    except (OSError, EOFError, ValueError, zlib.error) as exc:
        raise RawFileError(REASON_UNREADABLE, f"{where}: {type(exc).__name__}: {exc}") from None
    return data


def _inflate(fp: IO[bytes], info: zipfile.ZipInfo, max_bytes: int, where: str) -> bytes:
    fp.seek(info.header_offset)
    header = fp.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise RawFileError(REASON_UNREADABLE, f"{where}: no local header")
    fields = _LOCAL_HEADER.unpack(header)
    fp.seek(fields[-2] + fields[-1], os.SEEK_CUR)  # name and extra field
    decompress = _member_decompressor(info, where)
    out, crc, left = bytearray(), 0, info.compress_size
    while True:
        chunk = fp.read(min(_CHUNK, left)) if left else b""
        left -= len(chunk)
        piece = decompress(chunk, max_bytes + 1 - len(out))
        out += piece
        crc = zlib.crc32(piece, crc)
        if len(out) > max_bytes:
            raise RawFileError(REASON_TOO_LARGE, _too_large(where, None, max_bytes))
        if not chunk and not piece:
            break
    if len(out) != info.file_size or crc != info.CRC:
        raise RawFileError(
            REASON_UNREADABLE,
            f"{where}: bad CRC-32 or size ({len(out)} bytes, the archive says {info.file_size})",
        )
    return bytes(out)


def _open_zip(path: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError, ValueError, EOFError) as exc:
        raise RawFileError(
            REASON_UNREADABLE, f"{display(path)}: not a readable zip archive ({exc})"
        ) from None


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
        """The Source an id names. A folder or file name may hold '::' too: the id splits at
        the first '::' whose left part is an existing file (the archive), else it is a path."""
        start = 0
        while (i := sid.find(ZIP_SEP, start)) >= 0:
            if _is_file(sid[:i]):
                return cls(sid[:i], sid[i + len(ZIP_SEP) :])
            start = i + 1
        return cls(sid)

    def read(self, max_bytes: int | None = None) -> bytes:
        """The file's bytes (at most `max_bytes`, default the raw-file cap); RawFileError
        (an OSError with a reject reason) when it cannot be read."""
        cap = _max_raw_bytes if max_bytes is None else max_bytes
        if self.member is None:
            return _read_plain(self.path, cap)
        with _open_zip(self.path) as z:
            return read_member(z, _member_info(z, self), cap)


@functools.lru_cache(maxsize=1024)
def _is_file(path: str) -> bool:  # from_id runs once per sample: the archives are few
    return os.path.isfile(path)


def _member_info(z: zipfile.ZipFile, src: Source) -> zipfile.ZipInfo:
    try:
        return z.getinfo(src.member or "")
    except KeyError:
        raise RawFileError(REASON_UNREADABLE, f"{display(src.id)}: no such member") from None


class ZipReader:
    """Reads many members of the same archives without reopening them for each file."""

    def __init__(self, max_bytes: int | None = None) -> None:
        self._open: dict[str, zipfile.ZipFile] = {}
        self.max_bytes = _max_raw_bytes if max_bytes is None else max_bytes

    def read(self, src: Source) -> bytes:
        if src.member is None:
            return src.read(self.max_bytes)
        z = self._open.get(src.path)
        if z is None:
            z = self._open[src.path] = _open_zip(src.path)
        return read_member(z, _member_info(z, src), self.max_bytes)

    def close(self) -> None:
        for z in self._open.values():
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
    where: str  # printable path or archive::member
    reason: str  # one of the REASON_* codes
    detail: str


def input_problem(entry: str) -> str | None:
    """Why a configured input (file, folder or zip) cannot be used, or None."""
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
    if stat.S_ISREG(mode) and zipfile.is_zipfile(entry):
        try:  # its listing must be readable (a name flagged UTF-8 that is not, a bad directory)
            _open_zip(entry).close()
        except RawFileError as exc:
            return str(exc)
    return None


def check_inputs(entries: list[str], key: str) -> None:
    """ValueError naming the first configured input of `key` that cannot be used."""
    for entry in entries:
        why = input_problem(entry)
        if why is not None:
            raise ValueError(f"{key}: {why}")


def _folder_sources(folder: Path, suffix: str, max_bytes: int | None) -> tuple[list, list]:
    found: list[Source] = []
    problems: list[Problem] = []
    for f in folder.rglob(f"*{suffix}"):
        path = str(f)
        name = display(f.name)
        why = path_problem(path)
        if why is not None:
            problems.append(
                Problem(name, display(path), REASON_BAD_PATH, f"{display(path)}: {why}")
            )
            continue
        try:
            st = f.stat()
        except OSError:
            kind = "a dangling symlink" if f.is_symlink() else "cannot be read"
            problems.append(Problem(name, path, REASON_NOT_A_FILE, f"{path}: {kind}"))
            continue
        if not stat.S_ISREG(st.st_mode):
            problems.append(Problem(name, path, REASON_NOT_A_FILE, f"{path}: {_kind(st.st_mode)}"))
        elif max_bytes is not None and st.st_size > max_bytes:
            problems.append(
                Problem(name, path, REASON_TOO_LARGE, _too_large(path, st.st_size, max_bytes))
            )
        else:
            found.append(Source(path))
    return found, problems


def _zip_sources(p: Path, suffix: str, max_bytes: int | None) -> tuple[list, list]:
    found: list[Source] = []
    problems: list[Problem] = []
    with _open_zip(str(p)) as z:
        infos = [i for i in z.infolist() if i.filename.rstrip("/").endswith(suffix)]
    counts = Counter(i.filename for i in infos)
    for info in infos:
        where = f"{display(str(p))}{ZIP_SEP}{display(info.filename)}"
        name = display(os.path.basename(info.filename.rstrip("/")))
        if counts[info.filename] > 1:
            if info is next(i for i in infos if i.filename == info.filename):
                detail = f"{where}: the archive holds {counts[info.filename]} members of this name"
                problems.append(Problem(name, where, REASON_DUPLICATE_MEMBER, detail))
            continue
        why = path_problem(info.filename)
        if info.is_dir():
            problems.append(Problem(name, where, REASON_NOT_A_FILE, f"{where}: a folder entry"))
        elif why is not None:
            problems.append(Problem(name, where, REASON_BAD_PATH, f"{where}: {why}"))
        elif info.flag_bits & _ENCRYPTED:
            problems.append(Problem(name, where, REASON_ENCRYPTED, f"{where}: an encrypted member"))
        elif max_bytes is not None and info.file_size > max_bytes:
            detail = _too_large(where, info.file_size, max_bytes)
            problems.append(Problem(name, where, REASON_TOO_LARGE, detail))
        else:
            found.append(Source(str(p), info.filename))
    return found, problems


def scan_sources(
    inputs: list[str], suffix: str, max_bytes: int | None = None
) -> tuple[list[Source], list[Problem]]:
    """The files ending in `suffix` under the inputs (files, folders searched recursively,
    zips), and those found that cannot be used (a folder, FIFO or dangling link named like a
    raw file, a name the tables cannot carry, a duplicate or encrypted zip member, a file over
    `max_bytes`), each with its reason: nothing found is dropped silently.

    Raises FileNotFoundError / ValueError for an input that does not exist or is not usable.
    Both lists are sorted, so the order never depends on the file system.
    """
    found: list[Source] = []
    problems: list[Problem] = []
    for inp in inputs:
        p = Path(inp)
        why = input_problem(inp)
        if why is not None:
            if not os.path.lexists(inp):
                raise FileNotFoundError(why)
            raise ValueError(why)
        if p.is_dir():
            more, bad = _folder_sources(p, suffix, max_bytes)
        elif zipfile.is_zipfile(p):
            more, bad = _zip_sources(p, suffix, max_bytes)
        elif p.name.endswith(suffix):
            more, bad = _folder_sources_file(p, max_bytes)
        else:
            raise ValueError(f"{inp}: not a {suffix} file, a folder or a zip archive")
        found += more
        problems += bad
    return sorted(set(found)), sorted(set(problems))


def _folder_sources_file(p: Path, max_bytes: int | None) -> tuple[list, list]:
    size = p.stat().st_size
    if max_bytes is not None and size > max_bytes:
        problem = Problem(p.name, str(p), REASON_TOO_LARGE, _too_large(str(p), size, max_bytes))
        return [], [problem]
    return [Source(str(p))], []


def find_sources(inputs: list[str], suffix: str) -> list[Source]:
    """The usable files of `scan_sources` (no size cap)."""
    return scan_sources(inputs, suffix)[0]
