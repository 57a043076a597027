"""The embedded sandbox: an in-process AWS emulator (moto), so anyone can try the tool with no
AWS account. Nothing leaves the process; state lasts for one command."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from unittest import mock

# Placeholder values that moto accepts; they are not credentials for any real account.
_SANDBOX_ENV = {
    "AWS_ACCESS_KEY_ID": "sandbox",
    "AWS_SECRET_ACCESS_KEY": "sandbox",
    "AWS_SESSION_TOKEN": "sandbox",
}
_CLEARED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL")


@contextmanager
def sandbox(
    account_id: str,
    region: str,
    buckets: tuple[str, ...] = (),
    policies: Mapping[str, Mapping[str, Any]] | None = None,
) -> Iterator[None]:
    """`buckets` are created up front: those the config expects to exist already (the lock's);
    so are the managed `policies` (ARN -> document) it expects, e.g. the users' permissions
    boundary that administrators create once."""
    import boto3
    from moto import mock_aws

    from reconciler.aws.emulator import iam_boundaries

    iam_boundaries.install()  # moto drops IAM users' permissions boundaries

    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env.update(_SANDBOX_ENV)
    env["MOTO_ACCOUNT_ID"] = account_id
    env["AWS_DEFAULT_REGION"] = region
    with mock.patch.dict(os.environ, env, clear=True), mock_aws():
        s3: Any = boto3.client("s3", region_name=region)
        for name in buckets:
            kwargs: dict[str, Any] = {"Bucket": name}
            if region != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
            s3.create_bucket(**kwargs)
        iam_boundaries.create_policies(boto3.client("iam"), policies or {})
        yield
