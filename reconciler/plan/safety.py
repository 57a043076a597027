"""Pure safety rules applied to a plan before anything changes: the mass-change guards (deletes
and replacements; widened access, from the review stage's access changes) and reviewed-plan
binding (checksum)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.errors import RefusedError
from reconciler.model import ResourceType
from reconciler.plan.changes import Action, Plan

_IDENTITY_TYPES = {ResourceType.IAM_USER, ResourceType.ACCESS_POINT}


def removed_collaborators(plan: Plan) -> set[str]:
    """Collaborators whose IAM user or access point the plan deletes or replaces."""
    return {
        c.collaborator or c.id
        for c in plan.changes
        if c.type in _IDENTITY_TYPES and c.action in (Action.DELETE, Action.REPLACE)
    }


def check_mass_change(plan: Plan, *, max_fraction: float, desired_count: int) -> None:
    """Refuse (exit 3) a plan that removes every collaborator, or deletes/replaces more than
    max_fraction of the collaborators managed today. Removing a single collaborator is always
    allowed (unless it is the last one), so small teams are not blocked by percentages.
    Override: --allow-mass-delete."""
    managed = len(plan.managed_collaborators)
    removed = removed_collaborators(plan)
    if managed == 0 or not removed:
        return
    override = "review the plan and re-run with --allow-mass-delete if it is intended"
    if desired_count == 0:
        raise RefusedError(
            f"refusing a plan that removes every collaborator ({managed} managed today): {override}"
        )
    share = len(removed) / managed
    if len(removed) > 1 and share > max_fraction:
        raise RefusedError(
            f"refusing a plan that deletes or replaces {len(removed)} of {managed} managed "
            f"collaborators ({share:.0%} > {max_fraction:.0%}, safety.max_delete_fraction): "
            f"{', '.join(sorted(removed))}; {override}"
        )


_WIDER = {"deny": 0, "unknown": 1, "allow": 2}


def existing_collaborators(plan: Plan) -> set[str]:
    """Collaborators that own resources today and had some access before the plan. One whose
    user or access point exists but that nothing grants anything yet (an apply was interrupted
    after creating them, before writing their policies) is new: had it never been created, it
    would be new, and a nightly apply must finish what the interrupted one began."""
    return set(plan.managed_collaborators) - set(plan.without_access_before)


def widened_collaborators(plan: Plan) -> set[str]:
    """Existing collaborators (owning resources and some access today) whose access the plan's
    access changes widen: a level, a folder or a principal that was denied and may be allowed
    after (an unknown counts: it may be an allow). New collaborators do not count."""
    existing = existing_collaborators(plan)
    return {
        c.collaborator
        for c in plan.access_changes
        if c.collaborator in existing and _WIDER[c.after] > _WIDER[c.before]
    }


def check_mass_grant(plan: Plan, *, max_fraction: float) -> None:
    """Refuse (exit 3) a plan that widens the access of more than max_fraction of the existing
    collaborators (a bad edit giving everyone `delete`, say). Widening a single collaborator is
    always allowed, as removing one is. Override: --allow-mass-grant."""
    managed = len(existing_collaborators(plan))
    widened = widened_collaborators(plan)
    if managed == 0 or len(widened) < 2:
        return
    share = len(widened) / managed
    if share > max_fraction:
        raise RefusedError(
            f"refusing a plan that widens the access of {len(widened)} of {managed} existing "
            f"collaborators ({share:.0%} > {max_fraction:.0%}, safety.max_grant_fraction): "
            f"{', '.join(sorted(widened))}; review the plan and re-run with --allow-mass-grant "
            "if it is intended"
        )


def change_key(change: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(change["action"]), str(change["type"]), str(change["id"]))


def _compared(change: Mapping[str, Any]) -> dict[str, Any]:
    """A change without its display-only origin label (a reviewed plan file carries it)."""
    return {k: v for k, v in change.items() if k != "origin"}


def describe_drift(
    reviewed: Sequence[Mapping[str, Any]], fresh: Sequence[Mapping[str, Any]]
) -> list[str]:
    """What changed between the reviewed plan's changes and a fresh plan's, one line each."""
    old = {change_key(c): c for c in reviewed}
    new = {change_key(c): c for c in fresh}
    lines = []
    for key in sorted(old.keys() | new.keys()):
        label = f"{key[0]} {key[1]} {key[2]}"
        if key not in old:
            lines.append(f"+ now also planned: {label}")
        elif key not in new:
            lines.append(f"- no longer planned: {label}")
        elif _compared(old[key]) != _compared(new[key]):
            lines.append(f"~ planned differently: {label}")
    return lines


def check_reviewed(
    plan: Plan, *, checksum: str, reviewed_changes: Sequence[Mapping[str, Any]] | None
) -> None:
    """Apply only what was reviewed: the fresh plan's checksum must equal the reviewed one."""
    fresh = plan.checksum()
    if fresh == checksum:
        return
    detail = ""
    if reviewed_changes is not None:
        drift = describe_drift(reviewed_changes, [c.to_json() for c in plan.changes])
        if drift:
            detail = "\n" + "\n".join(f"  {line}" for line in drift)
    raise RefusedError(
        f"the plan changed since it was reviewed (checksum {checksum[:12]}... reviewed, "
        f"{fresh[:12]}... now): nothing was applied. Run `reconcile plan --out plan.json` again "
        f"and review it, or apply without --plan-file/--checksum to apply the fresh plan." + detail
    )
