"""A fault-injecting HTTP proxy between the `reconcile` command and a moto server.

Every request is numbered. A fault can be injected at one request index (throttling, a 500,
or a connection reset after the request reached the server), or as random throttling on a
share of requests. Only requests from the command under test pass through the proxy.
"""

from __future__ import annotations

import http.client
import random
import socket
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

FAULTS = ("throttle", "500", "reset")
# also: "garbage", a 200 response whose body is not what the API returns; "denied", the
# answer to a caller whose policy lacks the action (for the JSON protocol of CloudTrail: HTTP 400
# with __type AccessDeniedException, CloudTrail API Reference, Common Errors)

_QUERY_THROTTLE = (
    b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
    b"<Message>Rate exceeded</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
)
_QUERY_500 = (
    b"<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code>"
    b"<Message>injected</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
)
_REST_THROTTLE = (
    b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>"
    b"<RequestId>fault-proxy</RequestId></Error>"
)
_JSON_DENIED = (
    b'{"__type":"AccessDeniedException","Message":"User: arn:aws:sts::123456789012:'
    b'assumed-role/reconciler-plan/ci is not authorized to perform this operation"}'
)
_QUERY_DENIED = (
    b"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
    b"<Message>not authorized</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
)
_REST_DENIED = (
    b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
    b"<RequestId>fault-proxy</RequestId></Error>"
)
_REST_500 = (
    b"<Error><Code>InternalError</Code><Message>injected</Message>"
    b"<RequestId>fault-proxy</RequestId></Error>"
)


@dataclass
class FaultPlan:
    fail_at: int | None = None  # 0-based request index
    fail_match: tuple[str, ...] = ()  # or: the first request whose label contains all these
    kind: str = "throttle"
    throttle_share: float = 0.0
    seed: int = 0
    count: int = 0
    injected: list[tuple[int, str, str]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # every request, in order
    lock: threading.Lock = field(default_factory=threading.Lock)
    rng: random.Random = field(default_factory=random.Random)

    def next(self, label: str) -> str | None:
        with self.lock:
            index = self.count
            self.count += 1
            self.labels.append(label)
            fault = None
            matched = bool(self.fail_match) and all(m in label for m in self.fail_match)
            if self.fail_at == index or (matched and not self.injected):
                fault = self.kind
            elif self.throttle_share and self.rng.random() < self.throttle_share:
                fault = "throttle"
            if fault:
                self.injected.append((index, fault, label))
            return fault


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.plan = FaultPlan()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                # headers and body go out in separate writes: without this, Nagle's algorithm
                # and delayed ACKs add 40 ms to every response
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                text = body[:300].decode(errors="replace")
                # the JSON protocols name the operation in a header only (CloudTrail:
                # X-Amz-Target: com.amazonaws.cloudtrail.v20131101...ListTrails)
                target = self.headers.get("X-Amz-Target") or ""
                label = f"{self.command} {self.path.split('?')[0]} {text} {target}".rstrip()
                fault = proxy.plan.next(label)
                if fault in ("throttle", "500", "denied"):
                    self._error(fault, body)
                    return
                if fault == "garbage":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/xml")
                    self.send_header("Content-Length", "9")
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(b"<<garbage")
                    return
                status, headers, payload = proxy.forward(
                    self.command, self.path, self.headers, body
                )
                if fault == "reset":
                    # the server did the work, the client never hears back: the hard case
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                    self.close_connection = True
                    return
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in {"transfer-encoding", "connection", "content-length"}:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            def _error(self, fault: str, body: bytes) -> None:
                query = self.path.startswith("/?") or (self.path == "/" and b"Action=" in body)
                content_type = "text/xml"
                if fault == "denied":
                    if self.headers.get("X-Amz-Target"):
                        status, payload = 400, _JSON_DENIED
                        content_type = "application/x-amz-json-1.1"
                    else:
                        status, payload = 403, (_QUERY_DENIED if query else _REST_DENIED)
                elif query:
                    status, payload = (
                        (400, _QUERY_THROTTLE) if fault == "throttle" else (500, _QUERY_500)
                    )
                else:
                    status, payload = (
                        (503, _REST_THROTTLE) if fault == "throttle" else (500, _REST_500)
                    )
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header(
                    "Content-Length", "0" if self.command == "HEAD" else str(len(payload))
                )
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def forward(
        self, method: str, path: str, headers: object, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        try:
            items = [(k, v) for k, v in headers.items()]  # type: ignore[attr-defined]
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for key, value in items:
                conn.putheader(key, value)
            conn.endheaders(body or None)
            response = conn.getresponse()
            payload = response.read()
            return response.status, response.getheaders(), payload
        finally:
            conn.close()

    def reset(self, **kwargs: object) -> None:
        self.plan = FaultPlan(**kwargs)  # type: ignore[arg-type]
        self.plan.rng.seed(self.plan.seed)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
