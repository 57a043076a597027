"""Verify's checks of the bucket baseline (issue 21): versioning, lifecycle, server access
logging, CloudTrail data events, KMS key rotation. Each compares what AWS holds (or, for
`verify --desired`, what the plan would leave) with what collaborators.yaml asks for; a setting
the file leaves alone is reported as n/a with what was found."""

from __future__ import annotations

from reconciler.access.checks import BucketCheck, BucketCheckName, Status
from reconciler.documents.log_delivery import allows_log_delivery
from reconciler.model import LOCK_VERSIONS_RULE_ID, Config, LiveState
from reconciler.plan.baseline import canonical_selector, data_events_selector, logging_value
from reconciler.plan.planner import lifecycle_rules


def baseline_checks(config: Config, live: LiveState) -> list[BucketCheck]:
    return [
        _versioning(config, live),
        _lifecycle(config, live),
        _access_logs(config, live),
        _data_events(config, live),
        *([_key_rotation(config, live)] if config.bucket.kms else []),
    ]


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
    if LOCK_VERSIONS_RULE_ID in wanted:
        detail += "; the apply lock's old versions expire after 1 day"
    return BucketCheck(name, Status.OK, detail)


def _access_logs(config: Config, live: LiveState) -> BucketCheck:
    name = BucketCheckName.ACCESS_LOGS
    found = live.bucket.logging
    where = f"into {found.get('TargetBucket')}/{found.get('TargetPrefix')}" if found else "off"
    wanted = logging_value(config)
    if wanted is None:
        return BucketCheck(name, Status.NA, f"server access logging {where}; access_logs not set")
    if found != wanted:
        return BucketCheck(name, Status.FAIL, f"server access logging {where}")
    log_bucket = live.log_bucket
    if log_bucket is None or not allows_log_delivery(log_bucket.policy, config):
        return BucketCheck(
            name,
            Status.FAIL,
            f"logging {where}, but the policy of {wanted['TargetBucket']} does not let S3 "
            "deliver the logs",
        )
    return BucketCheck(name, Status.OK, f"server access logs {where}")


def _data_events(config: Config, live: LiveState) -> BucketCheck:
    """Our advanced selector is in the trail, as written. Other selectors of the trail may
    record the bucket's data events too; this check vouches only for the tool's own."""
    name = BucketCheckName.DATA_EVENTS
    trail_name = config.bucket.data_events_trail
    if trail_name is None:
        return BucketCheck(name, Status.NA, "data_events_trail not set")
    trail = live.trail
    if trail is None or trail.arn is None:
        return BucketCheck(name, Status.FAIL, f"trail {trail_name} not found")
    ours = data_events_selector(config)
    if any(canonical_selector(s) == ours for s in trail.advanced_event_selectors):
        return BucketCheck(
            name, Status.OK, f"trail {trail_name} records object reads and writes ({ours['Name']})"
        )
    return BucketCheck(
        name, Status.FAIL, f"trail {trail_name} has no selector {ours['Name']} for this bucket"
    )


def _key_rotation(config: Config, live: LiveState) -> BucketCheck:
    name = BucketCheckName.KMS_ROTATION
    key = live.kms_key
    if key is None or key.rotation_enabled is None:
        problem = key.rotation_problem if key is not None else None
        return BucketCheck(name, Status.UNKNOWN, problem or "the key's rotation was not read")
    if key.rotation_enabled:
        return BucketCheck(name, Status.OK, "automatic rotation on")
    if config.bucket.manage_key_policy:
        return BucketCheck(name, Status.FAIL, "automatic rotation off")
    return BucketCheck(
        name, Status.NA, "automatic rotation off; manage_key_policy: false leaves it (plan warns)"
    )
