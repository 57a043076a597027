"""Who else can use the bucket's KMS key: a key policy that opens the key to others (Principal
"*" without conditions, another account) lets them decrypt what S3 encrypted with it, through S3
or by calling KMS directly. Callers probed: an anonymous caller, a caller from an arbitrary other
account (assumed to hold every identity permission), and every principal or account of another
account that the key policy names and that is not a collaborator."""

from __future__ import annotations

from collections.abc import Iterable

from reconciler.access.evaluator import Decision, Evaluation
from reconciler.access.requests import Identity, Principal
from reconciler.access.state import PROBE, AccessState
from reconciler.access.subjects import collaborator_subject
from reconciler.documents.policies import kms_actions
from reconciler.model import Collaborator, Config

KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


def key_policy_outcomes(
    state: AccessState, outsiders: Iterable[Principal], ours: frozenset[str]
) -> list[tuple[Decision, str]]:
    """(decision, what) for every probe that is not denied."""
    found: list[tuple[Decision, str]] = []
    for who in [*outsiders, *named_strangers(state, ours)]:
        for action in KEY_ACTIONS:
            for key in (PROBE, None):
                evaluation = state.evaluate_kms(who, action, key)
                if evaluation.decision is not Decision.DENY:
                    how = "through S3" if key else "directly"
                    found.append((evaluation.decision, _what(who, action, how, evaluation)))
    return found


def _what(who: Principal, action: str, how: str, evaluation: Evaluation) -> str:
    return f"{who.label} can call {action} {how}: {evaluation.because()}"


def named_strangers(state: AccessState, ours: frozenset[str]) -> list[Principal]:
    """Principals of other accounts than the key's that the key policy's Allow statements name
    (an account stands for any principal in it), collaborators excepted."""
    if state.key_policy is None or state.key is None:
        return []
    arns: set[str] = set()
    for statement in state.key_policy.statements:
        spec = statement.principal
        if statement.effect == "Deny" or spec is None or statement.not_principal:
            continue
        arns |= {a for a in spec.arns if a not in ours and a.count(":") >= 5}
        arns |= {f"arn:aws:iam::{acct}:user/reconciler-verify-member" for acct in spec.accounts}
    found = []
    for arn in sorted(arns):
        account = arn.split(":")[4]
        if account != state.key.account:
            identity = Identity(unrestricted=f"identity policies in account {account} (assumed)")
            found.append(Principal(arn, arn, identity))
    return found


def key_gaps(config: Config, state: AccessState) -> list[str]:
    """What the key policy lacks for collaborators' own levels, one plan warning each: users
    this tool creates need it to delegate to IAM; a `principal:` needs a statement naming it."""
    key = state.key
    if key is None:
        return []
    gaps = []
    for collab in config.collaborators:
        actions = kms_actions(collab)
        subject = collaborator_subject(config, collab, state)
        if not actions or not subject.exists:
            continue
        denied = [
            (a, e)
            for a in actions
            if (e := state.evaluate_kms(subject.principal, a, collab.prefix + PROBE)).decision
            is not Decision.ALLOW
        ]
        if denied:
            gaps.append(_gap(config, collab, key.arn, key.account, subject.principal, denied))
    return gaps


def _gap(
    config: Config,
    collab: Collaborator,
    key_arn: str,
    key_account: str,
    principal: Principal,
    denied: list[tuple[str, Evaluation]],
) -> str:
    actions = ", ".join(a for a, _ in denied)
    who = config.principal_arn(collab)
    head = f"collaborator {collab.id}: KMS key {key_arn} does not let {who} use {actions} "
    why = denied[0][1].because()
    if collab.iam_user is not None and principal.account == key_account:
        fix = (
            f"the key policy must delegate to IAM (allow arn:aws:iam::{key_account}:root "
            "kms:*, as the default key policy does)"
        )
    elif config.bucket.manage_key_policy:
        fix = "check the key policy statements naming it (bucket.manage_key_policy is on)"
    else:
        fix = (
            f"a principal: needs a key-policy statement naming it (allow {actions} with "
            f"kms:ViaService s3.{config.region}.amazonaws.com; in the key's account, delegation "
            "to IAM and an identity policy allowing the same also work), or set "
            "bucket.manage_key_policy: true"
        )
    return f"{head}through S3 ({why}): {fix}"
