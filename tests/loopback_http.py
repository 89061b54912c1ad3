"""A real HTTP server on 127.0.0.1 for the download tests (http.server in a thread).

`serve()` yields (base URL, state). Paths are `/<mode>/<name>` for a file in `state.files`:
`files` serves it with Range support, `cut` sends half the body then drops the connection (once
per file), `flaky` answers 500 twice before serving, `always500` always answers 500, `norange`
ignores Range; anything unknown is a 404. Responses carry an ETag and honour If-Range.
`state.requests` records (path, Range header).

Misbehaving servers: `trickle` sends a byte every 0.2 s; `endless` sends bytes without end and
without a length; `nolength` sends the file without Content-Length (close-delimited) and
`nolengthcut` half of it; `chunkedcut` a chunked body cut before its last chunk; `gzip`
gzip-encodes the body (Content-Encoding); `always206` answers 206 to every request;
`ignoreifrange` resumes (206) even when If-Range names another version; `badrange` answers a
Range request with bytes from 0.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.server
import re
import sys
import threading
import time
from collections.abc import Iterator


class State:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.cut_done: set[str] = set()
        self.flaky_left: dict[str, int] = {}
        self.lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    state: State
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
        modes = ("files", "cut", "flaky", "always500", "norange") + MISBEHAVING
        if data is None or mode not in modes:
            return self._error(404)
        if mode in MISBEHAVING:
            return self._misbehave(mode, data, rng)
        if mode == "always500":
            return self._error(500)
        if mode == "flaky":
            with st.lock:
                left = st.flaky_left.setdefault(name, 2)
                st.flaky_left[name] = left - 1
            if left > 0:
                return self._error(500)
        start = 0
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        match = re.fullmatch(r"bytes=(\d+)-", rng or "")
        if_range = self.headers.get("If-Range")
        if match and if_range is not None and if_range != etag:
            match = None  # RFC 9110 If-Range: the file changed, send all of it
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
        self.send_header("ETag", etag)
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

    def _misbehave(self, mode: str, data: bytes, rng: str | None) -> None:
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        match = re.fullmatch(r"bytes=(\d+)-", rng or "")
        start = int(match.group(1)) if match else 0
        if mode == "always206" or (mode in ("ignoreifrange", "badrange") and match):
            first = 0 if mode == "badrange" else start
            body = data[first:]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {first}-{len(data) - 1}/{len(data)}")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("ETag", etag)
        if mode in ("ignoreifrange", "badrange"):  # without Range: the whole file, as it should
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if mode == "gzip":
            body = gzip.compress(data)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if mode == "trickle":
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            for k in range(len(data)):
                self.wfile.write(data[k : k + 1])
                self.wfile.flush()
                time.sleep(0.2)
            return
        if mode == "chunkedcut":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            half = data[: len(data) // 2]
            self.wfile.write(f"{len(half):x}\r\n".encode() + half + b"\r\n")
            self.wfile.flush()
            self.close_connection = True
            return
        self.close_connection = True  # close-delimited bodies: no Content-Length
        self.send_header("Connection", "close")
        self.end_headers()
        if mode == "endless":
            block = b"\0" * 65536
            with contextlib.suppress(OSError):
                while True:
                    self.wfile.write(block)
            return
        self.wfile.write(data if mode == "nolength" else data[: len(data) // 2])


MISBEHAVING = (
    "trickle", "endless", "nolength", "nolengthcut", "chunkedcut", "gzip", "always206",
    "ignoreifrange", "badrange",
)  # fmt: skip


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """Clients that give up on a misbehaving response (the point of those tests) hang up
        mid-write: not an error worth a traceback in the test output."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(files: dict[str, bytes] | None = None) -> Iterator[tuple[str, State]]:
    state = State()
    state.files.update(files or {})
    handler = type("BoundHandler", (Handler,), {"state": state})
    httpd = Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    finally:
        httpd.shutdown()
        httpd.server_close()
