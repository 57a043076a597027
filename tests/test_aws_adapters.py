"""The AWS reader and writer under moto's in-process mock."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from reconciler.access.review import reviewed_plan as plan
from reconciler.apply.executor import apply_plan
from reconciler.aws.reader import AwsReader
from reconciler.aws.session import Clients, Connection, strip_account_host_prefix
from reconciler.aws.writer import AwsWriter
from reconciler.errors import WriteError
from reconciler.model import Config, canonical_policy

ACCOUNT = "123456789012"
BUCKET = "clinical-share-123456789012"


@pytest.fixture
def clients() -> Iterator[Clients]:
    with mock_aws():
        yield Clients(Connection(region="us-east-1"))


def test_reader_on_empty_account(config: Config, clients: Clients) -> None:
    live = AwsReader(clients).read(config)
    assert not live.bucket.exists
    assert live.users == {} and live.access_points == {}
    assert AwsReader(clients).caller_account() == ACCOUNT


def test_write_then_read_round_trip_plans_nothing(config: Config, clients: Clients) -> None:
    reader = AwsReader(clients)
    result = apply_plan(plan(config, reader.read(config)), AwsWriter(clients, ACCOUNT))
    assert result.ok
    live = reader.read(config)
    assert live.bucket.exists and live.bucket.region == "us-east-1"
    assert set(live.users) == {"Alice", "Bob"}
    assert live.users["Alice"].path == "/collaborators/"
    assert set(live.access_points) == {"alice-access-point", "bob-access-point", "partner-site-ap"}
    assert plan(config, live).is_empty


def test_reader_reads_foreign_access_points_on_the_bucket_with_their_policies(
    config: Config, clients: Clients
) -> None:
    """verify evaluates every access point on the bucket, so foreign policies are read too."""
    clients.s3.create_bucket(Bucket=BUCKET)
    clients.s3control.create_access_point(AccountId=ACCOUNT, Name="legacy-ap", Bucket=BUCKET)
    clients.s3control.create_access_point(AccountId=ACCOUNT, Name="elsewhere", Bucket=BUCKET + "x")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Legacy",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/legacy-ap/object/*",
            }
        ],
    }
    clients.s3control.put_access_point_policy(
        AccountId=ACCOUNT, Name="legacy-ap", Policy=json.dumps(policy)
    )
    live = AwsReader(clients).read(config)
    assert set(live.access_points) == {"legacy-ap"}
    assert live.access_points["legacy-ap"].tags == {}
    assert live.access_points["legacy-ap"].policy == canonical_policy(policy)


def test_reader_reports_attached_policies_and_groups(config: Config, clients: Clients) -> None:
    """Identity policies verify cannot read must show up, so they count as unknown."""
    iam = clients.iam
    iam.create_user(UserName="Alice", Path="/collaborators/")
    iam.create_group(GroupName="Admins")
    iam.add_user_to_group(GroupName="Admins", UserName="Alice")
    arn = iam.create_policy(
        PolicyName="Wide",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName="Alice", PolicyArn=arn)
    user = AwsReader(clients).read(config).users["Alice"]
    assert user.attached_policies == (arn,)
    assert user.groups == ("Admins",)


def test_reader_pages_through_access_points(config: Config, clients: Clients) -> None:
    clients.s3.create_bucket(Bucket=BUCKET)
    for i in range(3):
        clients.s3control.create_access_point(AccountId=ACCOUNT, Name=f"ap-{i}", Bucket=BUCKET)
    reader = AwsReader(clients)
    original = clients.s3control.list_access_points
    pages: list[int] = []

    def small_pages(**kwargs: object) -> dict[str, object]:
        kwargs["MaxResults"] = 1
        page: dict[str, object] = original(**kwargs)
        pages.append(1)
        return page

    clients.s3control.list_access_points = small_pages  # type: ignore[method-assign]
    assert set(reader.read(config).access_points) == {"ap-0", "ap-1", "ap-2"}
    assert len(pages) >= 3


def test_delete_user_never_takes_a_user_out_of_a_group(clients: Clients) -> None:
    iam = clients.iam
    iam.create_user(UserName="Grouped", Path="/collaborators/")
    iam.create_group(GroupName="quarantine")
    iam.add_user_to_group(GroupName="quarantine", UserName="Grouped")
    with pytest.raises(WriteError, match="in IAM group\\(s\\) quarantine"):
        AwsWriter(clients, ACCOUNT).delete_user("Grouped")
    assert [u["UserName"] for u in iam.get_group(GroupName="quarantine")["Users"]] == ["Grouped"]


def test_delete_user_tears_down_keys_login_profile_and_policies(clients: Clients) -> None:
    iam = clients.iam
    iam.create_user(UserName="Gone", Path="/collaborators/")
    iam.create_access_key(UserName="Gone")
    iam.create_login_profile(UserName="Gone", Password="Not-a-real-password-1!")
    arn = iam.create_policy(
        PolicyName="p",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName="Gone", PolicyArn=arn)
    iam.put_user_policy(
        UserName="Gone",
        PolicyName="inline",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )
    mfa = iam.create_virtual_mfa_device(VirtualMFADeviceName="gone-mfa")["VirtualMFADevice"]
    iam.enable_mfa_device(
        UserName="Gone",
        SerialNumber=mfa["SerialNumber"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    writer = AwsWriter(clients, ACCOUNT)
    writer.delete_user("Gone")
    # moto deletes users with leftovers (AWS refuses): check each leftover is gone explicitly
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName="Gone")
    assert iam.list_entities_for_policy(PolicyArn=arn)["PolicyUsers"] == []
    # deleting again is a no-op
    writer.delete_user("Gone")


def test_delete_user_removes_leftovers_before_delete_user(clients: Clients) -> None:
    """moto would delete a user with keys; record the call order to prove the teardown."""
    iam = clients.iam
    iam.create_user(UserName="Gone")
    iam.create_access_key(UserName="Gone")
    iam.create_login_profile(UserName="Gone", Password="Not-a-real-password-1!")
    calls: list[str] = []
    iam.meta.events.register("before-call.iam.*", lambda model, **_: calls.append(model.name))
    AwsWriter(clients, ACCOUNT).delete_user("Gone")
    assert calls.index("DeleteAccessKey") < calls.index("DeleteUser")
    assert calls.index("DeleteLoginProfile") < calls.index("DeleteUser")


def test_writer_errors_carry_code_and_request_id(clients: Clients) -> None:
    writer = AwsWriter(clients, ACCOUNT)
    with pytest.raises(WriteError) as info:
        writer.put_user_policy("Nobody", "p", {"Version": "2012-10-17", "Statement": []})
    assert info.value.code == "NoSuchEntity"
    assert info.value.request_id


def test_deleting_missing_things_succeeds(clients: Clients) -> None:
    writer = AwsWriter(clients, ACCOUNT)
    writer.delete_user_policy("Nobody", "p")
    writer.delete_user("Nobody")


def test_invalid_principal_is_polled_until_iam_catches_up(clients: Clients) -> None:
    from botocore.exceptions import ClientError

    sleeps: list[float] = []
    writer = AwsWriter(clients, ACCOUNT, sleep=sleeps.append)
    attempts = {"n": 0}

    def flaky(**kwargs: object) -> None:
        attempts["n"] += 1
        if attempts["n"] < 3:
            raise ClientError(
                {"Error": {"Code": "MalformedPolicy", "Message": "Invalid principal in policy"}},
                "PutAccessPointPolicy",
            )

    writer.s3control = type("S", (), {"put_access_point_policy": staticmethod(flaky)})()
    writer.put_access_point_policy("ap", {"Version": "2012-10-17", "Statement": []})
    assert attempts["n"] == 3
    assert sleeps == [1.0, 2.0]


def test_invalid_principal_gives_up_after_the_bound(clients: Clients) -> None:
    from botocore.exceptions import ClientError

    writer = AwsWriter(clients, ACCOUNT, sleep=lambda s: None, principal_wait=0.0)

    def always(**kwargs: object) -> None:
        raise ClientError(
            {"Error": {"Code": "MalformedPolicy", "Message": "Invalid principal in policy"}},
            "PutAccessPointPolicy",
        )

    writer.s3control = type("S", (), {"put_access_point_policy": staticmethod(always)})()
    with pytest.raises(WriteError) as info:
        writer.put_access_point_policy("ap", {"Version": "2012-10-17", "Statement": []})
    assert info.value.code == "MalformedPolicy"


def test_account_host_prefix_is_stripped_for_custom_endpoints() -> None:
    request = type("R", (), {"url": "http://123456789012.127.0.0.1:5000/v20180820/accesspoint"})()
    strip_account_host_prefix(request)
    assert request.url == "http://127.0.0.1:5000/v20180820/accesspoint"


def test_clients_use_standard_retry_mode() -> None:
    with mock_aws():
        clients = Clients(Connection(region="us-east-1", max_attempts=5))
    retries = clients.iam.meta.config.retries
    assert retries["mode"] == "standard" and retries["total_max_attempts"] == 5


def test_bucket_in_other_region_is_read(config: Config) -> None:
    with mock_aws():
        boto3.client("s3", region_name="eu-west-1").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        live = AwsReader(Clients(Connection(region="us-east-1"))).read(config)
    assert live.bucket.region == "eu-west-1"


def test_new_access_point_not_yet_visible_is_polled(clients: Clients) -> None:
    from botocore.exceptions import ClientError

    sleeps: list[float] = []
    writer = AwsWriter(clients, ACCOUNT, sleep=sleeps.append)
    attempts = {"n": 0}

    def not_yet(**kwargs: object) -> None:
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise ClientError(
                {"Error": {"Code": "NoSuchAccessPoint", "Message": "not found"}},
                "PutAccessPointPolicy",
            )

    writer.s3control = type("S", (), {"put_access_point_policy": staticmethod(not_yet)})()
    writer.put_access_point_policy("ap", {"Version": "2012-10-17", "Statement": []})
    assert attempts["n"] == 2 and sleeps == [1.0]


def test_malformed_response_becomes_a_write_error(clients: Clients) -> None:
    writer = AwsWriter(clients, ACCOUNT)
    writer.s3control = type("S", (), {"get_access_point": staticmethod(lambda **kwargs: {})})()
    with pytest.raises(WriteError) as info:
        writer.tag_access_point("ap", {"k": "v"})
    assert info.value.code == "MalformedResponse"
