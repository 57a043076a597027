"""The bucket's KMS key: which key `bucket.kms_key_id` names, decided once per plan. Pure.

S3 resolves an alias in default encryption in the account of whoever writes the object
(AWS-NOTES; S3 User Guide, "Specifying server-side encryption with AWS KMS (SSE-KMS)"), so a
collaborator's upload could be encrypted under a key of its own account. The tool therefore
only ever writes a key ARN: a key ARN is used as given; an alias or key id is resolved with
kms:DescribeKey in the account of `account_id` (the credentials' account, checked first), and
the plan refuses what cannot be resolved, saying why. The key must be in the bucket's Region
and enabled.
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.model import Config, LiveKey, LiveState

WHY_ARN = (
    "an alias or key id resolves in the account of whoever makes the request; give the key ARN "
    "(arn:aws:kms:REGION:ACCOUNT:key/ID)"
)


def resolve_key(config: Config, live: LiveState) -> tuple[Config, list[str]]:
    """(config with bucket.kms_key_arn set, errors). Unchanged when KMS is off or the key was
    not read (offline)."""
    bucket = config.bucket
    key = live.kms_key
    if not bucket.kms or key is None:
        return config, []
    problems = key_problems(config, key)
    if key.arn is None or problems:
        return config, problems
    return replace(config, bucket=replace(bucket, kms_key_arn=key.arn)), []


def key_problems(config: Config, key: LiveKey) -> list[str]:
    where = f"bucket.kms_key_id {key.requested}"
    if key.arn is None:
        return [
            f"{where}: no such KMS key in account {config.account_id}, Region {config.region} "
            f"({key.problem or 'kms:DescribeKey found none'}): {WHY_ARN}"
        ]
    if key.region != config.region:
        return [
            f"{where} is key {key.arn} in Region {key.region}: SSE-KMS needs a key in the "
            f"bucket's Region {config.region}"
        ]
    if key.state != "Enabled":
        return [f"{where} is key {key.arn}, which is {key.state}: S3 cannot encrypt with it"]
    return []
