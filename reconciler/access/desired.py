"""The state collaborators.yaml would produce, built offline (no AWS): plan against an empty
account and apply the plan in memory. Statements other tools wrote are not in it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from reconciler.access.projected import empty_state, project
from reconciler.documents import policies
from reconciler.model import Config, LiveKey, LiveState
from reconciler.plan import planner


def desired_state(config: Config) -> LiveState:
    """With SSE-KMS the key is assumed to hold the default key policy AWS gives a new key
    (AWS KMS Developer Guide, "Default key policy": the account root may use it, which
    delegates to IAM), plus this tool's statements when it manages the key policy."""
    empty = empty_state(config)
    if config.bucket.kms:
        key = LiveKey(
            config.bucket.kms_key_id or "",
            arn=policies.key_resource(config),
            policy=default_key_policy(config.account_id),
            rotation_enabled=False,  # a new key's automatic rotation is off (AWS KMS)
        )
        empty = replace(empty, kms_key=key)
    return project(config, empty, planner.plan(config, empty))


def default_key_policy(account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
