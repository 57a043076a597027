"""Planning the bucket baseline that lives outside the shared bucket's own settings (issue 21):
server access logging and the log bucket's policy, CloudTrail data events, KMS key rotation.
Pure. Each function returns the changes, errors and warnings for one setting."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.documents.log_delivery import (
    allows_log_delivery,
    log_delivery_sid,
    log_delivery_statement,
)
from reconciler.model import POLICY_VERSION, Config, LiveState, ResourceType, canonical_policy
from reconciler.plan.changes import Action, Change


@dataclass
class Part:
    changes: list[Change] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def diff(self, rtype: ResourceType, rid: str, before: Any, after: Any) -> None:
        if before is None:
            self.changes.append(Change(Action.CREATE, rtype, rid, None, None, after))
        elif before != after:
            self.changes.append(Change(Action.UPDATE, rtype, rid, None, before, after))


def plan_baseline(config: Config, live: LiveState) -> Part:
    part = Part()
    _plan_access_logs(config, live, part)
    return part


# --- server access logging --------------------------------------------------------------------


def logging_value(config: Config) -> dict[str, str] | None:
    logs = config.bucket.access_logs
    return None if logs is None else {"TargetBucket": logs.bucket, "TargetPrefix": logs.prefix}


def desired_log_bucket_policy(
    config: Config, live_policy: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Every statement of the log bucket's policy is kept as it is, except this bucket's own
    log-delivery statement, which is replaced by the desired one."""
    live_doc = canonical_policy(live_policy) or {}
    sid = log_delivery_sid(config.bucket.name)
    kept = [s for s in live_doc.get("Statement", []) if s.get("Sid") != sid]
    merged: dict[str, Any] = {"Version": live_doc.get("Version", POLICY_VERSION)}
    if "Id" in live_doc:
        merged["Id"] = live_doc["Id"]
    merged["Statement"] = [*kept, log_delivery_statement(config)]
    result = canonical_policy(merged)
    assert result is not None
    return result


def _plan_access_logs(config: Config, live: LiveState, part: Part) -> None:
    logs = config.bucket.access_logs
    if logs is None:
        return  # logging is left as found
    where = f"bucket.access_logs: log bucket {logs.bucket}"
    log_bucket = live.log_bucket
    if log_bucket is None or not log_bucket.exists:
        part.errors.append(
            f"{where} does not exist: create it (in account {config.account_id}, Region "
            f"{config.region}) or name an existing one; the tool never creates log buckets"
        )
    elif log_bucket.problem:
        part.errors.append(f"{where}: {log_bucket.problem}")
    elif log_bucket.region and log_bucket.region != config.region:
        part.errors.append(
            f"{where} is in Region {log_bucket.region}, but S3 delivers server access logs only "
            f"to a bucket in the source bucket's Region ({config.region}): use a log bucket there"
        )
    elif logs.manage_policy:
        before = canonical_policy(log_bucket.policy)
        after = desired_log_bucket_policy(config, log_bucket.policy)
        part.diff(ResourceType.LOG_BUCKET_POLICY, logs.bucket, before, after)
    elif not allows_log_delivery(log_bucket.policy, config):
        part.errors.append(missing_log_delivery(config))
    part.diff(
        ResourceType.BUCKET_LOGGING, config.bucket.name, live.bucket.logging, logging_value(config)
    )


def missing_log_delivery(config: Config) -> str:
    logs = config.bucket.access_logs
    assert logs is not None
    statement = json.dumps(log_delivery_statement(config), sort_keys=True)
    return (
        f"bucket.access_logs: the policy of log bucket {logs.bucket} does not let S3 deliver "
        f"this bucket's server access logs: it needs an Allow statement for the service "
        f"principal logging.s3.amazonaws.com with s3:PutObject on "
        f"arn:aws:s3:::{logs.bucket}/{logs.prefix}*, limited by aws:SourceArn "
        f"arn:aws:s3:::{config.bucket.name} or aws:SourceAccount {config.account_id}. Add "
        f"{statement} to it, or set access_logs.manage_policy: true and the tool keeps it"
    )
