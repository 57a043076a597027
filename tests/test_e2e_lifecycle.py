"""Collaborator lifecycle end to end against a moto server: expiry -> suspension -> revoked
grants and inactive keys -> re-activation; import of the AWS blog's hand-built setup -> validate ->
plan --adopt -> apply --adopt -> empty plan; audit records written once and never rewritten.

Time is injected with RECONCILE_TODAY: no test depends on the real date."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.access_support import SEED_IDENTITY_POLICY
from tests.conftest import BASE_YAML
from tests.e2e_support import (
    MotoServer,
    moto_server,
    moto_server_session,
    reconcile_env,
    run_reconcile,
)

__all__ = ["moto_server", "moto_server_session"]
pytestmark = pytest.mark.e2e
ACCOUNT = "123456789012"
BUCKET = "clinical-share-123456789012"
AUDIT_BUCKET = "reconciler-test-audit"  # see LOCK_BUCKET: moto applies our Deny to all writes
ALICE_AP = "alice-access-point"
ALICE_POLICY = "reconciler-access-point-access"

# with console: true, so that suspension has an inline policy to remove and restore
EXPIRING = BASE_YAML.replace(
    "    prefix: Alice/\n    access: [write]\n",
    "    prefix: Alice/\n    access: [write]\n    console: true\n    expires: 2025-07-01\n",
)


def run(server: MotoServer, *args: str, today: str = "2025-06-20", **env: str) -> Any:
    return run_reconcile(*args, env=reconcile_env(server, RECONCILE_TODAY=today, **env))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "collaborators.yaml"
    path.write_text(text)
    return path


def ap_policy(server: MotoServer, name: str) -> dict[str, Any] | None:
    s3control = server.client("s3control")
    try:
        text = s3control.get_access_point_policy(AccountId=ACCOUNT, Name=name)["Policy"]
    except s3control.exceptions.ClientError as err:
        assert err.response["Error"]["Code"] == "NoSuchAccessPointPolicy", err
        return None
    return dict(json.loads(text))


def ap_tags(server: MotoServer, name: str) -> dict[str, str]:
    arn = f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/{name}"
    tags = server.client("s3control").list_tags_for_resource(AccountId=ACCOUNT, ResourceArn=arn)
    return {t["Key"]: t["Value"] for t in tags["Tags"]}


def keys(server: MotoServer, user: str) -> dict[str, str]:
    listed = server.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return {k["AccessKeyId"]: k["Status"] for k in listed}


# --- expiry -> suspension -> re-activation -------------------------------------------------


def test_expiry_suspends_revokes_every_grant_and_reactivation_restores_them(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    config = write(tmp_path, EXPIRING)
    applied = run(moto_server, "apply", "-c", str(config), "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    iam = moto_server.client("iam")
    key_id = iam.create_access_key(UserName="Alice")["AccessKey"]["AccessKeyId"]
    bob_key = iam.create_access_key(UserName="Bob")["AccessKey"]["AccessKeyId"]

    # 11 days ahead: a warning, no change
    warned = run(moto_server, "plan", "-c", str(config), "--detailed-exitcode")
    assert warned.returncode == 0, warned.stdout + warned.stderr
    assert "collaborator alice expires on 2025-07-01 (in 11 days)" in warned.stdout

    # the day it expires: the plan suspends alice and nobody else
    due = run(moto_server, "plan", "-c", str(config), "--format", "json", today="2025-07-01")
    assert due.returncode == 0, due.stderr
    doc = json.loads(due.stdout)
    assert doc["lifecycle"] == [
        {
            "collaborator": "alice",
            "event": "suspend",
            "reason": "expired on 2025-07-01",
            "note": "keeps the IAM user and access point; removes every grant (access point "
            "policy, identity policy); deactivates the IAM user's access keys",
        }
    ]
    assert sorted((c["action"], c["type"], c["id"]) for c in doc["changes"]) == [
        ("delete", "access_point_policy", ALICE_AP),
        ("delete", "iam_user_policy", f"Alice/{ALICE_POLICY}"),
        ("update", "access_point", ALICE_AP),
        ("update", "iam_access_key", f"Alice/{key_id}"),
        ("update", "iam_user", "Alice"),
    ]

    # the nightly job applies it with no human action
    nightly = run(moto_server, "apply", "-c", str(config), "--auto-approve", today="2025-07-02")
    assert nightly.returncode == 0, nightly.stdout + nightly.stderr
    assert "Collaborator alice  [SUSPEND: expired on 2025-07-01]" in nightly.stdout
    assert "Converged" in nightly.stdout  # apply ends with a fresh plan: it was empty
    assert ap_policy(moto_server, ALICE_AP) is None
    assert iam.list_user_policies(UserName="Alice")["PolicyNames"] == []
    assert iam.list_attached_user_policies(UserName="Alice")["AttachedPolicies"] == []
    assert keys(moto_server, "Alice") == {key_id: "Inactive"}
    assert ap_tags(moto_server, ALICE_AP)["reconciler:status"] == "suspended"
    # kept: the user, its access point; untouched: everybody else
    assert iam.get_user(UserName="Alice")["User"]["UserName"] == "Alice"
    assert keys(moto_server, "Bob") == {bob_key: "Active"}
    assert ap_policy(moto_server, "bob-access-point") is not None
    # no statement anywhere still names alice's user
    alice_arn = f"arn:aws:iam::{ACCOUNT}:user/collaborators/Alice"
    bucket_policy = moto_server.client("s3").get_bucket_policy(Bucket=BUCKET)["Policy"]
    policies = [bucket_policy] + [
        json.dumps(ap_policy(moto_server, n)) for n in ("bob-access-point", "partner-site-ap")
    ]
    assert not any(alice_arn in p for p in policies)
    # a key created later is caught by the next run; the one after changes nothing
    late = iam.create_access_key(UserName="Alice")["AccessKey"]["AccessKeyId"]
    again = run(moto_server, "apply", "-c", str(config), "--auto-approve", today="2025-07-03")
    assert again.returncode == 0 and f"~ iam_access_key Alice/{late}" in again.stdout
    assert "Converged" in again.stdout
    assert keys(moto_server, "Alice") == {key_id: "Inactive", late: "Inactive"}

    # the agreement is extended: grants come back, keys stay inactive, and the plan says so
    config.write_text(EXPIRING.replace("expires: 2025-07-01", "expires: 2026-07-01"))
    back = run(moto_server, "apply", "-c", str(config), "--auto-approve", today="2025-07-05")
    assert back.returncode == 0, back.stdout + back.stderr
    assert "reactivate alice" in back.stdout and "stay inactive" in back.stdout
    restored = ap_policy(moto_server, ALICE_AP)["Statement"]  # type: ignore[index]
    assert [s["Sid"] for s in restored] == ["ReconcilerConsoleTopLevel", "ReconcilerWrite"]
    statement = restored[1]
    assert statement["Principal"] == {"AWS": alice_arn}
    assert iam.list_user_policies(UserName="Alice")["PolicyNames"] == [ALICE_POLICY]
    assert "reconciler:status" not in ap_tags(moto_server, ALICE_AP)
    assert "reconciler:status" not in {
        t["Key"] for t in iam.list_user_tags(UserName="Alice")["Tags"]
    }
    assert keys(moto_server, "Alice") == {key_id: "Inactive", late: "Inactive"}
    assert "Converged" in back.stdout


def test_status_suspended_for_an_external_principal_removes_its_access_point_policy(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    config = write(tmp_path, BASE_YAML)
    assert run(moto_server, "apply", "-c", str(config), "--auto-approve").returncode == 0
    config.write_text(BASE_YAML + "    status: suspended\n")
    result = run(moto_server, "apply", "-c", str(config), "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[SUSPEND: status: suspended]" in result.stdout
    assert ap_policy(moto_server, "partner-site-ap") is None
    assert ap_policy(moto_server, ALICE_AP) is not None


# --- import and adopt the AWS blog's hand-built setup ------------------------------------------

SEED_BUCKET = f"s3-ap-stack-{ACCOUNT}-s3-access-point"


def seed_ap_policy(ap: str, user: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Statement1",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/{user}"},
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/{ap}/object/{user}/*",
                }
            ],
        }
    )


def build_seed_setup(server: MotoServer) -> dict[str, Any]:
    """Exactly what the blog post (and its CloudFormation template) builds: one bucket whose
    policy allows s3:PutObject through this account's access points, users Alice and Bob
    (no path) with the example identity policy and a console password, a folder and an access
    point per user whose policy lets only that user put objects in its folder."""
    s3, s3control, iam = (server.client(s) for s in ("s3", "s3control", "iam"))
    s3.create_bucket(Bucket=SEED_BUCKET)
    bucket_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{SEED_BUCKET}/*",
                "Condition": {"StringEquals": {"s3:DataAccessPointAccount": ACCOUNT}},
            }
        ],
    }
    s3.put_bucket_policy(Bucket=SEED_BUCKET, Policy=json.dumps(bucket_policy))
    for user in ("Alice", "Bob"):
        iam.create_user(UserName=user)
        iam.create_login_profile(UserName=user, Password=f"Example-{user}-password-1!")
        iam.put_user_policy(
            UserName=user,
            PolicyName="s3-access-point-users",
            PolicyDocument=json.dumps(SEED_IDENTITY_POLICY),
        )
        s3.put_object(Bucket=SEED_BUCKET, Key=f"{user}/", Body=b"")
        ap = f"{user.lower()}-access-point"
        s3control.create_access_point(AccountId=ACCOUNT, Name=ap, Bucket=SEED_BUCKET)
        s3control.put_access_point_policy(
            AccountId=ACCOUNT, Name=ap, Policy=seed_ap_policy(ap, user)
        )
    return bucket_policy["Statement"][0]


def test_import_of_the_blog_setup_validates_adopts_and_converges(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    seed_statement = build_seed_setup(moto_server)
    config = tmp_path / "collaborators.yaml"
    imported = run(moto_server, "import", "--bucket", SEED_BUCKET, "-o", str(config))
    assert imported.returncode == 0, imported.stderr
    assert "imported 2 collaborator(s)" in imported.stderr
    assert "inline policy s3-access-point-users is replaced" in imported.stderr
    text = config.read_text()
    assert "iam_path: /\n" in text
    assert "  - id: alice\n    iam_user: Alice\n    prefix: Alice/\n    access: [write]\n" in text
    assert "  - id: bob\n    iam_user: Bob\n    prefix: Bob/\n    access: [write]\n" in text

    valid = run(moto_server, "validate", "-c", str(config))
    assert valid.returncode == 0, valid.stderr
    assert "2 collaborators" in valid.stdout

    refused = run(moto_server, "plan", "-c", str(config))
    assert refused.returncode == 1
    assert "IAM user Alice already exists but is not managed" in refused.stdout
    assert "adopt it with --adopt" in refused.stdout

    preview = run(moto_server, "plan", "-c", str(config), "--adopt", "--format", "json")
    assert preview.returncode == 0, preview.stderr
    doc = json.loads(preview.stdout)
    assert doc["errors"] == []
    assert {(e["collaborator"], e["event"]) for e in doc["lifecycle"]} == {
        ("alice", "adopt"),
        ("bob", "adopt"),
    }
    alice = {
        (c["action"], c["type"], c["id"]) for c in doc["changes"] if c["collaborator"] == "alice"
    }
    assert alice == {
        ("update", "iam_user", "Alice"),
        # the seed's policy lists every bucket and access point: removed, nothing replaces it
        # (the AWS CLI needs none; console: true would bring the console's back)
        ("delete", "iam_user_policy", "Alice/s3-access-point-users"),
        ("update", "access_point", ALICE_AP),
        ("update", "access_point_policy", ALICE_AP),
    }
    # adopting never deletes or replaces a user or an access point
    assert not [
        c
        for c in doc["changes"]
        if c["action"] in ("delete", "replace") and c["type"] in ("iam_user", "access_point")
    ]

    applied = run(moto_server, "apply", "-c", str(config), "--adopt", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "Converged" in applied.stdout
    empty = run(moto_server, "plan", "-c", str(config), "--detailed-exitcode")
    assert empty.returncode == 0, empty.stdout
    assert empty.stdout.strip() == f"No changes. Live state matches {config}."

    iam, s3 = moto_server.client("iam"), moto_server.client("s3")
    assert ap_tags(moto_server, ALICE_AP)["reconciler:managed-by"] == "s3-collaborator-reconciler"
    tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName="Bob")["Tags"]}
    assert tags["reconciler:bucket"] == SEED_BUCKET
    assert iam.get_login_profile(UserName="Alice")["LoginProfile"]["UserName"] == "Alice"
    (statement,) = ap_policy(moto_server, ALICE_AP)["Statement"]  # type: ignore[index]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:user/Alice"}
    assert statement["Resource"].endswith(f"accesspoint/{ALICE_AP}/object/Alice/*")
    # the seed's broad s3:ListBucket on "*" is gone; the blog's bucket statement is kept
    assert iam.list_user_policies(UserName="Alice")["PolicyNames"] == []
    statements = json.loads(s3.get_bucket_policy(Bucket=SEED_BUCKET)["Policy"])["Statement"]
    assert seed_statement in statements
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=SEED_BUCKET)["Contents"]] == [
        "Alice/",
        "Bob/",
    ]


# --- audit trail --------------------------------------------------------------------------------


def audit_objects(server: MotoServer) -> dict[str, tuple[str, bytes]]:
    s3 = server.client("s3")
    listed = s3.list_objects_v2(Bucket=AUDIT_BUCKET).get("Contents", [])
    return {
        o["Key"]: (o["ETag"], s3.get_object(Bucket=AUDIT_BUCKET, Key=o["Key"])["Body"].read())
        for o in listed
    }


def test_every_apply_appends_one_record_and_never_rewrites_one(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    moto_server.client("s3").create_bucket(Bucket=AUDIT_BUCKET)
    config = write(tmp_path, BASE_YAML)
    log = tmp_path / "audit.jsonl"
    ci = {"GITHUB_SHA": "5f2c0ffee5f2c0ffee", "GITHUB_ACTOR": "data-steward"}
    flags = ("--audit-log", str(log), "--audit-bucket", AUDIT_BUCKET)
    first = run(moto_server, "apply", "-c", str(config), "--auto-approve", *flags, **ci)
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"audit: recorded in s3://{AUDIT_BUCKET}/reconciler-audit/" in first.stderr
    objects = audit_objects(moto_server)
    (key,) = objects
    record = json.loads(objects[key][1])
    assert record["github"] == {"sha": "5f2c0ffee5f2c0ffee", "actor": "data-steward"}
    assert record["caller_arn"].startswith(f"arn:aws:sts::{ACCOUNT}:")
    assert record["outcome"] == "applied" and record["converged"] is True
    assert len(record["applied"]) == 15 and record["failures"] == []
    assert all(change["request_ids"] for change in record["applied"])
    assert json.loads(log.read_text()) == record
    log_before = log.read_bytes()

    # the second apply reads its audit settings from the file (log relative to it)
    config.write_text(
        BASE_YAML.replace(
            "access: [write, read, list]", "access: [write, read, list]\n    status: suspended"
        )
        + f"audit:\n  bucket: {AUDIT_BUCKET}\n  log: audit.jsonl\n"
    )
    second = run(moto_server, "apply", "-c", str(config), "--auto-approve", GITHUB_ACTOR="pi")
    assert second.returncode == 0, second.stdout + second.stderr
    after = audit_objects(moto_server)
    assert len(after) == 2 and after[key] == objects[key]  # same ETag, same bytes
    assert log.read_bytes().startswith(log_before) and len(log.read_text().splitlines()) == 2

    history = run(moto_server, "history", "-c", str(config))
    assert history.returncode == 0, history.stderr
    lines = history.stdout.splitlines()
    heads = [line for line in lines if not line.startswith("    ")]
    assert len(heads) == 2  # the same record in the file and the bucket is shown once
    assert "applied: 15 applied, 0 failed" in heads[0] and "actor data-steward" in heads[0]
    assert "commit 5f2c0ffee5f2" in heads[0]
    assert "actor pi" in heads[1] and "    suspend bob: status: suspended" in lines
    only_bob = run(
        moto_server,
        "history",
        "--audit-log",
        str(log),
        "--collaborator",
        "bob",
        "--limit",
        "1",
        "--format",
        "json",
    )
    (bob_record,) = [json.loads(line) for line in only_bob.stdout.splitlines()]
    assert {c["id"] for c in bob_record["applied"]} >= {"bob-access-point", "Bob"}

    # an audit location that does not exist stops apply before any change
    config.write_text(BASE_YAML + "audit:\n  bucket: no-such-audit-bucket\n")
    refused = run(moto_server, "apply", "-c", str(config), "--auto-approve")
    assert refused.returncode == 1
    assert "the audit bucket no-such-audit-bucket does not exist" in refused.stderr
    assert ap_policy(moto_server, "bob-access-point") is None  # bob still suspended
    assert len(audit_objects(moto_server)) == 2
