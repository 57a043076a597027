"""The parallel executor: per-collaborator order, stages, keep-going, bounded concurrency and a
reporting order that does not depend on the workers' timing. Uses the in-memory fake."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from reconciler.access.review import reviewed_plan as plan
from reconciler.apply.executor import ApplyResult, Failure, Outcome, apply_plan
from reconciler.model import Config
from reconciler.plan.changes import Change, Plan
from tests.conftest import config_from
from tests.fake import FakeCloud

BUCKET = "clinical-share-123456789012"
BUCKET_SETUP = ["create_bucket", "put_bucket_encryption", "put_public_access_block"]
CHAIN = ["create_user", "put_user_policy", "create_access_point", "put_access_point_policy"]


def many(n: int, first: int = 0) -> Config:
    """n collaborators with managed users, numbered from `first` (with console: true, so that
    each one has the whole chain: user, inline policy, access point, its policy)."""
    head = (
        'version: 1\naccount_id: "123456789012"\nregion: us-east-1\n'
        f"bucket:\n  name: {BUCKET}\niam_path: /collaborators/\ncollaborators:\n"
    )
    entries = "".join(
        f"  - id: c{i:03d}\n    iam_user: User{i:03d}\n    access: [write, read]\n"
        "    console: true\n"
        for i in range(first, first + n)
    )
    return config_from(head + entries)


def owner_of(call: tuple[str, tuple[Any, ...]]) -> str | None:
    """The collaborator number a fake call is about (User007, c007-access-point), if any."""
    _, args = call
    subject = str(args[0]) if args else ""
    for prefix in ("User", "c"):
        if subject.startswith(prefix) and subject[len(prefix) : len(prefix) + 3].isdigit():
            return subject[len(prefix) : len(prefix) + 3]
    return None


def record(result: list[tuple[str, Outcome]]) -> Callable[[Change, Outcome, Failure | None], None]:
    def progress(change: Change, outcome: Outcome, failure: Failure | None) -> None:
        result.append((f"{change.action}:{change.type}:{change.id}", outcome))

    return progress


def outcome_ids(result: ApplyResult) -> tuple[list[str], list[str], list[str]]:
    return (
        [c.id for c in result.applied],
        [f.change.id for f in result.failures],
        [c.id for c in result.skipped],
    )


def test_each_collaborator_keeps_dependency_order_and_stages_run_in_turn() -> None:
    config = many(30)
    cloud = FakeCloud()
    result = apply_plan(plan(config, cloud.read(config)), cloud, workers=8)
    assert result.ok
    calls = list(cloud.calls)
    for n in {owner_of(c) for c in calls} - {None}:
        assert [name for name, _ in calls if owner_of((name, _)) == n] == CHAIN
    names = [name for name, _ in calls]
    assert names[:3] == BUCKET_SETUP  # bucket settings before any collaborator change
    assert names[-1] == "put_bucket_policy"  # the bucket policy after all of them
    assert plan(config, cloud.read(config)).is_empty


def test_all_deletes_run_before_any_grant() -> None:
    cloud = FakeCloud()
    old = many(12)
    apply_plan(plan(old, cloud.read(old)), cloud)
    new = many(12, first=6)  # c000..c005 leave, c012..c017 arrive
    cloud.calls.clear()
    result = apply_plan(plan(new, cloud.read(new)), cloud, workers=8)
    assert result.ok
    names = [name for name, _ in cloud.calls]
    last_delete = max(i for i, n in enumerate(names) if n.startswith("delete_"))
    first_grant = min(i for i, n in enumerate(names) if n.startswith(("create_", "put_")))
    assert last_delete < first_grant
    assert plan(new, cloud.read(new)).is_empty


def test_failure_skips_only_that_collaborators_later_changes_in_parallel() -> None:
    config = many(30)
    cloud = FakeCloud(fail=lambda name, args: name == "create_access_point" and "c007" in args[0])
    result = apply_plan(plan(config, cloud.read(config)), cloud, workers=8)
    applied, failed, skipped = outcome_ids(result)
    assert failed == ["c007-access-point"]
    assert skipped == ["c007-access-point"]  # its policy; its user and user policy were applied
    assert {"User007", "User007/reconciler-access-point-access"} <= set(applied)
    assert all(f"c{i:03d}-access-point" in cloud.access_points for i in range(30) if i != 7)
    assert "policy" in cloud.buckets[BUCKET]  # the bucket policy still ran


def test_bucket_level_failure_skips_every_later_stage() -> None:
    config = many(10)
    cloud = FakeCloud(fail=lambda name, args: name == "put_public_access_block")
    result = apply_plan(plan(config, cloud.read(config)), cloud, workers=8)
    assert [f.change.id for f in result.failures] == [BUCKET]
    assert not cloud.users and not cloud.access_points and "policy" not in cloud.buckets[BUCKET]
    assert len(result.skipped) == len(plan(config, FakeCloud().read(config)).changes) - 3


def test_outcomes_and_progress_do_not_depend_on_the_number_of_workers() -> None:
    config = many(20)
    fail = lambda name, args: name == "put_user_policy" and args[0] in {"User003", "User011"}  # noqa: E731
    runs = []
    for workers in (1, 8):
        cloud = FakeCloud(fail=fail)
        seen: list[tuple[str, Outcome]] = []
        result = apply_plan(
            plan(config, cloud.read(config)), cloud, progress=record(seen), workers=workers
        )
        runs.append((outcome_ids(result), seen))
    assert runs[0] == runs[1]


class GatedCloud(FakeCloud):
    """Holds User000's creation until User005 has been created: later changes finish first."""

    def __init__(self) -> None:
        super().__init__()
        self.user5_created = threading.Event()

    def create_user(self, name: str, path: str, tags: Any, **kwargs: Any) -> None:
        if name == "User000":
            assert self.user5_created.wait(timeout=10), "User005 never ran: no parallelism"
        super().create_user(name, path, tags, **kwargs)
        if name == "User005":
            self.user5_created.set()


