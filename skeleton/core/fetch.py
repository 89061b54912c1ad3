"""Verified, resumable downloads (stdlib urllib): http(s), file:// and plain paths.

Bytes go to `OUT.part`; an interrupted transfer keeps it and the next call resumes with an HTTP
Range request (a 206 must start where the part ends; a 200 means the server ignored the range,
so the part restarts from zero). `OUT.part.json` records the source URL and the server's ETag or
Last-Modified: a part from another URL is discarded, and the resume carries `If-Range`, so a file
changed on the server since is fetched whole instead of spliced. Only once the whole file is
there and its checksum matches is it renamed to OUT, so OUT is either absent or verified. A
checksum mismatch deletes the part; transient failures (5xx, 408, 429, connection
reset/refused, timeouts, a body shorter than its Content-Length) are retried with exponential
backoff, client errors such as 404 are not.

The deadline covers every byte: a watchdog shuts the connection when it passes, so a server
dribbling header or chunk-size bytes (each read well within the socket timeout) cannot hold a
fetch past it. Without a checksum the response's framing must be trustworthy: one Content-Length
of ASCII digits that the body neither falls short of nor exceeds.
"""

from __future__ import annotations

import errno
import fcntl
import http.client
import json
import logging
import os
import posixpath
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from skeleton.core.files import MAX_NAME_BYTES, sha256_file

log = logging.getLogger("skeleton.core.fetch")

CHUNK = 1 << 20
USER_AGENT = "skeleton-fetch/1"
DEFAULT_RETRIES = 5
DEFAULT_BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0
DEFAULT_TIMEOUT_S = 60.0  # one socket read
# The whole fetch, every attempt: 6 h moves a 20 GB archive at 1 MB/s.
DEFAULT_DEADLINE_S = 6 * 3600.0
# Largest file fetched. The biggest the workflow names (NTU skeleton archives, released
# pickles) are under 6 GB; a server sending without end is stopped here.
DEFAULT_MAX_BYTES = 32 << 30
# A transfer slower than this over RATE_WINDOW_S is cut and resumed (a server trickling bytes).
DEFAULT_MIN_RATE = 1024.0
RATE_WINDOW_S = 60.0
# After the Content-Length's last byte, how long to wait for the end of the stream (urllib asks
# the server to close; a body longer than announced shows here).
LINGER_S = 1.0
# Files kept beside OUT while downloading: OUT.part, OUT.part.json, OUT.part.lock.
SIDE_SUFFIXES = (".part", ".part.json", ".part.lock")
# Statuses worth retrying: server-side and rate limiting (RFC 9110 / RFC 6585).
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
# Local write failures that retrying cannot fix.
_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EISDIR})
# OpenMMLab checkpoint names end in the first 8 hex digits of the file's sha256, either
# `<name>_<date>-<hash>.pth` (mmdet, mmaction2) or `<name>-<hash>_<date>.pth` (mmpose 0.x),
# as written by their publish_model tools.
_CHECKPOINT_HASH = re.compile(r"-([0-9a-f]{8})(?:_\d{8})?\.(?:pth|pt|ckpt)$")


class FetchError(Exception):
    """A download that cannot succeed as asked; the message is one user-facing line."""


class ChecksumMismatch(FetchError):
    pass


class _Transient(Exception):
    """A failure worth retrying."""


def checkpoint_sha256_prefix(url_or_name: str) -> str | None:
    """The sha256 prefix an OpenMMLab checkpoint name carries, or None.

    `.../hrnet_w32_coco_256x192-c78dce93_20200708.pth` -> 'c78dce93';
    `..._coco-person_20201216_175929-d022e227.pth` -> 'd022e227'.
    """
    name = posixpath.basename(urllib.parse.urlsplit(url_or_name).path) or url_or_name
    match = _CHECKPOINT_HASH.search(name)
    return match.group(1) if match else None


def url_file_name(url: str) -> str:
    """The file name a URL names: its last path segment, %-decoded. FetchError when that is
    empty or not one plain file name (`..%2F..%2Fx`, `%2Ftmp%2Fx`, `..`), so the name can
    never steer a write out of the folder it goes to."""
    from skeleton.core.files import name_problem

    raw = urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1]
    name = urllib.parse.unquote(raw)
    why = name_problem(name)
    if why is not None:
        raise FetchError(f"{url}: the URL's file name {name!r} {why}; give OUT as a file path")
    return name


