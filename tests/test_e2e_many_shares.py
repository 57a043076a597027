"""Many shares through the `reconcile` command against a moto server (issue 15): two files, two
buckets, one account, the same collaborator ids kept apart by access_point_prefix and iam_path;
`validate` of the folder passes, both apply, both re-plan to nothing, `matrix` lists both; a
name clash between the files is caught by `validate` before any AWS call."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.e2e_support import MotoServer, moto_server, moto_server_session, run_reconcile
from tests.no_aws import run_without_aws

__all__ = ["moto_server", "moto_server_session"]
pytestmark = pytest.mark.e2e
ACCOUNT = "123456789012"


def share(study: str, *, prefix: str | None) -> str:
    """Both studies work with `site-a` (a managed user) and `partner` (a partner's role)."""
    naming = f"access_point_prefix: {prefix}\n" if prefix else ""
    return f"""\
version: 1
account_id: "{ACCOUNT}"
region: us-east-1
bucket:
  name: {study}-share-{ACCOUNT}
iam_permissions_boundary: arn:aws:iam::{ACCOUNT}:policy/{study}-boundary
iam_path: /collaborators/{study}/
{naming}collaborators:
  - id: site-a
    iam_user: {study.capitalize()}SiteA
    prefix: site-a/
    access: [read, write, list]
  - id: partner
    principal: arn:aws:iam::111122223333:role/Uploader
    access: [write]
"""


def write_shares(root: Path, prefixes: dict[str, str | None]) -> Path:
    folder = root / "shares"
    folder.mkdir(exist_ok=True)
    for study, prefix in prefixes.items():
        (folder / f"{study}.yaml").write_text(share(study, prefix=prefix))
    return folder


def test_two_shares_in_one_account_apply_and_stay_converged(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    folder = write_shares(tmp_path, {"cardiology": "cardio-", "oncology": "onco-"})
    checked = run_reconcile("validate", str(folder), server=moto_server)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.endswith("All 2 files are valid.\n")
    matrix = run_reconcile("matrix", str(folder), server=moto_server)
    assert [e["name"] for e in json.loads(matrix.stdout)["include"]] == ["cardiology", "oncology"]
    for study in ("cardiology", "oncology"):
        config = str(folder / f"{study}.yaml")
        # each share's boundary, created once by the account's administrators (ci-setup.md)
        boundary = run_reconcile("iam-policy", "--boundary", "-c", config)
        assert boundary.returncode == 0, boundary.stderr
        moto_server.client("iam").create_policy(
            PolicyName=f"{study}-boundary", PolicyDocument=boundary.stdout
        )
        applied = run_reconcile("apply", "-c", config, "--auto-approve", server=moto_server)
        assert applied.returncode == 0, applied.stdout + applied.stderr
    for study in ("cardiology", "oncology", "cardiology"):
        config = str(folder / f"{study}.yaml")
        again = run_reconcile("plan", "-c", config, "--detailed-exitcode", server=moto_server)
        assert again.returncode == 0, again.stdout + again.stderr  # nothing flips
    s3control = moto_server.client("s3control")
    buckets = {
        name: s3control.get_access_point(AccountId=ACCOUNT, Name=name)["Bucket"]
        for name in (
            "cardio-site-a-access-point",
            "onco-site-a-access-point",
            "cardio-partner-access-point",
            "onco-partner-access-point",
        )
    }
    assert buckets == {
        "cardio-site-a-access-point": f"cardiology-share-{ACCOUNT}",
        "onco-site-a-access-point": f"oncology-share-{ACCOUNT}",
        "cardio-partner-access-point": f"cardiology-share-{ACCOUNT}",
        "onco-partner-access-point": f"oncology-share-{ACCOUNT}",
    }
    paths = {u["UserName"]: u["Path"] for u in moto_server.client("iam").list_users()["Users"]}
    assert paths == {
        "CardiologySiteA": "/collaborators/cardiology/",
        "OncologySiteA": "/collaborators/oncology/",
    }


def test_a_clash_between_shares_is_caught_by_validate_before_any_aws_call(
    tmp_path: Path,
) -> None:
    # without a prefix, both files default to site-a-access-point and partner-access-point
    write_shares(tmp_path, {"cardiology": None, "oncology": None})
    (result,) = run_without_aws([["validate", "shares"]], tmp_path)
    assert result["code"] == 1
    stderr = str(result["stderr"])
    assert "UNCAUGHT" not in stderr
    assert (
        "shares/cardiology.yaml:9:5: collaborators[0].id: access point 'site-a-access-point' "
        "(the default, from id) is also used by shares/oncology.yaml:9:5"
    ) in stderr
    assert "access point 'partner-access-point'" in stderr
    shutil.rmtree(tmp_path / "shares")
