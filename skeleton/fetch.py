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
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import http.client
import json
import logging
import os
import posixpath
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO

log = logging.getLogger("skeleton.fetch")

CHUNK = 1 << 20
USER_AGENT = "skeleton-fetch/1"
DEFAULT_RETRIES = 5
DEFAULT_BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0
DEFAULT_TIMEOUT_S = 60.0
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


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            h.update(block)
    return h.hexdigest()


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


def _progress(total: int | None, initial: int, desc: str, enabled: bool | None):  # noqa: ANN202
    from tqdm import tqdm

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


def _copy_stream(src: IO[bytes], dst: IO[bytes], bar) -> int:  # noqa: ANN001
    n = 0
    while block := src.read(CHUNK):
        dst.write(block)
        n += len(block)
        bar.update(len(block))
    return n


def _copy_local(src: Path, part: Path, progress: bool | None, url: str) -> None:
    if not src.is_file():
        raise FetchError(f"{src}: no such file")
    done = part.stat().st_size if part.exists() else 0
    size = src.stat().st_size
    if done > size:
        part.unlink()
        done = 0
    if not done:
        _write_meta(part, url=url)
    with open(src, "rb") as fin, open(part, "ab") as fout:
        fin.seek(done)
        with _progress(size, done, src.name, progress) as bar:
            _copy_stream(fin, fout, bar)


def _content_range_start(header: str | None) -> tuple[int, int | None] | None:
    """'bytes 100-199/200' -> (100, 200); '*' total -> None total."""
    match = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", header or "")
    if not match:
        return None
    total = None if match.group(3) == "*" else int(match.group(3))
    return int(match.group(1)), total


def _meta_path(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def _read_meta(part: Path) -> dict[str, str]:
    try:
        meta = json.loads(_meta_path(part).read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _write_meta(part: Path, **meta: str) -> None:
    _meta_path(part).write_text(json.dumps(meta))


def _drop_part(part: Path) -> None:
    for path in (part, _meta_path(part)):
        path.unlink(missing_ok=True)


def _download_http_once(url: str, part: Path, timeout: float, progress: bool | None) -> None:
    """One attempt: append to `part` from where it ends. Raises _Transient or FetchError."""
    done = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if done:
        headers["Range"] = f"bytes={done}-"
        validator = _read_meta(part).get("validator")
        if validator:  # the server sends the whole file (200) if it changed since
            headers["If-Range"] = validator
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and done:
            # Range starts at or past the end: the part may already be complete.
            span = exc.headers.get("Content-Range", "")
            total = re.fullmatch(r"\s*bytes\s+\*/(\d+)\s*", span)
            if total and int(total.group(1)) == done:
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
        length = response.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        mode = "ab"
        if done and status == 206:
            span = _content_range_start(response.headers.get("Content-Range"))
            if span is None or span[0] != done:
                _drop_part(part)
                raise _Transient(
                    f"206 response with Content-Range {response.headers.get('Content-Range')!r} "
                    f"does not continue the {done}-byte part; restarting from zero"
                )
        elif status == 200:
            if done:
                log.info("%s: server ignored the Range request; restarting from zero", url)
            mode, done = "wb", 0
        elif status != 206:
            raise FetchError(f"{url}: unexpected HTTP status {status}")
        if mode == "wb":
            # Remember what the bytes are, so a resume asks only for the same version of it.
            etag = response.headers.get("ETag", "")
            validator = etag if etag and not etag.startswith("W/") else ""
            validator = validator or response.headers.get("Last-Modified", "")
            _write_meta(part, url=url, validator=validator)
        total = done + expected if expected is not None else None
        try:
            with open(part, mode) as fout, _progress(total, done, part.stem, progress) as bar:
                received = _copy_stream(response, fout, bar)
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS:
                raise FetchError(f"{part}: {exc.strerror}") from None
            got = part.stat().st_size if part.exists() else 0
            raise _Transient(f"transfer broken after {got} bytes: {exc!r}") from None
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
) -> Path:
    """Download `url` (http, https, file:// or a plain path) to `out`, verified.

    Returns the path of OUT. Raises `FetchError` (or its `ChecksumMismatch`) with a one-line
    message; then OUT does not exist (`OUT.part` is kept after a transfer failure, for resuming).
    With `offline`, nothing is downloaded: OUT must already exist and verify.
    """
    sha256 = _normalise_hex(sha256, "sha256")
    sha256_prefix = _normalise_hex(sha256_prefix, "sha256 prefix")
    out = Path(out)
    if _present(out, sha256, sha256_prefix, offline):
        return out
    if offline:
        raise FetchError(f"offline: {out} does not exist (source would be {url})")
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
                url, out, sha256, sha256_prefix, retries, backoff_s, timeout_s, progress, sleep
            )
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
                _copy_local(local, part, progress, url)
            else:
                _download_http_once(url, part, timeout_s, progress)
        except _Transient as exc:
            if attempt >= retries:
                raise FetchError(
                    f"{url}: giving up after {attempt + 1} attempts: {exc} "
                    f"(partial data kept in {part}; rerun to resume)"
                ) from None
            delay = min(backoff_s * 2**attempt, MAX_BACKOFF_S)
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
