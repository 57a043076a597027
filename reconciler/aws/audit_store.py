"""The audit trail in S3: one new object per record, created with a conditional write
(If-None-Match: *) so an existing record is never overwritten."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from typing import Any

from reconciler.apply.audit import record_key, to_line
from reconciler.aws.errors import reading
from reconciler.aws.objects import bucket_exists, create_if_absent
from reconciler.aws.session import Clients
from reconciler.errors import ReconcilerError

_ATTEMPTS = 5


class S3AuditStore:
    def __init__(self, clients: Clients, bucket: str, prefix: str) -> None:
        self.s3 = clients.s3
        self.bucket = bucket
        self.prefix = prefix
        self.location = f"s3://{bucket}/{prefix}"

    @reading("the audit bucket (s3:HeadBucket)", verb="checking")
    def check(self) -> None:
        if not bucket_exists(self.s3, self.bucket):
            raise ReconcilerError(
                f"the audit bucket {self.bucket} does not exist: create it (ideally with "
                "versioning or Object Lock), or fix audit.bucket / --audit-bucket"
            )

    def append(self, record: Mapping[str, Any]) -> str:
        body = to_line(record).encode()
        for _ in range(_ATTEMPTS):
            key = record_key(self.prefix, record, secrets.token_hex(4))
            if self._create(key, body):
                return f"s3://{self.bucket}/{key}"
        raise ReconcilerError(
            f"could not find a free key for the audit record under {self.location}"
        )

    @reading("an audit record (s3:PutObject)", verb="writing")
    def _create(self, key: str, body: bytes) -> bool:
        return create_if_absent(self.s3, self.bucket, key, body) is not None

    @reading("audit records (s3:ListObjectsV2)")
    def keys(self) -> list[str]:
        paginator = self.s3.get_paginator("list_objects_v2")
        found = [
            str(item["Key"])
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix)
            for item in page.get("Contents", [])
            if str(item["Key"]).endswith(".json")
        ]
        return sorted(found)

    @reading("an audit record (s3:GetObject)")
    def get(self, key: str) -> str:
        response = self.s3.get_object(Bucket=self.bucket, Key=key)
        return str(response["Body"].read().decode())

    def read(self) -> list[str]:
        return [self.get(key) for key in self.keys()]

    def newest_first(self) -> Iterator[str]:
        """Keys sort by time (record_key), so the newest record is read first and the rest
        only as far as the caller looks."""
        return (self.get(key) for key in reversed(self.keys()))
