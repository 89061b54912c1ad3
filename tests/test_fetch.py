"""`skeleton fetch` against a real HTTP server on 127.0.0.1 started by the test.

The server (tests/loopback_http.py) serves files with Range support and misbehaves on request:
`/cut/...` drops the connection midway, `/flaky/...` answers 500 twice, `/always500/...`,
`/norange/...` ignores Range, anything unknown is a 404; and the servers that used to give a
wrong file reported as fetched: trickling, endless, no Content-Length, gzip, unsolicited 206,
If-Range ignored, wrong Content-Range (~10 s in all).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from loopback_http import State, serve
from raw_http import send, serve_raw

from skeleton.commands import fetch as fetch_cmd
from skeleton.core import fetch as fetchmod
from skeleton.core.fetch import ChecksumMismatch, FetchError, checkpoint_sha256_prefix, fetch

PAYLOAD = np.random.default_rng(5).integers(0, 256, 3 * 1024 * 1024 + 123, np.uint8).tobytes()
SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def server() -> Iterator[tuple[str, State]]:
    with serve({"data.pkl": PAYLOAD}) as srv:
        yield srv


def no_sleep(delays: list[float]):  # noqa: ANN201
    return delays.append


def run_fetch(*argv: str) -> int:
    from skeleton.cli import UsageError

    parser = argparse.ArgumentParser(prog="skeleton")
    fetch_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["fetch", *argv])
    try:
        return args.func(args)
    except UsageError:
        return 2


def test_success_verified(server: tuple[str, State], tmp_path: Path) -> None:
    base, _ = server
    out = tmp_path / "sub" / "data.pkl"
    assert fetch(f"{base}/files/data.pkl", out, sha256=SHA, progress=False) == out
    assert out.read_bytes() == PAYLOAD
    assert not (tmp_path / "sub" / "data.pkl.part").exists()


def test_cli_success_and_present(server: tuple[str, State], tmp_path: Path) -> None:
    base, state = server
    out = tmp_path / "data.pkl"
    url = f"{base}/files/data.pkl"
    assert run_fetch(url, str(out), "--sha256", SHA, "--no-progress") == 0
    assert run_fetch(url, str(out), "--sha256-prefix", SHA[:8], "--no-progress") == 0
    assert len(state.requests) == 1  # second call found OUT verified, no request


def test_cli_out_folder_keeps_url_name(server: tuple[str, State], tmp_path: Path) -> None:
    base, _ = server
    assert run_fetch(f"{base}/files/data.pkl", f"{tmp_path}/new/", "--no-progress") == 0
    assert (tmp_path / "new" / "data.pkl").read_bytes() == PAYLOAD
    assert run_fetch(f"{base}/files/data.pkl", str(tmp_path / "new"), "--sha256", SHA) == 0


def test_resume_after_cut(server: tuple[str, State], tmp_path: Path) -> None:
    base, state = server
    out = tmp_path / "data.pkl"
    part = tmp_path / "data.pkl.part"
    url = f"{base}/cut/data.pkl"
    with pytest.raises(FetchError, match="truncated"):
        fetch(url, out, sha256=SHA, retries=0, progress=False)
    assert not out.exists()
    kept = part.stat().st_size
    assert 0 < kept < len(PAYLOAD)
    assert part.read_bytes() == PAYLOAD[:kept]
    fetch(url, out, sha256=SHA, retries=0, progress=False)
    assert out.read_bytes() == PAYLOAD and not part.exists()
    assert state.requests[-1] == ("/cut/data.pkl", f"bytes={kept}-")


def test_changed_file_is_not_spliced(server: tuple[str, State], tmp_path: Path) -> None:
    # Cut midway, then the file changes on the server: If-Range makes the resume a full 200.
    base, state = server
    out = tmp_path / "data.pkl"
    url = f"{base}/cut/data.pkl"
    with pytest.raises(FetchError):
        fetch(url, out, retries=0, progress=False)
    meta = json.loads((tmp_path / "data.pkl.part.json").read_text())
    assert meta["url"] == url and meta["validator"]["etag"].startswith('"')
    new = PAYLOAD[::-1]
    state.files["data.pkl"] = new
    fetch(url, out, retries=0, progress=False)  # no checksum: only If-Range protects
    assert out.read_bytes() == new
    assert not (tmp_path / "data.pkl.part.json").exists()


def test_part_from_another_url_discarded(server: tuple[str, State], tmp_path: Path) -> None:
    base, state = server
    out = tmp_path / "data.pkl"
    (tmp_path / "data.pkl.part").write_bytes(b"bytes of some other file")
    (tmp_path / "data.pkl.part.json").write_text(json.dumps({"url": f"{base}/files/other"}))
    fetch(f"{base}/files/data.pkl", out, progress=False)
    assert out.read_bytes() == PAYLOAD
    assert state.requests == [("/files/data.pkl", None)]


def test_concurrent_fetches_download_once(server: tuple[str, State], tmp_path: Path) -> None:
    import threading

    base, state = server
    out = tmp_path / "data.pkl"
    errors: list[BaseException] = []

    def one() -> None:
        try:
            fetch(f"{base}/files/data.pkl", out, sha256=SHA, progress=False)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert out.read_bytes() == PAYLOAD
    assert len(state.requests) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.pkl"]


def test_cut_recovered_by_retry_in_one_call(server: tuple[str, State], tmp_path: Path) -> None:
    base, state = server
    delays: list[float] = []
    out = tmp_path / "data.pkl"
    fetch(f"{base}/cut/data.pkl", out, sha256=SHA, backoff_s=0.5, sleep=no_sleep(delays))
    assert out.read_bytes() == PAYLOAD
    assert delays == [0.5]
    assert state.requests[1][1] is not None and state.requests[1][1].startswith("bytes=")


def test_server_ignoring_range_restarts(server: tuple[str, State], tmp_path: Path) -> None:
    base, _ = server
    out = tmp_path / "data.pkl"
    (tmp_path / "data.pkl.part").write_bytes(b"garbage that is not the file's start")
    fetch(f"{base}/norange/data.pkl", out, sha256=SHA, progress=False)
    assert out.read_bytes() == PAYLOAD


def test_complete_part_with_416(server: tuple[str, State], tmp_path: Path) -> None:
    base, _ = server
    out = tmp_path / "data.pkl"
    (tmp_path / "data.pkl.part").write_bytes(PAYLOAD)
    fetch(f"{base}/files/data.pkl", out, sha256=SHA, progress=False)
    assert out.read_bytes() == PAYLOAD


def test_checksum_mismatch_leaves_nothing(server: tuple[str, State], tmp_path: Path) -> None:
    base, _ = server
    out = tmp_path / "data.pkl"
    wrong = "0" * 64
    with pytest.raises(ChecksumMismatch, match=f"expected {wrong}, got {SHA}"):
        fetch(f"{base}/files/data.pkl", out, sha256=wrong, progress=False)
    assert not out.exists() and not (tmp_path / "data.pkl.part").exists()
    assert (
        run_fetch(f"{base}/files/data.pkl", str(out), "--sha256-prefix", "abc", "--no-progress")
        == 1
    )
    assert list(tmp_path.iterdir()) == []


def test_mismatch_after_resume_retries_from_zero(server: tuple[str, State], tmp_path: Path) -> None:
    base, state = server
    out = tmp_path / "data.pkl"
    (tmp_path / "data.pkl.part").write_bytes(b"X" * 1000)  # stale, wrong bytes
    fetch(f"{base}/files/data.pkl", out, sha256=SHA, progress=False)
    assert out.read_bytes() == PAYLOAD
    assert [r[1] for r in state.requests] == ["bytes=1000-", None]


def test_404_not_retried(server: tuple[str, State], tmp_path: Path, capsys) -> None:  # noqa: ANN001
    base, state = server
    out = tmp_path / "missing.pkl"
    delays: list[float] = []
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(f"{base}/files/missing.pkl", out, sleep=no_sleep(delays), progress=False)
    assert len(state.requests) == 1 and delays == []
    assert not out.exists() and not (tmp_path / "missing.pkl.part").exists()
    assert run_fetch(f"{base}/files/missing.pkl", str(out), "--no-progress") == 1
    assert "HTTP 404" in capsys.readouterr().err


def test_500_then_success_with_backoff(server: tuple[str, State], tmp_path: Path) -> None:
    base, state = server
    delays: list[float] = []
    out = tmp_path / "data.pkl"
    fetch(f"{base}/flaky/data.pkl", out, sha256=SHA, backoff_s=0.25, sleep=no_sleep(delays))
    assert out.read_bytes() == PAYLOAD
    assert delays == [0.25, 0.5]  # exponential
    assert len(state.requests) == 3


def test_persistent_500_gives_up(server: tuple[str, State], tmp_path: Path) -> None:
    base, state = server
    delays: list[float] = []
    out = tmp_path / "data.pkl"
    with pytest.raises(FetchError, match="giving up after 4 attempts: HTTP 500"):
        fetch(f"{base}/always500/data.pkl", out, retries=3, sleep=no_sleep(delays))
    assert len(state.requests) == 4 and delays == [1.0, 2.0, 4.0]
    assert not out.exists()


def test_connection_refused_is_transient(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    delays: list[float] = []
    with pytest.raises(FetchError, match="cannot connect"):
        fetch(f"http://127.0.0.1:{port}/x", tmp_path / "x", retries=2, sleep=no_sleep(delays))
    assert len(delays) == 2


def test_offline(server: tuple[str, State], tmp_path: Path) -> None:
    base, state = server
    out = tmp_path / "data.pkl"
    url = f"{base}/files/data.pkl"
    with pytest.raises(FetchError, match="offline: .* does not exist"):
        fetch(url, out, sha256=SHA, offline=True)
    assert run_fetch(url, str(out), "--offline") == 1
    out.write_bytes(PAYLOAD)
    assert fetch(url, out, sha256=SHA, offline=True) == out
    assert run_fetch(url, str(out), "--offline", "--sha256", SHA) == 0
    with pytest.raises(FetchError, match="offline: .*mismatch"):
        fetch(url, out, sha256_prefix="ffff", offline=True)
    assert out.exists()  # offline never deletes
    assert state.requests == []


def test_file_url_and_plain_path(tmp_path: Path) -> None:
    src = tmp_path / "src dir" / "data.pkl"
    src.parent.mkdir()
    src.write_bytes(PAYLOAD)
    a, b = tmp_path / "a.pkl", tmp_path / "b.pkl"
    fetch(src.as_uri(), a, sha256=SHA, progress=False)
    fetch(str(src), b, sha256_prefix=SHA[:12], progress=False)
    assert a.read_bytes() == PAYLOAD and b.read_bytes() == PAYLOAD
    with pytest.raises(ChecksumMismatch):
        fetch(str(src), tmp_path / "c.pkl", sha256_prefix="0000", progress=False)
    assert not (tmp_path / "c.pkl").exists() and not (tmp_path / "c.pkl.part").exists()
    with pytest.raises(FetchError, match="no such file"):
        fetch(str(tmp_path / "absent"), tmp_path / "d.pkl")
    with pytest.raises(FetchError, match="unsupported URL scheme"):
        fetch("ftp://example.org/x", tmp_path / "e.pkl")


def test_checkpoint_name_hash(server: tuple[str, State], tmp_path: Path) -> None:
    assert (
        checkpoint_sha256_prefix(
            "https://download.openmmlab.com/mmpose/top_down/hrnet/"
            "hrnet_w32_coco_256x192-c78dce93_20200708.pth"
        )
        == "c78dce93"
    )
    assert (
        checkpoint_sha256_prefix("faster_rcnn_r50_fpn_1x_coco-person_20201216_175929-d022e227.pth")
        == "d022e227"
    )
    assert checkpoint_sha256_prefix("model_20200708-123d8bab.pth") == "123d8bab"
    assert checkpoint_sha256_prefix("https://x/ntu60_3d.pkl") is None
    assert checkpoint_sha256_prefix("coco-person.pth") is None
    base, state = server
    state.files[f"det_20201216-{SHA[:8]}.pth"] = PAYLOAD
    state.files["det_20201216-0badbeef.pth"] = PAYLOAD
    good = f"{base}/files/det_20201216-{SHA[:8]}.pth"
    bad = f"{base}/files/det_20201216-0badbeef.pth"
    assert run_fetch(good, str(tmp_path / "good.pth"), "--no-progress") == 0
    assert run_fetch(bad, str(tmp_path / "bad.pth"), "--no-progress") == 1
    assert not (tmp_path / "bad.pth").exists()
    assert run_fetch(bad, str(tmp_path / "bad.pth"), "--no-progress", "--no-name-hash") == 0


def test_bad_checksum_argument_is_usage_error(tmp_path: Path) -> None:
    assert run_fetch("x", str(tmp_path / "y"), "--sha256", "abc") == 2
    with pytest.raises(ValueError):
        fetch("x", tmp_path / "y", sha256_prefix="xyz")
    assert fetchmod.TRANSIENT_STATUS.isdisjoint({400, 401, 403, 404, 410})


# --- deadlines, size caps and servers that would give a wrong file ----------------------------

SMALL = bytes(range(256)) * 4


@pytest.fixture
def bad_server() -> Iterator[tuple[str, State]]:
    with serve({"data.pkl": PAYLOAD, "small.bin": SMALL}) as srv:
        yield srv


def test_trickling_server_meets_the_deadline(bad_server: tuple[str, State], tmp_path: Path) -> None:
    import time

    base, _ = bad_server
    out = tmp_path / "small.bin"
    start = time.monotonic()
    with pytest.raises(FetchError, match="deadline passed"):
        fetch(f"{base}/trickle/small.bin", out, deadline_s=1.5, progress=False)
    assert time.monotonic() - start < 10
    assert not out.exists()
    assert run_fetch(f"{base}/trickle/small.bin", str(out), "--deadline", "1", "--no-progress") == 1


def test_endless_body_stops_at_the_size_cap(bad_server: tuple[str, State], tmp_path: Path) -> None:
    base, _ = bad_server
    out = tmp_path / "x.bin"
    url = f"{base}/endless/small.bin"
    with pytest.raises(FetchError, match="size cap"):
        fetch(url, out, sha256=SHA, max_bytes=1 << 20, progress=False)
    assert list(tmp_path.iterdir()) == []  # no OUT, no part kept
    # Content-Length over the cap: refused before any byte is written
    with pytest.raises(FetchError, match="more than the 1000-byte size cap"):
        fetch(f"{base}/files/data.pkl", out, max_bytes=1000, progress=False)
    assert run_fetch(f"{base}/files/data.pkl", str(out), "--max-gb", "0.000001") == 1


def test_body_without_length_needs_a_checksum(
    bad_server: tuple[str, State], tmp_path: Path
) -> None:
    base, _ = bad_server
    out = tmp_path / "data.pkl"
    for mode in ("nolength", "nolengthcut"):  # complete and cut look the same from here
        with pytest.raises(FetchError, match="neither a Content-Length nor a chunked body"):
            fetch(f"{base}/{mode}/data.pkl", out, retries=0, progress=False)
        assert not out.exists()
    with pytest.raises(ChecksumMismatch):
        fetch(f"{base}/nolengthcut/data.pkl", out, sha256=SHA, retries=0, progress=False)
    fetch(f"{base}/nolength/data.pkl", out, sha256=SHA, progress=False)
    assert out.read_bytes() == PAYLOAD


def test_cut_chunked_body_is_not_a_file(bad_server: tuple[str, State], tmp_path: Path) -> None:
    base, _ = bad_server
    out = tmp_path / "data.pkl"
    with pytest.raises(FetchError, match="giving up"):
        fetch(f"{base}/chunkedcut/data.pkl", out, retries=0, progress=False)
    assert not out.exists()


def test_encoded_body_refused(bad_server: tuple[str, State], tmp_path: Path) -> None:
    base, _ = bad_server
    with pytest.raises(FetchError, match="Content-Encoding 'gzip'"):
        fetch(f"{base}/gzip/data.pkl", tmp_path / "data.pkl", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_unsolicited_206_refused(bad_server: tuple[str, State], tmp_path: Path) -> None:
    base, _ = bad_server
    with pytest.raises(FetchError, match="HTTP 206 .* to a request for the whole file"):
        fetch(f"{base}/always206/data.pkl", tmp_path / "data.pkl", retries=0, progress=False)
    assert not (tmp_path / "data.pkl").exists()


def _part(tmp_path: Path, url: str, data: bytes, etag: str) -> None:
    (tmp_path / "data.pkl.part").write_bytes(data)
    meta = {"url": url, "validator": {"etag": etag}, "size": len(PAYLOAD)}
    (tmp_path / "data.pkl.part.json").write_text(json.dumps(meta))


def test_resume_checks_validator_and_range(bad_server: tuple[str, State], tmp_path: Path) -> None:
    base, state = bad_server
    out = tmp_path / "data.pkl"
    old_etag = '"' + hashlib.sha256(PAYLOAD).hexdigest()[:16] + '"'
    # the file changed on a server that ignores If-Range: its 206 carries the new ETag
    new = PAYLOAD[::-1]
    state.files["data.pkl"] = new
    url = f"{base}/ignoreifrange/data.pkl"
    _part(tmp_path, url, PAYLOAD[:1000], old_etag)
    fetch(url, out, retries=1, backoff_s=0, progress=False)  # no checksum
    assert out.read_bytes() == new
    assert [r[1] for r in state.requests[-2:]] == ["bytes=1000-", None]
    # a 206 whose Content-Range starts elsewhere than asked
    state.files["data.pkl"] = PAYLOAD
    out.unlink()
    url = f"{base}/badrange/data.pkl"
    _part(tmp_path, url, PAYLOAD[:1000], old_etag)
    fetch(url, out, retries=1, backoff_s=0, progress=False)
    assert out.read_bytes() == PAYLOAD
    # no validator and no checksum: the part cannot be trusted, so it is not resumed
    out.unlink()
    (tmp_path / "data.pkl.part").write_bytes(b"stale")
    fetch(f"{base}/files/data.pkl", out, progress=False)
    assert out.read_bytes() == PAYLOAD and state.requests[-1] == ("/files/data.pkl", None)


def test_url_file_name_never_leaves_the_folder(
    bad_server: tuple[str, State], tmp_path: Path
) -> None:
    base, state = bad_server
    state.files["x"] = SMALL
    folder = tmp_path / "a" / "b" / "dl"
    for name in ("..%2F..%2Fx", "%2Ftmp%2Fx", "..", "%2e%2e", "x%00y", "a%0Ab"):
        assert run_fetch(f"{base}/files/{name}", f"{folder}/", "--no-progress") == 2, name
    assert not (tmp_path / "a" / "x").exists() and not (tmp_path / "a" / "b" / "x").exists()
    assert not folder.exists() or list(folder.iterdir()) == []
    assert run_fetch(f"{base}/files/x", f"{folder}/", "--no-progress") == 0
    assert (folder / "x").read_bytes() == SMALL


# --- responses only a raw server sends (tests/raw_http.py) --------------------------------------

BODY = bytes(range(200))


def _answer(head: bytes, body: bytes = b"", dribble: bytes = b"", linger_s: float = 0.0):  # noqa: ANN202
    """A responder: `head` (status line and headers), then `dribble` one byte per 0.1 s, then
    `body`; the connection is kept open `linger_s` seconds after."""

    def respond(conn, log) -> None:  # noqa: ANN001
        if send(conn, head, None, log) and send(conn, dribble, 0.1, log):
            send(conn, body, None, log)
            time.sleep(linger_s)

    return respond


def _head(*headers: str | bytes, status: str = "200 OK") -> bytes:
    lines = [f"HTTP/1.1 {status}".encode()]
    lines += [h.encode("latin-1") if isinstance(h, str) else h for h in headers]
    return b"\r\n".join([*lines, b"Connection: close", b"", b""])


def test_dribbled_headers_and_chunk_sizes_meet_the_deadline(tmp_path: Path) -> None:
    # one header byte (or one chunk-size byte) every 0.1 s: no single read times out, and the
    # 2,000 bytes would take 200 s; the deadline ends the fetch and the connection with it
    cases = {
        "header": _answer(b"HTTP/1.1 200 OK\r\n", dribble=b"X-Pad: " + b"a" * 2000 + b"\r\n"),
        "chunk size": _answer(
            _head("Transfer-Encoding: chunked"), dribble=b"0" * 2000 + b"5\r\nhello\r\n0\r\n\r\n"
        ),
    }
    for what, respond in cases.items():
        with serve_raw(respond) as (base, log):
            out = tmp_path / "x.bin"
            with pytest.raises(FetchError, match="deadline passed") as err:
                fetch(f"{base}/x.bin", out, deadline_s=1, retries=0, progress=False)
            assert "\n" not in str(err.value)
            code = run_fetch(f"{base}/x.bin", str(out), "--deadline", "1", "--no-progress")
            assert code == 1, what
            time.sleep(0.3)  # the server notices the hang-up at its next byte
            # two connections, each cut while the server still had bytes to dribble
            assert sum(log.hung_up) == 2 and len(log.sent) == 4, f"{what}: {log}"
            assert not out.exists()


def test_body_longer_than_its_length_is_refused(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "x.bin"
    with serve_raw(_answer(_head("Content-Length: 100"), BODY)) as (base, _):
        with pytest.raises(FetchError, match="longer than its Content-Length 100"):
            fetch(f"{base}/x.bin", out, progress=False)
        assert list(tmp_path.iterdir()) == []
        # a checksum vouches for the announced bytes: those are the file
        fetch(f"{base}/x.bin", out, sha256=hashlib.sha256(BODY[:100]).hexdigest(), progress=False)
        assert out.read_bytes() == BODY[:100]


def test_content_length_must_be_one_byte_count(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "x.bin"
    cases = {
        "differing Content-Length values (100, 200)": (
            "Content-Length: 100", "Content-Length: 200"),
        "differing Content-Length values (200, 100)": ("Content-Length: 200, 100",),
        "Content-Length '\u00b2' is not a byte count": ("Content-Length: \u00b2",),
        "Content-Length '\u00d9\u00a2\u00d9": (  # Arabic-Indic 200 (UTF-8, read as latin-1)
            b"Content-Length: \xd9\xa2\xd9\xa0\xd9\xa0",),
        "Content-Length '-200' is not a byte count": ("Content-Length: -200",),
    }  # fmt: skip
    for message, headers in cases.items():
        with serve_raw(_answer(_head(*headers), BODY)) as (base, _):
            with pytest.raises(FetchError, match=re.escape(message)):
                fetch(f"{base}/x.bin", out, retries=0, progress=False)
            assert not out.exists()
            assert run_fetch(f"{base}/x.bin", str(out), "--no-progress", "--retries", "0") == 1
            err = capsys.readouterr().err.strip()
            assert len(err.splitlines()) == 1 and "response cannot be trusted" in err, err
            assert "invalid literal" not in err
            # with a checksum the body is read to its end and the checksum tells
            fetch(f"{base}/x.bin", out, sha256=hashlib.sha256(BODY).hexdigest(), progress=False)
            assert out.read_bytes() == BODY
            out.unlink()
    # the same length twice is one length
    with serve_raw(_answer(_head("Content-Length: 200", "Content-Length: 200"), BODY)) as (
        base,
        _,
    ):
        fetch(f"{base}/x.bin", out, progress=False)
        assert out.read_bytes() == BODY


def test_server_keeping_the_connection_open_after_the_body(tmp_path: Path) -> None:
    # asked to close, it does not: the body is complete at its Content-Length all the same
    out = tmp_path / "x.bin"
    with serve_raw(_answer(_head("Content-Length: 200"), BODY, linger_s=5)) as (base, _):
        fetch(f"{base}/x.bin", out, progress=False)
    assert out.read_bytes() == BODY


def test_file_name_too_long_for_the_part_files(server: tuple[str, State], tmp_path: Path,
                                                capsys) -> None:  # noqa: ANN001  # fmt: skip
    base, state = server
    name = "n" * 250  # a legal file name; 'name.part.lock' is not
    state.files[name] = SMALL
    assert run_fetch(f"{base}/files/{name}", f"{tmp_path}/", "--no-progress") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "too long to download beside it" in err, err
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(FetchError, match="too long"):
        fetch(f"{base}/files/{name}", tmp_path / name, progress=False)
    state.files["n" * 245] = SMALL  # the longest that fits
    assert run_fetch(f"{base}/files/{'n' * 245}", f"{tmp_path}/", "--no-progress") == 0
    assert (tmp_path / ("n" * 245)).read_bytes() == SMALL
