"""A real HTTP server on 127.0.0.1 for the download tests (http.server in a thread).

`serve()` yields (base URL, state). Paths are `/<mode>/<name>` for a file in `state.files`:
`files` serves it with Range support, `cut` sends half the body then drops the connection (once
per file), `flaky` answers 500 twice before serving, `always500` always answers 500, `norange`
ignores Range; anything unknown is a 404. Responses carry an ETag and honour If-Range. `state.requests` records (path, Range header).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import re
import threading
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


@contextlib.contextmanager
def serve(files: dict[str, bytes] | None = None) -> Iterator[tuple[str, State]]:
    state = State()
    state.files.update(files or {})
    handler = type("BoundHandler", (Handler,), {"state": state})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", state
    finally:
        httpd.shutdown()
        httpd.server_close()
