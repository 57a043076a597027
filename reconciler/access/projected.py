"""The state a plan would leave behind: its changes applied to a LiveState, in memory.

`desired_state(config)` is the state the YAML alone would produce (planned against nothing),
which `verify --desired` evaluates offline."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from reconciler.model import (
    Config,
    LiveAccessPoint,
    LiveBucket,
    LiveState,
    LiveUser,
    ResourceType,
)
from reconciler.plan.changes import Action, Change, Plan


def empty_state(config: Config) -> LiveState:
    return LiveState(LiveBucket(name=config.bucket.name, exists=False), users={}, access_points={})


def project(config: Config, live: LiveState, plan: Plan) -> LiveState:
    bucket = live.bucket
    users = dict(live.users)
    points = dict(live.access_points)
    key = live.kms_key
    log_bucket = live.log_bucket
    trail = live.trail
    for change in plan.changes:
        if change.type is ResourceType.KMS_KEY_ROTATION:
            key = replace(key, rotation_enabled=True) if key is not None else None
        elif change.type is ResourceType.TRAIL_EVENT_SELECTORS:
            selectors = tuple(change.after["AdvancedEventSelectors"])
            trail = (
                replace(trail, event_selectors=(), advanced_event_selectors=selectors)
                if trail
                else None
            )
        elif change.type is ResourceType.LOG_BUCKET_POLICY:
            log_bucket = replace(log_bucket, policy=change.after) if log_bucket else None
        elif change.type is ResourceType.KMS_KEY_POLICY:
            key = replace(key, policy=change.after) if key is not None else None
        elif change.type is ResourceType.BUCKET and change.action is Action.CREATE:
            bucket = replace(bucket, exists=True, region=change.after["region"])
        elif change.type in _BUCKET_FIELDS:
            bucket = replace(bucket, **{_BUCKET_FIELDS[change.type]: change.after})
        elif change.type in (ResourceType.IAM_USER, ResourceType.IAM_USER_POLICY):
            _project_user(config, users, change)
        elif change.type is ResourceType.IAM_ACCESS_KEY:
            continue  # keys decide who can sign requests, not what policies allow
        else:
            _project_access_point(config, points, change)
    return LiveState(
        bucket=bucket,
        users=users,
        access_points=points,
        kms_key=key,
        log_bucket=log_bucket,
        trail=trail,
    )


_BUCKET_FIELDS = {
    ResourceType.BUCKET_ENCRYPTION: "encryption",
    ResourceType.BUCKET_PUBLIC_ACCESS_BLOCK: "public_access_block",
    ResourceType.BUCKET_OWNERSHIP_CONTROLS: "ownership_controls",
    ResourceType.BUCKET_VERSIONING: "versioning",
    ResourceType.BUCKET_LIFECYCLE: "lifecycle",
    ResourceType.BUCKET_LOGGING: "logging",
    ResourceType.BUCKET_POLICY: "policy",
}


def _project_user(config: Config, users: dict[str, LiveUser], change: Change) -> None:
    if change.type is ResourceType.IAM_USER:
        if change.action is Action.DELETE:
            users.pop(change.id, None)
            return
        after: dict[str, Any] = change.after
        old = users.get(change.id)
        tags = {**(old.tags if old else {}), **after["tags"]}
        arn = f"arn:aws:iam::{config.account_id}:user{after['path']}{change.id}"
        users[change.id] = LiveUser(
            name=change.id,
            path=after["path"],
            arn=arn,
            tags=tags,
            inline_policies=old.inline_policies if old else {},
            attached_policies=old.attached_policies if old else (),
            groups=old.groups if old else (),
            permissions_boundary=after.get(
                "permissions_boundary", old.permissions_boundary if old else None
            ),
        )
        return
    name, policy_name = change.id.split("/", 1)
    user = users.get(name)
    if user is None:
        return
    inline = dict(user.inline_policies)
    if change.action is Action.DELETE:
        inline.pop(policy_name, None)
    else:
        inline[policy_name] = change.after
    users[name] = replace(user, inline_policies=inline)


def _project_access_point(
    config: Config, points: dict[str, LiveAccessPoint], change: Change
) -> None:
    old = points.get(change.id)
    if change.type is ResourceType.ACCESS_POINT_POLICY:
        if old is not None:
            policy = None if change.action is Action.DELETE else change.after
            points[change.id] = replace(old, policy=policy)
        return
    if change.action is Action.DELETE:
        points.pop(change.id, None)
    elif change.action is Action.UPDATE and old is not None:
        points[change.id] = replace(old, tags={**old.tags, **change.after["tags"]})
    else:  # create, or replace: a new access point without a policy
        after: dict[str, Any] = change.after
        points[change.id] = LiveAccessPoint(
            name=change.id,
            bucket=after["bucket"],
            network_origin=after.get("network_origin", "Internet"),
            vpc_id=after.get("vpc_id"),
            tags=dict(after["tags"]),
            policy=None,
        )
