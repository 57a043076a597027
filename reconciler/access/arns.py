"""IAM role and role-session ARNs.

A role is a principal only through its sessions: requests are signed by
`arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE-NAME/SESSION-NAME`, whose ARN carries the role's
name but not its path. A Principal element naming the role ARN
(`arn:PARTITION:iam::ACCOUNT:role/PATH/ROLE-NAME`) covers every session of the role; one naming
a session ARN covers that session only (IAM User Guide, "AWS JSON policy elements: Principal",
IAM role principals and role session principals,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).
For a session, the `aws:PrincipalArn` condition key is the role's ARN (IAM User Guide, "AWS global
condition context keys", aws:PrincipalArn,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn).

Role names are unique in an account regardless of case and path (IAM User Guide, "IAM
identifiers", friendly names), so a role is identified by (partition, account, lower-cased name).
"""

from __future__ import annotations

import re

RoleKey = tuple[str, str, str]  # (partition, account, role name in lower case)

_ROLE = re.compile(r"^arn:(aws[a-z-]*):iam::([0-9]{12}):role/(?:.*/)?([^/]+)$")
_SESSION = re.compile(r"^arn:(aws[a-z-]*):sts::([0-9]{12}):assumed-role/([^/]+)/([^/]+)$")


def role_key(arn: str) -> RoleKey | None:
    """The role an IAM role ARN names, or None if it is not a role ARN."""
    found = _ROLE.match(arn)
    if found is None:
        return None
    return found.group(1), found.group(2), found.group(3).lower()


def session_role(arn: str) -> RoleKey | None:
    """The role an assumed-role session ARN belongs to, or None if it is not one."""
    found = _SESSION.match(arn)
    if found is None:
        return None
    return found.group(1), found.group(2), found.group(3).lower()


def session_arn(role_arn: str, session: str) -> str:
    """The ARN of the session `session` of the role `role_arn` (the path is not part of it)."""
    found = _ROLE.match(role_arn)
    if found is None:
        raise ValueError(f"{role_arn} is not an IAM role ARN")
    partition, account, name = found.groups()
    return f"arn:{partition}:sts::{account}:assumed-role/{name}/{session}"
