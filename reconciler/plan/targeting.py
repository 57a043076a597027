"""Targeted runs (`--only ID`): a plan cut down to some collaborators, plus the bucket-level
changes they need. Pure.

What a targeted plan keeps: every change of the named collaborators; the bucket and its settings
when the bucket does not exist yet; the bucket policy when this tool's statement delegating to
access points does not yet admit an access point a named collaborator gets (without it that
access point grants nothing), with only those access points added to what the bucket delegates
to today (other collaborators' new access points wait for a full run; removed ones leave the
list in a full run, their access points being gone already). Everything else is left out and
counted, so the output can say that the rest was not planned. The mass guard then counts within
the subset (its managed collaborators); the security gate still evaluates the whole state the
cut-down plan would leave (reconciler.access.review).
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any

from reconciler.documents.policies import AP_ARN_KEY, SID_DELEGATE
from reconciler.errors import ReconcilerError
from reconciler.model import ResourceType, canonical_policy
from reconciler.plan.changes import Action, Change, Plan


class UnknownTargetError(ReconcilerError):
    """--only names a collaborator that is neither in the file nor managed in AWS."""


def check_targets(only: Collection[str], known: Collection[str], source: str) -> None:
    unknown = sorted(set(only) - set(known))
    if unknown:
        raise UnknownTargetError(
            f"--only {', '.join(unknown)}: no collaborator with this id in {source} or managed "
            f"in AWS; known ids: {', '.join(sorted(known)) or 'none'}"
        )


def _delegation(policy: Mapping[str, Any] | None) -> Any:
    statements = (policy or {}).get("Statement", [])
    return next((s for s in statements if s.get("Sid") == SID_DELEGATE), None)


def _admitted(statement: Mapping[str, Any] | None) -> list[str] | None:
    """The access point ARN patterns our delegate statement admits ([] when there is none);
    None: every access point of the account (the form of versions before issue 22)."""
    if statement is None:
        return []
    condition = statement.get("Condition", {})
    values = condition.get("ArnLike", {}).get(AP_ARN_KEY)
    if values is None:
        return None
    return [values] if isinstance(values, str) else list(values)


def _admits(patterns: list[str] | None, arn: str) -> bool:
    return patterns is None or any(fnmatch.fnmatchcase(arn, p) for p in patterns)


def _bucket_policy(change: Change, wanted_arns: list[str], creating: bool) -> Change | None:
    """The bucket-policy change cut down to what the named collaborators need (None: nothing):
    the patterns admitting their access points added to what the bucket delegates to today."""
    after_statement = _delegation(change.after)
    after_patterns = _admitted(after_statement) or []
    needed = [p for p in after_patterns if any(_admits([p], arn) for arn in wanted_arns)]
    before_patterns = _admitted(_delegation(change.before))
    missing = [arn for arn in wanted_arns if not _admits(before_patterns, arn)]
    if not missing and not creating:
        return None
    if after_statement is None or before_patterns is None:
        return change
    after = copy.deepcopy(dict(change.after))
    values = sorted(set(before_patterns) | set(needed))
    for statement in after["Statement"]:
        if statement.get("Sid") == SID_DELEGATE:
            statement["Condition"] = {
                "ArnLike": {AP_ARN_KEY: values[0] if len(values) == 1 else values}
            }
    return replace(change, after=canonical_policy(after))


def _needed(change: Change, creating_bucket: bool) -> bool:
    """A bucket-level change the targeted collaborators cannot work without."""
    return creating_bucket


def target(
    plan: Plan, only: Collection[str], access_points: Mapping[str, str] | None = None
) -> Plan:
    """Only the changes of the collaborators in `only` and the bucket-level ones they need.
    `access_points`: collaborator id -> the ARN of its access point in the file."""
    if not only:
        return plan
    wanted = set(only)
    creating_bucket = any(
        c.type is ResourceType.BUCKET and c.action is Action.CREATE for c in plan.changes
    )
    kept_list: list[Change] = []
    for c in plan.changes:
        if c.type is ResourceType.BUCKET_POLICY:
            arns = [arn for cid, arn in (access_points or {}).items() if cid in wanted]
            cut = _bucket_policy(c, arns, creating_bucket)
            if cut is not None:
                kept_list.append(cut)
        elif c.collaborator in wanted or (c.collaborator is None and _needed(c, creating_bucket)):
            kept_list.append(c)
    kept = tuple(kept_list)
    return replace(
        plan,
        changes=kept,
        managed_collaborators=tuple(m for m in plan.managed_collaborators if m in wanted),
        events=tuple(e for e in plan.events if e.collaborator in wanted),
        scope=tuple(sorted(wanted)),
        not_planned=len(plan.changes) - len(kept),
    )
