"""End to end against a moto server (which has KMS keys, aliases and key policies, but never
checks an S3 request against KMS: the evaluator decides who can use the key): a KMS bucket
named by key ARN and by alias, with a partner in another account; apply converges, the key
policy gets the partner's statement and keeps the others, and verify passes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import BASE_YAML
from tests.e2e_support import MotoServer, moto_server, moto_server_session, run_reconcile

__all__ = ["moto_server", "moto_server_session"]
pytestmark = pytest.mark.e2e
BUCKET = "clinical-share-123456789012"
ACCOUNT = "123456789012"
PARTNER = "arn:aws:iam::111122223333:role/Uploader"


def make_key(server: MotoServer) -> str:
    kms = server.client("kms")
    arn = str(kms.create_key(Description="clinical data")["KeyMetadata"]["Arn"])
    kms.create_alias(AliasName="alias/clinical-data", TargetKeyId=arn)
    return arn


def write_config(tmp_path: Path, key_id: str) -> Path:
    path = tmp_path / "collaborators.yaml"
    path.write_text(write_yaml(key_id, manage=True))
    return path


def reconcile(server: MotoServer, *args: str, code: int = 0) -> str:
    result = run_reconcile(*args, server=server)
    assert result.returncode == code, result.stdout + result.stderr
    return result.stdout


@pytest.mark.parametrize("by", ["key-arn", "alias"])
def test_kms_bucket_converges_and_verifies(
    moto_server: MotoServer, tmp_path: Path, by: str
) -> None:
    arn = make_key(moto_server)
    config = write_config(tmp_path, arn if by == "key-arn" else "alias/clinical-data")
    c = str(config)
    plan = reconcile(
        moto_server, "plan", "-c", c, "--format", "json", "--detailed-exitcode", code=2
    )
    changes = {(ch["type"], ch["id"]) for ch in json.loads(plan)["changes"]}
    assert ("kms_key_policy", arn) in changes
    assert ("kms_key_rotation", arn) in changes  # a new key's rotation is off (issue 21)

    reconcile(moto_server, "apply", "-c", c, "--auto-approve")
    assert moto_server.client("kms").get_key_rotation_status(KeyId=arn)["KeyRotationEnabled"]
    reconcile(moto_server, "plan", "-c", c, "--detailed-exitcode")  # converged: exit 0

    rule = moto_server.client("s3").get_bucket_encryption(Bucket=BUCKET)[
        "ServerSideEncryptionConfiguration"
    ]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": arn,  # the key ARN, never the alias
    }
    assert rule["BucketKeyEnabled"] is True

    policy = json.loads(
        moto_server.client("kms").get_key_policy(KeyId=arn, PolicyName="default")["Policy"]
    )
    sids = [s.get("Sid") for s in policy["Statement"]]
    assert sids[-1] == "ReconcilerPrincipalsDecryptGenerateDataKey"
    assert policy["Statement"][-1]["Principal"] == {"AWS": PARTNER}
    assert len(sids) == 2  # moto's default statement (root delegation) is kept

    user_policy = moto_server.client("iam").get_user_policy(
        UserName="Alice", PolicyName="reconciler-access-point-access"
    )["PolicyDocument"]
    kms = next(s for s in user_policy["Statement"] if s["Sid"] == "ReconcilerUseBucketKeyThroughS3")
    assert kms["Resource"] == arn

    verified = reconcile(moto_server, "verify", "-c", c, "--format", "json")
    checks = {b["name"]: b["status"] for b in json.loads(verified)["bucket_checks"]}
    assert checks["kms-key-policy"] == "ok" and checks["presigned-url-max-age"] == "ok"
    assert checks["kms-rotation"] == "ok"


def test_verify_fails_when_the_key_policy_stops_delegating_to_iam(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    arn = make_key(moto_server)
    c = str(write_config(tmp_path, arn))
    reconcile(moto_server, "apply", "-c", c, "--auto-approve")
    kms = moto_server.client("kms")
    policy = json.loads(kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"])
    policy["Statement"] = [
        s for s in policy["Statement"] if s.get("Sid", "").startswith("Reconciler")
    ]
    kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=json.dumps(policy))
    bad = reconcile(moto_server, "verify", "-c", c, code=2)
    assert "alice: own-ap: cannot S3 call kms:" in bad
    plan = reconcile(moto_server, "plan", "-c", c)
    assert "the key policy must delegate to IAM" in plan


def test_an_alias_that_does_not_resolve_is_refused(moto_server: MotoServer, tmp_path: Path) -> None:
    c = str(write_config(tmp_path, "alias/nothing-here"))
    result = run_reconcile("plan", "-c", c, server=moto_server)
    assert result.returncode != 0
    assert "bucket.kms_key_id alias/nothing-here: no such KMS key" in result.stdout + result.stderr


def test_the_writer_keeps_the_lockout_safety_check_and_the_reader_resolves_aliases() -> None:
    """In-process moto: PutKeyPolicy is sent with BypassPolicyLockoutSafetyCheck false (AWS KMS
    API Reference, PutKeyPolicy), and DescribeKey resolves an alias to the key ARN."""
    from moto import mock_aws

    from reconciler.aws.keys import read_key
    from reconciler.aws.session import Clients, Connection
    from reconciler.aws.writer import AwsWriter
    from tests.conftest import config_from

    with mock_aws():
        clients = Clients(Connection(region="us-east-1"))
        arn = str(clients.kms.create_key()["KeyMetadata"]["Arn"])
        clients.kms.create_alias(AliasName="alias/clinical-data", TargetKeyId=arn)
        sent: list[dict[str, object]] = []
        clients.kms.meta.events.register(
            "provide-client-params.kms.PutKeyPolicy", lambda params, **_: sent.append(params)
        )
        config = config_from(write_yaml("alias/clinical-data"))
        key = read_key(clients, config)
        assert key is not None and key.arn == arn and key.policy is not None
        AwsWriter(clients, ACCOUNT).put_key_policy(arn, dict(key.policy))
        assert sent and sent[0]["BypassPolicyLockoutSafetyCheck"] is False


def write_yaml(key_id: str, *, manage: bool = False) -> str:
    extra = f"  encryption: aws:kms\n  kms_key_id: {key_id}\n"
    if manage:
        extra += "  manage_key_policy: true\n"
    return BASE_YAML.replace(f"  name: {BUCKET}\n", f"  name: {BUCKET}\n{extra}")
