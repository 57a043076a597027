"""Frozen values for the desired state (from YAML) and the live state (from AWS).

Both sides are reduced to the same shape: a set of `Resource` values keyed by (type, id), each
holding a JSON-like `value` in canonical form, so that the planner can compare them directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

MANAGED_TAG_KEY = "reconciler:managed-by"
MANAGED_TAG_VALUE = "s3-collaborator-reconciler"
BUCKET_TAG_KEY = "reconciler:bucket"
COLLABORATOR_TAG_KEY = "reconciler:collaborator"
# present (value "suspended") on the IAM user and access point of a suspended collaborator
STATUS_TAG_KEY = "reconciler:status"
SUSPENDED_TAG_VALUE = "suspended"
# present (value YYYY-MM-DD) on the IAM user of a collaborator with `expires:`, so that
# `reconcile import` can write the date back (not on access points: see planner._expires_tags)
EXPIRES_TAG_KEY = "reconciler:expires"
# IAM user tags the tool removes when the YAML no longer calls for them
OPTIONAL_USER_TAG_KEYS = (STATUS_TAG_KEY, EXPIRES_TAG_KEY)
STATEMENT_SID_PREFIX = "Reconciler"
USER_POLICY_NAME = "reconciler-access-point-access"
POLICY_VERSION = "2012-10-17"


class AccessLevel(StrEnum):
    READ = "read"
    WRITE = "write"
    LIST = "list"
    DELETE = "delete"


class Status(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class ResourceType(StrEnum):
    """Resource kinds, declared in dependency order (creates run top to bottom)."""

    BUCKET = "bucket"
    BUCKET_ENCRYPTION = "bucket_encryption"
    BUCKET_PUBLIC_ACCESS_BLOCK = "bucket_public_access_block"
    BUCKET_OWNERSHIP_CONTROLS = "bucket_ownership_controls"
    BUCKET_VERSIONING = "bucket_versioning"
    BUCKET_LIFECYCLE = "bucket_lifecycle"
    LOG_BUCKET_POLICY = "log_bucket_policy"
    BUCKET_LOGGING = "bucket_logging"
    TRAIL_EVENT_SELECTORS = "trail_event_selectors"
    IAM_USER = "iam_user"
    IAM_USER_POLICY = "iam_user_policy"
    IAM_ACCESS_KEY = "iam_access_key"
    ACCESS_POINT = "access_point"
    ACCESS_POINT_POLICY = "access_point_policy"
    BUCKET_POLICY = "bucket_policy"
    KMS_KEY_POLICY = "kms_key_policy"
    KMS_KEY_ROTATION = "kms_key_rotation"

    @property
    def rank(self) -> int:
        return list(ResourceType).index(self)


# --- desired state -------------------------------------------------------------------------


DEFAULT_PRESIGNED_URL_MAX_AGE_SECONDS = 300
# arn:aws:kms:REGION:ACCOUNT:key/ID (groups: region, account)
KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:([a-z0-9-]+):([0-9]{12}):key/[A-Za-z0-9-]+$")


DEFAULT_ABORT_MULTIPART_DAYS = 7
# lifecycle rules whose ID starts with this are the tool's; every other rule is kept as it is
LIFECYCLE_RULE_PREFIX = "reconciler-"
ABORT_MULTIPART_RULE_ID = "reconciler-abort-incomplete-multipart-uploads"
NONCURRENT_RULE_ID = "reconciler-expire-noncurrent-versions"
# with versioning on, every apply leaves the lock's old version and a delete marker behind
LOCK_VERSIONS_RULE_ID = "reconciler-expire-lock-versions"
# what S3 applies when a lifecycle configuration names none (S3 API Reference,
# PutBucketLifecycleConfiguration, x-amz-transition-default-minimum-object-size)
DEFAULT_TRANSITION_MINIMUM_SIZE = "all_storage_classes_128K"


@dataclass(frozen=True)
class BucketLifecycleRules:
    """YAML `bucket.lifecycle`: the lifecycle rules the tool keeps on the bucket."""

    abort_incomplete_multipart_upload_days: int = DEFAULT_ABORT_MULTIPART_DAYS
    # None: noncurrent versions are kept
    noncurrent_version_expiration_days: int | None = None


@dataclass(frozen=True)
class AccessLogs:
    """YAML `bucket.access_logs`: S3 server access logging into an existing log bucket of the
    same account and Region."""

    bucket: str
    prefix: str
    # keep this tool's Reconciler... statement for S3 log delivery in the log bucket's policy
    manage_policy: bool = False


@dataclass(frozen=True)
class BucketSpec:
    name: str
    encryption: str = "AES256"
    kms_key_id: str | None = None
    # requests signed longer ago than this (presigned URLs) are denied by the bucket policy
    presigned_url_max_age_seconds: int = DEFAULT_PRESIGNED_URL_MAX_AGE_SECONDS
    # aws:kms only: maintain our Reconciler... statements in the key policy
    manage_key_policy: bool = False
    # the key ARN kms_key_id names, once known (given as a key ARN, or resolved at plan time)
    kms_key_arn: str | None = None
    # versioning enabled and kept enabled; False: left as found (never suspended by the tool)
    versioning: bool = True
    lifecycle: BucketLifecycleRules = field(default_factory=BucketLifecycleRules)
    access_logs: AccessLogs | None = None
    # an existing CloudTrail trail (name, in this account and Region) that records the bucket's
    # object-level reads and writes through one advanced event selector of the tool's
    data_events_trail: str | None = None

    @property
    def kms(self) -> bool:
        return self.encryption == "aws:kms"

    @property
    def key_arn(self) -> str | None:
        """The KMS key's ARN when it is known without asking AWS (or was resolved)."""
        if self.kms_key_arn is not None:
            return self.kms_key_arn
        if self.kms_key_id is not None and KEY_ARN.match(self.kms_key_id):
            return self.kms_key_id
        return None


