"""Targeted runs (`--only ID`): a plan cut down to some collaborators, plus the bucket-level
changes they need. Pure.

What a targeted plan keeps: every change of the named collaborators; the bucket and its settings
when the bucket does not exist yet; the bucket policy when this tool's statement delegating to
access points is missing or different (without it no access point grants anything). Everything
else is left out and counted, so the output can say that the rest was not planned. The mass
guard then counts within the subset (its managed collaborators); the security gate still
evaluates the whole state the cut-down plan would leave (reconciler.access.review).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any

from reconciler.documents.policies import SID_DELEGATE
from reconciler.errors import ReconcilerError
from reconciler.model import ResourceType
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


def _needed(change: Change, creating_bucket: bool) -> bool:
    """A bucket-level change the targeted collaborators cannot work without."""
    if creating_bucket:
        return True
    return change.type is ResourceType.BUCKET_POLICY and _delegation(change.before) != _delegation(
        change.after
    )


def target(plan: Plan, only: Collection[str]) -> Plan:
    """Only the changes of the collaborators in `only` and the bucket-level ones they need."""
    if not only:
        return plan
    wanted = set(only)
    creating_bucket = any(
        c.type is ResourceType.BUCKET and c.action is Action.CREATE for c in plan.changes
    )
    kept = tuple(
        c
        for c in plan.changes
        if c.collaborator in wanted or (c.collaborator is None and _needed(c, creating_bucket))
    )
    return replace(
        plan,
        changes=kept,
        managed_collaborators=tuple(m for m in plan.managed_collaborators if m in wanted),
        events=tuple(e for e in plan.events if e.collaborator in wanted),
        scope=tuple(sorted(wanted)),
        not_planned=len(plan.changes) - len(kept),
    )
