"""End to end: permissions boundaries through the `reconcile` command against a moto server.

moto 5.2.5 drops user boundaries; the server here runs with the project's extension
(reconciler/aws/emulator/iam_boundaries.py, installed by tests/conftest.py), which keeps them
as IAM does, including refusing a boundary policy that does not exist.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.aws.emulator import iam_boundaries
from reconciler.documents.boundary import boundary_policy
from tests.conftest import BASE_YAML, config_from
from tests.e2e_support import MotoServer, moto_server, moto_server_session, run_reconcile

__all__ = ["moto_server", "moto_server_session"]
pytestmark = pytest.mark.e2e
ACCOUNT = "123456789012"
BUCKET = "clinical-share-123456789012"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/reconciler-collaborator-boundary"
BOUNDED_YAML = BASE_YAML + f"iam_permissions_boundary: {BOUNDARY}\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "collaborators.yaml"
    path.write_text(text)
    return path


def create_boundary(server: MotoServer) -> None:
    """What the account's administrators do once (docs/ci-setup.md)."""
    document = boundary_policy(config_from(BOUNDED_YAML))
    iam_boundaries.create_policies(server.client("iam"), {BOUNDARY: document})


def reconcile(server: MotoServer, *args: str) -> Any:
    return run_reconcile(*args, server=server)


def boundaries(server: MotoServer) -> dict[str, str | None]:
    iam = server.client("iam")
    return {
        name: iam.get_user(UserName=name)["User"]
        .get("PermissionsBoundary", {})
        .get("PermissionsBoundaryArn")
        for name in ("Alice", "Bob")
    }


def test_created_users_carry_the_boundary(moto_server: MotoServer, tmp_path: Path) -> None:
    create_boundary(moto_server)
    path = write(tmp_path, BOUNDED_YAML)
    applied = reconcile(moto_server, "apply", "-c", str(path), "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert boundaries(moto_server) == {"Alice": BOUNDARY, "Bob": BOUNDARY}
    details = moto_server.client("iam").get_account_authorization_details(Filter=["User"])
    read_back = {
        u["UserName"]: u["PermissionsBoundary"]["PermissionsBoundaryArn"]
        for u in details["UserDetailList"]
    }
    assert read_back == {"Alice": BOUNDARY, "Bob": BOUNDARY}
    again = reconcile(moto_server, "plan", "-c", str(path), "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "iam_permissions_boundary is not set" not in again.stdout


def test_a_boundary_nobody_created_fails_the_users_clearly(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    path = write(tmp_path, BOUNDED_YAML)
    applied = reconcile(moto_server, "apply", "-c", str(path), "--auto-approve")
    assert applied.returncode == 1
    assert "Traceback" not in applied.stderr
    assert f"Policy {BOUNDARY} does not exist" in applied.stdout + applied.stderr
    users = moto_server.client("iam").list_users()["Users"]
    assert users == []  # no user without its boundary


def test_upgrade_adds_only_boundaries_and_tags_never_a_replacement(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    """Applied by the current version (no iam_permissions_boundary; access points created
    before they carried reconciler:bucket), then upgraded: the plan only adds the boundary to
    the users and the bucket tag to the access points."""
    path = write(tmp_path, BASE_YAML)
    first = reconcile(moto_server, "apply", "-c", str(path), "--auto-approve")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "iam_permissions_boundary is not set" in first.stdout
    s3control = moto_server.client("s3control")
    for name in ("alice-access-point", "bob-access-point", "partner-site-ap"):
        arn = f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/{name}"
        s3control.untag_resource(AccountId=ACCOUNT, ResourceArn=arn, TagKeys=["reconciler:bucket"])
    create_boundary(moto_server)
    path.write_text(BOUNDED_YAML)
    planned = reconcile(moto_server, "plan", "-c", str(path), "--format", "json", "--verify-tags")
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["errors"] == [] and plan["access_changes"] == []
    kinds = sorted((c["action"], c["type"], c["id"]) for c in plan["changes"])
    assert kinds == [
        ("update", "access_point", "alice-access-point"),
        ("update", "access_point", "bob-access-point"),
        ("update", "access_point", "partner-site-ap"),
        ("update", "iam_user", "Alice"),
        ("update", "iam_user", "Bob"),
    ]
    for change in plan["changes"]:
        added = {k: v for k, v in change["after"].items() if change["before"].get(k) != v}
        if change["type"] == "iam_user":
            assert added == {"permissions_boundary": BOUNDARY}
        else:
            assert added == {"tags": {**change["before"]["tags"], "reconciler:bucket": BUCKET}}
    applied = reconcile(moto_server, "apply", "-c", str(path), "--auto-approve", "--verify-tags")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert boundaries(moto_server) == {"Alice": BOUNDARY, "Bob": BOUNDARY}
    done = reconcile(moto_server, "plan", "-c", str(path), "--detailed-exitcode", "--verify-tags")
    assert done.returncode == 0, done.stdout + done.stderr
