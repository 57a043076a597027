"""A moto server that counts the AWS requests it serves, per service.

    python benchmarks/counting_server.py PORT

GET /_bench/calls returns {"total": n, "by_service": {...}} and POST /_bench/reset zeroes the
counters; /moto-api/* (moto's own control API, e.g. reset) is not counted. Counting on the
server side sees every HTTP request, retries included, whoever sends it.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

_SCOPE = re.compile(r"Credential=[^/]+/[0-9]{8}/[^/]+/([^/]+)/aws4_request")


class CountingApp:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_bench/"):
            return self._control(environ, start, path)
        if not path.startswith("/moto-api"):
            match = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
            with self.lock:
                self.counts[match.group(1) if match else "unsigned"] += 1
        result: Iterable[bytes] = self.app(environ, start)
        return result

    def _control(
        self, environ: dict[str, Any], start: Callable[..., Any], path: str
    ) -> Iterable[bytes]:
        with self.lock:
            if path == "/_bench/reset" and environ["REQUEST_METHOD"] == "POST":
                self.counts.clear()
            body = json.dumps(
                {"total": sum(self.counts.values()), "by_service": dict(self.counts)}
            ).encode()
        start("200 OK", [("Content-Type", "application/json")])
        return [body]


def main() -> None:
    port = int(sys.argv[1])
    app = CountingApp(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", port, app, True, request_handler=MotoRequestHandler)
    print(f"listening on {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
