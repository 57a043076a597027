"""End to end: what a plan does not see without --verify-tags, and that the flag sees it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import BASE_YAML
from tests.e2e_support import MotoServer, moto_server, moto_server_session, run_reconcile

__all__ = ["moto_server", "moto_server_session"]
pytestmark = pytest.mark.e2e
ACCOUNT = "123456789012"


def test_tags_removed_by_hand_are_found_by_verify_tags_only(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    config = tmp_path / "collaborators.yaml"
    config.write_text(BASE_YAML)
    applied = run_reconcile(
        "apply", "-c", str(config), "--auto-approve", "--workers", "3", server=moto_server
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    s3control = moto_server.client("s3control")
    arn = s3control.get_access_point(AccountId=ACCOUNT, Name="alice-access-point")["AccessPointArn"]
    s3control.untag_resource(AccountId=ACCOUNT, ResourceArn=arn, TagKeys=["reconciler:managed-by"])
    # in sync apart from its tags: nothing to write, so the fast plan reads no tags
    fast = run_reconcile("plan", "-c", str(config), "--detailed-exitcode", server=moto_server)
    assert fast.returncode == 0, fast.stdout + fast.stderr
    audit = run_reconcile("plan", "-c", str(config), "--verify-tags", server=moto_server)
    assert audit.returncode == 1
    assert "access point alice-access-point already exists" in audit.stdout + audit.stderr
    assert "Traceback" not in audit.stderr


def test_workers_out_of_range_is_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "collaborators.yaml"
    config.write_text(BASE_YAML)
    result = run_reconcile("plan", "--sandbox", "-c", str(config), "--workers", "0")
    assert result.returncode == 1
    assert "'--workers': 0 is not in the range 1<=x<=64" in result.stderr
    assert "Traceback" not in result.stderr