@dataclass(frozen=True)
class Collaborator:
    id: str
    prefix: str
    access: tuple[AccessLevel, ...]
    access_point: str
    iam_user: str | None = None
    principal: str | None = None
    status: Status = Status.ACTIVE
    # from this date (UTC) on, the collaborator is treated as suspended
    expires: date | None = None
    # what the S3 console needs on top of the AWS CLI (reveals bucket, access point and
    # top-level folder names; docs/collaborators.md)
    console: bool = False

    @property
    def managed_user(self) -> bool:
        return self.iam_user is not None

    @property
    def suspended(self) -> bool:
        """True when suspended by `status:`; see reconciler.plan.lifecycle for expiry."""
        return self.status is Status.SUSPENDED


# the tool's own corner of the shared bucket: no collaborator's files belong here
TOOL_KEY_PREFIX = ".reconciler/"
DEFAULT_LOCK_KEY = TOOL_KEY_PREFIX + "apply.lock"
DEFAULT_ACCESS_POINT_FORMAT = "{}-access-point"


def default_access_point(collaborator_id: str, prefix: str = "") -> str:
    """The access point name a collaborator gets when `access_point:` is not given: the file's
    `access_point_prefix` (several shares in one account keep their names apart with it), then
    `<id>-access-point`."""
    return prefix + DEFAULT_ACCESS_POINT_FORMAT.format(collaborator_id)


@dataclass(frozen=True)
class SafetySettings:
    """Guards against mistaken edits (YAML `safety:`)."""

    max_delete_fraction: float = 0.25
    max_grant_fraction: float = 0.25


@dataclass(frozen=True)
class LockSettings:
    """Where apply keeps its lock (YAML `lock:`). bucket None means the shared bucket."""

    bucket: str | None = None
    key: str = DEFAULT_LOCK_KEY
    ttl_seconds: int = 3600


DEFAULT_EXPIRY_WARNING_DAYS = 14
DEFAULT_AUDIT_PREFIX = "reconciler-audit/"


@dataclass(frozen=True)
class LifecycleSettings:
    """YAML `lifecycle:`: how many days ahead plans warn about expiring collaborators."""

    expiry_warning_days: int = DEFAULT_EXPIRY_WARNING_DAYS


DEFAULT_MAX_KEY_AGE_DAYS = 90
DEFAULT_MAX_UNUSED_DAYS = 90


@dataclass(frozen=True)
class ReportSettings:
    """YAML `report:`: when the access review (`reconcile report`) flags credentials."""

    max_key_age_days: int = DEFAULT_MAX_KEY_AGE_DAYS
    max_unused_days: int = DEFAULT_MAX_UNUSED_DAYS


@dataclass(frozen=True)
class AuditSettings:
    """YAML `audit:`: where apply records what it did. Nothing is recorded unless a bucket or
    a log file is configured (here or with --audit-bucket / --audit-log)."""

    bucket: str | None = None
    prefix: str = DEFAULT_AUDIT_PREFIX
    log: str | None = None


