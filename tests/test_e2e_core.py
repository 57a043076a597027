"""End to end: the `reconcile` command as a subprocess against a moto HTTP server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import BASE_YAML
from tests.e2e_support import (
    LOCK_BUCKET,
    MotoServer,
    config_file,
    moto_server,
    moto_server_session,
    run_reconcile,
)

__all__ = ["config_file", "moto_server", "moto_server_session"]
pytestmark = pytest.mark.e2e
BUCKET = "clinical-share-123456789012"
ACCOUNT = "123456789012"


def bucket_names(server: MotoServer) -> list[str]:
    return [b["Name"] for b in server.client("s3").list_buckets()["Buckets"]]


def plan_json(server: MotoServer, config_file: Path) -> dict:
    result = run_reconcile("plan", "-c", str(config_file), "--format", "json", server=server)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def apply(server: MotoServer, config_file: Path) -> None:
    result = run_reconcile("apply", "-c", str(config_file), "--auto-approve", server=server)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Converged" in result.stdout
    assert "Traceback" not in result.stderr


def test_plan_apply_plan_is_empty_and_second_apply_changes_nothing(
    moto_server: MotoServer, config_file: Path
) -> None:
    first = run_reconcile(
        "--plan", "-c", str(config_file), "--detailed-exitcode", server=moto_server
    )
    assert first.returncode == 2, first.stderr
    assert "Plan: 15 to create, 0 to update, 0 to replace, 0 to delete." in first.stdout
    apply(moto_server, config_file)
    again = run_reconcile("plan", "-c", str(config_file), "--detailed-exitcode", server=moto_server)
    assert again.returncode == 0
    # the file as given (issue 20: a share file is named, not always collaborators.yaml)
    assert again.stdout.strip() == f"No changes. Live state matches {config_file}."
    second = run_reconcile("--apply", "-c", str(config_file), "--auto-approve", server=moto_server)
    assert second.returncode == 0
    assert "applied:" not in second.stdout
    iam = moto_server.client("iam")
    user = iam.get_user(UserName="Alice")["User"]
    assert user["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/collaborators/Alice"
    assert iam.list_access_keys(UserName="Alice")["AccessKeyMetadata"] == []
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_login_profile(UserName="Alice")


def test_out_of_band_drift_is_planned_exactly_and_corrected(
    moto_server: MotoServer, config_file: Path
) -> None:
    # Bob opts in to the console, so that he has an inline policy to lose
    config_file.write_text(BASE_YAML.replace("list]\n", "list]\n    console: true\n"))
    apply(moto_server, config_file)
    s3, s3control, iam = (moto_server.client(s) for s in ("s3", "s3control", "iam"))
    # 1. broaden Alice's access point policy
    ap_policy = json.loads(
        s3control.get_access_point_policy(AccountId=ACCOUNT, Name="alice-access-point")["Policy"]
    )
    ap_policy["Statement"][0]["Resource"] = (
        f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/alice-access-point/object/*"
    )
    s3control.put_access_point_policy(
        AccountId=ACCOUNT, Name="alice-access-point", Policy=json.dumps(ap_policy)
    )
    # 2. delete Bob's inline policy
    iam.delete_user_policy(UserName="Bob", PolicyName="reconciler-access-point-access")
    # 3. a foreign bucket-policy statement
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    foreign = {
        "Sid": "AuditorLocation",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/Auditor"},
        "Action": "s3:GetBucketLocation",
        "Resource": f"arn:aws:s3:::{BUCKET}",
    }
    policy["Statement"].append(foreign)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    # 4. an untagged access point on the bucket
    s3control.create_access_point(AccountId=ACCOUNT, Name="legacy-ap", Bucket=BUCKET)

    doc = plan_json(moto_server, config_file)
    assert [(c["action"], c["type"], c["id"]) for c in doc["changes"]] == [
        ("update", "access_point_policy", "alice-access-point"),
        ("create", "iam_user_policy", "Bob/reconciler-access-point-access"),
    ]
    assert any("legacy-ap" in w for w in doc["warnings"])

    apply(moto_server, config_file)
    assert plan_json(moto_server, config_file)["changes"] == []
    statements = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert foreign in statements
    names = {
        ap["Name"] for ap in s3control.list_access_points(AccountId=ACCOUNT)["AccessPointList"]
    }
    assert "legacy-ap" in names


def test_foreign_statement_survives_a_change_to_ours(
    moto_server: MotoServer, config_file: Path
) -> None:
    s3 = moto_server.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    foreign = {
        "Sid": "KeepMe",
        "Effect": "Deny",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/Intern"},
        "Action": "s3:DeleteBucket",
        "Resource": f"arn:aws:s3:::{BUCKET}",
    }
    s3.put_bucket_policy(
        Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [foreign]})
    )
    apply(moto_server, config_file)
    statements = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert foreign in statements
    assert {s["Sid"] for s in statements} == {
        "KeepMe",
        "ReconcilerDelegateToAccessPoints",
        "ReconcilerDenyInsecureTransport",
        "ReconcilerDenyLongLivedPresignedUrls",
        # issue 22
        "ReconcilerDenySignatureVersion2",
        "ReconcilerDenyTlsBefore12",
        "ReconcilerDenyOtherEncryption",
        "ReconcilerDenyCustomerProvidedKeys",
    }


def test_removing_a_collaborator_removes_its_access_point_policies_and_user(
    moto_server: MotoServer, config_file: Path, tmp_path: Path
) -> None:
    apply(moto_server, config_file)
    iam, s3control = moto_server.client("iam"), moto_server.client("s3control")
    iam.create_access_key(UserName="Bob")
    iam.create_login_profile(UserName="Bob", Password="Not-a-real-password-1!")
    config_file.write_text(
        BASE_YAML.replace(
            "  - id: bob\n    iam_user: Bob\n    prefix: Bob/\n    access: [write, read, list]\n",
            "",
        )
    )
    doc = plan_json(moto_server, config_file)
    assert sorted((c["action"], c["type"], c["id"]) for c in doc["changes"]) == [
        ("delete", "access_point", "bob-access-point"),
        ("delete", "access_point_policy", "bob-access-point"),
        ("delete", "iam_user", "Bob"),  # no inline policy: Bob did not opt in to the console
        ("update", "bucket_policy", BUCKET),  # bob's access point leaves the delegation
    ]
    apply(moto_server, config_file)
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName="Bob")
    names = {
        ap["Name"] for ap in s3control.list_access_points(AccountId=ACCOUNT)["AccessPointList"]
    }
    assert "bob-access-point" not in names and "alice-access-point" in names
    assert plan_json(moto_server, config_file)["changes"] == []


def test_unmanaged_user_blocks_the_plan_without_takeover(
    moto_server: MotoServer, config_file: Path
) -> None:
    iam = moto_server.client("iam")
    iam.create_user(UserName="Alice")
    result = run_reconcile("apply", "-c", str(config_file), "--auto-approve", server=moto_server)
    assert result.returncode == 1
    assert "IAM user Alice already exists but is not managed" in result.stdout
    assert "Traceback" not in result.stderr
    assert iam.list_user_tags(UserName="Alice")["Tags"] == []
    assert iam.list_user_policies(UserName="Alice")["PolicyNames"] == []
    assert "Bob" not in {u["UserName"] for u in iam.list_users()["Users"]}


def test_wrong_account_is_refused_before_any_change(
    moto_server: MotoServer, config_file: Path
) -> None:
    config_file.write_text(BASE_YAML.replace('"123456789012"', '"999999999999"'))
    result = run_reconcile("apply", "-c", str(config_file), "--auto-approve", server=moto_server)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: the credentials belong to AWS account")
    assert len(result.stderr.strip().splitlines()) == 1
    assert bucket_names(moto_server) == [LOCK_BUCKET]


def test_apply_without_terminal_or_auto_approve_refuses(
    moto_server: MotoServer, config_file: Path
) -> None:
    result = run_reconcile("apply", "-c", str(config_file), server=moto_server, stdin="yes\n")
    assert result.returncode == 1
    assert "--auto-approve" in result.stderr
    assert bucket_names(moto_server) == [LOCK_BUCKET]


def test_unreachable_endpoint_is_one_clear_line(config_file: Path) -> None:
    from tests.e2e_support import free_port, reconcile_env

    env = reconcile_env(None, AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}")
    result = run_reconcile("plan", "-c", str(config_file), env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: cannot reach AWS")


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run_reconcile("plan", "-c", str(tmp_path / "nope.yaml"), env={"PATH": "/usr/bin"})
    assert result.returncode == 1
    assert "nope.yaml" in result.stderr and "Traceback" not in result.stderr


def test_sandbox_apply_shows_plan_applies_and_converges() -> None:
    result = run_reconcile("apply", "--sandbox", "--auto-approve")
    assert result.returncode == 0, result.stderr
    assert "Plan: 15 to create" in result.stdout
    assert "Converged: a fresh plan finds no changes." in result.stdout


def test_sandbox_works_for_any_account(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(BASE_YAML.replace("123456789012", "210987654321"))
    result = run_reconcile("apply", "--sandbox", "--auto-approve", "-c", str(path))
    assert result.returncode == 0, result.stderr
    assert "Converged" in result.stdout
