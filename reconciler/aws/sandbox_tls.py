"""The sandbox sees TLS: a faithful fix to moto's bucket-policy check for the embedded sandbox.

Every request the sandbox serves comes from boto3 over an `https://` endpoint, so on AWS its
`aws:SecureTransport` is true and a bucket-policy Deny conditioned on `Bool aws:SecureTransport
= false` (the tool's TLS-only statement) does not apply to it. moto, with authentication off,
treats every Condition as met and lets that Deny refuse every object write, the apply lock
included. Here statements conditioned on plain HTTP are left out of the check; every other
statement is evaluated as moto does. (IAM User Guide, "AWS global condition context keys":
aws:SecureTransport is true when the request was sent over TLS.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock


def plain_http_only(statement: Any) -> bool:
    """A statement that only matches requests sent without TLS."""
    if not isinstance(statement, dict):
        return False
    value = statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
    values = value if isinstance(value, list) else [value]
    return bool(values) and all(str(v).lower() == "false" for v in values)


def over_tls(policy: bytes) -> bytes:
    """The bucket policy as it applies to a request sent over TLS."""
    document = json.loads(policy)
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    document["Statement"] = [s for s in statements if not plain_http_only(s)]
    return json.dumps(document).encode()


@contextmanager
def tls_aware_bucket_policies() -> Iterator[None]:
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        return IAMPolicy(over_tls(self.policy).decode()).is_action_permitted(action, resource)

    with mock.patch.object(FakeBucket, "get_permission", get_permission):
        yield
