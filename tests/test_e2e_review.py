"""Reviews and audits end to end against a moto server (issue 16): a base file applied; one
access point policy broadened by hand; a head file that adds a collaborator. `plan --base-config`
labels the new collaborator's changes edit and the broadened policy drift; `apply --only` the new
collaborator leaves the drift in place; `report` lists everyone, in every format."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BASE_YAML
from tests.e2e_support import MotoServer, moto_server, moto_server_session
from tests.review_support import HEAD_YAML
from tests.test_e2e_lifecycle import ACCOUNT, ALICE_AP, ap_policy, run

__all__ = ["moto_server", "moto_server_session"]
pytestmark = pytest.mark.e2e


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def broaden_alice(server: MotoServer) -> dict[str, Any]:
    """By hand, as in the console: alice may now also read her folder."""
    policy = ap_policy(server, ALICE_AP)
    assert policy is not None
    statement = policy["Statement"][0]
    statement["Action"] = [*statement["Action"], "s3:GetObject"]
    server.client("s3control").put_access_point_policy(
        AccountId=ACCOUNT, Name=ALICE_AP, Policy=json.dumps(policy)
    )
    return policy


def origins(stdout: str) -> dict[tuple[str, str], str]:
    return {(c["type"], c["id"]): c.get("origin") for c in json.loads(stdout)["changes"]}


def test_drift_labels_and_a_targeted_apply_that_leaves_the_drift(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    base = write(tmp_path / "base.yaml", BASE_YAML)
    applied = run(moto_server, "apply", "-c", str(base), "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    broadened = broaden_alice(moto_server)
    head = write(tmp_path / "collaborators.yaml", HEAD_YAML)

    labelled = run(
        moto_server, "plan", "-c", str(head), "--base-config", str(base), "--format", "json"
    )
    assert labelled.returncode == 0, labelled.stderr
    found = origins(labelled.stdout)
    assert found.pop(("access_point_policy", ALICE_AP)) == "drift"
    assert found and set(found.values()) == {"edit"}
    # Carol's user and access point (the CLI-only default writes no inline policy for her)
    # the bucket policy is updated too: it delegates to carol's new access point (issue 22)
    assert {i for _, i in found} == {"Carol", "carol-access-point", "clinical-share-123456789012"}
    text = run(moto_server, "plan", "-c", str(head), "--base-config", str(base))
    assert text.stdout.startswith("Changed outside the tool: will be reverted (drift)\n")
    markdown = run(
        moto_server, "plan", "-c", str(head), "--base-config", str(base), "--format", "markdown"
    )
    assert "#### Changed outside the tool: will be reverted (drift)" in markdown.stdout

    audit = str(tmp_path / "audit.jsonl")
    targeted = run(
        moto_server,
        "apply",
        "-c",
        str(head),
        "--only",
        "carol",
        "--auto-approve",
        "--audit-log",
        audit,
    )
    assert targeted.returncode == 0, targeted.stdout + targeted.stderr
    assert "Targeted run (--only carol)" in targeted.stdout
    assert "Converged" in targeted.stdout
    assert ap_policy(moto_server, ALICE_AP) == broadened  # the drift is left in place
    assert moto_server.client("iam").get_user(UserName="Carol")["User"]["UserName"] == "Carol"
    rest = run(moto_server, "plan", "-c", str(head), "--format", "json")
    assert [(c["type"], c["id"]) for c in json.loads(rest.stdout)["changes"]] == [
        ("access_point_policy", ALICE_AP)
    ]

    check_report(moto_server, head, audit)

    unknown = run(moto_server, "plan", "-c", str(head), "--only", "dave")
    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines() == [
        "error: --only dave: no collaborator with this id in "
        f"{head} or managed in AWS; known ids: alice, bob, carol, partner-site"
    ]


def test_without_a_base_file_the_audit_trail_tells_drift(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    config = write(tmp_path / "collaborators.yaml", BASE_YAML + "audit:\n  log: audit.jsonl\n")
    applied = run(moto_server, "apply", "-c", str(config), "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    broaden_alice(moto_server)

    nightly = run(moto_server, "plan", "-c", str(config), "--format", "json")
    doc = json.loads(nightly.stdout)
    assert [c["origin"] for c in doc["changes"]] == ["drift"]
    assert (
        "has not changed since the last apply recorded in the audit trail" in (doc["origin_basis"])
    )
    summary = run(moto_server, "apply", "-c", str(config), "--auto-approve", "--format", "markdown")
    assert summary.returncode == 0, summary.stderr
    assert "#### Changed outside the tool: will be reverted (drift)" in summary.stdout
    assert "has not changed since the last apply" in summary.stdout

    broaden_alice(moto_server)
    config.write_text(config.read_text() + "# edited\n")
    edited = run(moto_server, "plan", "-c", str(config), "--format", "json")
    assert [c.get("origin") for c in json.loads(edited.stdout)["changes"]] == [None]


def check_report(server: MotoServer, head: Path, audit: str) -> None:
    """Keys created here, reviewed 100 days later: every collaborator, keys by suffix with their
    age, in every format; the read-only run changes nothing."""
    iam = server.client("iam")
    created = {
        user: iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
        for user in ("Alice", "Carol")
    }
    # a console password and no MFA device: flagged (issue 21, console-without-mfa)
    iam.create_login_profile(UserName="Carol", Password="Not-a-real-password-1!")
    later = (datetime.now(UTC).date() + timedelta(days=100)).isoformat()
    outputs = {}
    for fmt in ("text", "csv", "json", "markdown"):
        result = run(
            server, "report", "-c", str(head), "--format", fmt, "--audit-log", audit, today=later
        )
        assert result.returncode == 0, result.stdout + result.stderr
        outputs[fmt] = result.stdout
        for cid in ("alice", "bob", "carol", "partner-site"):
            assert cid in result.stdout, (fmt, cid)
        for key_id in created.values():
            assert f"...{key_id[-4:]}" in result.stdout, fmt
            assert key_id not in result.stdout, fmt  # never the whole id
    rows = {row["id"]: row for row in json.loads(outputs["json"])}
    for user, key_id in created.items():
        (key,) = rows[user.lower()]["access_keys"]
        assert key["id_suffix"] == f"...{key_id[-4:]}"
        assert key["status"] == "Active" and key["age_days"] in (99, 100, 101)
        kinds = {f["flag"] for f in rows[user.lower()]["flags"]}
        assert {"key-too-old", "key-unused"} <= kinds, kinds
    assert rows["bob"]["access_keys"] == []
    assert rows["alice"]["levels"] == ["read", "write"]  # the broadened policy, read live
    assert "differs-from-file" in {f["flag"] for f in rows["alice"]["flags"]}
    assert rows["carol"]["last_apply"]["outcome"] == "applied"
    assert rows["partner-site"]["console_password"] is None
    assert "console-without-mfa" in {f["flag"] for f in rows["carol"]["flags"]}
    assert "console-without-mfa" not in {f["flag"] for f in rows["alice"]["flags"]}
    assert rows["carol"]["console_password"]["mfa_devices"] == 0
    age = rows["alice"]["access_keys"][0]["age_days"]
    assert f"{age} days old" in outputs["text"] and f"{age} days old" in outputs["markdown"]
    assert outputs["csv"].splitlines()[0].startswith("id,principal,access_point,folder,levels")
