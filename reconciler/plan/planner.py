"""Pure planning: plan(desired config, live state) -> Plan. No AWS, no I/O.

Ownership without a state file, per bucket: the planner only updates or deletes what this tool
tagged for this bucket (IAM users under iam_path tagged for it; access points that sit on it, with
our tag naming it) and the bucket-policy statements whose Sid starts with "Reconciler". Anything
else is left alone; if the YAML names something that exists but is not ours (untagged, or managed
for another bucket by another collaborators file), the plan carries an error instead of a
takeover (with `adopt`, untagged users and access points the YAML names are tagged instead).
Access points tagged by earlier versions (no bucket tag) that sit on this bucket are ours: the
plan adds the bucket tag.

Lifecycle: a suspended or expired collaborator (see reconciler.plan.lifecycle) keeps its IAM user
and access point, loses its identity and access point policies, and its IAM user's active access
keys are deactivated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from reconciler.documents import policies
from reconciler.documents.key_policy import desired_key_policy
from reconciler.model import (
    ABORT_MULTIPART_RULE_ID,
    BUCKET_TAG_KEY,
    COLLABORATOR_TAG_KEY,
    EXPIRES_TAG_KEY,
    LIFECYCLE_RULE_PREFIX,
    LOCK_VERSIONS_RULE_ID,
    MANAGED_TAG_KEY,
    MANAGED_TAG_VALUE,
    NONCURRENT_RULE_ID,
    STATUS_TAG_KEY,
    SUSPENDED_TAG_VALUE,
    TOOL_KEY_PREFIX,
    USER_POLICY_NAME,
    Collaborator,
    Config,
    LiveAccessPoint,
    LiveState,
    LiveUser,
    OwnershipProof,
    ResourceType,
    canonical_policy,
    is_managed,
    is_our_statement,
)
from reconciler.plan import kms, lifecycle
from reconciler.plan.baseline import plan_baseline
from reconciler.plan.changes import (
    Action,
    Change,
    CollaboratorEvent,
    EventKind,
    Plan,
)

INTERNET = "Internet"
# AWS KMS Developer Guide, "Creating a key policy", key policy format: up to 32,768 bytes
# (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html)
KEY_POLICY_MAX_BYTES = 32 * 1024
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
OWNERSHIP_CONTROLS = {"ObjectOwnership": "BucketOwnerEnforced"}
# S3 versioning can be enabled or suspended, never turned off again (S3 User Guide, "Retaining
# multiple versions of objects with S3 Versioning"); the tool only ever enables it.
VERSIONING_ENABLED = {"Status": "Enabled"}


def _status_tags(collab: Collaborator) -> dict[str, str]:
    return {STATUS_TAG_KEY: SUSPENDED_TAG_VALUE} if collab.suspended else {}


def _expires_tags(collab: Collaborator) -> dict[str, str]:
    """The `expires` date, kept in AWS so that `reconcile import` can write it back. Only on
    the IAM user: a user's tags are always read, so a date removed from the YAML is untagged,
    while an access point's tags are not read when its policy is in sync (the reader's
    shortcut), so a removed date could linger there."""
    return {EXPIRES_TAG_KEY: collab.expires.isoformat()} if collab.expires else {}


def user_tags(config: Config, collab: Collaborator) -> dict[str, str]:
    return {
        MANAGED_TAG_KEY: MANAGED_TAG_VALUE,
        BUCKET_TAG_KEY: config.bucket.name,
        COLLABORATOR_TAG_KEY: collab.id,
        **_status_tags(collab),
        **_expires_tags(collab),
    }


def access_point_tags(config: Config, collab: Collaborator) -> dict[str, str]:
    return {
        MANAGED_TAG_KEY: MANAGED_TAG_VALUE,
        BUCKET_TAG_KEY: config.bucket.name,
        COLLABORATOR_TAG_KEY: collab.id,
        **_status_tags(collab),
    }


_OUR_TAG_KEYS = (
    MANAGED_TAG_KEY,
    BUCKET_TAG_KEY,
    COLLABORATOR_TAG_KEY,
    STATUS_TAG_KEY,
    EXPIRES_TAG_KEY,
)


def _our_tags(tags: Mapping[str, str]) -> dict[str, str]:
    return {k: tags[k] for k in sorted(tags) if k in _OUR_TAG_KEYS}


def encryption_value(config: Config) -> dict[str, Any]:
    """SSE-KMS names the key by its ARN (an alias would resolve in each writer's account) and
    turns on the S3 Bucket Key, which makes the bucket ARN the encryption context."""
    value: dict[str, Any] = {"SSEAlgorithm": config.bucket.encryption}
    key = config.bucket.key_arn or config.bucket.kms_key_id
    if config.bucket.kms and key:
        value["KMSMasterKeyID"] = key
        value["BucketKeyEnabled"] = True
    return value


def user_policy_id(user: str, policy_name: str = USER_POLICY_NAME) -> str:
    return f"{user}/{policy_name}"


@dataclass
class _Builder:
    """Collects changes, warnings and errors while the plan is being worked out."""

    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    adopt: bool = False
    adopted: dict[str, list[str]] = field(default_factory=dict)  # collaborator -> resources

    def adoption_events(self) -> list[CollaboratorEvent]:
        return [
            CollaboratorEvent(
                cid,
                EventKind.ADOPT,
                f"untagged {' and '.join(items)}",
                "tagged as managed by this tool (--adopt); policies replaced by the ones "
                "collaborators.yaml describes",
            )
            for cid, items in self.adopted.items()
        ]

    def diff(
        self,
        rtype: ResourceType,
        rid: str,
        collaborator: str | None,
        before: Any,
        after: Any,
    ) -> None:
        """Create when absent, update when different, nothing when equal."""
        if before is None and after is None:
            return
        if before is None:
            self.add(Action.CREATE, rtype, rid, collaborator, None, after)
        elif after is None:  # wanted absent (a suspended collaborator's grants)
            self.add(Action.DELETE, rtype, rid, collaborator, before, None)
        elif before != after:
            self.add(Action.UPDATE, rtype, rid, collaborator, before, after)

    def add(
        self,
        action: Action,
        rtype: ResourceType,
        rid: str,
        collaborator: str | None,
        before: Any,
        after: Any,
    ) -> None:
        self.changes.append(Change(action, rtype, rid, collaborator, before, after))


def plan(
    config: Config, live: LiveState, *, today: date | None = None, adopt: bool = False
) -> Plan:
    """The changes that make live match desired. `today` (UTC) decides which collaborators have
    expired (None: none has); `adopt` tags untagged users and access points the YAML names
    instead of refusing them. What the changes do to access is the next stage's business
    (reconciler.access.review)."""
    config, key_errors = kms.resolve_key(config, live)
    resolved = lifecycle.resolve(config, today)
    builder = _Builder(adopt=adopt, errors=key_errors)
    _plan_bucket(resolved, live, builder)
    _plan_users(resolved, live, builder)
    _plan_access_points(resolved, live, builder)
    _plan_bucket_policy(resolved, live, builder)
    _plan_key_policy(resolved, live, builder)
    baseline = plan_baseline(resolved, live)
    builder.changes.extend(baseline.changes)
    builder.errors.extend(baseline.errors)
    builder.warnings.extend(baseline.warnings)
    return Plan.build(
        builder.changes,
        warnings=[
            *builder.warnings,
            *(boundary_warnings(config) if _writes_users(builder.changes) else []),
            *lifecycle.expiry_warnings(config, today),
        ],
        errors=builder.errors,
        managed_collaborators=managed_collaborators(resolved, live),
        events=[
            *builder.adoption_events(),
            *lifecycle.status_events(config, live, builder.changes, today),
        ],
    )


def managed_collaborators(config: Config, live: LiveState) -> set[str]:
    """Collaborator ids that own resources in AWS today, read from our tags. An access point
    whose tags were not read because it is in sync counts for the collaborator naming it."""
    owners = {
        u.tags.get(COLLABORATOR_TAG_KEY) for u in live.users.values() if _owned_user(config, u)
    }
    owners |= {
        a.tags.get(COLLABORATOR_TAG_KEY)
        for a in live.access_points.values()
        if owned_access_point(config, a)
    }
    owners |= {
        c.id
        for c in config.collaborators
        if (ap := live.access_points.get(c.access_point)) and ap.proof is OwnershipProof.IN_SYNC
    }
    return {o for o in owners if o}


# --- bucket -----------------------------------------------------------------------------------


def _plan_bucket(config: Config, live: LiveState, b: _Builder) -> None:
    name = config.bucket.name
    bucket = live.bucket
    if not bucket.exists:
        b.add(Action.CREATE, ResourceType.BUCKET, name, None, None, {"region": config.region})
    elif bucket.region is not None and bucket.region != config.region:
        b.errors.append(
            f"bucket {name} is in region {bucket.region}, but collaborators.yaml says "
            f"{config.region}: a bucket cannot move; set region: {bucket.region} "
            "or use a new bucket"
        )
    b.diff(ResourceType.BUCKET_ENCRYPTION, name, None, bucket.encryption, encryption_value(config))
    b.diff(
        ResourceType.BUCKET_PUBLIC_ACCESS_BLOCK,
        name,
        None,
        bucket.public_access_block,
        PUBLIC_ACCESS_BLOCK,
    )
    b.diff(
        ResourceType.BUCKET_OWNERSHIP_CONTROLS,
        name,
        None,
        bucket.ownership_controls,
        OWNERSHIP_CONTROLS,
    )
    if config.bucket.versioning:  # false: left as found
        b.diff(ResourceType.BUCKET_VERSIONING, name, None, bucket.versioning, VERSIONING_ENABLED)
    b.diff(
        ResourceType.BUCKET_LIFECYCLE,
        name,
        None,
        bucket.lifecycle,
        desired_lifecycle(config, bucket.lifecycle),
    )


def lifecycle_rules(config: Config) -> dict[str, dict[str, Any]]:
    """The tool's own lifecycle rules, on the whole bucket, in canonical form (no ID)."""
    wanted = config.bucket.lifecycle
    whole_bucket = {"Filter": {}, "Status": "Enabled"}
    rules: dict[str, dict[str, Any]] = {
        ABORT_MULTIPART_RULE_ID: {
            **whole_bucket,
            "AbortIncompleteMultipartUpload": {
                "DaysAfterInitiation": wanted.abort_incomplete_multipart_upload_days
            },
        }
    }
    if wanted.noncurrent_version_expiration_days is not None:
        rules[NONCURRENT_RULE_ID] = {
            **whole_bucket,
            "NoncurrentVersionExpiration": {
                "NoncurrentDays": wanted.noncurrent_version_expiration_days
            },
        }
    # versioned by the tool, or by hand (versioning: false); only a lock key in the tool's
    # own corner, so that the rule's prefix can match nothing but the tool's objects
    lock_in_share = config.lock_bucket == config.bucket.name
    if lock_in_share and config.lock.key.startswith(TOOL_KEY_PREFIX):
        rules[LOCK_VERSIONS_RULE_ID] = lock_versions_rule(config.lock.key)
    return rules


def lock_versions_rule(lock_key: str) -> dict[str, Any]:
    """Each apply creates the lock object and deletes it again; on a versioned bucket that
    leaves a noncurrent version and a delete marker behind every time (on a bucket never
    versioned the rule has nothing to act on). This rule, limited to
    the lock's key, which lies in the tool's own `.reconciler/` corner and which no
    collaborator prefix may overlap (reconciler.config.semantic),
    removes the old versions a day later and then the delete marker left with no version
    (S3 User Guide, "Examples of S3 Lifecycle configurations", removing expired object delete
    markers: NoncurrentVersionExpiration and ExpiredObjectDeleteMarker in one rule)."""
    return {
        "Expiration": {"ExpiredObjectDeleteMarker": True},
        "Filter": {"Prefix": lock_key},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        "Status": "Enabled",
    }


def desired_lifecycle(config: Config, live: Mapping[str, Any] | None) -> dict[str, Any]:
    """PutBucketLifecycleConfiguration replaces the whole configuration: every rule this tool
    did not write (an ID not starting with "reconciler-") is kept as it is, ours replace ours
    (S3 User Guide, "Managing the lifecycle of objects"; S3 API Reference,
    PutBucketLifecycleConfiguration)."""
    current = dict(live or {})
    foreign = {
        rid: rule
        for rid, rule in (current.pop("Rules", None) or {}).items()
        if not rid.startswith(LIFECYCLE_RULE_PREFIX)
    }
    rules = {**foreign, **lifecycle_rules(config)}
    return {**current, "Rules": dict(sorted(rules.items()))}


def _written_by_us(statement: Mapping[str, Any]) -> bool:
    """A statement this tool writes to bucket policies (a Sid it uses there, in this version
    or an earlier one). A "Reconciler..." Sid it never writes there is not ours to drop: a newer
    version, or a person, wrote it."""
    return is_our_statement(statement) and statement.get("Sid") in policies.BUCKET_STATEMENT_SIDS


def unknown_reconciler_statements(live_policy: Mapping[str, Any] | None) -> list[str]:
    """Sids that start with "Reconciler" but that this tool never writes to a bucket policy."""
    statements = (canonical_policy(live_policy) or {}).get("Statement", [])
    return sorted(
        str(s["Sid"]) for s in statements if is_our_statement(s) and not _written_by_us(s)
    )


def desired_bucket_policy(config: Config, live_policy: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every statement we did not write is kept as it is; ours are replaced by the desired ones."""
    live_doc = canonical_policy(live_policy)
    foreign = [s for s in (live_doc or {}).get("Statement", []) if not _written_by_us(s)]
    merged = {"Version": (live_doc or {}).get("Version", "2012-10-17")}
    if live_doc and "Id" in live_doc:
        merged["Id"] = live_doc["Id"]
    merged["Statement"] = foreign + policies.bucket_statements(config)
    result = canonical_policy(merged)
    assert result is not None
    return result


def _plan_bucket_policy(config: Config, live: LiveState, b: _Builder) -> None:
    before = canonical_policy(live.bucket.policy)
    after = desired_bucket_policy(config, live.bucket.policy)
    b.diff(ResourceType.BUCKET_POLICY, config.bucket.name, None, before, after)
    b.warnings.extend(
        f"bucket policy statement {sid} of bucket {config.bucket.name} has a Reconciler Sid "
        "that this version never writes: kept as it is (a newer version of the tool, or a "
        "person, wrote it; only one collaborators file may name a bucket)"
        for sid in unknown_reconciler_statements(live.bucket.policy)
    )


def _plan_key_policy(config: Config, live: LiveState, b: _Builder) -> None:
    key = live.kms_key
    desired, problem = desired_key_policy(config, key)
    if problem:
        b.errors.append(problem)
    if desired is None or key is None or key.arn is None:
        return
    size = len(policies.policy_text(desired).encode("utf-8"))
    if size > KEY_POLICY_MAX_BYTES:
        partners = sorted(
            {config.principal_arn(c) for c in config.collaborators if c.principal is not None}
        )
        b.errors.append(
            f"bucket.manage_key_policy: the key policy of {key.arn} would be {size:,} bytes, "
            f"over KMS's {KEY_POLICY_MAX_BYTES:,} (it names {len(partners)} partner "
            "principals): split the collaborators over several share files, or maintain the key "
            "policy yourself (bucket.manage_key_policy: false; docs/troubleshooting.md)"
        )
        return
    before = canonical_policy(key.policy)
    if before != canonical_policy(desired):
        b.add(Action.UPDATE, ResourceType.KMS_KEY_POLICY, key.arn, None, before, desired)


# --- IAM users --------------------------------------------------------------------------------


def _owned_user(config: Config, user: LiveUser) -> bool:
    return is_managed(user.tags) and user.tags.get(BUCKET_TAG_KEY) == config.bucket.name


def _plan_users(config: Config, live: LiveState, b: _Builder) -> None:
    by_lower = {name.lower(): user for name, user in live.users.items()}
    wanted: set[str] = set()
    for collab in config.collaborators:
        if collab.iam_user is None:
            continue
        wanted.add(collab.iam_user.lower())
        _plan_user(config, collab, by_lower.get(collab.iam_user.lower()), b)
    for user in sorted(live.users.values(), key=lambda u: u.name):
        if user.name.lower() in wanted or not _owned_user(config, user):
            continue
        # tagged for this bucket: ours wherever it lives (iam_path may have moved in the same
        # change that removed the collaborator); deleted like a user under iam_path
        owner = user.tags.get(COLLABORATOR_TAG_KEY)
        if user.groups:
            b.errors.append(grouped_user_error(owner, user.name, user.groups))
            continue
        for policy_name in sorted(user.inline_policies):
            b.add(
                Action.DELETE,
                ResourceType.IAM_USER_POLICY,
                user_policy_id(user.name, policy_name),
                owner,
                canonical_policy(user.inline_policies[policy_name]),
                None,
            )
        b.add(
            Action.DELETE, ResourceType.IAM_USER, user.name, owner, _user_value(config, user), None
        )


def _user_value(config: Config, user: LiveUser) -> dict[str, Any]:
    """The boundary is compared only when the YAML names one: without iam_permissions_boundary
    the tool leaves users' boundaries as they are (it never removes one)."""
    value: dict[str, Any] = {"path": user.path, "tags": _our_tags(user.tags)}
    if config.iam_permissions_boundary:
        value["permissions_boundary"] = user.permissions_boundary
    return value


def desired_user(config: Config, collab: Collaborator) -> dict[str, Any]:
    value: dict[str, Any] = {"path": config.iam_path, "tags": user_tags(config, collab)}
    if config.iam_permissions_boundary:
        value["permissions_boundary"] = config.iam_permissions_boundary
    return value


NO_BOUNDARY_WARNING = (
    "iam_permissions_boundary is not set: collaborators' IAM users have no permissions "
    "boundary, so whoever obtains the apply role (iam:PutUserPolicy) can give a collaborator, "
    "whose access keys are held outside your organisation, any permission in this account. "
    "Create the boundary from `reconcile iam-policy --boundary` and set "
    'iam_permissions_boundary (docs/ci-setup.md, "Permissions boundary")'
)


VERSIONING_OFF_WARNING = (
    "bucket.versioning is false: the bucket's versioning is left as found, so collaborators "
    "with write or delete can overwrite or delete objects with no way back; set "
    "bucket.versioning: true (docs/yaml-reference.md)"
)


def settings_warnings(config: Config) -> list[str]:
    """Bucket settings a HIPAA-minded reviewer should know are off (`validate` says them)."""
    return [] if config.bucket.versioning else [VERSIONING_OFF_WARNING]


def boundary_warnings(config: Config) -> list[str]:
    """The risk of running without a permissions boundary, when the tool manages users
    (`validate` always says it; a plan says it when it writes to users)."""
    managed = any(c.iam_user for c in config.collaborators)
    return [NO_BOUNDARY_WARNING] if managed and not config.iam_permissions_boundary else []


def _writes_users(changes: list[Change]) -> bool:
    return any(
        c.type in (ResourceType.IAM_USER, ResourceType.IAM_USER_POLICY)
        and c.action is not Action.DELETE
        for c in changes
    )


def grouped_user_error(collaborator: str | None, user: str, groups: Sequence[str]) -> str:
    """Deleting a user needs it out of every group first, and this tool may not take users out
    of groups: it does not know what a group is for (a deny or quarantine group, say), so its
    role has no iam:RemoveUserFromGroup."""
    first = groups[0]
    return (
        f"collaborator {collaborator}: IAM user {user} is to be deleted but is in IAM group(s) "
        f"{', '.join(groups)}; this tool does not know what a group is for and never removes "
        f"users from groups: remove it yourself (aws iam remove-user-from-group --group-name "
        f"{first} --user-name {user}) and plan again"
    )


def _plan_user(config: Config, collab: Collaborator, user: LiveUser | None, b: _Builder) -> None:
    assert collab.iam_user is not None
    name = collab.iam_user
    wanted = desired_user(config, collab)
    desired_policy = None if collab.suspended else policies.identity_policy(config, collab)
    policy_id = user_policy_id(name)
    if user is None:
        b.add(Action.CREATE, ResourceType.IAM_USER, name, collab.id, None, wanted)
        b.diff(ResourceType.IAM_USER_POLICY, policy_id, collab.id, None, desired_policy)
        return
    if not _user_ownership_ok(config, collab, user, b):
        return
    b.diff(ResourceType.IAM_USER, name, collab.id, _user_value(config, user), wanted)
    if collab.suspended:
        _plan_access_keys(collab, user, b)
    live_policies = {k: canonical_policy(v) for k, v in user.inline_policies.items()}
    b.diff(
        ResourceType.IAM_USER_POLICY,
        policy_id,
        collab.id,
        live_policies.get(USER_POLICY_NAME),
        desired_policy,
    )
    for extra in sorted(set(live_policies) - {USER_POLICY_NAME}):
        b.add(
            Action.DELETE,
            ResourceType.IAM_USER_POLICY,
            user_policy_id(name, extra),
            collab.id,
            live_policies[extra],
            None,
        )


def _plan_access_keys(collab: Collaborator, user: LiveUser, b: _Builder) -> None:
    """A suspended user's active access keys are deactivated (never deleted, never re-enabled)."""
    if user.access_keys is None:
        b.errors.append(
            f"collaborator {collab.id}: the access keys of IAM user {user.name} were not read, "
            "so its suspension cannot be planned"
        )
        return
    for key_id, status in sorted(user.access_keys.items()):
        if status == "Active":
            b.add(
                Action.UPDATE,
                ResourceType.IAM_ACCESS_KEY,
                f"{user.name}/{key_id}",
                collab.id,
                {"status": "Active"},
                {"status": "Inactive"},
            )


def _user_ownership_ok(config: Config, collab: Collaborator, user: LiveUser, b: _Builder) -> bool:
    where = f"collaborator {collab.id}: IAM user {collab.iam_user}"
    if user.name != collab.iam_user:
        b.errors.append(
            f"{where} clashes with existing user {user.name} (IAM user names are "
            f"case-insensitive): choose another iam_user"
        )
        return False
    if not is_managed(user.tags):
        if b.adopt:
            b.adopted.setdefault(collab.id, []).append(f"IAM user {user.name}")
            return True
        b.errors.append(
            f"{where} already exists but is not managed by this tool (no {MANAGED_TAG_KEY} tag): "
            f"choose another iam_user, or delete the existing user, or adopt it with --adopt"
        )
        return False
    owner = user.tags.get(BUCKET_TAG_KEY)
    if owner != config.bucket.name:
        holder = f"bucket {owner}" if owner else f"no bucket (no {BUCKET_TAG_KEY} tag)"
        b.errors.append(
            f"{where} is managed by the collaborators file of another bucket: it is tagged for "
            f"{holder}, not {config.bucket.name}. IAM user names are unique per account: "
            "choose another iam_user for this collaborator"
        )
        return False
    return True


# --- access points ----------------------------------------------------------------------------


def _plan_access_points(config: Config, live: LiveState, b: _Builder) -> None:
    wanted = {c.access_point for c in config.collaborators}
    for collab in config.collaborators:
        _plan_access_point(config, collab, live.access_points.get(collab.access_point), b)
    for ap in sorted(live.access_points.values(), key=lambda a: a.name):
        if ap.name in wanted or ap.bucket != config.bucket.name:
            continue
        if not is_managed(ap.tags):
            b.warnings.append(
                f"access point {ap.name} on bucket {ap.bucket} is not managed by this tool "
                f"(no {MANAGED_TAG_KEY} tag): left alone"
            )
            continue
        if not owned_access_point(config, ap):
            b.warnings.append(
                f"access point {ap.name} on bucket {ap.bucket} is tagged as managed for bucket "
                f"{ap.tags.get(BUCKET_TAG_KEY)}, not this one: left alone"
            )
            continue
        owner = ap.tags.get(COLLABORATOR_TAG_KEY)
        if ap.policy is not None:
            b.add(
                Action.DELETE,
                ResourceType.ACCESS_POINT_POLICY,
                ap.name,
                owner,
                canonical_policy(ap.policy),
                None,
            )
        b.add(Action.DELETE, ResourceType.ACCESS_POINT, ap.name, owner, _ap_value(ap), None)


def owned_access_point(config: Config, ap: LiveAccessPoint) -> bool:
    """Ours: tagged as managed, sitting on this bucket (which AWS never changes), and tagged for
    this bucket, or for no bucket (tagged by a version before the bucket tag: the plan adds it)."""
    return (
        is_managed(ap.tags)
        and ap.bucket == config.bucket.name
        and ap.tags.get(BUCKET_TAG_KEY, config.bucket.name) == config.bucket.name
    )


def _foreign_access_point(config: Config, collab: Collaborator, ap: LiveAccessPoint) -> str:
    """A managed access point of another bucket's collaborators file: never replaced or
    deleted, since that would take a collaborator's access away from the other file."""
    tagged = ap.tags.get(BUCKET_TAG_KEY)
    holder = f"bucket {ap.bucket}"
    if tagged not in (None, ap.bucket):
        holder += f" (tagged for bucket {tagged})"
    return (
        f"collaborator {collab.id}: access point {ap.name} is managed by the collaborators file "
        f"of another bucket: it is on {holder}, not {config.bucket.name}. Access point names are "
        "unique per account and Region: choose another access_point: name for this collaborator"
    )


def _ap_value(ap: LiveAccessPoint) -> dict[str, Any]:
    value: dict[str, Any] = {"bucket": ap.bucket, "network_origin": ap.network_origin}
    if ap.vpc_id:
        value["vpc_id"] = ap.vpc_id
    value["tags"] = _our_tags(ap.tags)
    return value


def _fixed_at_creation(value: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k != "tags"}


def desired_access_point(config: Config, collab: Collaborator) -> dict[str, Any]:
    return {
        "bucket": config.bucket.name,
        "network_origin": INTERNET,
        "tags": access_point_tags(config, collab),
    }


def desired_access_point_policy(config: Config, collab: Collaborator) -> dict[str, Any] | None:
    """A suspended collaborator's access point keeps no policy: every grant is removed."""
    return None if collab.suspended else policies.access_point_policy(config, collab)


def access_point_in_sync(config: Config, collab: Collaborator, ap: LiveAccessPoint) -> bool:
    """True when everything that can be seen without reading tags (the bucket and network
    origin fixed at creation, and the policy) already equals what this tool would write.
    Never for a suspended collaborator: its status lives in a tag, which must be read."""
    if collab.suspended:
        return False
    return _in_sync(
        ap, desired_access_point(config, collab), desired_access_point_policy(config, collab)
    )


def _in_sync(
    ap: LiveAccessPoint, desired_ap: Mapping[str, Any], desired_policy: Mapping[str, Any] | None
) -> bool:
    if _fixed_at_creation(_ap_value(ap)) != _fixed_at_creation(desired_ap):
        return False
    # desired_policy is canonical, so plain equality settles it when the reader already
    # canonicalized the live policy (the usual case); otherwise canonicalize and compare
    return ap.policy == desired_policy or canonical_policy(ap.policy) == desired_policy


def _plan_access_point(
    config: Config, collab: Collaborator, ap: LiveAccessPoint | None, b: _Builder
) -> None:
    name = collab.access_point
    desired_ap = desired_access_point(config, collab)
    desired_policy = desired_access_point_policy(config, collab)
    if ap is None:
        b.add(Action.CREATE, ResourceType.ACCESS_POINT, name, collab.id, None, desired_ap)
        b.diff(ResourceType.ACCESS_POINT_POLICY, name, collab.id, None, desired_policy)
        return
    if ap.proof is OwnershipProof.IN_SYNC:
        # Its tags were not read, so ownership is unproven: nothing may be written to it. The
        # reader only skips tags when nothing would change; if something would, refuse.
        if collab.suspended or not _in_sync(ap, desired_ap, desired_policy):
            b.errors.append(
                f"collaborator {collab.id}: access point {name} differs from collaborators.yaml "
                "but its tags were not read, so it is not known to be managed by this tool: "
                "run the plan again"
            )
        return
    if is_managed(ap.tags) and not owned_access_point(config, ap):
        b.errors.append(_foreign_access_point(config, collab, ap))
        return
    live_ap = _ap_value(ap)
    fixed_differs = _fixed_at_creation(live_ap) != _fixed_at_creation(desired_ap)
    if not is_managed(ap.tags) and not _adopt_access_point(collab, ap, fixed_differs, b):
        return
    if fixed_differs:
        # An access point's bucket and network origin are fixed at creation: replace it.
        b.add(Action.REPLACE, ResourceType.ACCESS_POINT, name, collab.id, live_ap, desired_ap)
        b.diff(ResourceType.ACCESS_POINT_POLICY, name, collab.id, None, desired_policy)
        return
    b.diff(ResourceType.ACCESS_POINT, name, collab.id, live_ap, desired_ap)
    b.diff(
        ResourceType.ACCESS_POINT_POLICY,
        name,
        collab.id,
        canonical_policy(ap.policy),
        desired_policy,
    )


def _adopt_access_point(
    collab: Collaborator, ap: LiveAccessPoint, fixed_differs: bool, b: _Builder
) -> bool:
    """An untagged access point the YAML names: adopted with --adopt when it can be kept as it
    is (same bucket, Internet origin); otherwise an error, never a takeover or a replacement."""
    where = f"collaborator {collab.id}: access point {ap.name}"
    if b.adopt and not fixed_differs:
        b.adopted.setdefault(collab.id, []).append(f"access point {ap.name}")
        return True
    if b.adopt:
        b.errors.append(
            f"{where} cannot be adopted: it is on bucket {ap.bucket} with network origin "
            f"{ap.network_origin}, and this tool only keeps Internet access points on its own "
            "bucket: choose another access_point name"
        )
        return False
    b.errors.append(
        f"{where} already exists (on bucket {ap.bucket}) but is not managed by this tool (no "
        f"{MANAGED_TAG_KEY} tag): choose another access_point name, or delete the existing "
        "one, or adopt it with --adopt"
    )
    return False
