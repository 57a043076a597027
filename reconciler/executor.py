"""Applies a Plan through a Writer, in dependency order, carrying on past per-collaborator
failures and reporting them together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reconciler.errors import WriteError
from reconciler.interfaces import Writer
from reconciler.model import ResourceType
from reconciler.plan import Action, Change, Plan


class Outcome(StrEnum):
    APPLIED = "applied"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Failure:
    change: Change
    code: str
    message: str
    request_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "change": self.change.to_json(),
            "code": self.code,
            "message": self.message,
            "request_id": self.request_id,
        }


@dataclass(frozen=True)
class ApplyResult:
    applied: tuple[Change, ...]
    failures: tuple[Failure, ...]
    skipped: tuple[Change, ...]
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures and not self.skipped and not self.interrupted


Progress = Callable[[Change, Outcome, "Failure | None"], None]


def execution_order(plan: Plan) -> list[Change]:
    """Deletes first, most dependent first (policies before access points before users), so
    access is revoked before anything is granted; then creates, replaces and updates in
    dependency order: bucket -> user -> identity policy -> access point -> its policy ->
    bucket policy."""
    deletes = [c for c in plan.changes if c.action is Action.DELETE]
    others = [c for c in plan.changes if c.action is not Action.DELETE]
    deletes.sort(key=lambda c: (-c.type.rank, c.collaborator or "", c.id))
    others.sort(key=lambda c: (c.type.rank, c.collaborator or "", c.id))
    return deletes + others


def apply_plan(
    plan: Plan,
    writer: Writer,
    *,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ApplyResult:
    """Apply every change; `should_stop` is checked before each call (the call in flight is
    always finished), so an interrupted apply leaves nothing half-made that a re-run can't fix."""
    applied: list[Change] = []
    failures: list[Failure] = []
    skipped: list[Change] = []
    broken: set[str | None] = set()  # collaborators (None = bucket level) with a failed change
    interrupted = False
    for change in execution_order(plan):
        interrupted = interrupted or (should_stop is not None and should_stop())
        blocked = None in broken or change.collaborator in broken
        if interrupted or (blocked and not revokes(change)):
            skipped.append(change)
            _report(progress, change, Outcome.SKIPPED, None)
            continue
        try:
            _dispatch(writer, change)
        except WriteError as err:
            failure = Failure(change, err.code, err.message, err.request_id)
            failures.append(failure)
            broken.add(change.collaborator)
            _report(progress, change, Outcome.FAILED, failure)
            continue
        applied.append(change)
        _report(progress, change, Outcome.APPLIED, None)
    return ApplyResult(tuple(applied), tuple(failures), tuple(skipped), interrupted)


_GRANTS = {ResourceType.ACCESS_POINT_POLICY, ResourceType.IAM_USER_POLICY}


def revokes(change: Change) -> bool:
    """Removing a grant or deactivating a key depends on nothing else: it is attempted even
    after an earlier change of the same collaborator failed, so a suspension goes as far as
    it can."""
    if change.type is ResourceType.IAM_ACCESS_KEY:
        return True
    return change.action is Action.DELETE and change.type in _GRANTS


def _report(progress: Progress | None, change: Change, outcome: Outcome, f: Failure | None) -> None:
    if progress is not None:
        progress(change, outcome, f)


def _dispatch(w: Writer, c: Change) -> None:
    t, a = c.type, c.action
    if t is ResourceType.BUCKET:
        if a is Action.CREATE:
            w.create_bucket(c.id, c.after["region"])
        # buckets are never updated or deleted by this tool
    elif t is ResourceType.BUCKET_ENCRYPTION:
        w.put_bucket_encryption(c.id, c.after)
    elif t is ResourceType.BUCKET_PUBLIC_ACCESS_BLOCK:
        w.put_public_access_block(c.id, c.after)
    elif t is ResourceType.BUCKET_OWNERSHIP_CONTROLS:
        w.put_ownership_controls(c.id, c.after)
    elif t is ResourceType.BUCKET_POLICY:
        w.put_bucket_policy(c.id, c.after)
    elif t is ResourceType.IAM_USER:
        _dispatch_user(w, c)
    elif t is ResourceType.IAM_USER_POLICY:
        user, policy_name = c.id.split("/", 1)
        if a is Action.DELETE:
            w.delete_user_policy(user, policy_name)
        else:
            w.put_user_policy(user, policy_name, c.after)
    elif t is ResourceType.IAM_ACCESS_KEY:
        user, key_id = c.id.split("/", 1)
        w.deactivate_access_key(user, key_id)  # keys are only ever deactivated
    elif t is ResourceType.ACCESS_POINT:
        if a is Action.UPDATE:
            w.tag_access_point(c.id, c.after["tags"])
        if a in (Action.DELETE, Action.REPLACE):
            w.delete_access_point(c.id)
        if a in (Action.CREATE, Action.REPLACE):
            w.create_access_point(c.id, c.after["bucket"], c.after["tags"])
    elif t is ResourceType.ACCESS_POINT_POLICY:
        if a is Action.DELETE:
            w.delete_access_point_policy(c.id)
        else:
            w.put_access_point_policy(c.id, c.after)


def _dispatch_user(w: Writer, c: Change) -> None:
    if c.action is Action.CREATE:
        w.create_user(c.id, c.after["path"], c.after["tags"])
    elif c.action is Action.UPDATE:
        w.update_user(c.id, c.after["path"], c.after["tags"])
    elif c.action is Action.DELETE:
        w.delete_user(c.id)
