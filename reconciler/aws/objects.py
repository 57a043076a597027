"""Small S3 object helpers shared by the lock and the audit store."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from reconciler.aws.errors import error_code

_EXISTS = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
_NO_BUCKET = {"404", "NoSuchBucket", "NotFound"}


def bucket_exists(s3: Any, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as err:
        if error_code(err) in _NO_BUCKET:
            return False
        raise
    return True


def create_if_absent(s3: Any, bucket: str, key: str, body: bytes) -> bool:
    """PutObject with If-None-Match: * (a conditional write): False when the key exists, so
    an existing object is never overwritten and only one of two writers wins."""
    try:
        s3.put_object(
            Bucket=bucket, Key=key, Body=body, IfNoneMatch="*", ContentType="application/json"
        )
    except ClientError as err:
        if error_code(err) in _EXISTS:
            return False
        raise
    return True
