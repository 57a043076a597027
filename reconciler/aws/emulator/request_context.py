"""The sandbox knows its requests: a faithful fix to moto's bucket-policy check for the
embedded sandbox.

Every request the sandbox serves comes from boto3 over an `https://` endpoint, signed in its
headers (never a presigned URL). On AWS such a request has `aws:SecureTransport` true and no
`s3:signatureAge`, so a bucket-policy Deny conditioned on plain HTTP (the tool's TLS-only
statement) or on the age of a presigned URL's signature does not apply to it. moto, with
authentication off, treats every Condition as met and lets those Denies refuse every object
write, the apply lock included. Here such statements are left out of the check; every other
statement is evaluated as moto does.

IAM User Guide, "AWS global condition context keys": aws:SecureTransport is true when the
request was sent over TLS. IAM User Guide, "IAM JSON policy elements: Condition operators": a
key not present in the request context does not match (the condition is false) unless the
operator ends in IfExists or is Null. S3 API Reference, "Amazon S3 Signature Version 4
Authentication Specific Policy Keys": s3:signatureAge is set only for presigned URLs;
s3:signatureversion is AWS4-HMAC-SHA256 for SigV4."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

# condition keys are case-insensitive. The sandbox's requests carry no encryption header (the
# tool never sends one: the bucket default applies) and are signed with SigV4 over TLS 1.2 or
# later (botocore's defaults); issue 22's bucket-policy Denies on these keys never match them.
_ABSENT_KEYS = {
    "s3:signatureage",
    "s3:x-amz-server-side-encryption",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:x-amz-server-side-encryption-customer-algorithm",
}
_SIGV4 = "AWS4-HMAC-SHA256"


def cannot_match(statement: Any) -> bool:
    """A statement no sandbox request matches: it needs plain HTTP, a presigned URL, an
    encryption header, Signature Version 2 or TLS older than 1.2."""
    if not isinstance(statement, dict) or not isinstance(statement.get("Condition"), dict):
        return False
    for operator, keys in statement["Condition"].items():
        if not isinstance(keys, dict):
            continue
        for key, value in keys.items():
            if (
                _needs_plain_http(operator, key, value)
                or _needs_absent_key(operator, key, value)
                or _needs_other_signature(operator, key, value)
                or _needs_old_tls(operator, key, value)
            ):
                return True
    return False


def _values(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _needs_other_signature(operator: str, key: str, value: Any) -> bool:
    return (
        operator == "StringNotEquals"
        and key.lower() == "s3:signatureversion"
        and _SIGV4 in _values(value)
    )


def _needs_old_tls(operator: str, key: str, value: Any) -> bool:
    try:
        numbers = [float(v) for v in _values(value)]
    except ValueError:
        return False
    return operator == "NumericLessThan" and key.lower() == "s3:tlsversion" and max(numbers) <= 1.2


def _needs_plain_http(operator: str, key: str, value: Any) -> bool:
    values = value if isinstance(value, list) else [value]
    return (
        operator == "Bool"
        and key.lower() == "aws:securetransport"
        and all(str(v).lower() == "false" for v in values)
    )


def _needs_absent_key(operator: str, key: str, value: Any) -> bool:
    """A key the sandbox's requests never carry: a positive operator, or Null "false", needs
    it present (a negated operator is true on an absent key)."""
    if key.lower() not in _ABSENT_KEYS or operator.endswith("IfExists"):
        return False
    if operator == "Null":
        return all(v.lower() == "false" for v in _values(value))
    return "Not" not in operator


def as_sandbox_requests_see_it(policy: bytes) -> bytes:
    """The bucket policy as it applies to a request sent over TLS with a signed header."""
    document = json.loads(policy)
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    document["Statement"] = [s for s in statements if not cannot_match(s)]
    return json.dumps(document).encode()


@contextmanager
def tls_aware_bucket_policies() -> Iterator[None]:
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = as_sandbox_requests_see_it(self.policy).decode()
        return IAMPolicy(policy).is_action_permitted(action, resource)

    with mock.patch.object(FakeBucket, "get_permission", get_permission):
        yield
