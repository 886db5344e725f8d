"""Real HTTP servers on 127.0.0.1 for the HTTP probe and end-to-end tests.

`ApiTarget` is one threaded server whose behaviour a test switches with `.mode`. It can be
stopped and started again on the same port, so an end-to-end test can take a monitored API
down and bring it back. Every server listens on 127.0.0.1 only and stops at fixture teardown.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import json
import socket
import ssl
import struct
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import trustme

HOST = "127.0.0.1"

MODES = frozenset(
    {
        "ok",  # 200 {"status": "success"}
        "error",  # 500 {"status": "error"}
        "slow",  # waits `delay` seconds, then responds like "ok"
        "hang",  # reads the request and never responds
        "drip",  # sends headers, then one body byte every `drip_interval` seconds
        "invalid_json",  # 200 with a truncated JSON document
        "missing_field",  # 200 with JSON that has no "status" key
        "huge",  # 200 with a 50 MiB body (Content-Length set)
        "endless",  # 200 with a chunked body that never ends
        "gzip",  # 200 {"status": "success"}, gzip-compressed
        "gzip_bomb",  # 200 with 50 MiB of zeros compressed to about 50 KiB
        "deflate",  # 200 {"status": "success"}, deflate in a zlib wrapper (RFC 9110)
        "raw_deflate",  # 200 {"status": "success"}, deflate without the zlib wrapper
        "bad_gzip",  # 200 claiming gzip, with a body that is not gzip data
        "unknown_encoding",  # 200 with a Content-Encoding that no client asked for
        "redirect_loop",  # /loop/a and /loop/b redirect to each other
        "redirect_chain",  # `chain_length` redirects (/chain/1, /chain/2, ...), then "ok"
        "redirect_to",  # 302 to `redirect_location`
        "see_other",  # 303 to /done, which responds like "ok"
        "set_cookie",  # 200 with Set-Cookie; the body reports whether a Cookie header came
        "echo_headers",  # 200 {"status": "success", "headers": {lower-case name: value}}
        "reset",  # reads the request, then resets the connection (TCP RST)
    }
)

HUGE_BODY_BYTES = 50 * 1024 * 1024
SESSION_COOKIE = "session=secret-session-token"

# Upper bounds, so that no handler thread outlives a test even if a client misbehaves.
_HANG_LIMIT = 30.0  # seconds
_ENDLESS_LIMIT_BYTES = 1024 * 1024 * 1024
_SOCKET_TIMEOUT = 10.0  # seconds for each socket read or write in a handler
_CHUNK = b"x" * 65536
_SUCCESS_BODY = b'{"status": "success"}'


@functools.cache
def gzip_bomb_body() -> bytes:
    """Return 50 MiB of zeros, gzip-compressed, built once and 1 MiB at a time."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1024 * 1024)
    parts = [compressor.compress(zeros) for _ in range(HUGE_BODY_BYTES // len(zeros))]
    parts.append(compressor.flush())
    return b"".join(parts)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the target received it."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        """Return the first value of a header, matched without regard to case."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class ApiTarget:
    """A monitored API on 127.0.0.1 whose behaviour a test switches at runtime.

    `url` is the base URL without a trailing slash. Every path behaves the same except in the
    redirect modes. Attributes `delay`, `drip_interval`, `chain_length` and
    `redirect_location` tune the modes that use them. `requests` lists what arrived.
    """

    def __init__(self, *, port: int = 0, ssl_context: ssl.SSLContext | None = None) -> None:
        self.ssl_context = ssl_context
        self.delay = 1.0  # seconds, for "slow"
        self.drip_interval = 0.1  # seconds between body bytes, for "drip"
        self.chain_length = 3
        self.redirect_location = ""
        self._port = port
        self._mode = "ok"
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._port == 0:
            raise RuntimeError("the target has no port until start() is called")
        return self._port

    @property
    def url(self) -> str:
        scheme = "http" if self.ssl_context is None else "https"
        return f"{scheme}://{HOST}:{self.port}"

    def url_for(self, path: str) -> str:
        return self.url + path

    @property
    def mode(self) -> str:
        with self._lock:
            return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise ValueError(f"unknown mode {value!r}; expected one of {sorted(MODES)}")
        with self._lock:
            self._mode = value

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        """Listen on the port; the first start picks a free port and later ones reuse it."""
        if self._server is not None:
            raise RuntimeError("the target is already running")
        server = _Server((HOST, self._port), self)
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"api-target-{self._port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening, cut open connections and wait for every handler thread."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._server = self._thread = None
        server.stopping.set()
        server.shutdown()
        thread.join()
        server.close_connections()
        server.server_close()

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], target: ApiTarget) -> None:
        self.target = target
        self.stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(_SOCKET_TIMEOUT)
        context = self.target.ssl_context
        if context is None:
            self._serve_connection(request, client_address)
            return
        try:
            tls_socket = context.wrap_socket(request, server_side=True)
        except OSError:
            # The client rejected the certificate, which is what the TLS tests expect.
            return
        try:
            self._serve_connection(tls_socket, client_address)
        finally:
            tls_socket.close()

    def _serve_connection(self, connection: socket.socket, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(connection)
        try:
            _Handler(connection, client_address, self)
        finally:
            with self._connections_lock:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Shut down open connections so that handlers blocked on a read return."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            # socket.socket's own shutdown, because SSLSocket.shutdown also drops its TLS
            # state while the handler thread may still be reading.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(connection, socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that give up (timeouts, body limits, rejected certificates) close their end
        # while a handler still writes. The tests expect that, so it gets no traceback.
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 1024 * 1024))
        target = self.server.target
        target._record(
            RecordedRequest(
                method=self.command, path=self.path, headers=tuple(self.headers.items())
            )
        )
        mode = target.mode
        getattr(self, "_mode_" + mode)()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_GET

    def _send(self, status: int, body: bytes, headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(
        self, status: int, document: Any, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        body = json.dumps(document).encode()
        self._send(status, body, (("Content-Type", "application/json"), *headers))

    def _redirect(self, status: int, location: str) -> None:
        self._send(status, b"", (("Location", location),))

    def _mode_ok(self) -> None:
        self._send(200, _SUCCESS_BODY, (("Content-Type", "application/json"),))

    def _mode_error(self) -> None:
        self._send_json(500, {"status": "error"})

    def _mode_slow(self) -> None:
        if self.server.stopping.wait(self.server.target.delay):
            self.close_connection = True
            return
        self._mode_ok()

    def _mode_hang(self) -> None:
        self.server.stopping.wait(_HANG_LIMIT)
        self.close_connection = True

    def _mode_drip(self) -> None:
        body = json.dumps({"status": "success", "padding": " " * 1000}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for index in range(len(body)):
            if self.server.stopping.wait(self.server.target.drip_interval):
                break
            self.wfile.write(body[index : index + 1])
        self.close_connection = True

    def _mode_invalid_json(self) -> None:
        self._send(200, b'{"status": "success"', (("Content-Type", "application/json"),))

    def _mode_missing_field(self) -> None:
        self._send_json(200, {"state": "up"})

    def _mode_huge(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(HUGE_BODY_BYTES))
        self.end_headers()
        for _ in range(HUGE_BODY_BYTES // len(_CHUNK)):
            if self.server.stopping.is_set():
                break
            self.wfile.write(_CHUNK)
        self.close_connection = True

    def _mode_endless(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        frame = f"{len(_CHUNK):x}\r\n".encode() + _CHUNK + b"\r\n"
        for _ in range(_ENDLESS_LIMIT_BYTES // len(_CHUNK)):
            if self.server.stopping.is_set():
                break
            self.wfile.write(frame)
        self.close_connection = True

    def _mode_gzip(self) -> None:
        body = gzip.compress(json.dumps({"status": "success"}).encode())
        self._send(200, body, (("Content-Type", "application/json"), ("Content-Encoding", "gzip")))

    def _mode_deflate(self) -> None:
        self._send_encoded("deflate", zlib.compress(_SUCCESS_BODY))

    def _mode_raw_deflate(self) -> None:
        compressor = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        self._send_encoded("deflate", compressor.compress(_SUCCESS_BODY) + compressor.flush())

    def _mode_bad_gzip(self) -> None:
        self._send_encoded("gzip", _SUCCESS_BODY)

    def _mode_unknown_encoding(self) -> None:
        self._send_encoded("x-statuspage-test", _SUCCESS_BODY)

    def _send_encoded(self, content_encoding: str, body: bytes) -> None:
        headers = (("Content-Type", "application/json"), ("Content-Encoding", content_encoding))
        self._send(200, body, headers)

    def _mode_gzip_bomb(self) -> None:
        self._send(
            200,
            gzip_bomb_body(),
            (("Content-Type", "application/json"), ("Content-Encoding", "gzip")),
        )

    def _mode_redirect_loop(self) -> None:
        self._redirect(302, "/loop/b" if self.path == "/loop/a" else "/loop/a")

    def _mode_redirect_chain(self) -> None:
        prefix = "/chain/"
        step = int(self.path[len(prefix) :]) if self.path.startswith(prefix) else 0
        if step >= self.server.target.chain_length:
            self._mode_ok()
        else:
            self._redirect(302, f"{prefix}{step + 1}")

    def _mode_redirect_to(self) -> None:
        self._redirect(302, self.server.target.redirect_location)

    def _mode_see_other(self) -> None:
        if self.path == "/done":
            self._mode_ok()
        else:
            self._redirect(303, "/done")

    def _mode_set_cookie(self) -> None:
        received = self.headers.get("Cookie") is not None
        self._send_json(
            200,
            {"status": "success", "cookie_received": received},
            (("Set-Cookie", f"{SESSION_COOKIE}; Path=/"),),
        )

    def _mode_echo_headers(self) -> None:
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        self._send_json(200, {"status": "success", "headers": headers})

    def _mode_reset(self) -> None:
        # Linger with a zero timeout turns close() into a reset. Closing here, before
        # socketserver's shutdown(SHUT_WR), keeps a FIN from reaching the client first.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True


def server_ssl_context(cert: trustme.LeafCert) -> ssl.SSLContext:
    """Build a server-side TLS context that presents `cert`."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


def self_signed_ssl_context(ca: trustme.CA) -> ssl.SSLContext:
    """Build a server-side TLS context that presents the CA's own self-signed certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with ca.cert_pem.tempfile() as cert_path, ca.private_key_pem.tempfile() as key_path:
        context.load_cert_chain(cert_path, key_path)
    return context


@pytest.fixture
def api_target() -> Iterator[ApiTarget]:
    """A started plain-HTTP target in mode "ok"."""
    target = ApiTarget()
    target.start()
    try:
        yield target
    finally:
        target.stop()


@pytest.fixture
def api_target_factory() -> Iterator[Callable[..., ApiTarget]]:
    """A function that starts an extra `ApiTarget(**kwargs)`. Teardown stops all of them."""
    targets: list[ApiTarget] = []

    def start_target(**kwargs: Any) -> ApiTarget:
        target = ApiTarget(**kwargs)
        target.start()
        targets.append(target)
        return target

    try:
        yield start_target
    finally:
        for target in targets:
            target.stop()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on, so connecting is refused.

    NOTE: another process could bind the port between this fixture and its use; on a test
    machine that is unlikely enough to accept.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe_socket:
        probe_socket.bind((HOST, 0))
        port: int = probe_socket.getsockname()[1]
    return port


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    """A certificate authority that no default trust store contains."""
    return trustme.CA()


@pytest.fixture
def tls_target(tls_ca: trustme.CA) -> Iterator[ApiTarget]:
    """A started HTTPS target whose certificate for 127.0.0.1 is signed by `tls_ca`."""
    context = server_ssl_context(tls_ca.issue_cert(HOST))
    target = ApiTarget(ssl_context=context)
    target.start()
    try:
        yield target
    finally:
        target.stop()
