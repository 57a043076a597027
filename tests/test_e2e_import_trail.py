"""End to end against a moto server: `reconcile import` writes bucket.data_events_trail back.

- A bucket whose trail selector `reconcile apply` wrote imports back to the same trail, and the
  imported file plans no change.
- A trail someone else set up, whose advanced selector records every bucket's objects, is
  imported with a comment (the tool adds its own selector and leaves theirs); the adopting
  apply does exactly that.
- No trail records the bucket: a commented-out hint, no error.
- --trail with a trail that does not exist: one clear line naming the option, exit 1, no
  traceback, nothing written.
- ListTrails denied (injected by the fault proxy, as CloudTrail answers it): a warning that
  says to pass --trail, and the import still succeeds; with --trail it finds the trail.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BASE_YAML
from tests.e2e_support import (
    MotoServer,
    moto_server,
    moto_server_session,
    reconcile_env,
    run_reconcile,
)
from tests.fault_proxy import FaultProxy

__all__ = ["moto_server", "moto_server_session"]
pytestmark = pytest.mark.e2e
ACCOUNT = "123456789012"
BUCKET = "clinical-share-123456789012"
LOG_BUCKET = "clinical-share-logs-123456789012"
TRAILED_YAML = BASE_YAML.replace(
    f"  name: {BUCKET}\n", f"  name: {BUCKET}\n  data_events_trail: audit-trail\n"
)
# someone else's advanced selector: every bucket's object-level events (no resources.ARN field;
# CloudTrail API Reference, AdvancedFieldSelector)
ALL_S3_DATA = {
    "Name": "S3 data events",
    "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]},
        {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
    ],
}
MANAGEMENT = {
    "Name": "Management events",
    "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
}


def reconcile(server: MotoServer, *args: str, url: str | None = None) -> tuple[int, str, str]:
    env = reconcile_env(server) if url is None else reconcile_env(None, AWS_ENDPOINT_URL=url)
    result = run_reconcile(*args, env=env)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout, result.stderr


def import_to(server: MotoServer, path: Path, *extra: str, url: str | None = None) -> str:
    code, out, err = reconcile(
        server,
        "import",
        "--bucket",
        BUCKET,
        "--account",
        ACCOUNT,
        "--out",
        str(path),
        *extra,
        url=url,
    )
    assert code == 0, out + err
    return err


def make_trail(server: MotoServer, name: str, *selectors: dict[str, object]) -> None:
    s3 = server.client("s3")
    if LOG_BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=LOG_BUCKET)
    trails = server.client("cloudtrail")
    trails.create_trail(Name=name, S3BucketName=LOG_BUCKET)
    if selectors:
        trails.put_event_selectors(TrailName=name, AdvancedEventSelectors=list(selectors))


def prose(text: str) -> str:
    lines = [line.strip().removeprefix("#").strip() for line in text.splitlines()]
    return " ".join(line for line in lines if line)


def test_a_trail_set_up_by_apply_imports_back_and_plans_no_change(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    make_trail(moto_server, "audit-trail")
    make_trail(moto_server, "ops-trail", MANAGEMENT)
    path = tmp_path / "collaborators.yaml"
    path.write_text(TRAILED_YAML)
    code, out, err = reconcile(moto_server, "apply", "-c", str(path), "--auto-approve")
    assert code == 0 and "Converged" in out, out + err
    imported = tmp_path / "imported.yaml"
    import_to(moto_server, imported)
    text = imported.read_text()
    assert "\n  data_events_trail: audit-trail\n" in text
    before = text.split("  data_events_trail: audit-trail")[0].splitlines()[-1]
    assert not before.lstrip().startswith("#")  # the tool's own selector: nothing to say
    code, out, err = reconcile(moto_server, "plan", "-c", str(imported), "--detailed-exitcode")
    assert code == 0, out + err


def test_a_foreign_selector_is_imported_with_a_comment_and_adopted_beside_theirs(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    make_trail(moto_server, "org-audit", MANAGEMENT, ALL_S3_DATA)
    base = tmp_path / "base.yaml"
    base.write_text(BASE_YAML)
    assert reconcile(moto_server, "apply", "-c", str(base), "--auto-approve")[0] == 0
    imported = tmp_path / "imported.yaml"
    import_to(moto_server, imported)
    text = imported.read_text()
    assert "\n  data_events_trail: org-audit\n" in text
    assert (
        "trail org-audit records this bucket's object-level reads and writes with a selector "
        "that is not the tool's (S3 data events): applying adds the tool's selector "
        f"reconciler:{BUCKET} beside it and leaves theirs as it is"
    ) in prose(text)
    code, out, err = reconcile(moto_server, "apply", "-c", str(imported), "--auto-approve")
    assert code == 0 and "Converged" in out, out + err
    selectors = moto_server.client("cloudtrail").get_event_selectors(TrailName="org-audit")
    names = [s["Name"] for s in selectors["AdvancedEventSelectors"]]
    assert names == ["Management events", "S3 data events", f"reconciler:{BUCKET}"]


def test_no_trail_recording_the_bucket_is_a_commented_hint(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    make_trail(moto_server, "ops-trail", MANAGEMENT)
    base = tmp_path / "base.yaml"
    base.write_text(BASE_YAML)
    assert reconcile(moto_server, "apply", "-c", str(base), "--auto-approve")[0] == 0
    imported = tmp_path / "imported.yaml"
    err = import_to(moto_server, imported)
    text = imported.read_text()
    assert "\n  # data_events_trail: ops-trail\n" in text
    assert "\n  data_events_trail:" not in text
    assert "no trail of this account whose home Region is us-east-1 records all" in prose(text)
    assert "warning" not in err
    code, out, err = reconcile(moto_server, "validate", "-c", str(imported))
    assert code == 0, out + err


def test_trail_that_does_not_exist_is_one_clear_error(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    moto_server.client("s3").create_bucket(Bucket=BUCKET)
    out_file = tmp_path / "imported.yaml"
    args = ["import", "--bucket", BUCKET, "--out", str(out_file), "--trail"]
    code, out, err = reconcile(moto_server, *args, "no-such-trail")
    assert code == 1, out + err
    assert err.strip().splitlines() == [
        "error: --trail no-such-trail: there is no trail no-such-trail whose home Region is "
        f"us-east-1 in account {ACCOUNT} (TrailNotFoundException); `aws cloudtrail list-trails "
        "--region us-east-1` lists them, or leave --trail out to look them up"
    ]
    assert not out_file.exists()
    # a name CloudTrail cannot have is refused before any AWS call
    code, out, err = reconcile(moto_server, *args, "bad name")
    assert code == 1 and "--trail" in err and "is not a CloudTrail trail name" in err, err


@pytest.fixture
def proxy(moto_server: MotoServer) -> Iterator[FaultProxy]:
    proxy = FaultProxy(moto_server.url)
    try:
        yield proxy
    finally:
        proxy.stop()


def test_listing_trails_denied_is_a_warning_to_pass_trail(
    moto_server: MotoServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    make_trail(moto_server, "audit-trail", MANAGEMENT, ALL_S3_DATA)
    moto_server.client("s3").create_bucket(Bucket=BUCKET)
    proxy.reset(fail_match=("CloudTrail", "ListTrails"), kind="denied")
    imported = tmp_path / "imported.yaml"
    err = import_to(moto_server, imported, url=proxy.url)
    assert [i[1] for i in proxy.plan.injected] == ["denied"]  # ListTrails, and only it
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "could not list the CloudTrail trails" in warnings[0]
    assert "AccessDeniedException" in warnings[0] and "Pass --trail NAME" in warnings[0]
    assert "imported 0 collaborator(s)" in err
    text = imported.read_text()
    assert "  # data_events_trail: NAME\n" in text
    # the operator names the trail instead: ListTrails is not called
    proxy.reset(fail_match=("CloudTrail", "ListTrails"), kind="denied")
    named = tmp_path / "named.yaml"
    err = import_to(moto_server, named, "--trail", "audit-trail", url=proxy.url)
    assert proxy.plan.injected == []
    assert "warning" not in err
    assert "\n  data_events_trail: audit-trail\n" in named.read_text()
