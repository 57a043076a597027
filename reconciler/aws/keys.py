"""The bucket's KMS key: kms:DescribeKey resolves what bucket.kms_key_id names (an alias or key
id resolves in the caller's account, which is account_id: the account check runs first), and
kms:GetKeyPolicy reads its key policy. "Not found" is a state the plan reports, not an error.
GetKeyPolicy works only in the key's own account (AWS KMS API Reference, GetKeyPolicy:
"Cross-account use: No"), so a key in another account has no policy read."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from reconciler.aws.errors import error_code, error_message, reading
from reconciler.aws.session import Clients
from reconciler.model import Config, LiveKey

KEY_POLICY_NAME = "default"  # the only key policy name KMS supports


@reading("the KMS key (kms:DescribeKey, kms:GetKeyPolicy)")
def read_key(clients: Clients, config: Config) -> LiveKey | None:
    requested = config.bucket.kms_key_id
    if not config.bucket.kms or requested is None:
        return None
    try:
        meta = clients.kms.describe_key(KeyId=requested)["KeyMetadata"]
    except ClientError as err:
        if error_code(err) in {"NotFoundException", "InvalidArnException"}:
            return LiveKey(requested, problem=f"{error_code(err)}: {error_message(err)}")
        raise
    arn = str(meta["Arn"])
    key = LiveKey(requested, arn=arn, state=str(meta.get("KeyState", "Enabled")))
    if key.account != config.account_id:
        return LiveKey(
            requested,
            arn=arn,
            state=key.state,
            policy_problem=f"the key is in account {key.account}: its key policy can only be "
            "read there",
        )
    text = clients.kms.get_key_policy(KeyId=arn, PolicyName=KEY_POLICY_NAME)["Policy"]
    return replace(
        LiveKey(requested, arn=arn, state=key.state, policy=json.loads(text)),
        **_rotation(clients, arn),
    )


def _rotation(clients: Clients, arn: str) -> dict[str, Any]:
    """kms:GetKeyRotationStatus. A key whose material cannot rotate automatically (asymmetric,
    imported, in a custom key store) answers UnsupportedOperationException: a state the plan
    reports (AWS KMS API Reference, GetKeyRotationStatus)."""
    try:
        found = clients.kms.get_key_rotation_status(KeyId=arn)
    except ClientError as err:
        if error_code(err) in {"UnsupportedOperationException", "AccessDeniedException"}:
            return {"rotation_problem": f"{error_code(err)}: {error_message(err)}"}
        raise
    return {"rotation_enabled": bool(found.get("KeyRotationEnabled"))}
