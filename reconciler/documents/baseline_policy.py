"""What the tool's own role needs for the bucket baseline of issue 21 beyond the shared bucket's
own settings (reconciler.documents.iam_policy adds these statements): the log bucket of
bucket.access_logs and, later in this module, the CloudTrail trail and the KMS key's rotation.
Each statement is scoped to the one resource the YAML names (Service Authorization Reference:
HeadBucket needs s3:ListBucket, GetBucketLocation s3:GetBucketLocation, GetBucketPolicy and
PutBucketPolicy their namesakes, all on the bucket)."""

from __future__ import annotations

from typing import Any

from reconciler.model import Config

# Service Authorization Reference, AWS CloudTrail: GetEventSelectors and PutEventSelectors are
# scoped to the trail (arn:aws:cloudtrail:REGION:ACCOUNT:trail/NAME).
TRAIL_READ = ("cloudtrail:GetEventSelectors",)
TRAIL_WRITE = ("cloudtrail:PutEventSelectors",)
# `reconcile import` (the read-only role, docs/ci-setup.md) looks for the trail that records
# the bucket's data events: ListTrails, for which the SAR lists no resource type (so "*"), and
# GetEventSelectors on each trail of the account whose home Region is the bucket's (trail/*:
# their names are what it is looking for). Read-only: which events each trail records.
TRAIL_LIST = ("cloudtrail:ListTrails",)
LOG_BUCKET_READ = ("s3:GetBucketLocation", "s3:GetBucketPolicy", "s3:ListBucket")
LOG_BUCKET_WRITE = ("s3:PutBucketPolicy",)


def _allow(sid: str, actions: tuple[str, ...], resource: str) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resource}


def trail_arn(config: Config) -> str:
    name = config.bucket.data_events_trail
    return f"arn:aws:cloudtrail:{config.region}:{config.account_id}:trail/{name}"


def baseline_read_statements(config: Config) -> list[dict[str, Any]]:
    logs = config.bucket.access_logs
    statements = []
    if config.bucket.data_events_trail:
        statements.append(_allow("ReconcilerReadTrailSelectors", TRAIL_READ, trail_arn(config)))
    if logs is not None:
        statements.append(
            _allow("ReconcilerReadLogBucket", LOG_BUCKET_READ, f"arn:aws:s3:::{logs.bucket}")
        )
    return statements


def import_read_statements(config: Config) -> list[dict[str, Any]]:
    """For the read-only role only: what `import` reads to write bucket.data_events_trail."""
    trails = f"arn:aws:cloudtrail:{config.region}:{config.account_id}:trail/*"
    return [
        _allow("ReconcilerImportListTrails", TRAIL_LIST, "*"),
        _allow("ReconcilerImportReadTrailSelectors", TRAIL_READ, trails),
    ]


def baseline_apply_statements(config: Config) -> list[dict[str, Any]]:
    logs = config.bucket.access_logs
    statements = []
    if config.bucket.data_events_trail:
        statements.append(_allow("ReconcilerManageTrailSelectors", TRAIL_WRITE, trail_arn(config)))
    if logs is not None and logs.manage_policy:
        statements.append(
            _allow(
                "ReconcilerManageLogBucketPolicy", LOG_BUCKET_WRITE, f"arn:aws:s3:::{logs.bucket}"
            )
        )
    return statements
