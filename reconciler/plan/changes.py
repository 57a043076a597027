"""The typed plan joining planning and applying: actions, changes, summary, checksum."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.model import ResourceType


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"


class Origin(StrEnum):
    """Where a change comes from, for reviewers (see reconciler.plan.origin)."""

    EDIT = "edit"  # the desired state differs from the base file's: the edit under review
    DRIFT = "drift"  # the base file would make the same change: live moved away from it


@dataclass(frozen=True)
class Change:
    action: Action
    type: ResourceType
    id: str
    collaborator: str | None
    before: Any = None
    after: Any = None
    # display only, like Terraform's ActionReason: never compared, never in the checksum,
    # never read by apply
    origin: Origin | None = field(default=None, compare=False)

    def sort_key(self) -> tuple[str, int, str, int]:
        """Display order: bucket-level first, then by collaborator, kind and name."""
        group = "" if self.collaborator is None else f"~{self.collaborator}"
        return (group, self.type.rank, self.id, list(Action).index(self.action))

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "type": self.type.value,
            "id": self.id,
            "collaborator": self.collaborator,
            "before": self.before,
            "after": self.after,
        }


class EventKind(StrEnum):
    SUSPEND = "suspend"
    REACTIVATE = "reactivate"
    ADOPT = "adopt"


@dataclass(frozen=True)
class CollaboratorEvent:
    """A lifecycle step the plan's changes amount to, for reviewers (display only: apply acts
    on the changes alone)."""

    collaborator: str
    kind: EventKind
    reason: str
    note: str = ""

    def line(self) -> str:
        """`suspend alice: expired on 2025-07-01; access keys stay inactive`."""
        note = f"; {self.note}" if self.note else ""
        return f"{self.kind.value} {self.collaborator}: {self.reason}{note}"

    def to_json(self) -> dict[str, str]:
        doc = {"collaborator": self.collaborator, "event": self.kind.value, "reason": self.reason}
        if self.note:
            doc["note"] = self.note
        return doc


def and_more_folders(more: int) -> str:
    """` and 998 more folders`: the folders decided like the one named (reconciler.access)."""
    return f" and {more} more folder{'s' if more != 1 else ''}"


@dataclass(frozen=True)
class AccessChange:
    """One change in effective access: a level on a folder, directly or via an access point.
    Computed by evaluating both states' policies (reconciler.access), never by diffing JSON."""

    collaborator: str
    level: str
    prefix: str  # a folder ("Alice/"), or "" for keys and listings outside every folder
    via: str | None  # the access point; None: requests straight to the bucket
    before: str  # "allow", "deny" or "unknown"
    after: str
    # how many more folders change exactly like `prefix` (an Allow that reaches every folder is
    # summarised in one line, not one per folder)
    more: int = 0

    @property
    def sign(self) -> str:
        if self.after == "allow" and self.before == "deny":
            return "+"
        if self.before == "allow" and self.after == "deny":
            return "-"
        return "?"

    def line(self) -> str:
        where = self.prefix or "(bucket root)"
        if self.more:
            where += and_more_folders(self.more)
        via = f"via {self.via}" if self.via else "directly"
        note = f" (before: {self.before}, after: {self.after})" if self.sign == "?" else ""
        return f"{self.collaborator}: {self.sign} {self.level} {where} {via}{note}"

    def to_json(self) -> dict[str, Any]:
        return {
            "collaborator": self.collaborator,
            "change": self.sign,
            "level": self.level,
            "prefix": self.prefix,
            "via": self.via,
            "before": self.before,
            "after": self.after,
            "more_folders": self.more,
        }


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...] = ()
    warnings: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    # collaborators that own resources in AWS today (from our tags): the base of the mass guard
    managed_collaborators: tuple[str, ...] = ()
    access_changes: tuple[AccessChange, ...] = ()
    # managed collaborators that had no access at all before this plan (their user or access
    # point exists, e.g. made by an interrupted apply, but nothing grants them anything yet):
    # new collaborators for the mass-grant guard (reconciler.plan.safety)
    without_access_before: tuple[str, ...] = ()
    refusals: tuple[str, ...] = ()  # why the security gate refuses this plan (empty: it does not)
    events: tuple[CollaboratorEvent, ...] = ()
    # display only: why changes are labelled as they are (e.g. "the file has not changed since
    # the last apply"), and what a targeted run (--only) planned and left out
    origin_basis: str = ""
    scope: tuple[str, ...] = ()
    not_planned: int = 0
    # display only: the desired-state file planned ("Live state matches shares/x.yaml")
    source: str = "collaborators.yaml"

    @classmethod
    def build(
        cls,
        changes: Iterable[Change],
        *,
        warnings: Iterable[str] = (),
        errors: Iterable[str] = (),
        managed_collaborators: Iterable[str] = (),
        events: Iterable[CollaboratorEvent] = (),
    ) -> Plan:
        return cls(
            changes=tuple(sorted(changes, key=Change.sort_key)),
            warnings=tuple(sorted(set(warnings))),
            errors=tuple(sorted(set(errors))),
            managed_collaborators=tuple(sorted(set(managed_collaborators))),
            events=tuple(sorted(set(events), key=lambda e: (e.collaborator, e.kind.value))),
        )

    @property
    def is_empty(self) -> bool:
        return not self.changes

    def summary(self) -> dict[str, int]:
        counts = {action.value: 0 for action in Action}
        for change in self.changes:
            counts[change.action.value] += 1
        return counts

    def checksum(self) -> str:
        """SHA-256 over the canonical JSON of the changes: equal plans, equal checksums."""
        payload = json.dumps([c.to_json() for c in self.changes], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()

    @property
    def drift(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.origin is Origin.DRIFT)

    def by_collaborator(self, *, without_drift: bool = False) -> dict[str | None, list[Change]]:
        groups: dict[str | None, list[Change]] = {}
        for change in self.changes:
            if without_drift and change.origin is Origin.DRIFT:
                continue
            groups.setdefault(change.collaborator, []).append(change)
        return groups
