"""The apply lock's S3 object: created with If-None-Match: *, taken over and deleted with
If-Match: <ETag>, so only one writer can win and nobody removes a lock that is not theirs."""

from __future__ import annotations

from botocore.exceptions import ClientError

from reconciler.apply.lock import Release, Stored
from reconciler.aws.errors import error_code, reading
from reconciler.aws.objects import (
    bucket_exists,
    create_if_absent,
    delete_if_match,
    replace_if_match,
)
from reconciler.aws.session import Clients


class S3LockStore:
    def __init__(self, clients: Clients, bucket: str, key: str) -> None:
        self.s3 = clients.s3
        self.bucket = bucket
        self.key = key
        self.location = f"s3://{bucket}/{key}"

    @reading("the lock bucket (s3:HeadBucket)", verb="checking")
    def bucket_exists(self) -> bool:
        return bucket_exists(self.s3, self.bucket)

    @reading("the apply lock (s3:PutObject)", verb="taking")
    def create(self, body: str) -> str | None:
        return create_if_absent(self.s3, self.bucket, self.key, body.encode())

    @reading("the expired apply lock (s3:PutObject)", verb="taking over")
    def replace(self, body: str, etag: str) -> str | None:
        return replace_if_match(self.s3, self.bucket, self.key, body.encode(), etag)

    @reading("the apply lock (s3:GetObject)")
    def read(self) -> Stored | None:
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=self.key)
        except ClientError as err:
            if error_code(err) in {"NoSuchKey", "404"}:
                return None
            raise
        return Stored(body=str(response["Body"].read().decode()), etag=str(response["ETag"]))

    @reading("the apply lock (s3:DeleteObject)", verb="releasing")
    def delete(self, etag: str) -> Release:
        return Release(delete_if_match(self.s3, self.bucket, self.key, etag))
