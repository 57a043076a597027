"""A collaborator's access card (`reconcile show ID`): where its access is and the exact AWS CLI
commands that work for its levels. Pure: built from the config and, when read, the live state.

Facts the commands rest on (S3 User Guide, "Using access points"): an access point's ARN (or its
alias) goes where a bucket name would; the folder is written with its trailing `/`, since the
list level only allows an `s3:prefix` that starts with it. Presigned links are capped by the
bucket policy's `s3:signatureAge` limit ("Limiting presigned URL capabilities").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from reconciler.documents.policies import (
    is_other_account,
    kms_actions,
    kms_statement,
    partner_identity_policy,
)
from reconciler.errors import ReconcilerError
from reconciler.model import (
    STATUS_TAG_KEY,
    SUSPENDED_TAG_VALUE,
    AccessLevel,
    Collaborator,
    Config,
    LiveState,
)
from reconciler.plan import lifecycle

EXAMPLE_FILE = "data.csv"


def presigned_url_max_age(config: Config) -> int:
    """The longest a presigned link may live on this bucket, in seconds: the bucket policy
    denies requests whose signature is older (S3 User Guide, "Limiting presigned URL
    capabilities"; YAML bucket.presigned_url_max_age_seconds)."""
    return config.bucket.presigned_url_max_age_seconds


@dataclass(frozen=True)
class Command:
    level: str
    what: str
    command: str

    def to_json(self) -> dict[str, str]:
        return {"level": self.level, "what": self.what, "command": self.command}


@dataclass(frozen=True)
class AccessCard:
    collaborator: str
    kind: str  # "iam_user", "principal" (this account) or "partner" (another account)
    principal: str  # the ARN the access point policy names
    bucket: str
    region: str
    access_point: str
    access_point_arn: str
    access_point_alias: str | None  # None: not known (offline, or not created yet)
    prefix: str
    levels: tuple[str, ...]
    status: str  # "active" or "suspended"
    suspended_because: str | None
    expires: date | None
    console: bool
    presigned_url_max_age_seconds: int
    encryption: str
    kms: dict[str, Any] | None
    partner_policy: dict[str, Any] | None
    commands: tuple[Command, ...]
    source: str  # "live" or "desired"
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "collaborator": self.collaborator,
            "kind": self.kind,
            "principal": self.principal,
            "source": self.source,
            "bucket": self.bucket,
            "region": self.region,
            "access_point": self.access_point,
            "access_point_arn": self.access_point_arn,
            "access_point_alias": self.access_point_alias,
            "prefix": self.prefix,
            "levels": list(self.levels),
            "status": self.status,
            "suspended_because": self.suspended_because,
            "expires": self.expires.isoformat() if self.expires else None,
            "console": self.console,
            "presigned_url_max_age_seconds": self.presigned_url_max_age_seconds,
            "encryption": self.encryption,
            "kms": self.kms,
            "partner_policy": self.partner_policy,
            "commands": [c.to_json() for c in self.commands],
            "notes": list(self.notes),
        }


def find_collaborator(config: Config, collaborator_id: str) -> Collaborator:
    for collab in config.collaborators:
        if collab.id == collaborator_id:
            return collab
    known = ", ".join(c.id for c in config.collaborators) or "none"
    raise ReconcilerError(
        f"no collaborator with id {collaborator_id!r} in {config.source} (ids: {known})"
    )


def build_card(
    config: Config,
    collaborator_id: str,
    *,
    today: date | None,
    live: LiveState | None = None,
) -> AccessCard:
    """The card for one collaborator; `live` None: offline, from the YAML alone."""
    collab = find_collaborator(config, collaborator_id)
    reason = lifecycle.suspension_reason(collab, today)
    arn = config.access_point_arn(collab.access_point)
    alias, notes = _live_facts(config, collab, live, arn)
    levels = tuple(level.value for level in _ordered(collab.access))
    max_age = presigned_url_max_age(config)
    active = reason is None
    granted = collab if active else None
    return AccessCard(
        collaborator=collab.id,
        kind=_kind(config, collab),
        principal=config.principal_arn(collab),
        bucket=config.bucket.name,
        region=config.region,
        access_point=collab.access_point,
        access_point_arn=arn,
        access_point_alias=alias,
        prefix=collab.prefix,
        levels=levels,
        status="active" if active else "suspended",
        suspended_because=reason,
        expires=collab.expires,
        console=collab.console,
        presigned_url_max_age_seconds=max_age,
        encryption=config.bucket.encryption,
        kms=_kms(config, collab),
        partner_policy=partner_identity_policy(config, granted) if granted else None,
        commands=commands_for(config, granted, max_age) if granted else (),
        source="desired" if live is None else "live",
        notes=tuple(notes),
    )


