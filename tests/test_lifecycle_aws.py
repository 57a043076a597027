"""The AWS adapters' lifecycle parts under moto's in-process mock: access keys are read only for
suspended users, deactivated (never deleted), and the suspension tag comes off on re-activation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from moto import mock_aws

from reconciler.access.review import reviewed_plan as plan
from reconciler.aws.reader import AwsReader
from reconciler.aws.session import Clients, Connection
from reconciler.aws.writer import AwsWriter
from reconciler.executor import apply_plan
from reconciler.lifecycle import resolve
from reconciler.model import STATUS_TAG_KEY, Config
from tests.conftest import BASE_YAML, config_from

ACCOUNT = "123456789012"
SUSPENDED_BOB = BASE_YAML.replace(
    "access: [write, read, list]", "access: [write, read, list]\n    status: suspended"
)


@pytest.fixture
def clients() -> Iterator[Clients]:
    with mock_aws():
        yield Clients(Connection(region="us-east-1"))


def count_calls(clients: Clients) -> Counter[str]:
    calls: Counter[str] = Counter()

    def record(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    for client in (clients.s3, clients.s3control, clients.iam, clients.sts):
        client.meta.events.register("before-call", record)
    return calls


def converge(config: Config, clients: Clients, today: date | None = None) -> None:
    reader, writer = AwsReader(clients), AwsWriter(clients, ACCOUNT)
    live = reader.read(resolve(config, today))
    assert apply_plan(plan(config, live, today=today), writer).ok
    assert plan(config, reader.read(resolve(config, today)), today=today).is_empty


def test_access_keys_are_listed_only_for_suspended_users(config: Config, clients: Clients) -> None:
    converge(config, clients)
    calls = count_calls(clients)
    live = AwsReader(clients).read(config)
    assert calls["ListAccessKeys"] == 0
    assert all(u.access_keys is None for u in live.users.values())
    suspended = config_from(SUSPENDED_BOB)
    live = AwsReader(clients).read(suspended)
    assert calls["ListAccessKeys"] == 1
    assert live.users["Bob"].access_keys == {} and live.users["Alice"].access_keys is None


def test_suspension_deactivates_keys_and_reactivation_removes_the_tags(
    config: Config, clients: Clients
) -> None:
    converge(config, clients)
    key = clients.iam.create_access_key(UserName="Bob")["AccessKey"]["AccessKeyId"]
    converge(config_from(SUSPENDED_BOB), clients)
    listed = clients.iam.list_access_keys(UserName="Bob")["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in listed] == [(key, "Inactive")]
    ap_arn = f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/bob-access-point"

    def status_tags() -> list[str]:
        user = clients.iam.list_user_tags(UserName="Bob")["Tags"]
        ap = clients.s3control.list_tags_for_resource(AccountId=ACCOUNT, ResourceArn=ap_arn)
        return [t["Value"] for t in [*user, *ap["Tags"]] if t["Key"] == STATUS_TAG_KEY]

    assert status_tags() == ["suspended", "suspended"]
    converge(config, clients)
    assert status_tags() == []
    listed = clients.iam.list_access_keys(UserName="Bob")["AccessKeyMetadata"]
    assert [k["Status"] for k in listed] == ["Inactive"]
