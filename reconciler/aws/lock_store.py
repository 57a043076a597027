"""The apply lock's S3 object: created with If-None-Match: * so only one writer can win."""

from __future__ import annotations

from botocore.exceptions import ClientError

from reconciler.aws.errors import error_code, reading
from reconciler.aws.objects import bucket_exists, create_if_absent
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
    def create(self, body: str) -> bool:
        return create_if_absent(self.s3, self.bucket, self.key, body.encode())

    @reading("the apply lock (s3:GetObject)")
    def read(self) -> str | None:
        try:
            response = self.s3.get_object(Bucket=self.bucket, Key=self.key)
        except ClientError as err:
            if error_code(err) in {"NoSuchKey", "404"}:
                return None
            raise
        return str(response["Body"].read().decode())

    @reading("the apply lock (s3:DeleteObject)", verb="releasing")
    def delete(self) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=self.key)
