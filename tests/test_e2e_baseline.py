"""End to end against a moto server: the bucket baseline (versioning, lifecycle, server access
logging) is set by apply, a hand edit of any of them shows as drift in the next plan, and the
next apply repairs it while keeping what the tool does not own (a foreign lifecycle rule, the
log bucket's other policy statements)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import BASE_YAML
from tests.e2e_support import MotoServer, moto_server, moto_server_session, run_reconcile

__all__ = ["moto_server", "moto_server_session"]
pytestmark = pytest.mark.e2e
BUCKET = "clinical-share-123456789012"
LOG_BUCKET = "clinical-share-logs-123456789012"
FOREIGN_RULE = {
    "ID": "scratch-cleanup",
    "Filter": {"Prefix": "scratch/"},
    "Status": "Enabled",
    "Expiration": {"Days": 30},
}
AUDITORS = {
    "Sid": "AuditorsRead",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{LOG_BUCKET}/*",
}
BASELINE_YAML = BASE_YAML.replace(
    f"  name: {BUCKET}\n",
    f"  name: {BUCKET}\n"
    "  lifecycle:\n    noncurrent_version_expiration_days: 90\n"
    f"  access_logs:\n    bucket: {LOG_BUCKET}\n    prefix: shared/\n    manage_policy: true\n"
    "  data_events_trail: audit-trail\n",
)
MANAGEMENT = {
    "Name": "Management events",
    "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
}


def run(server: MotoServer, path: Path, *args: str) -> tuple[int, str]:
    result = run_reconcile(*args, "-c", str(path), server=server)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout + result.stderr


def test_baseline_is_applied_and_hand_edits_are_drift_that_apply_repairs(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    s3 = moto_server.client("s3")
    s3.create_bucket(Bucket=LOG_BUCKET)
    s3.put_bucket_policy(
        Bucket=LOG_BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [AUDITORS]})
    )
    # a new trail: CloudTrail gives it the basic selector for management events
    trails = moto_server.client("cloudtrail")
    trails.create_trail(Name="audit-trail", S3BucketName=LOG_BUCKET)
    path = tmp_path / "collaborators.yaml"
    path.write_text(BASELINE_YAML)
    code, out = run(moto_server, path, "apply", "--auto-approve")
    assert code == 0 and "Converged" in out, out
    selectors = trails.get_event_selectors(TrailName="audit-trail")
    assert not selectors.get("EventSelectors")
    names = [s["Name"] for s in selectors["AdvancedEventSelectors"]]
    assert names == ["Management events", f"reconciler:{BUCKET}"]
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    assert s3.get_bucket_logging(Bucket=BUCKET)["LoggingEnabled"] == {
        "TargetBucket": LOG_BUCKET,
        "TargetPrefix": "shared/",
    }
    sids = {
        s["Sid"] for s in json.loads(s3.get_bucket_policy(Bucket=LOG_BUCKET)["Policy"])["Statement"]
    }
    assert sids == {"AuditorsRead", "ReconcilerServerAccessLogsFromClinicalShare123456789012"}
    code, out = run(moto_server, path, "verify", "-q")
    assert code == 0, out

    # hand edits, as in the console: versioning suspended, logging off, lifecycle replaced
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    s3.put_bucket_logging(Bucket=BUCKET, BucketLoggingStatus={})
    s3.put_bucket_lifecycle_configuration(
        Bucket=BUCKET, LifecycleConfiguration={"Rules": [FOREIGN_RULE]}
    )
    trails.put_event_selectors(TrailName="audit-trail", AdvancedEventSelectors=[MANAGEMENT])
    code, out = run(moto_server, path, "verify")
    assert code == 2, out
    assert "versioning is suspended" in out and "server access logging off" in out, out
    assert "rule(s) missing or changed: reconciler-abort-incomplete-multipart-uploads" in out
    code, out = run(moto_server, path, "plan", "--detailed-exitcode")
    assert code == 2, out
    for headline in (
        f"~ bucket_versioning {BUCKET}",
        f"+ bucket_logging {BUCKET}",
        f"~ bucket_lifecycle {BUCKET}",
        "~ trail_event_selectors audit-trail",
    ):
        assert headline in out, out
    assert 'Status: "Suspended" -> "Enabled"' in out
    code, out = run(moto_server, path, "apply", "--auto-approve")
    assert code == 0 and "Converged" in out, out
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    assert "LoggingEnabled" in s3.get_bucket_logging(Bucket=BUCKET)
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]}
    assert set(rules) == {
        "scratch-cleanup",
        "reconciler-abort-incomplete-multipart-uploads",
        "reconciler-expire-noncurrent-versions",
        "reconciler-expire-lock-versions",  # the lock lives in the shared bucket here
    }
    assert rules["scratch-cleanup"] == FOREIGN_RULE
    selectors = trails.get_event_selectors(TrailName="audit-trail")["AdvancedEventSelectors"]
    assert [s["Name"] for s in selectors] == ["Management events", f"reconciler:{BUCKET}"]
    code, out = run(moto_server, path, "plan", "--detailed-exitcode")
    assert code == 0, out


def test_import_writes_the_baseline_back(moto_server: MotoServer, tmp_path: Path) -> None:
    s3 = moto_server.client("s3")
    s3.create_bucket(Bucket=LOG_BUCKET)
    moto_server.client("cloudtrail").create_trail(Name="audit-trail", S3BucketName=LOG_BUCKET)
    path = tmp_path / "collaborators.yaml"
    path.write_text(BASELINE_YAML)
    code, out = run(moto_server, path, "apply", "--auto-approve")
    assert code == 0, out
    imported = tmp_path / "imported.yaml"
    result = run_reconcile(
        "import",
        "--bucket",
        BUCKET,
        "--account",
        "123456789012",
        "--out",
        str(imported),
        server=moto_server,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = imported.read_text()
    assert "  versioning: true\n" in text
    assert "    noncurrent_version_expiration_days: 90\n" in text
    assert f"    bucket: {LOG_BUCKET}\n    prefix: shared/\n" in text
