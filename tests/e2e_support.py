"""A real moto HTTP server and a way to run the `reconcile` command against it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parents[1]
# moto applies a bucket policy's Deny statements to every object write (it treats all
# conditions as met), so after the first apply the shared bucket refuses the lock object.
# AWS does not; end-to-end tests therefore keep the apply lock in a bucket of its own.
LOCK_BUCKET = "reconciler-test-locks"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class MotoServer:
    url: str

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request).read()
        self.client("s3").create_bucket(Bucket=LOCK_BUCKET)

    def client(self, service: str) -> Any:
        kwargs: dict[str, Any] = {}
        if service == "s3control":
            from botocore.config import Config

            kwargs["config"] = Config(inject_host_prefix=False)
        client = boto3.client(
            service,
            region_name="us-east-1",
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            **kwargs,
        )
        if service == "s3control":
            from reconciler.aws.session import strip_account_host_prefix

            client.meta.events.register("before-sign.s3-control.*", strip_account_host_prefix)
        return client


@pytest.fixture(scope="session")
def moto_server_session() -> Iterator[MotoServer]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield MotoServer(f"http://127.0.0.1:{port}")
    finally:
        server.stop()


@pytest.fixture
def moto_server(moto_server_session: MotoServer) -> MotoServer:
    moto_server_session.reset()
    return moto_server_session


def reconcile_env(server: MotoServer | None, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and k not in {"MOTO_ACCOUNT_ID", "GITHUB_ACTIONS"}
    }
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE="/nonexistent/aws-config",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent/aws-credentials",
        AWS_MAX_ATTEMPTS="2",
        NO_COLOR="1",
        RECONCILE_LOCK_BUCKET=LOCK_BUCKET,
    )
    if server is not None:
        env["AWS_ENDPOINT_URL"] = server.url
    env.update(extra)
    return env


def run_reconcile(
    *args: str,
    server: MotoServer | None = None,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env=env if env is not None else reconcile_env(server),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
