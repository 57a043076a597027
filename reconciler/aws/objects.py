"""Small S3 object helpers shared by the lock and the audit store: conditional writes and
deletes.

S3 User Guide, "How to prevent object overwrites with conditional writes"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html) and the
PutObject API reference (IfNoneMatch, IfMatch): PutObject with If-None-Match: * writes only when
the key is absent (this needs s3:PutObject); with If-Match: <ETag> only while the object's ETag
is that one. A failed condition answers 412 PreconditionFailed; a concurrent conditional request
on the same key that wins answers 409 ConditionalRequestConflict ("fetch the object's ETag and
retry"); a concurrent delete that succeeds first makes the write answer 404. The Service
Authorization Reference lists the condition keys s3:if-none-match and s3:if-match for
s3:PutObject, so a policy could demand them; the apply role's lock statement grants
s3:PutObject, s3:GetObject and s3:DeleteObject on the lock key.

"How to perform conditional deletes"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html): DeleteObject
takes If-Match: <ETag> on general purpose buckets since 16 September 2025 (What's New, "Amazon S3
now supports conditional deletes in S3 general purpose buckets",
https://aws.amazon.com/about-aws/whats-new/2025/09/amazon-s3-conditional-deletes-s3-general-purpose-buckets/;
directory buckets since November 2024): 204 when the ETag matches, 412 when it does not, 409
when a concurrent PUT or DELETE succeeded first. With an ETag it needs s3:DeleteObject and
s3:GetObject. botocore sends both headers (PutObject and DeleteObject take IfMatch).
"""

from __future__ import annotations

from typing import Any, Literal

from botocore.exceptions import ClientError

from reconciler.aws.errors import error_code

_LOST = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
_GONE = {"NoSuchKey", "404", "NotFound"}
_NO_BUCKET = {"404", "NoSuchBucket", "NotFound"}
Deleted = Literal["deleted", "gone", "changed"]


def bucket_exists(s3: Any, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as err:
        if error_code(err) in _NO_BUCKET:
            return False
        raise
    return True


def create_if_absent(s3: Any, bucket: str, key: str, body: bytes) -> str | None:
    """PutObject with If-None-Match: * (a conditional write): the new object's ETag, or None
    when the key exists, so an existing object is never overwritten and only one of two
    writers wins."""
    return _put(s3, bucket, key, body, IfNoneMatch="*")


def replace_if_match(s3: Any, bucket: str, key: str, body: bytes, etag: str) -> str | None:
    """PutObject with If-Match: <etag>: the new ETag, or None when the object changed (412),
    a concurrent conditional write won (409) or the object is gone (404): of two writers that
    read the same version, only one replaces it."""
    return _put(s3, bucket, key, body, IfMatch=etag, gone_is_lost=True)


def _put(
    s3: Any, bucket: str, key: str, body: bytes, *, gone_is_lost: bool = False, **condition: str
) -> str | None:
    try:
        response = s3.put_object(
            Bucket=bucket, Key=key, Body=body, ContentType="application/json", **condition
        )
    except ClientError as err:
        code = error_code(err)
        if code in _LOST or (gone_is_lost and code in _GONE):
            return None
        raise
    return str(response["ETag"])


def delete_if_match(s3: Any, bucket: str, key: str, etag: str) -> Deleted:
    """DeleteObject with If-Match: <etag>: "deleted", "gone" when nothing is there (already
    deleted, e.g. by a retry whose first answer was lost), or "changed" when the object is no
    longer that version (412; 409 when a concurrent PUT or DELETE succeeded first): then it
    is someone else's and is left alone."""
    try:
        s3.delete_object(Bucket=bucket, Key=key, IfMatch=etag)
    except ClientError as err:
        code = error_code(err)
        if code in _GONE:
            return "gone"
        if code in _LOST:
            return "changed"
        raise
    return "deleted"