def test_progress_follows_the_execution_order_even_when_calls_finish_out_of_order() -> None:
    config = many(8)
    p: Plan = plan(config, FakeCloud().read(config))
    cloud = GatedCloud()
    seen: list[tuple[str, Outcome]] = []
    result = apply_plan(p, cloud, progress=record(seen), workers=4)
    created = [args[0] for name, args in cloud.calls if name == "create_user"]
    assert created.index("User005") < created.index("User000")  # really out of order
    sequential: list[tuple[str, Outcome]] = []
    apply_plan(p, FakeCloud(), progress=record(sequential), workers=1)
    assert seen == sequential
    assert result.ok


class CountingCloud(FakeCloud):
    """Records how many writes are in flight at once; the first `gate` writes wait for each
    other, which only succeeds if that many really run at the same time."""

    def __init__(self, gate: int) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.barrier = threading.Barrier(gate, timeout=10)
        self.gated = 0

    def _call(self, name: str, *args: Any) -> None:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            wait = name == "create_user" and self.gated < self.barrier.parties
            self.gated += wait
        try:
            if wait:
                self.barrier.wait()
            super()._call(name, *args)
        finally:
            with self.lock:
                self.in_flight -= 1


@pytest.mark.parametrize("workers", [1, 3, 8])
def test_concurrency_reaches_but_never_exceeds_the_worker_bound(workers: int) -> None:
    config = many(24)
    cloud = CountingCloud(gate=workers)
    assert apply_plan(plan(config, cloud.read(config)), cloud, workers=workers).ok
    assert cloud.peak == workers


def test_worker_count_is_validated() -> None:
    config = many(1)
    with pytest.raises(ValueError, match="workers"):
        apply_plan(plan(config, FakeCloud().read(config)), FakeCloud(), workers=0)
