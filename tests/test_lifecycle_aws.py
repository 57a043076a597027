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
from reconciler.apply.executor import apply_plan
from reconciler.aws.reader import AwsReader
from reconciler.aws.session import Clients, Connection
from reconciler.aws.writer import AwsWriter
from reconciler.model import EXPIRES_TAG_KEY, STATUS_TAG_KEY, Config
from reconciler.plan.lifecycle import resolve
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


def test_the_expires_tag_is_written_changed_and_removed(config: Config, clients: Clients) -> None:
    """reconciler:expires is written to, changed on and removed from the IAM user; never put
    on the access point (its tags are not read while its policy is in sync, so a removed date
    could not be untagged there)."""
    ap_arn = f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/bob-access-point"

    def expires_tags() -> list[str]:
        user = clients.iam.list_user_tags(UserName="Bob")["Tags"]
        ap = clients.s3control.list_tags_for_resource(AccountId=ACCOUNT, ResourceArn=ap_arn)
        assert EXPIRES_TAG_KEY not in {t["Key"] for t in ap["Tags"]}
        return [t["Value"] for t in user if t["Key"] == EXPIRES_TAG_KEY]

    converge(config, clients)
    assert expires_tags() == []
    dated = "access: [write, read, list]\n    expires: 2030-01-31"
    converge(config_from(BASE_YAML.replace("access: [write, read, list]", dated)), clients)
    assert expires_tags() == ["2030-01-31"]
    moved = dated.replace("2030-01-31", "2030-03-01")
    converge(config_from(BASE_YAML.replace("access: [write, read, list]", moved)), clients)
    assert expires_tags() == ["2030-03-01"]
    converge(config, clients)
    assert expires_tags() == []
