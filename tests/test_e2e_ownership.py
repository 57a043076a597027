"""Two collaborators files, two buckets, one account, the same collaborator ids (issue 12):
through the `reconcile` command against a moto server. Neither file's plan touches the other's
access points or users; a name clash is a plan error, never a replace; access points tagged by
earlier versions are adopted with a tag-only update."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e_support import MotoServer, moto_server, moto_server_session, run_reconcile

__all__ = ["moto_server", "moto_server_session"]
pytestmark = pytest.mark.e2e
ACCOUNT = "123456789012"
CARDIO = "cardiology-share-123456789012"
ONCO = "oncology-share-123456789012"


def study(bucket: str, user: str, access_point: str | None = None) -> str:
    """Both files name collaborators `site-a` (a managed user) and `partner` (a role)."""
    ap = f"    access_point: {access_point}\n" if access_point else ""
    return f"""\
version: 1
account_id: "{ACCOUNT}"
region: us-east-1
bucket:
  name: {bucket}
iam_path: /collaborators/
collaborators:
  - id: site-a
    iam_user: {user}
    prefix: site-a/
    access: [read, write, list]
{ap}  - id: partner
    principal: arn:aws:iam::111122223333:role/Uploader
    access: [write]
    access_point: {bucket.split("-")[0]}-partner-ap
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def reconcile(server: MotoServer, *args: str) -> subprocess.CompletedProcess[str]:
    return run_reconcile(*args, server=server)


def apply(server: MotoServer, config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return reconcile(server, "apply", "-c", str(config), "--auto-approve", *extra)


def plan_json(server: MotoServer, config: Path, *extra: str) -> dict[str, Any]:
    result = reconcile(server, "plan", "-c", str(config), "--format", "json", *extra)
    assert result.returncode in (0, 1), result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def access_point(server: MotoServer, name: str) -> dict[str, Any]:
    s3control = server.client("s3control")
    ap = s3control.get_access_point(AccountId=ACCOUNT, Name=name)
    tags = s3control.list_tags_for_resource(AccountId=ACCOUNT, ResourceArn=ap["AccessPointArn"])
    policy = s3control.get_access_point_policy(AccountId=ACCOUNT, Name=name)["Policy"]
    return {
        "bucket": ap["Bucket"],
        "tags": {t["Key"]: t["Value"] for t in tags["Tags"]},
        "policy": json.loads(policy),
    }


def test_two_files_two_buckets_same_ids_both_stay_converged(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    cardio = write(tmp_path, "cardiology.yaml", study(CARDIO, "CardioSiteA"))
    onco = write(tmp_path, "oncology.yaml", study(ONCO, "OncoSiteA", "onco-site-a-ap"))
    for config in (cardio, onco):
        result = apply(moto_server, config)
        assert result.returncode == 0, result.stdout + result.stderr
    before = {
        name: access_point(moto_server, name) for name in ("site-a-access-point", "onco-site-a-ap")
    }
    for config in (cardio, onco, cardio):
        result = reconcile(moto_server, "plan", "-c", str(config), "--detailed-exitcode")
        assert result.returncode == 0, result.stdout + result.stderr  # nothing flips
    after = {name: access_point(moto_server, name) for name in before}
    assert after == before
    assert before["site-a-access-point"]["bucket"] == CARDIO
    assert before["site-a-access-point"]["tags"]["reconciler:bucket"] == CARDIO
    assert before["onco-site-a-ap"]["tags"]["reconciler:bucket"] == ONCO
    users = {u["UserName"] for u in moto_server.client("iam").list_users()["Users"]}
    assert {"CardioSiteA", "OncoSiteA"} <= users


def test_a_clash_with_another_files_access_point_or_user_is_a_plan_error(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    cardio = write(tmp_path, "cardiology.yaml", study(CARDIO, "CardioSiteA"))
    assert apply(moto_server, cardio).returncode == 0
    before = access_point(moto_server, "site-a-access-point")
    # oncology's site-a gets the same default access point name and the same user name
    onco = write(tmp_path, "oncology.yaml", study(ONCO, "CardioSiteA"))
    refused = apply(moto_server, onco)
    assert refused.returncode == 1
    assert "nothing was applied" in refused.stderr and "Traceback" not in refused.stderr
    plan = plan_json(moto_server, onco)
    assert {c["id"] for c in plan["changes"]}.isdisjoint({"site-a-access-point", "CardioSiteA"})
    assert not [c for c in plan["changes"] if c["action"] in ("replace", "delete")]
    assert (
        "collaborator site-a: access point site-a-access-point is managed by the collaborators "
        f"file of another bucket: it is on bucket {CARDIO}, not {ONCO}. Access point names are "
        "unique per account and Region: choose another access_point: name for this collaborator"
    ) in plan["errors"]
    assert (
        "collaborator site-a: IAM user CardioSiteA is managed by the collaborators file of another "
        f"bucket: it is tagged for bucket {CARDIO}, not {ONCO}. IAM user names are unique per "
        "account: choose another iam_user for this collaborator"
    ) in plan["errors"]
    assert access_point(moto_server, "site-a-access-point") == before
    result = reconcile(moto_server, "plan", "-c", str(cardio), "--detailed-exitcode")
    assert result.returncode == 0, result.stdout + result.stderr


def test_upgrade_from_an_access_point_without_bucket_tag_is_a_tag_only_update(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    cardio = write(tmp_path, "cardiology.yaml", study(CARDIO, "CardioSiteA"))
    assert apply(moto_server, cardio).returncode == 0
    s3control = moto_server.client("s3control")
    names = ("cardiology-partner-ap", "site-a-access-point")
    arns = {n: f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/{n}" for n in names}
    for arn in arns.values():  # as the version before the bucket tag created them
        s3control.untag_resource(AccountId=ACCOUNT, ResourceArn=arn, TagKeys=["reconciler:bucket"])
    # in sync: their tags are not read and nothing is planned (docs/performance.md)
    quiet = reconcile(moto_server, "plan", "-c", str(cardio), "--detailed-exitcode")
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    # once their tags are read, the plan only adds the bucket tag
    plan = plan_json(moto_server, cardio, "--verify-tags")
    assert [(c["action"], c["type"], c["id"]) for c in plan["changes"]] == [
        ("update", "access_point", name) for name in names
    ]
    for change in plan["changes"]:
        assert change["after"] == {
            **change["before"],
            "tags": {**change["before"]["tags"], "reconciler:bucket": CARDIO},
        }
    assert plan["errors"] == [] and plan["access_changes"] == []
    assert plan["summary"] == {"create": 0, "update": 2, "replace": 0, "delete": 0}
    applied = apply(moto_server, cardio, "--verify-tags")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert access_point(moto_server, "site-a-access-point")["tags"]["reconciler:bucket"] == CARDIO
    # and when something else about it changes, the tag comes with that update
    arn = arns["site-a-access-point"]
    s3control.untag_resource(AccountId=ACCOUNT, ResourceArn=arn, TagKeys=["reconciler:bucket"])
    s3control.delete_access_point_policy(AccountId=ACCOUNT, Name="site-a-access-point")
    drifted = plan_json(moto_server, cardio)
    assert sorted((c["action"], c["type"]) for c in drifted["changes"]) == [
        ("create", "access_point_policy"),
        ("update", "access_point"),
    ]
