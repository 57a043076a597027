"""Collects the request id of every AWS call the clients make, so each applied change can be
recorded with the AWS request ids that made it (to find the calls in CloudTrail)."""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from typing import Any

from reconciler.aws.session import Clients


class RequestLog:
    """Request ids grouped by the change being applied in the calling thread (apply runs
    changes on several worker threads at once); calls outside any change are not kept."""

    def __init__(self) -> None:
        self._by_change: dict[Hashable, list[str]] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    @contextmanager
    def collecting(self, key: Hashable) -> Iterator[None]:
        """Attribute the calls this thread makes inside the block to `key`."""
        self._local.key = key
        try:
            yield
        finally:
            self._local.key = None

    def ids(self, key: Hashable) -> list[str]:
        with self._lock:
            return list(self._by_change.get(key, []))

    def attach(self, clients: Clients) -> None:
        for client in (clients.s3, clients.s3control, clients.iam):
            client.meta.events.register("after-call", self._record)

    def _record(self, http_response: Any = None, parsed: Any = None, **_: Any) -> None:
        meta = parsed.get("ResponseMetadata", {}) if isinstance(parsed, dict) else {}
        headers = getattr(http_response, "headers", {}) or {}
        rid = meta.get("RequestId") or headers.get("x-amz-request-id")
        key = getattr(self._local, "key", None)
        if rid and key is not None:
            with self._lock:
                self._by_change.setdefault(key, []).append(str(rid))