def _ordered(levels: tuple[AccessLevel, ...]) -> list[AccessLevel]:
    order = (AccessLevel.WRITE, AccessLevel.READ, AccessLevel.LIST, AccessLevel.DELETE)
    return [level for level in order if level in levels]


def _kind(config: Config, collab: Collaborator) -> str:
    if collab.iam_user is not None:
        return "iam_user"
    return "partner" if is_other_account(config, collab) else "principal"


def _kms(config: Config, collab: Collaborator) -> dict[str, Any] | None:
    """The bucket's key and what the collaborator's levels need of it (SSE-KMS only); for a
    principal, the key-policy statement that must name it (AWS KMS Developer Guide, "Allowing
    users in other accounts to use a KMS key")."""
    if not config.bucket.kms:
        return None
    key = config.bucket.key_arn or config.bucket.kms_key_id
    statement = kms_statement(config, collab)
    needed = None
    if statement is not None and collab.principal is not None:
        needed = {
            **{k: v for k, v in statement.items() if k != "Resource"},
            "Sid": "AllowCollaboratorThroughS3",
            "Principal": {"AWS": collab.principal},
            "Resource": "*",
        }
    return {
        "key": key,
        "actions": list(kms_actions(collab)),
        "key_policy_statement": needed,
        "key_policy_managed": config.bucket.manage_key_policy,
    }


def _live_facts(
    config: Config, collab: Collaborator, live: LiveState | None, arn: str
) -> tuple[str | None, list[str]]:
    """The access point's alias, and what live AWS says that the YAML does not."""
    if live is None:
        return None, ["offline (--desired): the alias and live status are known only to AWS"]
    point = live.access_points.get(collab.access_point)
    if point is None or point.bucket != config.bucket.name:
        return None, [
            f"access point {collab.access_point} does not exist on bucket {config.bucket.name} "
            "yet: run `reconcile apply`"
        ]
    notes = []
    if point.tags.get(STATUS_TAG_KEY) == SUSPENDED_TAG_VALUE:
        notes.append("live: suspended (its access point carries the suspension tag)")
    if point.policy is None:
        notes.append("live: its access point has no policy: nothing is granted until an apply")
    if point.arn and point.arn != arn:
        notes.append(f"live: AWS names the access point {point.arn}")
    return point.alias or None, notes


def commands_for(config: Config, collab: Collaborator, max_age: int) -> tuple[Command, ...]:
    """The AWS CLI commands that work for the collaborator's levels, in the order a
    collaborator meets them. `--region` is given because an alias does not carry it."""
    arn = config.access_point_arn(collab.access_point)
    folder = f"s3://{arn}/{collab.prefix}"
    region = f"--region {config.region}"
    found: list[Command] = []
    levels = set(collab.access)
    if AccessLevel.WRITE in levels:
        found.append(
            Command(
                "write",
                "upload a file (large files go up in parts; this works too)",
                f"aws s3 cp {EXAMPLE_FILE} {folder}{EXAMPLE_FILE} {region}",
            )
        )
    if AccessLevel.READ in levels:
        found.append(
            Command(
                "read",
                "download a file",
                f"aws s3 cp {folder}{EXAMPLE_FILE} {EXAMPLE_FILE} {region}",
            )
        )
    if AccessLevel.LIST in levels:
        found.append(
            Command(
                "list",
                "list the folder (keep the trailing /)",
                f"aws s3 ls {folder} {region}",
            )
        )
    if AccessLevel.DELETE in levels:
        found.append(
            Command("delete", "delete a file", f"aws s3 rm {folder}{EXAMPLE_FILE} {region}")
        )
    if AccessLevel.READ in levels:
        found.append(
            Command(
                "read",
                f"a download link for someone else, valid for at most {max_age} seconds (the "
                "bucket's limit)",
                f"aws s3 presign {folder}{EXAMPLE_FILE} --expires-in {max_age} {region}",
            )
        )
    return tuple(found)


MUST_NOT = (
    "No personal or health data in object (file or folder) names: names show in listings, "
    "logs and error messages. Put it inside the files.",
    "No ACL options or headers (--acl, --grants, x-amz-acl): ACLs are disabled on this bucket "
    "(object ownership BucketOwnerEnforced) and such requests fail.",
    "Only your folder, only through your access point: the bucket by name, other folders and "
    "other access points are denied.",
)
KMS_MUST_NOT = (
    "No --sse option: the bucket encrypts with its own KMS key by default, and --sse (AES256) "
    "would replace that key for the object."
)


def must_not(card: AccessCard) -> tuple[str, ...]:
    return (*MUST_NOT, KMS_MUST_NOT) if card.kms is not None else MUST_NOT
