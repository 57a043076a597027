"""Collaborator lifecycle, pure: expiry turns into suspension on a given day (UTC).

Time is always passed in (`today`), never read here, so plans are reproducible and tests never
depend on the real date.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date

from reconciler.model import (
    STATUS_TAG_KEY,
    SUSPENDED_TAG_VALUE,
    Collaborator,
    Config,
    LiveState,
    Status,
)
from reconciler.plan.changes import Change, CollaboratorEvent, EventKind

SUSPEND_NOTE = (
    "keeps the IAM user and access point; removes every grant (access point policy, identity "
    "policy); deactivates the IAM user's access keys"
)
REACTIVATE_NOTE = (
    "grants are restored; access keys deactivated during the suspension stay inactive: "
    "re-enable one with `aws iam update-access-key --status Active` or issue a new one"
)


def is_expired(collab: Collaborator, today: date | None) -> bool:
    """From the `expires` date itself on (UTC), the collaborator counts as suspended."""
    return collab.expires is not None and today is not None and today >= collab.expires


def suspension_reason(collab: Collaborator, today: date | None) -> str | None:
    """Why a collaborator is suspended on `today`, or None when it is active."""
    if is_expired(collab, today):
        return f"expired on {collab.expires}"
    if collab.status is Status.SUSPENDED:
        return "status: suspended"
    return None


def resolve(config: Config, today: date | None) -> Config:
    """The config as it applies on `today`: expired collaborators become suspended.
    Idempotent; with today None nothing expires."""
    collaborators = tuple(
        dataclasses.replace(c, status=Status.SUSPENDED) if is_expired(c, today) else c
        for c in config.collaborators
    )
    if collaborators == config.collaborators:
        return config
    return dataclasses.replace(config, collaborators=collaborators)


def granted(config: Config) -> Config:
    """The config as access checks must see it: a suspended collaborator is granted nothing."""
    collaborators = tuple(
        dataclasses.replace(c, access=()) if c.status is Status.SUSPENDED else c
        for c in config.collaborators
    )
    if collaborators == config.collaborators:
        return config
    return dataclasses.replace(config, collaborators=collaborators)


def expiry_warnings(config: Config, today: date | None) -> list[str]:
    """One warning per active collaborator whose access ends within the warning window."""
    if today is None:
        return []
    window = config.lifecycle.expiry_warning_days
    warnings = []
    for collab in config.collaborators:
        if collab.expires is None or collab.status is Status.SUSPENDED:
            continue
        days = (collab.expires - today).days
        if 0 < days <= window:
            when = "tomorrow" if days == 1 else f"in {days} days"
            warnings.append(
                f"collaborator {collab.id} expires on {collab.expires} ({when}): its access "
                f"will be suspended from that date; extend expires in {config.source} to keep it"
            )
    return warnings


def _marked_suspended(collab: Collaborator, live: LiveState) -> bool:
    """Our status tag on the collaborator's live user or access point: suspended today."""
    user = live.users.get(collab.iam_user) if collab.iam_user else None
    ap = live.access_points.get(collab.access_point)
    tagged = [r.tags for r in (user, ap) if r is not None]
    return any(tags.get(STATUS_TAG_KEY) == SUSPENDED_TAG_VALUE for tags in tagged)


def status_events(
    config: Config, live: LiveState, changes: Iterable[Change], today: date | None
) -> list[CollaboratorEvent]:
    """Suspensions and re-activations the changes amount to, for the plan's reader."""
    changed = {c.collaborator for c in changes}
    events = []
    for collab in config.collaborators:
        if collab.id not in changed:
            continue
        reason = suspension_reason(collab, today)
        if reason is not None:
            events.append(CollaboratorEvent(collab.id, EventKind.SUSPEND, reason, SUSPEND_NOTE))
        elif _marked_suspended(collab, live):
            why = "status: active" + (f", expires {collab.expires}" if collab.expires else "")
            events.append(CollaboratorEvent(collab.id, EventKind.REACTIVATE, why, REACTIVATE_NOTE))
    return events


def starting_suspensions(config: Config, live: LiveState, today: date | None) -> set[str]:
    """Collaborators whose expiry date has come but whose suspension is not in AWS yet: the
    changes that suspend them come from the file's own dates, not from drift."""
    return {
        c.id
        for c in config.collaborators
        if is_expired(c, today) and not _marked_suspended(c, live)
    }
