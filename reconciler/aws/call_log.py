"""Logs every AWS call (-v): service, operation, the resource it names, outcome and duration.

Uses botocore's event hooks, so paginated calls and calls retried by botocore are covered:
`before-parameter-build` sees the API parameters and starts the clock, `after-call` (or
`after-call-error` when no response came back) writes one DEBUG line. Policy documents, tags and
anything else in the request are never logged, only the identifying parameters below.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from reconciler.aws.call_record import install_call_recording

LOGGER = logging.getLogger("reconciler.aws.calls")
_CONTEXT_KEY = "reconciler_call"
RESOURCE_PARAMETERS = (
    "Bucket",
    "Key",
    "Name",
    "UserName",
    "PolicyName",
    "GroupName",
    "PolicyArn",
    "SerialNumber",
    "ResourceArn",
    "TrailName",
    "KeyId",
)


def install_call_logging(client: Any) -> None:
    install_call_recording(client)  # for the tests only, off unless they set it
    events = client.meta.events
    events.register("before-parameter-build", _started)
    events.register("after-call", _finished)
    events.register("after-call-error", _failed)


def describe_resource(params: dict[str, Any]) -> str:
    """`Bucket=x UserName=y`: the parameters that say what a call is about, or `-`."""
    parts = [f"{key}={params[key]}" for key in RESOURCE_PARAMETERS if params.get(key)]
    return " ".join(parts) or "-"


def _started(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    if LOGGER.isEnabledFor(logging.DEBUG):
        context[_CONTEXT_KEY] = (time.perf_counter(), describe_resource(params))


def _finished(
    http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
) -> None:
    status = str(getattr(http_response, "status_code", "?"))
    code = (parsed or {}).get("Error", {}).get("Code")
    _log(model, context, f"{status} {code}" if code and code != status else status)


def _failed(exception: Exception, context: dict[str, Any], **kwargs: Any) -> None:
    _log(kwargs.get("model"), context, type(exception).__name__)


def _log(model: Any, context: dict[str, Any], outcome: str) -> None:
    started = context.pop(_CONTEXT_KEY, None)
    if started is None:
        return
    start, resource = started
    elapsed_ms = (time.perf_counter() - start) * 1000
    service = model.service_model.service_name if model is not None else "?"
    operation = model.name if model is not None else "?"
    LOGGER.debug("aws %s %s %s -> %s in %.0f ms", service, operation, resource, outcome, elapsed_ms)
