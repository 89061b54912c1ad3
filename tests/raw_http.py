"""A raw TCP server on 127.0.0.1 that answers HTTP requests with scripted bytes, for responses
http.server cannot produce: headers dribbled a byte at a time, repeated or malformed
Content-Length, a body longer than announced, a connection kept open after the body.

    with serve_raw(respond) as (url, log):
        ...

`respond(conn, log)` runs in a thread per connection once the request's headers are read;
`send(conn, data, interval, log)` sends `data` (one byte per `interval` seconds when given)
and stops as soon as the client hangs up; `log.sent` is the byte count each `send` got out and
`log.hung_up` whether the client closed the connection first.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field


@dataclass
class Log:
    sent: list[int] = field(default_factory=list)
    hung_up: list[bool] = field(default_factory=list)
    requests: list[bytes] = field(default_factory=list)


def _client_gone(conn: socket.socket) -> bool:
    readable, _, _ = select.select([conn], [], [], 0)
    if not readable:
        return False
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def send(conn: socket.socket, data: bytes, interval: float | None, log: Log) -> bool:
    """Send `data`; False when the client hung up before all of it went out."""
    step = 1 if interval else len(data) or 1
    sent = 0
    try:
        for k in range(0, len(data), step):
            if _client_gone(conn):
                break
            conn.sendall(data[k : k + step])
            sent += len(data[k : k + step])
            if interval:
                time.sleep(interval)
    except OSError:
        pass
    log.sent.append(sent)
    log.hung_up.append(sent < len(data))
    return sent == len(data)


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        block = conn.recv(4096)
        if not block:
            break
        data += block
    return data


@contextlib.contextmanager
def serve_raw(respond: Callable[[socket.socket, Log], None]) -> Iterator[tuple[str, Log]]:
    log = Log()
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        with conn:
            log.requests.append(_read_request(conn))
            respond(conn, log)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}", log
    finally:
        stop.set()
        thread.join()
        server.close()
