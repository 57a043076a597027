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
HAND_EDIT_SID = "AddedInTheConsole"


def make_drift(clients: Clients, config: Config, collaborator: Collaborator, kind: str) -> str:
    """Make one hand edit; return a sentence saying what changed."""
    from botocore.exceptions import ClientError

    from reconciler.aws.errors import error_code

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
