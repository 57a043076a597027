"""Where each change of a plan comes from, for reviewers: the edit under review, or drift (live
state moved away from what the file describes, e.g. a policy broadened by hand).

A change the base file (the same file as it is on the base branch) would make identically is
drift; every other change is the edit under review. Pure, and display only: like Terraform's
`ActionReason`, a label never steers apply and never enters the plan's checksum.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from reconciler.plan.changes import Change, Origin, Plan


def _key(change: Change) -> tuple[str, str, str]:
    return (change.action.value, change.type.value, change.id)


def _same(change: Change, twin: Change | None) -> bool:
    return (
        twin is not None
        and twin.collaborator == change.collaborator
        and twin.before == change.before
        and twin.after == change.after
    )


def label(head: Plan, base: Plan, *, scheduled: Collection[str] = ()) -> Plan:
    """Label every change of `head` (planned from the file under review) against `base` (planned
    from the base file, against the same live state). Changes of the collaborators in
    `scheduled` (suspensions that the file's own expiry dates start) are the file's: edit."""
    twins = {_key(c): c for c in base.changes}

    def origin(change: Change) -> Origin:
        if change.collaborator in scheduled or not _same(change, twins.get(_key(change))):
            return Origin.EDIT
        return Origin.DRIFT

    return replace(head, changes=tuple(replace(c, origin=origin(c)) for c in head.changes))


def all_drift(plan: Plan, *, basis: str, scheduled: Collection[str] = ()) -> Plan:
    """The file has not changed since it was last applied (`basis` says how that is known): every
    change is drift, except the suspensions its expiry dates start (`scheduled`)."""
    labelled = tuple(
        replace(c, origin=Origin.EDIT if c.collaborator in scheduled else Origin.DRIFT)
        for c in plan.changes
    )
    return replace(plan, changes=labelled, origin_basis=basis)
