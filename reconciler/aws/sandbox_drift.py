"""Hand edits in the sandbox, as someone clicking in the AWS console would make them, so the
next plan has drift to show and the next apply something to put back (`reconcile sandbox
drift`). Only ever used inside the embedded sandbox."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from reconciler.errors import ReconcilerError
from reconciler.model import Collaborator, Config

if TYPE_CHECKING:  # the command's help lists KINDS without loading the SDK
    from reconciler.aws.session import Clients

# The kinds of drift, each with what it does (shown in `reconcile sandbox drift --help`).
KINDS = {
    "widen-policy": "add a statement granting s3:DeleteObject to the access point policy",
    "delete-access-point": "delete the collaborator's access point",
    "delete-user": "delete the collaborator's IAM user (iam_user only)",
}
# ... and of the bucket's baseline (issue 21): no collaborator is named for these.
BUCKET_KINDS = {
    "suspend-versioning": "suspend the bucket's versioning",
    "logging-off": "turn the bucket's server access logging off",
    "replace-lifecycle": "replace the bucket's lifecycle rules with one of someone else's",
    "remove-trail-selector": "remove the tool's event selector from bucket.data_events_trail",
}
HAND_EDIT_SID = "AddedInTheConsole"
# the lifecycle rule someone adds in the console, replacing the tool's (S3 API Reference,
# PutBucketLifecycleConfiguration replaces the whole configuration)
HAND_EDIT_RULE = {
    "ID": "added-in-the-console",
    "Filter": {"Prefix": "scratch/"},
    "Status": "Enabled",
    "Expiration": {"Days": 30},
}


def make_drift(
    clients: Clients, config: Config, collaborator: Collaborator | None, kind: str
) -> str:
    """Make one hand edit; return a sentence saying what changed. `collaborator`: for the
    KINDS, None for the BUCKET_KINDS."""
    from botocore.exceptions import ClientError

    from reconciler.aws.errors import error_code

    if kind in BUCKET_KINDS:
        try:
            return _BUCKET_DRIFTS[kind](clients, config)
        except ClientError as err:
            if error_code(err) in {"NoSuchBucket", "TrailNotFoundException"}:
                raise ReconcilerError(
                    f"nothing to change for --kind {kind} in the sandbox: run `reconcile "
                    "apply --sandbox` first"
                ) from None
            raise
    assert collaborator is not None
    try:
        return _DRIFTS[kind](clients, config, collaborator)
    except ClientError as err:
        if error_code(err) in {"NoSuchAccessPoint", "NoSuchEntity", "NoSuchAccessPointPolicy"}:
            raise ReconcilerError(
                f"nothing to change for {collaborator.id} in the sandbox: run "
                "`reconcile apply --sandbox` first"
            ) from None
        raise


def _widen_policy(clients: Clients, config: Config, collaborator: Collaborator) -> str:
    name = collaborator.access_point
    answer = clients.s3control.get_access_point_policy(AccountId=config.account_id, Name=name)
    policy = json.loads(answer["Policy"])
    statements = policy["Statement"]
    principal = next(s["Principal"] for s in statements if s.get("Effect") == "Allow")
    arn = config.access_point_arn(name)
    statements.append(
        {
            "Sid": HAND_EDIT_SID,
            "Effect": "Allow",
            "Principal": principal,
            "Action": "s3:DeleteObject",
            "Resource": f"{arn}/object/{collaborator.prefix}*",
        }
    )
    clients.s3control.put_access_point_policy(
        AccountId=config.account_id, Name=name, Policy=json.dumps(policy)
    )
    return f"access point {name}: statement {HAND_EDIT_SID} now also grants s3:DeleteObject"


def _delete_access_point(clients: Clients, config: Config, collaborator: Collaborator) -> str:
    name = collaborator.access_point
    clients.s3control.get_access_point(AccountId=config.account_id, Name=name)
    clients.s3control.delete_access_point(AccountId=config.account_id, Name=name)
    return f"access point {name} deleted"


def _delete_user(clients: Clients, config: Config, collaborator: Collaborator) -> str:
    user = collaborator.iam_user
    if user is None:
        raise ReconcilerError(
            f"{collaborator.id} has no iam_user (its principal is not the tool's): choose "
            "another collaborator or another kind of drift"
        )
    iam: Any = clients.iam
    for policy in iam.list_user_policies(UserName=user)["PolicyNames"]:
        iam.delete_user_policy(UserName=user, PolicyName=policy)
    iam.delete_user(UserName=user)
    return f"IAM user {user} deleted"


_DRIFTS = {
    "widen-policy": _widen_policy,
    "delete-access-point": _delete_access_point,
    "delete-user": _delete_user,
}


# --- the bucket's baseline ----------------------------------------------------------------------


def _nothing_to_change(config: Config, setting: str, why: str) -> ReconcilerError:
    return ReconcilerError(f"nothing to drift: {setting} {why} in {config.source}")


def _suspend_versioning(clients: Clients, config: Config) -> str:
    if not config.bucket.versioning:
        raise _nothing_to_change(
            config, "bucket.versioning", "is false (the tool leaves versioning as found)"
        )
    clients.s3.put_bucket_versioning(
        Bucket=config.bucket.name, VersioningConfiguration={"Status": "Suspended"}
    )
    return f"bucket {config.bucket.name}: versioning suspended"


def _logging_off(clients: Clients, config: Config) -> str:
    if config.bucket.access_logs is None:
        raise _nothing_to_change(config, "bucket.access_logs", "is not set")
    clients.s3.put_bucket_logging(Bucket=config.bucket.name, BucketLoggingStatus={})
    return f"bucket {config.bucket.name}: server access logging turned off"


def _replace_lifecycle(clients: Clients, config: Config) -> str:
    clients.s3.put_bucket_lifecycle_configuration(
        Bucket=config.bucket.name, LifecycleConfiguration={"Rules": [HAND_EDIT_RULE]}
    )
    return (
        f"bucket {config.bucket.name}: lifecycle rules replaced by one rule "
        f"{HAND_EDIT_RULE['ID']} (the tool's rules are gone)"
    )


def _remove_trail_selector(clients: Clients, config: Config) -> str:
    from reconciler.plan.baseline import selector_name

    trail = config.bucket.data_events_trail
    if trail is None:
        raise _nothing_to_change(config, "bucket.data_events_trail", "is not set")
    ours = selector_name(config)
    found = clients.cloudtrail.get_event_selectors(TrailName=trail)
    kept = [s for s in found.get("AdvancedEventSelectors") or [] if s.get("Name") != ours]
    if len(kept) == len(found.get("AdvancedEventSelectors") or []):
        raise ReconcilerError(
            f"trail {trail} has no selector {ours} in the sandbox: run `reconcile apply "
            "--sandbox` first"
        )
    # a trail needs at least one selector: the management events every new trail logs
    management = {
        "Name": "Management events",
        "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
    }
    clients.cloudtrail.put_event_selectors(
        TrailName=trail, AdvancedEventSelectors=kept or [management]
    )
    return f"trail {trail}: selector {ours} removed"


_BUCKET_DRIFTS = {
    "suspend-versioning": _suspend_versioning,
    "logging-off": _logging_off,
    "replace-lifecycle": _replace_lifecycle,
    "remove-trail-selector": _remove_trail_selector,
}
