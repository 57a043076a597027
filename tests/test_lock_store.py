"""The apply lock's S3 adapter under moto, in process and as the tests' HTTP server: moto 5.2
honours If-Match on PutObject and DeleteObject (a stale ETag is refused with 412
PreconditionFailed, a missing key with 404), as S3 does (S3 User Guide, "How to prevent object
overwrites with conditional writes" and "How to perform conditional deletes"); so the takeover
and the conditional release below cannot pass because the emulator lets a stale write through."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from reconciler.apply.lock import LockHeldError, Release, acquire, held, new_lock_info
from reconciler.aws.lock_store import S3LockStore
from reconciler.aws.session import Clients, Connection
from tests.e2e_support import MotoServer, moto_server, moto_server_session

__all__ = ["moto_server", "moto_server_session"]
BUCKET = "reconciler-locks"
KEY = ".reconciler/apply.lock"
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


@pytest.fixture(params=["in-process", "server"])
def connection(request: pytest.FixtureRequest) -> Iterator[Connection]:
    """moto as the sandbox uses it (in process) and as the end-to-end tests do (HTTP server)."""
    if request.param == "in-process":
        with mock_aws():
            boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
            yield Connection(region="us-east-1")
        return
    server: MotoServer = request.getfixturevalue("moto_server")
    server.client("s3").create_bucket(Bucket=BUCKET)
    yield Connection(region="us-east-1", endpoint_url=server.url)


def s3_of(connection: Connection) -> Any:
    return Clients(connection).s3


def code(err: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = err.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_the_emulator_refuses_a_put_and_a_delete_with_a_stale_etag(
    connection: Connection,
) -> None:
    s3 = s3_of(connection)
    first = s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"first")["ETag"]
    second = s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"second", IfMatch=first)["ETag"]
    with pytest.raises(ClientError) as put:
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"stale", IfMatch=first)
    assert code(put) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as delete:
        s3.delete_object(Bucket=BUCKET, Key=KEY, IfMatch=first)
    assert code(delete) == ("PreconditionFailed", 412)
    assert s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == b"second"
    s3.delete_object(Bucket=BUCKET, Key=KEY, IfMatch=second)
    with pytest.raises(ClientError) as gone:
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"late", IfMatch=second)
    assert code(gone)[1] == 404
    with pytest.raises(ClientError) as gone_delete:
        s3.delete_object(Bucket=BUCKET, Key=KEY, IfMatch=second)
    assert code(gone_delete)[1] == 404


def test_an_expired_lock_is_taken_over_and_the_late_apply_leaves_it(
    connection: Connection,
) -> None:
    late, nightly = (S3LockStore(Clients(connection), BUCKET, KEY) for _ in range(2))
    warnings: list[str] = []
    with held(late, new_lock_info("role/late", 60, NOW), warn=warnings.append, clock=lambda: NOW):
        # the late apply runs past its 60 seconds; the nightly one takes the lock over
        taken = acquire(nightly, new_lock_info("role/nightly", 3600, LATER), clock=lambda: LATER)
        assert taken.replaced is not None and taken.replaced.holder == "role/late"
    stored = nightly.read()
    assert stored is not None and '"role/nightly"' in stored.body  # left in place
    assert stored.etag == taken.etag
    assert "left the apply lock" in warnings[0] and "role/nightly" in warnings[0]
    assert nightly.delete(taken.etag) is Release.DELETED
    assert nightly.read() is None
    assert nightly.delete(taken.etag) is Release.GONE  # a retry whose first answer was lost


def test_of_two_takers_that_read_the_same_expired_lock_only_one_writes(
    connection: Connection,
) -> None:
    first, second = (S3LockStore(Clients(connection), BUCKET, KEY) for _ in range(2))
    acquire(first, new_lock_info("role/killed", 60, NOW), clock=lambda: NOW)
    seen = first.read()
    assert seen is not None and seen == second.read()
    assert first.replace('{"holder": "first"}', seen.etag) is not None
    assert second.replace('{"holder": "second"}', seen.etag) is None  # 412: refused
    assert second.delete(seen.etag) is Release.CHANGED  # nor can it delete the winner's lock
    now = first.read()
    assert now is not None and now.body == '{"holder": "first"}'


def test_a_live_lock_is_refused_through_s3(connection: Connection) -> None:
    store = S3LockStore(Clients(connection), BUCKET, KEY)
    acquire(store, new_lock_info("role/running", 3600, NOW), clock=lambda: NOW)
    with pytest.raises(LockHeldError, match="is held by role/running"):
        acquire(store, new_lock_info("role/next", 3600, LATER), clock=lambda: LATER)


def test_the_lowest_botocore_allowed_knows_conditional_writes_and_deletes() -> None:
    """pyproject.toml's botocore floor is the first release whose S3 model has IfMatch on both
    PutObject and DeleteObject (1.35.69): with an older one every takeover and release would
    fail parameter validation. The installed botocore has them, and the floor names it."""
    model = botocore.session.get_session().get_service_model("s3")
    for operation in ("PutObject", "DeleteObject"):
        assert "IfMatch" in model.operation_model(operation).input_shape.members
    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert re.search(r'"botocore>=1\.35\.69"', text) and re.search(r'"boto3>=1\.35\.69"', text)
