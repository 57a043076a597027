"""Planning the bucket baseline that lives outside the shared bucket's own settings (issue 21):
server access logging and the log bucket's policy, CloudTrail data events, KMS key rotation.
Pure. Each function returns the changes, errors and warnings for one setting."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.documents.data_events import own_selector_name
from reconciler.documents.log_delivery import (
    allows_log_delivery,
    log_delivery_sid,
    log_delivery_statement,
)
from reconciler.model import (
    POLICY_VERSION,
    Config,
    LiveState,
    LiveTrail,
    ResourceType,
    canonical_policy,
)
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
    _plan_data_events(config, live, part)
    _plan_key_rotation(config, live, part)
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


# --- CloudTrail data events -------------------------------------------------------------------

# CloudTrail User Guide, "Logging data events" (advanced event selectors for S3 objects) and
# CloudTrail API Reference, AdvancedEventSelector / AdvancedFieldSelector. No readOnly field:
# both read and write events are recorded. Its name: reconciler:<bucket>
# (reconciler.documents.data_events, which `import` also uses to recognise it).


def selector_name(config: Config) -> str:
    return own_selector_name(config.bucket.name)


def data_events_selector(config: Config) -> dict[str, Any]:
    return canonical_selector(
        {
            "Name": selector_name(config),
            "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{config.bucket.name}/"]},
            ],
        }
    )


def canonical_selector(selector: Mapping[str, Any]) -> dict[str, Any]:
    """Field selectors in Field order, each operator's values sorted: CloudTrail ANDs the
    field selectors and ORs the values, so neither order means anything."""
    fields = [
        {k: sorted(v) if isinstance(v, list) else v for k, v in sorted(f.items()) if v != []}
        for f in selector.get("FieldSelectors", [])
    ]  # an operator with no values (as an SDK may return it) says nothing
    result: dict[str, Any] = {}
    if selector.get("Name"):
        result["Name"] = selector["Name"]
    result["FieldSelectors"] = sorted(
        fields, key=lambda f: (str(f.get("Field")), json.dumps(f, sort_keys=True))
    )
    return result


def translate_basic(selector: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The advanced selector(s) recording exactly what a basic selector records, or None when
    this tool does not translate it. Only management-event selectors are translated, as the
    CloudTrail User Guide pairs them ("Log management events": eventCategory = Management;
    read-only or write-only events: readOnly = true / false; excluded sources: eventSource
    NotEquals). A basic selector with data resources is left to a person: its translation
    depends on each resource type. One recording nothing (no management events, no data
    resources) needs no advanced selector."""
    if selector.get("DataResources"):
        return None
    if not selector.get("IncludeManagementEvents", True):
        return []
    fields: list[dict[str, Any]] = [{"Field": "eventCategory", "Equals": ["Management"]}]
    read_write = selector.get("ReadWriteType", "All")
    if read_write in ("ReadOnly", "WriteOnly"):
        fields.append({"Field": "readOnly", "Equals": [str(read_write == "ReadOnly").lower()]})
    elif read_write != "All":
        return None
    excluded = list(selector.get("ExcludeManagementEventSources") or [])
    if excluded:
        fields.append({"Field": "eventSource", "NotEquals": excluded})
    return [canonical_selector({"Name": "Management events", "FieldSelectors": fields})]


def _trail_value(trail: LiveTrail) -> dict[str, Any] | None:
    if trail.event_selectors:
        return {"EventSelectors": [dict(s) for s in trail.event_selectors]}
    if trail.advanced_event_selectors:
        return {
            "AdvancedEventSelectors": [
                canonical_selector(s) for s in trail.advanced_event_selectors
            ]
        }
    return None


def desired_selectors(config: Config, trail: LiveTrail) -> list[dict[str, Any]] | None:
    """The trail's advanced selectors with ours in place (others kept, in their order), or
    None when its basic selectors cannot be translated."""
    current: list[dict[str, Any]] = []
    for basic in trail.event_selectors:
        translated = translate_basic(basic)
        if translated is None:
            return None
        current.extend(translated)
    current.extend(canonical_selector(s) for s in trail.advanced_event_selectors)
    ours = data_events_selector(config)
    result: list[dict[str, Any]] = []
    for selector in current:
        if selector.get("Name") != ours["Name"]:
            result.append(selector)
        elif ours not in result:
            result.append(ours)  # ours stays where it was
    if ours not in result:
        result.append(ours)
    return result


def _plan_data_events(config: Config, live: LiveState, part: Part) -> None:
    name = config.bucket.data_events_trail
    if name is None:
        return
    trail = live.trail
    where = f"bucket.data_events_trail: trail {name}"
    if trail is None or trail.arn is None:
        reason = trail.problem if trail and trail.problem else "was not found"
        part.errors.append(
            f"{where} {reason} in Region {config.region} of account {config.account_id}: "
            "the tool never creates trails; create it there (its home Region must be the "
            "bucket's), or name an existing one"
        )
        return
    after = desired_selectors(config, trail)
    if after is None:
        part.errors.append(
            f"{where} uses basic event selectors that log data events, and a trail holds "
            "basic or advanced selectors, never both: recording this bucket with an advanced "
            "selector would drop them. Switch the trail to advanced event selectors yourself "
            "(CloudTrail console: the trail's Data events, 'Switch to advanced event "
            "selectors', which converts them) and plan again"
        )
        return
    value = {"AdvancedEventSelectors": after}
    before = _trail_value(trail)
    part.diff(ResourceType.TRAIL_EVENT_SELECTORS, name, before, value)
    if trail.event_selectors and before != value:
        part.warnings.append(
            f"{where} uses basic event selectors (management events only): they become the "
            "advanced selectors that record exactly the same events, since a trail cannot "
            "hold both kinds"
        )


# --- KMS key rotation ---------------------------------------------------------------------------


def _plan_key_rotation(config: Config, live: LiveState, part: Part) -> None:
    """With manage_key_policy the tool turns automatic rotation on (AWS KMS Developer Guide,
    "Rotating AWS KMS keys": the key material is replaced yearly, old material kept for
    decryption); otherwise the plan only says that it is off."""
    key = live.kms_key
    if not config.bucket.kms or key is None or key.arn is None:
        return
    if key.rotation_enabled is None:
        if key.rotation_problem:
            part.warnings.append(
                f"the automatic rotation of KMS key {key.arn} could not be read: "
                f"{key.rotation_problem}"
            )
        return
    if key.rotation_enabled:
        return
    if config.bucket.manage_key_policy and key.account == config.account_id:
        part.changes.append(
            Change(
                Action.UPDATE,
                ResourceType.KMS_KEY_ROTATION,
                key.arn,
                None,
                {"KeyRotationEnabled": False},
                {"KeyRotationEnabled": True},
            )
        )
        return
    part.warnings.append(
        f"automatic rotation of KMS key {key.arn} is off: turn it on (aws kms "
        f"enable-key-rotation --key-id {key.arn}), or set bucket.manage_key_policy: true "
        "and the tool keeps it on"
    )
