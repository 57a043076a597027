"""Applies a Plan through a Writer, in dependency order, carrying on past per-collaborator
failures and reporting them together.

Changes run in stages, one after another: (0) deletes, so access is revoked before anything is
granted; (1) bucket settings; (2) collaborator creates and updates; (3) the bucket policy. In a
stage each collaborator's changes form a chain that runs in dependency order, one change at a
time, while different collaborators' chains run in parallel on a bounded pool of workers.
Outcomes are reported in the sequential execution order whatever the workers' timing, so the
progress output and the ApplyResult are the same with 1 worker or 64.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.errors import WriteError
from reconciler.interfaces import Writer
from reconciler.model import ResourceType
from reconciler.plan.changes import Action, Change, Plan
from reconciler.workers import DEFAULT_WORKERS, worker_pool


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
    workers: int = DEFAULT_WORKERS,
    around: Callable[[Change], AbstractContextManager[None]] | None = None,
) -> ApplyResult:
    """Apply every change; a failed change skips the later changes of its collaborator (except
    revocations, see `revokes`), and a failed bucket-level change (collaborator None) skips
    every later stage. `should_stop` is checked before each call is started: calls in flight
    always finish, so an interrupted apply leaves nothing half-made that a re-run can't fix.
    The writer is called from up to `workers` threads at once; progress from this thread only."""
    run = _Run(
        writer=writer, progress=progress, workers=workers, should_stop=should_stop, around=around
    )
    with worker_pool(workers, "reconcile-apply") as pool:
        for stage in stages(execution_order(plan)):
            run.run_stage(pool, stage)
    return run.result()


_Step = tuple[int, Change]  # position in the execution order, change


def _stage(change: Change) -> int:
    if change.action is Action.DELETE:
        return 0
    if change.type.rank < ResourceType.IAM_USER.rank:
        return 1
    if change.type.rank > ResourceType.ACCESS_POINT_POLICY.rank:
        return 3
    return 2


def stages(order: list[Change]) -> list[list[deque[_Step]]]:
    """The execution order cut into stages, each a list of per-collaborator chains."""
    grouped: dict[int, dict[str | None, deque[_Step]]] = {}
    for position, change in enumerate(order):
        chains = grouped.setdefault(_stage(change), {})
        chains.setdefault(change.collaborator, deque()).append((position, change))
    return [list(grouped[key].values()) for key in sorted(grouped)]


@dataclass
class _Run:
    """The state of one apply: outcomes so far, broken collaborators, the report cursor."""

    writer: Writer
    progress: Progress | None
    workers: int
    should_stop: Callable[[], bool] | None = None
    # wraps each change's calls in the worker thread that makes them (e.g. to tag request ids)
    around: Callable[[Change], AbstractContextManager[None]] | None = None
    broken: set[str | None] = field(default_factory=set)
    halted: bool = False  # a bucket-level change failed in an earlier stage
    interrupted: bool = False
    outcomes: dict[int, tuple[Change, Outcome, Failure | None]] = field(default_factory=dict)
    reported: int = 0

    def run_stage(self, pool: ThreadPoolExecutor, chains: list[deque[_Step]]) -> None:
        self.halted = self.halted or None in self.broken
        ready = deque(chains)
        running: dict[Future[None], tuple[_Step, deque[_Step]]] = {}
        while ready or running:
            while ready and len(running) < self.workers:
                chain = ready.popleft()
                step = self._next(chain)
                if step is not None:
                    running[pool.submit(self._execute, step[1])] = (step, chain)
            if not running:
                continue
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: running[f][0][0]):
                step, chain = running.pop(future)
                self._finish(step, future)
                if chain:
                    # to the back of the queue: every collaborator's first change runs before
                    # any second one, which gives IAM time to make a new user usable as a
                    # principal before the policy naming it is written
                    ready.append(chain)

    def _execute(self, change: Change) -> None:
        with self.around(change) if self.around else nullcontext():
            _dispatch(self.writer, change)

    def _next(self, chain: deque[_Step]) -> _Step | None:
        """The one place where the next change of a chain is chosen to run (or skipped)."""
        while chain:
            position, change = chain.popleft()
            stop = self.should_stop is not None and self.should_stop()
            self.interrupted = self.interrupted or stop
            blocked = self.halted or change.collaborator in self.broken
            if self.interrupted or (blocked and not revokes(change)):
                self._record(position, change, Outcome.SKIPPED, None)
                continue
            return position, change
        return None

    def _finish(self, step: _Step, future: Future[None]) -> None:
        position, change = step
        error = future.exception()
        if error is None:
            self._record(position, change, Outcome.APPLIED, None)
        elif isinstance(error, WriteError):
            failure = Failure(change, error.code, error.message, error.request_id)
            self.broken.add(change.collaborator)
            self._record(position, change, Outcome.FAILED, failure)
        else:
            raise error

    def _record(self, position: int, change: Change, outcome: Outcome, f: Failure | None) -> None:
        """Keep the outcome; report every outcome whose predecessors are all reported."""
        self.outcomes[position] = (change, outcome, f)
        while self.reported in self.outcomes:
            _report(self.progress, *self.outcomes[self.reported])
            self.reported += 1

    def result(self) -> ApplyResult:
        ordered = [self.outcomes[p] for p in sorted(self.outcomes)]
        return ApplyResult(
            applied=tuple(c for c, o, _ in ordered if o is Outcome.APPLIED),
            failures=tuple(f for _, _, f in ordered if f is not None),
            skipped=tuple(c for c, o, _ in ordered if o is Outcome.SKIPPED),
            interrupted=self.interrupted,
        )


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
    elif t is ResourceType.BUCKET_VERSIONING:
        w.enable_versioning(c.id)  # the only versioning change the planner makes
    elif t is ResourceType.BUCKET_LIFECYCLE:
        w.put_lifecycle(c.id, c.after)
    elif t is ResourceType.TRAIL_EVENT_SELECTORS:
        w.put_event_selectors(c.id, c.after["AdvancedEventSelectors"])
    elif t is ResourceType.BUCKET_LOGGING:
        w.put_bucket_logging(c.id, c.after)
    elif t in (ResourceType.BUCKET_POLICY, ResourceType.LOG_BUCKET_POLICY):
        w.put_bucket_policy(c.id, c.after)  # the log bucket's: only with manage_policy
    elif t is ResourceType.KMS_KEY_ROTATION:
        w.enable_key_rotation(c.id)  # only ever enabled
    elif t is ResourceType.KMS_KEY_POLICY:
        w.put_key_policy(c.id, c.after)  # only ever updated: keys are never created or deleted
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
        w.create_user(
            c.id,
            c.after["path"],
            c.after["tags"],
            permissions_boundary=c.after.get("permissions_boundary"),
        )
    elif c.action is Action.UPDATE:
        w.update_user(
            c.id,
            c.after["path"],
            c.after["tags"],
            permissions_boundary=c.after.get("permissions_boundary"),
        )
    elif c.action is Action.DELETE:
        w.delete_user(c.id)
