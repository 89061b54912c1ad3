"""`skeleton fetch` against a real HTTP server on 127.0.0.1 started here.

The server (http.server in a thread) serves files with Range support and misbehaves on request:
`/cut/...` sends half the body then drops the connection (once per file), `/flaky/...` answers
500 twice before serving, `/always500/...` always answers 500, `/norange/...` ignores Range,
anything unknown is a 404.
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from skeleton import fetch as fetchmod
from skeleton.commands import fetch as fetch_cmd
from skeleton.fetch import ChecksumMismatch, FetchError, checkpoint_sha256_prefix, fetch

PAYLOAD = np.random.default_rng(5).integers(0, 256, 3 * 1024 * 1024 + 123, np.uint8).tobytes()
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _State:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {"data.pkl": PAYLOAD}
        self.requests: list[tuple[str, str | None]] = []
        self.cut_done: set[str] = set()
        self.flaky_left: dict[str, int] = {}
        self.lock = threading.Lock()


class _Handler(http.server.BaseHTTPRequestHandler):
    state: _State
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def _error(self, code: int) -> None:
        body = f"error {code}\n".encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        st = self.state
        rng = self.headers.get("Range")
        with st.lock:
            st.requests.append((self.path, rng))
        mode, _, name = self.path.lstrip("/").partition("/")
        data = st.files.get(name)
        if data is None or mode not in ("files", "cut", "flaky", "always500", "norange"):
            return self._error(404)
        if mode == "always500":
            return self._error(500)
        if mode == "flaky":
            with st.lock:
                left = st.flaky_left.setdefault(name, 2)
                st.flaky_left[name] = left - 1
            if left > 0:
                return self._error(500)
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", rng or "")
        if match and mode != "norange":
            start = int(match.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "cut" and name not in st.cut_done:
            st.cut_done.add(name)
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return None
        self.wfile.write(body)
        return None


@pytest.fixture
def server() -> Iterator[tuple[str, _State]]:
    state = _State()
    handler = type("Handler", (_Handler,), {"state": state})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    finally:
        httpd.shutdown()
        httpd.server_close()


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


def test_success_verified(server: tuple[str, _State], tmp_path: Path) -> None:
    base, _ = server
    out = tmp_path / "sub" / "data.pkl"
    assert fetch(f"{base}/files/data.pkl", out, sha256=SHA, progress=False) == out
    assert out.read_bytes() == PAYLOAD
    assert not (tmp_path / "sub" / "data.pkl.part").exists()


def test_cli_success_and_present(server: tuple[str, _State], tmp_path: Path) -> None:
    base, state = server
    out = tmp_path / "data.pkl"
    url = f"{base}/files/data.pkl"
    assert run_fetch(url, str(out), "--sha256", SHA, "--no-progress") == 0
    assert run_fetch(url, str(out), "--sha256-prefix", SHA[:8], "--no-progress") == 0
    assert len(state.requests) == 1  # second call found OUT verified, no request


def test_resume_after_cut(server: tuple[str, _State], tmp_path: Path) -> None:
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


def test_cut_recovered_by_retry_in_one_call(server: tuple[str, _State], tmp_path: Path) -> None:
    base, state = server
    delays: list[float] = []
    out = tmp_path / "data.pkl"
    fetch(f"{base}/cut/data.pkl", out, sha256=SHA, backoff_s=0.5, sleep=no_sleep(delays))
    assert out.read_bytes() == PAYLOAD
    assert delays == [0.5]
    assert state.requests[1][1] is not None and state.requests[1][1].startswith("bytes=")


def test_server_ignoring_range_restarts(server: tuple[str, _State], tmp_path: Path) -> None:
    base, _ = server
    out = tmp_path / "data.pkl"
    (tmp_path / "data.pkl.part").write_bytes(b"garbage that is not the file's start")
    fetch(f"{base}/norange/data.pkl", out, sha256=SHA, progress=False)
    assert out.read_bytes() == PAYLOAD


def test_complete_part_with_416(server: tuple[str, _State], tmp_path: Path) -> None:
    base, _ = server
    out = tmp_path / "data.pkl"
    (tmp_path / "data.pkl.part").write_bytes(PAYLOAD)
    fetch(f"{base}/files/data.pkl", out, sha256=SHA, progress=False)
    assert out.read_bytes() == PAYLOAD


def test_checksum_mismatch_leaves_nothing(server: tuple[str, _State], tmp_path: Path) -> None:
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


def test_mismatch_after_resume_retries_from_zero(
    server: tuple[str, _State], tmp_path: Path
) -> None:
    base, state = server
    out = tmp_path / "data.pkl"
    (tmp_path / "data.pkl.part").write_bytes(b"X" * 1000)  # stale, wrong bytes
    fetch(f"{base}/files/data.pkl", out, sha256=SHA, progress=False)
    assert out.read_bytes() == PAYLOAD
    assert [r[1] for r in state.requests] == ["bytes=1000-", None]


def test_404_not_retried(server: tuple[str, _State], tmp_path: Path, capsys) -> None:  # noqa: ANN001
    base, state = server
    out = tmp_path / "missing.pkl"
    delays: list[float] = []
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(f"{base}/files/missing.pkl", out, sleep=no_sleep(delays), progress=False)
    assert len(state.requests) == 1 and delays == []
    assert not out.exists() and not (tmp_path / "missing.pkl.part").exists()
    assert run_fetch(f"{base}/files/missing.pkl", str(out), "--no-progress") == 1
    assert "HTTP 404" in capsys.readouterr().err


def test_500_then_success_with_backoff(server: tuple[str, _State], tmp_path: Path) -> None:
    base, state = server
    delays: list[float] = []
    out = tmp_path / "data.pkl"
    fetch(f"{base}/flaky/data.pkl", out, sha256=SHA, backoff_s=0.25, sleep=no_sleep(delays))
    assert out.read_bytes() == PAYLOAD
    assert delays == [0.25, 0.5]  # exponential
    assert len(state.requests) == 3


def test_persistent_500_gives_up(server: tuple[str, _State], tmp_path: Path) -> None:
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


def test_offline(server: tuple[str, _State], tmp_path: Path) -> None:
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


def test_checkpoint_name_hash(server: tuple[str, _State], tmp_path: Path) -> None:
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