@dataclass(frozen=True)
class Config:
    """The validated content of collaborators.yaml."""

    account_id: str
    region: str
    bucket: BucketSpec
    iam_path: str
    collaborators: tuple[Collaborator, ...]
    source: str = "collaborators.yaml"
    safety: SafetySettings = field(default_factory=SafetySettings)
    lock: LockSettings = field(default_factory=LockSettings)
    lifecycle: LifecycleSettings = field(default_factory=LifecycleSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    # ARN of the managed policy set as permissions boundary on every IAM user the tool manages
    iam_permissions_boundary: str | None = None
    report: ReportSettings = field(default_factory=ReportSettings)
    # YAML `access_point_prefix`: put before every default access point name; the apply role's
    # access point writes are scoped to `accesspoint/<prefix>*` with it, and the bucket policy
    # delegates to that pattern (reconciler.documents.policies.delegated_access_points)
    access_point_prefix: str = ""

    @property
    def lock_bucket(self) -> str:
        return self.lock.bucket or self.bucket.name

    def principal_arn(self, collaborator: Collaborator) -> str:
        if collaborator.principal is not None:
            return collaborator.principal
        return f"arn:aws:iam::{self.account_id}:user{self.iam_path}{collaborator.iam_user}"

    def access_point_arn(self, name: str) -> str:
        return f"arn:aws:s3:{self.region}:{self.account_id}:accesspoint/{name}"


# --- live state -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveBucket:
    name: str
    exists: bool
    region: str | None = None
    encryption: Mapping[str, Any] | None = None
    public_access_block: Mapping[str, Any] | None = None
    ownership_controls: Mapping[str, Any] | None = None
    policy: Mapping[str, Any] | None = None
    # {"Status": "Enabled" | "Suspended"}; None: versioning was never enabled
    versioning: Mapping[str, Any] | None = None
    # canonical_lifecycle() of the lifecycle configuration; None: the bucket has none
    lifecycle: Mapping[str, Any] | None = None
    # server access logging: {"TargetBucket", "TargetPrefix"}; None: off
    logging: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class LiveLogBucket:
    """The log bucket bucket.access_logs names. `problem`: why it cannot be used as found (not
    in this account, not readable); `policy` canonical, None when it has none."""

    name: str
    exists: bool
    region: str | None = None
    policy: Mapping[str, Any] | None = None
    problem: str | None = None


@dataclass(frozen=True)
class LiveUser:
    name: str
    path: str
    arn: str
    tags: Mapping[str, str]
    inline_policies: Mapping[str, Mapping[str, Any]]
    attached_policies: tuple[str, ...] = ()  # managed policy ARNs (documents not read)
    groups: tuple[str, ...] = ()
    # access key id -> "Active" / "Inactive"; None when not read (only suspended users' are)
    access_keys: Mapping[str, str] | None = None
    permissions_boundary: str | None = None  # ARN of the managed policy, None when unset


class OwnershipProof(StrEnum):
    """How the reader established whether an access point is ours.

    TAGS: its tags were read; the reconciler:managed-by tag decides, as for any resource.
    IN_SYNC: its tags were NOT read (they are empty here and mean nothing). The reader only
    says this for an access point the YAML names, whose bucket, network origin and policy
    already equal exactly what this tool would write. The planner then plans nothing for it,
    and refuses (a plan error) if anything would have to change. Nothing is ever written to
    an access point whose tags were not read. See docs/performance.md, "Ownership".
    """

    TAGS = "tags"
    IN_SYNC = "in-sync"


@dataclass(frozen=True)
class LiveAccessPoint:
    name: str
    bucket: str
    network_origin: str
    vpc_id: str | None
    tags: Mapping[str, str]
    policy: Mapping[str, Any] | None
    arn: str = ""
    proof: OwnershipProof = OwnershipProof.TAGS
    # the bucket-style alias AWS gives it (ListAccessPoints `Alias`); "" when not known
    alias: str = ""


@dataclass(frozen=True)
class LiveKey:
    """The KMS key bucket.kms_key_id names, as kms:DescribeKey and kms:GetKeyPolicy found it.

    `arn` None: DescribeKey found no such key (`problem` says why). `policy` is the key policy
    as AWS returned it (not canonicalized: statements written by others are written back
    byte for byte); None when it was not read (`policy_problem` says why)."""

    requested: str
    arn: str | None = None
    state: str = "Enabled"
    policy: Mapping[str, Any] | None = None
    problem: str | None = None
    policy_problem: str | None = None
    # automatic key rotation (kms:GetKeyRotationStatus); None: not read (`rotation_problem`)
    rotation_enabled: bool | None = None
    rotation_problem: str | None = None

    @property
    def region(self) -> str:
        return self.arn.split(":")[3] if self.arn else ""

    @property
    def account(self) -> str:
        return self.arn.split(":")[4] if self.arn else ""


@dataclass(frozen=True)
class LiveTrail:
    """The trail bucket.data_events_trail names, as GetEventSelectors found it. `arn` None: no
    such trail (`problem` says why). Basic selectors (`event_selectors`) and advanced ones are
    as CloudTrail returned them; a trail holds one kind or the other."""

    name: str
    arn: str | None = None
    event_selectors: tuple[Mapping[str, Any], ...] = ()
    advanced_event_selectors: tuple[Mapping[str, Any], ...] = ()
    problem: str | None = None


@dataclass(frozen=True)
class LiveState:
    """What the reader found. `users` holds every IAM user that is relevant to the config:
    all users under iam_path plus any user whose name the YAML uses, wherever it lives.
    `kms_key`: the bucket's KMS key (None: encryption is not aws:kms, or not read)."""

    bucket: LiveBucket
    users: Mapping[str, LiveUser]
    access_points: Mapping[str, LiveAccessPoint]
    kms_key: LiveKey | None = None
    # the log bucket of bucket.access_logs (None: not configured, or not read)
    log_bucket: LiveLogBucket | None = None
    # the trail of bucket.data_events_trail (None: not configured)
    trail: LiveTrail | None = None


def is_managed(tags: Mapping[str, str]) -> bool:
    return tags.get(MANAGED_TAG_KEY) == MANAGED_TAG_VALUE


# --- canonical lifecycle form ---------------------------------------------------------------


def _canonical_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A rule of this tool with the forms S3 treats alike made equal: an empty filter, a filter
    on prefix "" and the legacy top-level Prefix "" all mean the whole bucket. Other rules are
    kept exactly as S3 returned them (they are written back as they are)."""
    result = {k: v for k, v in rule.items() if k != "ID"}
    if not str(rule.get("ID", "")).startswith(LIFECYCLE_RULE_PREFIX):
        return result
    if result.get("Prefix") == "" and "Filter" not in result:
        del result["Prefix"]
    if result.get("Filter", {}) in ({}, {"Prefix": ""}):
        result["Filter"] = {}
    return result


def canonical_lifecycle(configuration: Mapping[str, Any]) -> dict[str, Any]:
    """A GetBucketLifecycleConfiguration response (Rules, TransitionDefaultMinimumObjectSize)
    as a value the planner compares: {"Rules": {ID: rule without its ID}, ...}. A rule without
    an ID (S3 normally assigns one) is keyed "(no ID N)"."""
    rules: dict[str, Any] = {}
    for number, rule in enumerate(configuration.get("Rules") or [], start=1):
        key = str(rule.get("ID") or f"(no ID {number})")
        rules[key] = _canonical_rule(rule)
    result: dict[str, Any] = {"Rules": dict(sorted(rules.items()))}
    size = configuration.get("TransitionDefaultMinimumObjectSize")
    if size and size != DEFAULT_TRANSITION_MINIMUM_SIZE:  # S3 returns its default too
        result["TransitionDefaultMinimumObjectSize"] = size
    return result


# --- canonical policy form ------------------------------------------------------------------

_LIST_KEYS = {"Action", "NotAction", "Resource", "NotResource"}


def _canonical_value(value: Any) -> Any:
    """A one-item list and a bare string mean the same to IAM; order of values does not matter."""
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            # the common case, ordered exactly as the general one orders strings
            loaded: list[Any] = sorted(set(value), key=json.dumps)
        else:
            items = sorted({json.dumps(_canonical_any(v), sort_keys=True) for v in value})
            loaded = [json.loads(i) for i in items]
        return loaded[0] if len(loaded) == 1 else loaded
    return _canonical_any(value)


def _canonical_any(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _canonical_value(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return _canonical_value(value)
    return value


def _canonical_statement(statement: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in sorted(statement.items()):
        if key in _LIST_KEYS or key in {"Principal", "NotPrincipal", "Condition"}:
            result[key] = _canonical_value(value)
        else:
            result[key] = value
    return result


def canonical_policy(document: Mapping[str, Any] | str | None) -> dict[str, Any] | None:
    """Normalise a policy document so equal policies compare equal.

    Accepts the JSON text AWS returns or a dict; statements become a list sorted by Sid (then
    content), single-item lists become strings, value lists are sorted and de-duplicated.
    """
    if document is None:
        return None
    doc: Mapping[str, Any] = json.loads(document) if isinstance(document, str) else document
    statements = doc.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    canon = [_canonical_statement(s) for s in statements]
    sids = [str(s.get("Sid", "")) for s in canon]
    if len(set(sids)) == len(sids):
        canon.sort(key=lambda s: str(s.get("Sid", "")))  # unique Sids: the content never decides
    else:
        canon.sort(key=lambda s: (str(s.get("Sid", "")), json.dumps(s, sort_keys=True)))
    result: dict[str, Any] = {"Version": doc.get("Version", POLICY_VERSION), "Statement": canon}
    if "Id" in doc:
        result["Id"] = doc["Id"]
    return result


def is_our_statement(statement: Mapping[str, Any]) -> bool:
    return str(statement.get("Sid", "")).startswith(STATEMENT_SID_PREFIX)
