"""Shared helpers for the access tests: states built from configs, and policy edits."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from reconciler.access.desired import desired_state
from reconciler.model import Config, LiveState

# The identity policy of the AWS blog's seed setup (it grants s3:ListBucket on "*").
SEED_IDENTITY_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": {
        "Action": [
            "s3:GetAccessPoint",
            "s3:ListAllMyBuckets",
            "s3:ListAccessPoints",
            "s3:ListBucket",
        ],
        "Resource": "*",
        "Effect": "Allow",
    },
}


def edit_access_point(state: LiveState, name: str, policy: dict[str, Any] | None) -> LiveState:
    points = dict(state.access_points)
    points[name] = replace(points[name], policy=policy)
    return replace(state, access_points=points)


def edit_bucket_policy(state: LiveState, policy: dict[str, Any] | None) -> LiveState:
    return replace(state, bucket=replace(state.bucket, policy=policy))


def edit_user_policy(state: LiveState, user: str, name: str, policy: dict[str, Any]) -> LiveState:
    users = dict(state.users)
    inline = dict(users[user].inline_policies)
    inline[name] = policy
    users[user] = replace(users[user], inline_policies=inline)
    return replace(state, users=users)


def policy_of(state: LiveState, access_point: str) -> dict[str, Any]:
    policy = state.access_points[access_point].policy
    assert policy is not None
    return copy.deepcopy(dict(policy))


def bucket_policy_of(state: LiveState) -> dict[str, Any]:
    assert state.bucket.policy is not None
    return copy.deepcopy(dict(state.bucket.policy))


def desired(config: Config) -> LiveState:
    return desired_state(config)
