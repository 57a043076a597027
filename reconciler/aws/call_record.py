"""For the tests only: records every AWS call the clients make as JSON lines, so that a test can
ask an independent IAM simulator whether the role the docs assign to a command allows each one
(tests/test_role_sufficiency.py).

Off unless the environment variable RECONCILE_TEST_RECORD_CALLS names a file, which only the
tests set. One line per API call (each page of a paginated call, after botocore's retries):
service, operation, the API parameters (object bodies left out) and the outcome. The tool never
handles secrets (it creates no access key or password), so no parameter holds one.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

ENV_VARIABLE = "RECONCILE_TEST_RECORD_CALLS"
_CONTEXT_KEY = "reconciler_recorded_call"
_LEFT_OUT = frozenset({"Body"})
_WRITE = threading.Lock()


def install_call_recording(client: Any) -> None:
    if not os.environ.get(ENV_VARIABLE):
        return
    events = client.meta.events
    events.register("before-parameter-build", _started)
    events.register("after-call", _finished)
    events.register("after-call-error", _failed)


def _started(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    kept = {k: v for k, v in params.items() if k not in _LEFT_OUT}
    context[_CONTEXT_KEY] = {
        "service": model.service_model.service_name,
        "operation": model.name,
        "params": kept,
    }


def _finished(http_response: Any, parsed: Any, context: dict[str, Any], **_: Any) -> None:
    code = (parsed or {}).get("Error", {}).get("Code") if isinstance(parsed, dict) else None
    status = getattr(http_response, "status_code", None)
    _write(context, {"status": status, "error": code})


def _failed(exception: Exception, context: dict[str, Any], **_: Any) -> None:
    _write(context, {"status": None, "error": type(exception).__name__})


def _write(context: dict[str, Any], outcome: dict[str, Any]) -> None:
    call = context.pop(_CONTEXT_KEY, None)
    path = os.environ.get(ENV_VARIABLE)
    if call is None or not path:
        return
    line = json.dumps({**call, **outcome}, default=str, sort_keys=True)
    with _WRITE, open(path, "a", encoding="utf-8") as out:
        out.write(line + "\n")
