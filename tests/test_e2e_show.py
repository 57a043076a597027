"""End to end against a moto server: `reconcile show` for each kind of collaborator (a user the
tool creates, an existing principal of this account, a partner in another account), live and
offline; a suspension verifies as "granted nothing" (issue 13, sections 5 and 6)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BASE_YAML
from tests.e2e_support import MotoServer, moto_server, moto_server_session, run_reconcile

__all__ = ["moto_server", "moto_server_session"]
pytestmark = pytest.mark.e2e
ACCOUNT = "123456789012"
AP_ARN = f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint"
# a role of this account, as a collaborator named by ARN
SAME_ACCOUNT = """\
  - id: lab
    principal: arn:aws:iam::123456789012:role/LabUploader
    access: [read, list]
"""
JSON_KEYS = {
    "collaborator",
    "access_point_arn",
    "access_point_alias",
    "region",
    "prefix",
    "levels",
    "commands",
    "partner_policy",
    "kms",
    "presigned_url_max_age_seconds",
}


@pytest.fixture
def applied(moto_server: MotoServer, tmp_path: Path) -> Path:
    path = tmp_path / "collaborators.yaml"
    path.write_text(BASE_YAML + SAME_ACCOUNT)
    moto_server.client("iam").create_role(
        RoleName="LabUploader", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"})
    )
    result = run_reconcile("apply", "-c", str(path), "--auto-approve", server=moto_server)
    assert result.returncode == 0, result.stdout + result.stderr
    return path


def show(server: MotoServer, path: Path, cid: str, *extra: str) -> dict[str, Any]:
    result = run_reconcile("show", cid, "-c", str(path), "--format", "json", *extra, server=server)
    assert result.returncode == 0, result.stdout + result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    assert set(document) >= JSON_KEYS
    return document


@pytest.mark.e2e
def test_show_each_kind_of_collaborator_from_live_state(
    moto_server: MotoServer, applied: Path
) -> None:
    aliases = {
        ap["Name"]: ap["Alias"]
        for ap in moto_server.client("s3control").list_access_points(AccountId=ACCOUNT)[
            "AccessPointList"
        ]
    }
    bob = show(moto_server, applied, "bob")
    assert bob["access_point_arn"] == f"{AP_ARN}/bob-access-point"
    assert bob["access_point_alias"] == aliases["bob-access-point"]  # only AWS knows it
    assert (bob["region"], bob["prefix"], bob["levels"]) == (
        "us-east-1",
        "Bob/",
        [
            "write",
            "read",
            "list",
        ],
    )
    assert bob["partner_policy"] is None and bob["kms"] is None
    assert bob["presigned_url_max_age_seconds"] == 300
    commands = {c["what"].split(" ")[0]: c["command"] for c in bob["commands"]}
    folder = f"s3://{AP_ARN}/bob-access-point/Bob/"
    assert commands["list"] == f"aws s3 ls {folder} --region us-east-1"
    assert commands["upload"] == f"aws s3 cp data.csv {folder}data.csv --region us-east-1"
    assert commands["download"] == f"aws s3 cp {folder}data.csv data.csv --region us-east-1"
    assert commands["a"].endswith("--expires-in 300 --region us-east-1")
    assert not any("--sse" in c or "--acl" in c for c in commands.values())

    lab = show(moto_server, applied, "lab")
    assert lab["kind"] == "principal" and lab["partner_policy"] is None
    assert [c["level"] for c in lab["commands"]] == ["read", "list", "read"]

    partner = show(moto_server, applied, "partner-site")
    assert partner["kind"] == "partner"
    policy = partner["partner_policy"]
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReconcilerWrite",
                "Effect": "Allow",
                "Action": ["s3:AbortMultipartUpload", "s3:PutObject"],
                # the access point ARN and the bucket ARN of the prefix (issue 22)
                "Resource": [
                    "arn:aws:s3:::clinical-share-123456789012/partner-site/*",
                    f"{AP_ARN}/partner-site-ap/object/partner-site/*",
                ],
            }
        ],
    }

    markdown = run_reconcile(
        "show", "partner-site", "-c", str(applied), "--format", "markdown", server=moto_server
    )
    assert markdown.returncode == 0
    assert "#### Identity policy for your account's administrator" in markdown.stdout
    assert '"Sid": "ReconcilerWrite"' in markdown.stdout
    text = run_reconcile("show", "alice", "-c", str(applied), server=moto_server)
    assert text.returncode == 0
    assert f"Access point alias: {aliases['alice-access-point']}" in text.stdout
    assert "No ACL options" in text.stdout and "No personal or health data" in text.stdout


@pytest.mark.e2e
def test_show_offline_and_unknown_id(tmp_path: Path) -> None:
    path = tmp_path / "collaborators.yaml"
    path.write_text(BASE_YAML)
    # offline: no endpoint, no credentials needed
    result = run_reconcile("show", "alice", "-c", str(path), "--desired", "--format", "json")
    assert result.returncode == 0, result.stderr
    card = json.loads(result.stdout)
    assert card["access_point_alias"] is None and card["source"] == "desired"
    unknown = run_reconcile("show", "carol", "-c", str(path), "--desired")
    assert unknown.returncode == 1
    assert unknown.stderr == (
        f"error: no collaborator with id 'carol' in {path} (ids: alice, bob, partner-site)\n"
    )


@pytest.mark.e2e
def test_suspension_then_verify_passes_and_show_says_suspended(
    moto_server: MotoServer, applied: Path
) -> None:
    # without the role of this account, whose own policies verify cannot read (unknown)
    suspended = BASE_YAML.replace(
        "    access: [write]\n", "    access: [write]\n    status: suspended\n", 1
    )
    applied.write_text(suspended)
    result = run_reconcile("apply", "-c", str(applied), "--auto-approve", server=moto_server)
    assert result.returncode == 0, result.stdout + result.stderr
    verified = run_reconcile("verify", "-c", str(applied), server=moto_server)
    assert verified.returncode == 0, verified.stdout
    assert "All checks hold" in verified.stdout
    alice = show(moto_server, applied, "alice")
    assert alice["status"] == "suspended" and alice["commands"] == []
    assert "live: suspended (its access point carries the suspension tag)" in alice["notes"]
