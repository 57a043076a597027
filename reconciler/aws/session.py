"""boto3 session and clients: retry mode, endpoint override (moto server, LocalStack)."""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ProfileNotFound

from reconciler.aws.call_log import install_call_logging
from reconciler.errors import AwsError

DEFAULT_MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class Connection:
    """Everything needed to build clients; thread-safe clients are created once and shared."""

    region: str
    profile: str | None = None
    endpoint_url: str | None = None
    retry_mode: str = "standard"
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    max_pool_connections: int = 10

    @property
    def custom_endpoint(self) -> str | None:
        return (
            self.endpoint_url
            or os.environ.get("AWS_ENDPOINT_URL_S3_CONTROL")
            or os.environ.get("AWS_ENDPOINT_URL")
            or None
        )


def open_session(connection: Connection) -> boto3.Session:
    """A boto3 session; a profile that does not exist is one clear line naming --profile."""
    try:
        return boto3.Session(profile_name=connection.profile, region_name=connection.region)
    except ProfileNotFound:
        raise AwsError(
            f"--profile / AWS_PROFILE: no profile {connection.profile!r} in the AWS config "
            "files (~/.aws/config, ~/.aws/credentials): `aws configure list-profiles` lists "
            "them; or run with --sandbox"
        ) from None


class Clients:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        session = open_session(connection)
        self.s3: Any = self._client(session, "s3")
        self.s3control: Any = self._client(session, "s3control")
        self.iam: Any = self._client(session, "iam")
        self.sts: Any = self._client(session, "sts")

    @functools.cached_property
    def kms(self) -> Any:
        """Only made when the bucket uses SSE-KMS."""
        return self._client(open_session(self.connection), "kms")

    @functools.cached_property
    def cloudtrail(self) -> Any:
        """Only made when the YAML names a data_events_trail."""
        return self._client(open_session(self.connection), "cloudtrail")

    @functools.cached_property
    def identity(self) -> dict[str, Any]:
        """sts:GetCallerIdentity, once per run: the account check, the lock holder and the
        audit record all need it, and it cannot change while the clients live."""
        return dict(self.sts.get_caller_identity())

    def _client(self, session: boto3.Session, service: str) -> Any:
        conn = self.connection
        options: dict[str, Any] = {
            "retries": {"mode": conn.retry_mode, "total_max_attempts": conn.max_attempts},
            "max_pool_connections": conn.max_pool_connections,
        }
        endpoint = conn.custom_endpoint
        if endpoint and service == "s3":
            options["s3"] = {"addressing_style": "path"}
        kwargs: dict[str, Any] = {"config": BotoConfig(**options)}
        if conn.endpoint_url:
            kwargs["endpoint_url"] = conn.endpoint_url
        client: Any = session.client(service, **kwargs)  # type: ignore[call-overload]
        install_call_logging(client)
        if endpoint and service == "s3control":
            # botocore's endpoint rules put "<AccountId>." in front of S3 Control hosts; with a
            # local emulator (127.0.0.1:5000) that host does not resolve. Send it as configured.
            client.meta.events.register("before-sign.s3-control.*", strip_account_host_prefix)
        return client


_ACCOUNT_PREFIX = re.compile(r"^[0-9]{12}\.")


def strip_account_host_prefix(request: Any, **_: Any) -> None:
    parts = urlsplit(request.url)
    netloc = _ACCOUNT_PREFIX.sub("", parts.netloc)
    if netloc != parts.netloc:
        request.url = urlunsplit(parts._replace(netloc=netloc))
