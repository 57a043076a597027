"""Decides one request: allow, deny, or unknown. Pure; follows AWS's documented evaluation logic.

- An explicit Deny in any policy that applies wins ("Policy evaluation logic",
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
- Same account: an Allow in the identity policy *or* one naming the principal in the resource
  policy is enough; a resource policy naming only the account delegates to the identity policy.
- Another account: the identity policy *and* the resource policy must allow ("Cross-account policy
  evaluation logic", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html).
- Anonymous: only a resource policy naming everyone (`*`) can allow.
- Through an access point, both the access point and the underlying bucket must permit the
  request ("Configuring IAM policies for using access points",
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-points-policies.html): the
  request is judged once against the access point (its policy, the access point ARN) and once
  against the bucket (the bucket policy, the bucket ARN). The requester's identity policy is
  judged against the request's resource, the access point ARN; a caller from another account
  needs no identity grant on the bucket ARN (the page's cross-account examples grant the
  requester only the access point ARN): the bucket only has to permit the request through its
  policy. In the bucket's own account the bucket stage keeps the identity policy on the bucket
  ARN as an alternative to the bucket policy.
Anything that cannot be evaluated makes the decision UNKNOWN, with the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from reconciler.access.logic import Tri, all_of, any_of, negate
from reconciler.access.policy import CompiledPolicy, PolicyRef, StatementRef
from reconciler.access.requests import KmsRequest, Principal, Request


class Decision(StrEnum):
    ALLOW = "allow"
    DENY = "deny"
    UNKNOWN = "unknown"


_DECISION = {Tri.YES: Decision.ALLOW, Tri.NO: Decision.DENY, Tri.MAYBE: Decision.UNKNOWN}


@dataclass
class Verdict:
    """One policy (or the identity's policies) judged against one resource."""

    allow: Tri = Tri.NO  # an Allow that names the principal itself (or identity policies)
    allow_account: Tri = Tri.NO  # an Allow that names only the principal's account
    deny: Tri = Tri.NO
    allowed_by: list[StatementRef] = field(default_factory=list)
    denied_by: list[StatementRef] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Stage:
    label: str  # "access point alice-access-point", "bucket b", or why it cannot allow
    allowed: Tri


@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    allowed_by: tuple[StatementRef, ...] = ()
    denied_by: tuple[StatementRef, ...] = ()
    reasons: tuple[str, ...] = ()
    stages: tuple[Stage, ...] = ()

    def because(self) -> str:
        """Why, in one phrase naming policies and statements."""
        if self.decision is Decision.ALLOW:
            return "allowed by " + _labels(self.allowed_by)
        if self.denied_by and self.decision is Decision.DENY:
            return "explicitly denied by " + _labels(self.denied_by)
        if self.decision is Decision.UNKNOWN:
            return "cannot tell: " + "; ".join(self.reasons or ("not evaluable",))
        missing = [s.label for s in self.stages if s.allowed is Tri.NO]
        return "no statement allows it at " + ", ".join(missing or ("any stage",))


def _labels(refs: tuple[StatementRef, ...]) -> str:
    return ", ".join(dict.fromkeys(r.label for r in refs)) or "(no statement)"


def judge(
    policy: CompiledPolicy | None,
    action: str,
    resource: str,
    principal: Principal,
    request: Request | KmsRequest,
) -> Verdict:
    verdict = Verdict()
    if policy is None:
        return verdict
    ctx = request.context
    for statement in policy.statements:
        applies = statement.applies(action, resource, principal, ctx)
        if applies.value is Tri.NO:
            continue
        verdict.reasons.extend(applies.reasons)
        if statement.effect != "Allow":  # Deny, or an invalid Effect that might be one
            verdict.deny = max(verdict.deny, applies.value if statement.effect else Tri.MAYBE)
            verdict.denied_by.append(statement.ref)
        if statement.effect != "Deny":
            value = applies.value if statement.effect else Tri.MAYBE
            if applies.via_account:
                verdict.allow_account = max(verdict.allow_account, value)
            else:
                verdict.allow = max(verdict.allow, value)
            verdict.allowed_by.append(statement.ref)
    return verdict


def judge_identity(
    principal: Principal, action: str, resource: str, request: Request | KmsRequest
) -> Verdict:
    identity = principal.identity
    verdicts = [judge(p, action, resource, principal, request) for p in identity.policies]
    merged = Verdict()
    for v in verdicts:
        merged.allow = max(merged.allow, v.allow, v.allow_account)
        merged.deny = max(merged.deny, v.deny)
        merged.allowed_by.extend(v.allowed_by)
        merged.denied_by.extend(v.denied_by)
        merged.reasons.extend(v.reasons)
    if identity.unrestricted is not None:
        merged.allow = Tri.YES
        ref = PolicyRef("identity policies", identity.unrestricted)
        merged.allowed_by.append(StatementRef(ref, 0, None, note=identity.unrestricted))
    elif identity.unknown and merged.allow is Tri.NO:
        merged.allow = Tri.MAYBE
        merged.reasons.extend(identity.unknown)
    if identity.boundary is not None:
        _cap_by_boundary(merged, judge(identity.boundary, action, resource, principal, request))
    return merged


def _cap_by_boundary(identity: Verdict, boundary: Verdict) -> None:
    """An identity-policy allow needs the permissions boundary to allow as well; an explicit
    deny in the boundary denies ("Permissions boundaries for IAM entities", identity-based
    policies with boundaries: https://docs.aws.amazon.com/IAM/latest/UserGuide/
    access_policies_boundaries.html). Resource policies are judged apart and are not capped:
    within an account a boundary does not reduce what a resource policy grants to a user."""
    identity.allow = all_of((identity.allow, max(boundary.allow, boundary.allow_account)))
    if identity.allow is Tri.NO:
        identity.allowed_by.clear()  # what the identity policies allowed does not count
    identity.deny = max(identity.deny, boundary.deny)
    identity.denied_by.extend(boundary.denied_by)
    identity.reasons.extend(boundary.reasons)


def _stage_allows(
    principal: Principal, owner_account: str, identity: Verdict, resource: Verdict
) -> Tri:
    if principal.anonymous:
        return resource.allow
    if principal.account == owner_account:
        return any_of((identity.allow, resource.allow))
    return all_of((identity.allow, any_of((resource.allow, resource.allow_account))))


def evaluate(
    request: Request,
    *,
    access_point_policy: CompiledPolicy | None = None,
    bucket_policy: CompiledPolicy | None = None,
) -> Evaluation:
    """The decision for a data request. For a request through an access point the caller has
    already checked that the access point exists and is attached to the bucket."""
    principal, action = request.principal, request.action
    judged: list[Verdict] = []
    stages: list[Stage] = []
    if request.access_point is not None:
        resource = request.access_point_resource
        identity = judge_identity(principal, action, resource, request)
        point = judge(access_point_policy, action, resource, principal, request)
        allowed = _stage_allows(principal, request.access_point.account, identity, point)
        stages.append(Stage(f"access point {request.access_point.name}", allowed))
        judged += [identity, point]
    resource = request.bucket_resource
    bucket = judge(bucket_policy, action, resource, principal, request)
    if request.access_point is not None and _other_account(principal, request.bucket_account):
        allowed = any_of((bucket.allow, bucket.allow_account))
        judged += [bucket]
    else:
        identity = judge_identity(principal, action, resource, request)
        allowed = _stage_allows(principal, request.bucket_account, identity, bucket)
        judged += [identity, bucket]
    stages.append(Stage(f"bucket {request.bucket}", allowed))
    return combine(judged, stages, principal)


def _other_account(principal: Principal, account: str) -> bool:
    """A signed request from an account other than the resource's."""
    return not principal.anonymous and principal.account != account


def evaluate_kms(
    request: KmsRequest, *, key_policy: CompiledPolicy | None, key_account: str
) -> Evaluation:
    """A KMS call on a customer managed key. Unlike S3, no principal can use a key unless its
    key policy allows it: naming the principal allows by itself; naming the principal's account
    (the usual "Enable IAM User Permissions" statement, arn:aws:iam::ACCOUNT:root) delegates to
    that account's identity policies; another account needs both the key policy and its own
    identity policy (AWS KMS Developer Guide, "Key policies in AWS KMS",
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html, and "Allowing
    users in other accounts to use a KMS key",
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html).
    KMS requests are always authenticated: anonymous callers are never allowed."""
    principal, action, key = request.principal, request.action, request.key_arn
    label = f"KMS key {key}"
    if key_policy is None:
        reason = f"the key policy of {key} was not read"
        return Evaluation(Decision.UNKNOWN, reasons=(reason,), stages=(Stage(label, Tri.MAYBE),))
    identity = judge_identity(principal, action, key, request)
    resource = judge(key_policy, action, key, principal, request)
    if principal.anonymous:
        allowed = Tri.NO
    elif principal.account == key_account:
        allowed = any_of((resource.allow, all_of((resource.allow_account, identity.allow))))
    else:
        allowed = all_of((identity.allow, any_of((resource.allow, resource.allow_account))))
    return combine([identity, resource], [Stage(label, allowed)], principal)


def evaluate_identity_only(principal: Principal, action: str, resource: str) -> Evaluation:
    """An account-level action with no resource policy (s3:ListAllMyBuckets on "*", ...)."""
    request = Request(principal, action, bucket="", bucket_account=principal.account or "")
    identity = judge_identity(principal, action, resource, request)
    return combine(
        [identity], [Stage(f"identity policies of {principal.label}", identity.allow)], principal
    )


def combine(verdicts: list[Verdict], stages: list[Stage], principal: Principal) -> Evaluation:
    deny = any_of(v.deny for v in verdicts)
    allowed = all_of(s.allowed for s in stages)
    value = all_of((allowed, negate(deny)))
    decision = _DECISION[value]
    allowed_by = tuple(r for v in verdicts for r in v.allowed_by)
    denied_by = tuple(r for v in verdicts for r in v.denied_by)
    reasons = tuple(dict.fromkeys(r for v in verdicts for r in v.reasons))
    if decision is Decision.UNKNOWN and not reasons:
        reasons = tuple(f"{s.label} cannot be judged" for s in stages if s.allowed is Tri.MAYBE)
    return Evaluation(decision, allowed_by, denied_by, reasons, tuple(stages))