def _normalise_hex(value: str | None, what: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{1,64}", value) or (what == "sha256" and len(value) != 64):
        raise ValueError(f"{what} must be {'64' if what == 'sha256' else '1-64'} hex digits")
    return value


def verify(
    path: str | os.PathLike[str], sha256: str | None = None, sha256_prefix: str | None = None
) -> str:
    """Returns the file's sha256; raises ChecksumMismatch when it differs from what is given."""
    digest = sha256_file(path)
    want = _normalise_hex(sha256, "sha256") or _normalise_hex(sha256_prefix, "sha256 prefix")
    if want and not digest.startswith(want):
        kind = "sha256" if sha256 else "sha256 prefix"
        raise ChecksumMismatch(f"{path}: {kind} mismatch: expected {want}, got {digest}")
    return digest


def _local_source(url: str) -> Path | None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        return Path(urllib.request.url2pathname(parts.path))
    if parts.scheme in ("http", "https"):
        return None
    if parts.scheme and len(parts.scheme) > 1:
        raise FetchError(f"{url}: unsupported URL scheme {parts.scheme!r} (http, https, file)")
    return Path(url)  # plain path (a one-letter "scheme" is a Windows drive)


class _NoBar:
    """A progress bar that shows nothing (tqdm comes with the workflow extra, not the library)."""

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def update(self, n: int) -> None:
        pass


def _progress(total: int | None, initial: int, desc: str, enabled: bool | None):  # noqa: ANN202
    try:
        from tqdm import tqdm
    except ModuleNotFoundError:
        return _NoBar()
    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        mininterval=1.0,
        disable=None if enabled is None else not enabled,
        leave=False,
    )


@dataclass(frozen=True)
class Limits:
    """Bounds of one fetch (all attempts together)."""

    deadline: float  # time.monotonic() at which the fetch gives up
    deadline_s: float
    max_bytes: int
    min_rate: float  # bytes/s over RATE_WINDOW_S; a slower transfer is retried (0: off)
    checked: bool  # a checksum will verify the file

    def check_time(self, what: str) -> None:
        if time.monotonic() > self.deadline:
            raise _Deadline(f"{what}: the {self.deadline_s:g} s deadline passed")


class _Deadline(FetchError):
    pass


def _copy_stream(src: IO[bytes], dst: IO[bytes], bar, limits: Limits, start: int,  # noqa: ANN001
                 length: int | None = None, at_length: Callable[[], None] | None = None,
                 ) -> int:  # fmt: skip
    """Copy until EOF; at most one socket read per step (read1), so a server trickling a byte
    at a time still meets the deadline, the rate floor and the size cap.

    With `length` (the announced size), a byte past it is an error (_LongBody); once it is all
    there `at_length()` is called and a read timing out after that is the end of the body.
    """
    read = getattr(src, "read1", src.read)
    n = 0
    lingering = False
    window_start, window_bytes = time.monotonic(), 0
    while True:
        limits.check_time(f"after {start + n} bytes")
        if length is not None and n >= length and at_length is not None and not lingering:
            at_length()
            lingering = True
        try:
            block = read(CHUNK)
        except TimeoutError:
            if lingering:
                return n
            raise
        if not block:
            return n
        n += len(block)
        if length is not None and n > length:
            raise _LongBody(f"the body is longer than its Content-Length {length}")
        if start + n > limits.max_bytes:
            raise _TooBig(f"more than {limits.max_bytes} bytes (the size cap): stopped")
        dst.write(block)
        bar.update(len(block))
        window_bytes += len(block)
        now = time.monotonic()
        if now - window_start >= RATE_WINDOW_S:
            rate = window_bytes / (now - window_start)
            if rate < limits.min_rate:
                raise _Transient(
                    f"transfer too slow ({rate:.0f} B/s over {now - window_start:.0f} s, "
                    f"floor {limits.min_rate:g} B/s)"
                )
            window_start, window_bytes = now, 0


class _TooBig(FetchError):
    pass


class _LongBody(FetchError):
    pass


