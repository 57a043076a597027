"""The KMS key policy as this tool would leave it (bucket.manage_key_policy: true). Pure.

Exactly like the bucket policy: statements whose Sid starts with "Reconciler" are ours and are
replaced by `policies.key_policy_statements`; every other statement is kept as AWS returned it,
byte for byte. Without manage_key_policy the key policy is only read, never written.

Administrators must stay in control: a statement with one of our Sids that grants key
administration (kms:PutKeyPolicy, kms:* ...) was not written by this tool, so the plan refuses
to touch the key policy rather than drop it. PutKeyPolicy keeps KMS's lockout safety check on
(reconciler.aws.writer)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.documents import policies
from reconciler.model import POLICY_VERSION, Config, LiveKey, is_our_statement

ADMIN_ACTIONS = ("kms:*", "kms:putkeypolicy", "*")


def desired_key_policy(config: Config, key: LiveKey | None) -> tuple[dict[str, Any] | None, str]:
    """(the key policy to write, or None to leave it; why it cannot be managed, or "")."""
    if not (config.bucket.kms and config.bucket.manage_key_policy) or key is None or not key.arn:
        return None, ""
    if key.policy is None:
        return None, f"bucket.manage_key_policy: cannot manage the key policy of {key.arn}: " + (
            key.policy_problem or "it was not read"
        )
    raw = key.policy.get("Statement", [])
    statements = [raw] if isinstance(raw, Mapping) else list(raw)
    admin = [s for s in statements if is_our_statement(s) and _administers(s)]
    if admin:
        return None, (
            f"bucket.manage_key_policy: the key policy of {key.arn} has statement "
            f"{admin[0].get('Sid')}, which grants key administration under a Sid this tool "
            "owns: rename its Sid so that it does not start with Reconciler"
        )
    document: dict[str, Any] = {"Version": key.policy.get("Version", POLICY_VERSION)}
    if "Id" in key.policy:
        document["Id"] = key.policy["Id"]
    foreign = [s for s in statements if not is_our_statement(s)]
    document["Statement"] = foreign + policies.key_policy_statements(config)
    return document, ""


def _administers(statement: Mapping[str, Any]) -> bool:
    actions = statement.get("Action", [])
    listed = [actions] if isinstance(actions, str) else list(actions)
    return statement.get("Effect") == "Allow" and any(
        str(a).lower() in ADMIN_ACTIONS for a in listed
    )
