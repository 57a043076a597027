"""The mass-widening guard through the `reconcile` command against a moto server: refused with
exit 3 by plan (in every format, the plan still printed) and apply (nothing changed), until
--allow-mass-grant."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e_support import MotoServer, moto_server, moto_server_session, run_reconcile
from tests.test_mass_grant import EVERYONE_DELETES
from tests.test_safety import FIVE

__all__ = ["moto_server", "moto_server_session"]
pytestmark = pytest.mark.e2e
ACCOUNT = "123456789012"
REFUSAL = (
    "error: refusing a plan that widens the access of 4 of 5 existing collaborators (80% > 25%, "
    "safety.max_grant_fraction): alice, partner-site, site1, site2; review the plan and re-run "
    "with --allow-mass-grant if it is intended\n"
)


def alice_actions(server: MotoServer) -> set[str]:
    policy = server.client("s3control").get_access_point_policy(
        AccountId=ACCOUNT, Name="alice-access-point"
    )["Policy"]
    statements = json.loads(policy)["Statement"]
    return {
        a
        for s in statements
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }


def test_mass_grant_is_refused_with_exit_3_unless_allowed(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    config = tmp_path / "collaborators.yaml"
    config.write_text(FIVE)
    first = run_reconcile("apply", "-c", str(config), "--auto-approve", server=moto_server)
    assert first.returncode == 0, first.stdout + first.stderr
    config.write_text(EVERYONE_DELETES)
    text = run_reconcile("plan", "-c", str(config), server=moto_server)
    assert (text.returncode, text.stderr) == (3, REFUSAL)
    assert (
        "alice: + delete Alice/ via alice-access-point" in text.stdout and "Plan: " in text.stdout
    )
    as_json = run_reconcile("plan", "-c", str(config), "--format", "json", server=moto_server)
    assert (as_json.returncode, as_json.stderr) == (3, REFUSAL)
    assert json.loads(as_json.stdout)["summary"]["update"] == 4
    markdown = run_reconcile("plan", "-c", str(config), "--format", "markdown", server=moto_server)
    assert (markdown.returncode, markdown.stderr) == (3, REFUSAL)
    assert markdown.stdout.startswith("###")
    # the pull-request comment says why the plan is refused, not only the job's log
    assert markdown.stdout.endswith(f"#### Refused (exit 3)\n\n```text\n{REFUSAL[7:]}```\n")
    refused = run_reconcile("apply", "-c", str(config), "--auto-approve", server=moto_server)
    assert (refused.returncode, refused.stderr) == (3, REFUSAL)
    assert "s3:DeleteObject" not in alice_actions(moto_server)
    allowed = run_reconcile(
        "apply", "-c", str(config), "--auto-approve", "--allow-mass-grant", server=moto_server
    )
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "s3:DeleteObject" in alice_actions(moto_server)
    again = run_reconcile("plan", "-c", str(config), "--detailed-exitcode", server=moto_server)
    assert again.returncode == 0, again.stdout + again.stderr
