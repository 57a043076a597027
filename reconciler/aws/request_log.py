"""Collects the request id of every AWS call the clients make, so each applied change can be
recorded with the AWS request ids that made it (to find the calls in CloudTrail)."""

from __future__ import annotations

import threading
from typing import Any

from reconciler.aws.session import Clients


class RequestLog:
    def __init__(self) -> None:
        self._ids: list[str] = []
        self._lock = threading.Lock()

    def attach(self, clients: Clients) -> None:
        for client in (clients.s3, clients.s3control, clients.iam):
            client.meta.events.register("after-call", self._record)

    def _record(self, http_response: Any = None, parsed: Any = None, **_: Any) -> None:
        meta = parsed.get("ResponseMetadata", {}) if isinstance(parsed, dict) else {}
        headers = getattr(http_response, "headers", {}) or {}
        rid = meta.get("RequestId") or headers.get("x-amz-request-id")
        if rid:
            with self._lock:
                self._ids.append(str(rid))

    def drain(self) -> list[str]:
        """The ids recorded since the last drain."""
        with self._lock:
            ids, self._ids = self._ids, []
        return ids