class _Watchdog:
    """Shuts the attempt's connection when the fetch deadline passes.

    Socket timeouts bound one read; a server sending a header or chunk-size byte every few
    seconds passes every one of them (http.client takes 100 header lines of 64 KB each). The
    connection's socket is attached once connected; at the deadline it is shut down, so the
    read blocked on it returns at once and the attempt ends as a deadline failure.
    """

    def __init__(self, limits: Limits) -> None:
        self.sock: socket.socket | None = None
        self.fired = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(limits.deadline - time.monotonic(), 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def attach(self, sock: socket.socket) -> None:
        with self._lock:
            self.sock = sock
            if self.fired:
                self._shut()

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            self._shut()

    def _shut(self) -> None:
        if self.sock is not None:
            try:  # the plain socket's shutdown (on an SSL socket too): wakes a blocked read
                socket.socket.shutdown(self.sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def linger(self) -> None:
        """The body is all there: wait at most LINGER_S for more (the end of the stream)."""
        with self._lock:
            if self.sock is not None and not self.fired:
                self.sock.settimeout(LINGER_S)

    def cancel(self) -> None:
        self._timer.cancel()


def _opener(watchdog: _Watchdog) -> urllib.request.OpenerDirector:
    """urllib's opener, each connection it makes (redirects too) watched by `watchdog`."""

    class Connection(http.client.HTTPConnection):
        def connect(self) -> None:
            super().connect()
            watchdog.attach(self.sock)

    class TLSConnection(http.client.HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            watchdog.attach(self.sock)

    class Handler(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> Any:
            return self.do_open(Connection, req)

    class TLSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> Any:
            return self.do_open(TLSConnection, req, context=self._context)

    return urllib.request.build_opener(Handler, TLSHandler)


def _content_length(headers: Any) -> tuple[int | None, str | None]:
    """(the response's Content-Length, None), (None, None) without one, or (None, what is
    wrong): values that are not ASCII digits (`²`, `-1`, `1e3`), or several that differ."""
    values = [v.strip() for h in headers.get_all("Content-Length") or [] for v in h.split(",")]
    if not values:
        return None, None
    bad = next((v for v in values if not re.fullmatch(r"[0-9]+", v)), None)
    if bad is not None:
        return None, f"its Content-Length {bad!r} is not a byte count (ASCII digits)"
    if len(set(map(int, values))) > 1:
        return None, f"it has differing Content-Length values ({', '.join(values)})"
    return int(values[0]), None


def _copy_local(src: Path, part: Path, progress: bool | None, url: str, limits: Limits) -> None:
    if not src.is_file():
        raise FetchError(f"{src}: no such file")
    done = part.stat().st_size if part.exists() else 0
    size = src.stat().st_size
    if size > limits.max_bytes:
        raise FetchError(f"{src}: {size} bytes, more than the {limits.max_bytes}-byte size cap")
    if done > size:
        part.unlink()
        done = 0
    if not done:
        _write_meta(part, url=url)
    with open(src, "rb") as fin, open(part, "ab") as fout:
        fin.seek(done)
        with _progress(size, done, src.name, progress) as bar:
            _copy_stream(fin, fout, bar, limits, done)


_CONTENT_RANGE = re.compile(r"\s*bytes\s+([0-9]+)-([0-9]+)/([0-9]+|\*)\s*")


def _content_range(header: str | None) -> tuple[int, int, int | None] | None:
    """'bytes 100-199/200' -> (100, 199, 200); a '*' total -> None."""
    match = _CONTENT_RANGE.fullmatch(header or "")
    if not match:
        return None
    total = None if match.group(3) == "*" else int(match.group(3))
    return int(match.group(1)), int(match.group(2)), total


def _meta_path(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def _read_meta(part: Path) -> dict[str, Any]:
    try:
        meta = json.loads(_meta_path(part).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(meta, dict):
        return {}
    if not isinstance(meta.get("validator"), dict):  # none, or an older version's record
        meta["validator"] = {}
    if not isinstance(meta.get("size"), int):
        meta["size"] = None
    return meta


def _write_meta(part: Path, **meta: Any) -> None:
    _meta_path(part).write_text(json.dumps(meta))


def _drop_part(part: Path) -> None:
    for path in (part, _meta_path(part)):
        path.unlink(missing_ok=True)


def _validator(headers: Any) -> dict[str, str]:
    """The response's strong validator: {'etag': ...} or {'last_modified': ...} or {}."""
    etag = headers.get("ETag", "")
    if etag and not etag.startswith("W/"):
        return {"etag": etag}
    modified = headers.get("Last-Modified", "")
    return {"last_modified": modified} if modified else {}


def _check_resume(
    response: Any, done: int, meta: dict[str, Any], checked: bool, length: int | None
) -> None:
    """A 206 answering our `Range: bytes=<done>-`: its range, total and validator must be the
    ones of the bytes already in the part (without a recorded validator only a checksum can
    tell: `checked`). Raises _Transient (restart from zero) otherwise."""
    header = response.headers.get("Content-Range")
    span = _content_range(header)
    problem = None
    if span is None:
        problem = f"Content-Range {header!r} is not a byte range"
    else:
        first, last, total = span
        if first != done or last < first:
            problem = f"Content-Range {header!r} does not start at byte {done}"
        elif total is not None and last != total - 1:
            problem = f"Content-Range {header!r} does not reach the end"
        elif meta.get("size") is not None and total is not None and total != meta["size"]:
            problem = f"the file is now {total} bytes, it was {meta['size']}"
        elif length is not None and length != last - first + 1:
            problem = f"Content-Length {length} does not match Content-Range {header!r}"
    if problem is None:
        want = meta.get("validator") or {}
        got = _validator(response.headers)
        key = next(iter(want), None)
        if (key is None and not checked) or (key is not None and got.get(key) != want[key]):
            problem = f"validator {got or 'none'} differs from the part's {want or 'none'}"
    if problem:
        raise _Transient(f"206 response: {problem}; restarting from zero")


def _download_http_once(
    url: str, part: Path, timeout: float, progress: bool | None, limits: Limits
) -> None:
    """One attempt: append to `part` from where it ends. Raises _Transient or FetchError
    (_Deadline when the watchdog cut the connection)."""
    watchdog = _Watchdog(limits)
    try:
        _http_attempt(url, part, timeout, progress, limits, watchdog)
    except (_Transient, FetchError, OSError, http.client.HTTPException) as exc:
        if watchdog.fired and not isinstance(exc, _Deadline):
            raise _Deadline(
                f"the {limits.deadline_s:g} s deadline passed while the server was still "
                "sending (connection closed)"
            ) from None
        raise
    finally:
        watchdog.cancel()


def _http_attempt(
    url: str, part: Path, timeout: float, progress: bool | None, limits: Limits,
    watchdog: _Watchdog,
) -> None:  # fmt: skip
    done = part.stat().st_size if part.exists() else 0
    meta = _read_meta(part) if done else {}
    if done and not meta.get("validator") and not limits.checked:
        # nothing tells whether the server's file is still the one these bytes came from
        log.info("%s: no validator for the partial data and no checksum; starting again", url)
        _drop_part(part)
        done, meta = 0, {}
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if done:
        headers["Range"] = f"bytes={done}-"
        validator = meta.get("validator") or {}
        if validator:  # the server sends the whole file (200) if it changed since
            headers["If-Range"] = validator.get("etag") or validator.get("last_modified")
    request = urllib.request.Request(url, headers=headers)
    limits.check_time("before connecting")
    left = max(limits.deadline - time.monotonic(), 0.001)
    try:
        response = _opener(watchdog).open(request, timeout=min(timeout, left))
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and done:
            # Range starts at or past the end: the part may already be complete.
            span = exc.headers.get("Content-Range", "")
            total = re.fullmatch(r"\s*bytes\s+\*/([0-9]+)\s*", span)
            if total and int(total.group(1)) == done and meta.get("size") in (None, done):
                return
            _drop_part(part)
            raise _Transient(f"HTTP 416 for a {done}-byte resume; restarting from zero") from None
        if exc.code in TRANSIENT_STATUS:
            raise _Transient(f"HTTP {exc.code} {exc.reason}") from None
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise _Transient(f"cannot connect: {reason}") from None
    with response:
        status = response.status
        encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise FetchError(
                f"{url}: the server sent Content-Encoding {encoding!r} although asked for the "
                "bytes as they are (identity): refused, the result would not be the file"
            )
        chunked = getattr(response, "chunked", False)
        expected, framing = _content_length(response.headers)
        if chunked:  # Transfer-Encoding wins over any Content-Length (RFC 9112 6.3)
            expected, framing = None, None
        if framing is not None:
            if not limits.checked:
                raise FetchError(
                    f"{url}: the response cannot be trusted: {framing}; give --sha256 (or a "
                    "sha256 in the release entry) to accept it"
                )
            response.length = None  # read to the end; the checksum tells
        mode = "ab"
        if status == 206:
            if not done:
                raise FetchError(
                    f"{url}: HTTP 206 (partial content, Content-Range "
                    f"{response.headers.get('Content-Range')!r}) to a request for the whole "
                    "file: refused"
                )
            try:
                _check_resume(response, done, meta, limits.checked, expected)
            except _Transient:
                _drop_part(part)
                raise
        elif status == 200:
            if done:
                log.info("%s: server sent the whole file (200); restarting from zero", url)
            mode, done = "wb", 0
        else:
            raise FetchError(f"{url}: unexpected HTTP status {status}")
        if expected is None and framing is None and not chunked and not limits.checked:
            raise FetchError(
                f"{url}: the server sent neither a Content-Length nor a chunked body, so a "
                "connection cut short cannot be told from the end of the file; give --sha256 "
                "(or a sha256 in the release entry) to accept it"
            )
        total = done + expected if expected is not None else None
        if total is not None and total > limits.max_bytes:
            raise FetchError(
                f"{url}: {total} bytes, more than the {limits.max_bytes}-byte size cap "
                "(--max-bytes)"
            )
        if mode == "wb":
            # Remember what the bytes are, so a resume asks only for the same version of it.
            _write_meta(part, url=url, validator=_validator(response.headers), size=total)
        # Without a checksum, read past the Content-Length to the end of the stream: a body
        # longer than announced is refused, not cut to fit (http.client would stop there).
        strict = expected is not None and not limits.checked
        if strict:
            response.length = None
        try:
            with open(part, mode) as fout, _progress(total, done, part.stem, progress) as bar:
                received = _copy_stream(
                    response, fout, bar, limits, done, expected if strict else None,
                    watchdog.linger,
                )  # fmt: skip
        except (_TooBig, _LongBody) as exc:
            _drop_part(part)
            raise FetchError(f"{url}: {exc}") from None
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS:
                raise FetchError(f"{part}: {exc.strerror}") from None
            got = part.stat().st_size if part.exists() else 0
            raise _Transient(f"transfer broken after {got} bytes: {exc!r}") from None
        if watchdog.fired and (expected is None or received < expected):
            raise _Deadline(f"the {limits.deadline_s:g} s deadline passed after {received} bytes")
        if expected is not None and received < expected:
            raise _Transient(f"body truncated: got {received} of {expected} bytes")


def fetch(
    url: str,
    out: str | os.PathLike[str],
    *,
    sha256: str | None = None,
    sha256_prefix: str | None = None,
    offline: bool = False,
    retries: int = DEFAULT_RETRIES,
    backoff_s: float = DEFAULT_BACKOFF_S,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    progress: bool | None = None,
    sleep: Callable[[float], None] = time.sleep,
    deadline_s: float = DEFAULT_DEADLINE_S,
    max_bytes: int = DEFAULT_MAX_BYTES,
    min_rate: float = DEFAULT_MIN_RATE,
) -> Path:
    """Download `url` (http, https, file:// or a plain path) to `out`, verified.

    Returns the path of OUT. Raises `FetchError` (or its `ChecksumMismatch`) with a one-line
    message; then OUT does not exist (`OUT.part` is kept after a transfer failure, for resuming).
    With `offline`, nothing is downloaded: OUT must already exist and verify. All attempts
    together end by `deadline_s`; a file over `max_bytes` is refused (or cut off and dropped);
    a transfer slower than `min_rate` bytes/s over a minute is retried.
    """
    sha256 = _normalise_hex(sha256, "sha256")
    sha256_prefix = _normalise_hex(sha256_prefix, "sha256 prefix")
    if deadline_s <= 0 or max_bytes <= 0 or min_rate < 0:
        raise ValueError("deadline and size cap must be positive, the rate floor not negative")
    limits = Limits(
        time.monotonic() + deadline_s, deadline_s, max_bytes, min_rate,
        checked=bool(sha256 or sha256_prefix),
    )  # fmt: skip
    out = Path(out)
    if _present(out, sha256, sha256_prefix, offline):
        return out
    if offline:
        raise FetchError(f"offline: {out} does not exist (source would be {url})")
    longest = max(SIDE_SUFFIXES, key=len)
    if len((out.name + longest).encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        raise FetchError(
            f"{out}: the file name is too long to download beside it (with {longest!r} it "
            f"would exceed {MAX_NAME_BYTES} bytes); give OUT a shorter name"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    lock_path = out.with_name(out.name + ".part.lock")
    with open(lock_path, "a") as lock:
        # One download per OUT at a time (parallel jobs sharing a checkpoint cache, say);
        # whoever waited finds OUT in place.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _present(out, sha256, sha256_prefix, offline):
            return out
        try:
            _download_verified(
                url, out, sha256, sha256_prefix, retries, backoff_s, timeout_s, progress, sleep,
                limits,
            )  # fmt: skip
        finally:
            lock_path.unlink(missing_ok=True)
    return out


def _present(out: Path, sha256: str | None, sha256_prefix: str | None, offline: bool) -> bool:
    """OUT exists and verifies; a mismatching OUT is removed (kept, and an error, offline)."""
    if not out.exists():
        return False
    try:
        verify(out, sha256, sha256_prefix)
    except ChecksumMismatch as exc:
        if offline:
            raise FetchError(f"offline: {exc}") from None
        log.warning("%s; removing it and downloading again", exc)
        out.unlink()
        return False
    log.info("%s: present%s", out, " and verified" if sha256 or sha256_prefix else "")
    return True


def _download_verified(
    url: str,
    out: Path,
    sha256: str | None,
    sha256_prefix: str | None,
    retries: int,
    backoff_s: float,
    timeout_s: float,
    progress: bool | None,
    sleep: Callable[[float], None],
    limits: Limits,
) -> None:
    part = out.with_name(out.name + ".part")
    local = _local_source(url)
    meta = _read_meta(part)
    if part.exists() and meta.get("url", url) != url:
        log.info("%s: partial data came from %s; starting again", part, meta["url"])
        _drop_part(part)
    restarted = False
    attempt = 0
    while True:
        resumed = part.exists() and part.stat().st_size > 0
        try:
            if local is not None:
                _copy_local(local, part, progress, url, limits)
            else:
                _download_http_once(url, part, timeout_s, progress, limits)
        except _Deadline as exc:
            raise FetchError(
                f"{url}: {exc} (partial data kept in {part}; rerun to resume)"
            ) from None
        except _Transient as exc:
            delay = min(backoff_s * 2**attempt, MAX_BACKOFF_S)
            if time.monotonic() + delay > limits.deadline:
                raise FetchError(
                    f"{url}: the {limits.deadline_s:g} s deadline leaves no time to retry: {exc} "
                    f"(partial data kept in {part}; rerun to resume)"
                ) from None
            if attempt >= retries:
                raise FetchError(
                    f"{url}: giving up after {attempt + 1} attempts: {exc} "
                    f"(partial data kept in {part}; rerun to resume)"
                ) from None
            attempt += 1
            log.warning("%s: %s; retry %d/%d in %.1fs", url, exc, attempt, retries, delay)
            sleep(delay)
            continue
        try:
            digest = verify(part, sha256, sha256_prefix)
        except ChecksumMismatch as exc:
            _drop_part(part)
            if resumed and not restarted:
                # The earlier partial data may be what is wrong: one clean full download.
                log.warning("%s after resuming; downloading again from zero", exc)
                restarted = True
                continue
            raise ChecksumMismatch(f"{url}: {exc}; nothing written to {out}") from None
        os.replace(part, out)
        _meta_path(part).unlink(missing_ok=True)
        log.info("%s: fetched (sha256 %s)", out, digest)
        return
