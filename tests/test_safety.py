"""Mass-change guard, reviewed-plan binding, the lock logic and interrupt handling (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from reconciler.access.review import reviewed_plan as plan
from reconciler.apply.executor import apply_plan
from reconciler.apply.lock import (
    LockHeldError,
    LockInfo,
    LockLostError,
    Release,
    Stored,
    acquire,
    held,
    new_lock_info,
    unlock,
)
from reconciler.errors import AwsError, RefusedError
from reconciler.model import Config
from reconciler.plan.safety import check_mass_change, check_reviewed
from tests.conftest import BASE_YAML, config_from
from tests.fake import FakeCloud

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

FIVE = BASE_YAML + "".join(
    f"  - id: site{i}\n    iam_user: Site{i}\n" for i in range(1, 3)
)  # alice, bob, partner-site, site1, site2


def applied(config: Config) -> FakeCloud:
    cloud = FakeCloud()
    assert apply_plan(plan(config, cloud.read(config)), cloud).ok
    return cloud


def without(text: str, *ids: str) -> str:
    blocks = text.split("  - id: ")
    kept = [b for b in blocks[1:] if b.split("\n")[0] not in ids]
    return blocks[0] + "".join("  - id: " + b for b in kept)


def guard(config: Config, cloud: FakeCloud, fraction: float = 0.25) -> None:
    p = plan(config, cloud.read(config))
    check_mass_change(p, max_fraction=fraction, desired_count=len(config.collaborators))


def test_removing_one_collaborator_is_allowed() -> None:
    cloud = applied(config_from(FIVE))
    guard(config_from(without(FIVE, "bob")), cloud)


def test_removing_more_than_the_share_is_refused_naming_the_flag() -> None:
    cloud = applied(config_from(FIVE))
    with pytest.raises(RefusedError) as info:
        guard(config_from(without(FIVE, "bob", "site1")), cloud)
    assert "2 of 5" in str(info.value) and "--allow-mass-delete" in str(info.value)
    assert info.value.exit_code == 3
    guard(config_from(without(FIVE, "bob", "site1")), cloud, fraction=0.5)  # settable


def test_removing_every_collaborator_is_refused() -> None:
    cloud = applied(config_from(BASE_YAML))
    empty = config_from(BASE_YAML.split("collaborators:")[0] + "collaborators: []\n")
    with pytest.raises(RefusedError, match="removes every collaborator"):
        guard(empty, cloud, fraction=1.0)


def test_replacements_count_as_removals() -> None:
    config = config_from(FIVE)
    cloud = applied(config)
    for name in ("alice-access-point", "bob-access-point"):
        cloud.access_points[name]["network_origin"] = "VPC"  # fixed at creation: a replace
    with pytest.raises(RefusedError, match="alice, bob"):
        guard(config, cloud)


def test_creates_never_trip_the_guard(config: Config) -> None:
    guard(config, FakeCloud(), fraction=0.0)


def test_threshold_is_read_from_yaml() -> None:
    config = config_from(BASE_YAML + "safety:\n  max_delete_fraction: 0.5\n")
    assert config.safety.max_delete_fraction == 0.5


def test_checksum_mismatch_names_what_changed(config: Config) -> None:
    cloud = FakeCloud()
    reviewed = plan(config, cloud.read(config))
    check_reviewed(reviewed, checksum=reviewed.checksum(), reviewed_changes=None)
    cloud.users["Alice"] = {"path": "/", "tags": {}, "policies": {}}
    cloud.access_points["legacy"] = {"bucket": "other", "tags": {}, "policy": None}
    smaller = config_from(without(BASE_YAML, "bob"))
    fresh = plan(smaller, cloud.read(smaller))
    with pytest.raises(RefusedError) as info:
        check_reviewed(
            fresh,
            checksum=reviewed.checksum(),
            reviewed_changes=[c.to_json() for c in reviewed.changes],
        )
    message = str(info.value)
    assert "- no longer planned: create iam_user Bob" in message
    assert "--plan-file" in message and info.value.exit_code == 3


# --- lock ---------------------------------------------------------------------------------


class MemoryStore:
    """An S3 object with S3's conditional semantics: every write gives a new ETag; If-Match
    writes and deletes act only on the version named (412 otherwise, 404 when absent)."""

    location = "s3://locks/apply.lock"

    def __init__(self) -> None:
        self.body: str | None = None
        self.version = 0
        self.fail_deletes = 0

    @property
    def etag(self) -> str:
        return f'"v{self.version}"'

    def put(self, body: str) -> str:
        self.body, self.version = body, self.version + 1
        return self.etag

    def bucket_exists(self) -> bool:
        return True

    def create(self, body: str) -> str | None:
        return None if self.body is not None else self.put(body)

    def replace(self, body: str, etag: str) -> str | None:
        return self.put(body) if self.body is not None and etag == self.etag else None

    def read(self) -> Stored | None:
        return None if self.body is None else Stored(self.body, self.etag)

    def delete(self, etag: str) -> Release:
        if self.fail_deletes:
            self.fail_deletes -= 1
            raise AwsError("releasing the apply lock failed: SlowDown")
        if self.body is None:
            return Release.GONE
        if etag != self.etag:
            return Release.CHANGED
        self.body = None
        return Release.DELETED


def info(ttl: int = 3600, now: datetime = NOW) -> LockInfo:
    return new_lock_info("arn:aws:iam::123456789012:role/apply", ttl, now)


def test_lock_records_who_where_when_and_expiry() -> None:
    lock = info()
    assert lock.holder.endswith("role/apply") and lock.host and lock.pid > 0
    assert lock.expires_at == (NOW + timedelta(hours=1)).isoformat(timespec="seconds")
    assert LockInfo.from_json(lock.to_json()) == lock


def test_second_acquire_is_refused_naming_the_holder() -> None:
    store = MemoryStore()
    acquire(store, info())
    with pytest.raises(RefusedError) as err:
        acquire(store, info(), clock=lambda: NOW)
    assert "role/apply" in str(err.value) and "--lock-timeout" in str(err.value)
    assert err.value.exit_code == 3


def test_acquire_waits_up_to_the_timeout() -> None:
    store = MemoryStore()
    acquire(store, info())
    ticks = iter(range(100))
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:
            store.body = None  # the other apply finished

    acquire(
        store,
        info(),
        timeout=60,
        clock=lambda: NOW,  # the holder's lock is live (taken at NOW, for an hour)
        sleep=sleep,
        monotonic=lambda: float(next(ticks)),
    )
    assert sleeps == [1.0, 2.0, 4.0]


def other(ttl: int = 3600, now: datetime = NOW) -> LockInfo:
    """The lock of another apply (another role, host and pid)."""
    mine = new_lock_info("arn:aws:iam::123456789012:role/nightly", ttl, now)
    return replace(mine, host="runner-7", pid=4242, run="GitHub Actions org/share run 99")


LATER = NOW + timedelta(minutes=5)  # past a 60-second lock taken at NOW


def test_an_expired_lock_is_taken_over_and_its_holder_named() -> None:
    store = MemoryStore()
    killed = other(ttl=60)
    store.put(killed.to_json())  # left by an apply that was killed
    warnings: list[str] = []
    mine = info(now=LATER)
    with held(store, mine, warn=warnings.append, clock=lambda: LATER) as taken:
        assert store.body == mine.to_json() and taken.replaced == killed
        assert taken.etag == store.etag
    assert store.body is None  # released as usual
    (warning,) = warnings
    assert warning.startswith("took over the expired apply lock s3://locks/apply.lock")
    for part in ("role/nightly", "runner-7", "pid 4242", "run 99", killed.acquired_at):
        assert part in warning
    assert f"expired at {killed.expires_at}" in warning


def test_a_lock_that_has_not_expired_is_never_taken_over() -> None:
    store = MemoryStore()
    live = other(ttl=60)
    store.put(live.to_json())
    just_before = NOW + timedelta(seconds=59)
    with pytest.raises(LockHeldError) as err:
        acquire(store, info(), clock=lambda: just_before)
    assert "is held by" in str(err.value) and "--lock-timeout" in str(err.value)
    assert "`reconcile unlock --force` removes it" in str(err.value)
    assert store.body == live.to_json() and store.version == 1


@pytest.mark.parametrize(
    "body",
    [
        "{",
        "{}",
        "[]",
        '{"expires_at": "not a date"}',
        '{"expires_at": "2000-01-01T00:00:00"}',  # no timezone: not one this tool wrote
    ],
)
def test_an_unreadable_lock_is_never_taken_over(body: str) -> None:
    store = MemoryStore()
    store.put(body)
    far = NOW + timedelta(days=3650)
    with pytest.raises(LockHeldError, match=r"unreadable.*reconcile unlock --force"):
        acquire(store, info(), clock=lambda: far)
    assert store.body == body and store.version == 1


def test_of_two_appliers_racing_for_an_expired_lock_exactly_one_wins() -> None:
    """Both read the same expired version; the second writes first: the first's write names
    a version that no longer exists, is refused (412), and it meets a live lock."""

    class Racing(MemoryStore):
        def __init__(self) -> None:
            super().__init__()
            self.rival: LockInfo | None = None

        def replace(self, body: str, etag: str) -> str | None:
            rival, self.rival = self.rival, None
            if rival is not None:  # the rival read the same version and wins the write
                assert acquire(self, rival, clock=lambda: LATER).replaced is not None
            return super().replace(body, etag)

    store = Racing()
    store.put(other(ttl=60).to_json())
    winner = other(now=LATER)
    store.rival = winner
    with pytest.raises(LockHeldError) as err:
        acquire(store, info(now=LATER), clock=lambda: LATER)
    assert store.body == winner.to_json()  # the winner's lock stands
    assert "role/nightly on runner-7" in str(err.value) and "has expired" not in str(err.value)


def test_a_taker_waiting_with_lock_timeout_meets_the_winner_and_waits() -> None:
    store = MemoryStore()
    store.put(other(ttl=60).to_json())
    winner = other(now=LATER)
    acquire(store, winner, clock=lambda: LATER)  # took it over first
    ticks = iter(range(100))
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            store.body = None  # the winner finished

    mine = info(now=LATER)
    taken = acquire(
        store,
        mine,
        timeout=60,
        clock=lambda: LATER,
        sleep=sleep,
        monotonic=lambda: float(next(ticks)),
    )
    assert sleeps == [1.0, 2.0] and taken.replaced is None and store.body == mine.to_json()


def test_release_never_deletes_the_lock_of_an_apply_that_took_over() -> None:
    store = MemoryStore()
    warnings: list[str] = []
    successor = other(now=LATER)
    with held(store, info(ttl=60), warn=warnings.append, clock=lambda: NOW):
        # this apply overran its 60 seconds: the nightly run took the lock over
        assert acquire(store, successor, clock=lambda: LATER).replaced is not None
    assert store.body == successor.to_json()  # left in place
    (warning,) = warnings
    assert "left the apply lock s3://locks/apply.lock in place" in warning
    assert "role/nightly on runner-7" in warning and "lock.ttl_seconds" in warning


def test_a_lock_removed_by_hand_is_released_quietly() -> None:
    store = MemoryStore()
    warnings: list[str] = []
    with held(store, info(), warn=warnings.append):
        unlock(store, force=True)
    assert store.body is None and warnings == []


def test_a_takeover_whose_answer_was_lost_is_recognised_as_ours() -> None:
    class LostAnswer(MemoryStore):
        def replace(self, body: str, etag: str) -> str | None:
            super().replace(body, etag)  # S3 wrote it ...
            raise AwsError("taking over the expired apply lock failed: connection reset")

    store = LostAnswer()
    killed = other(ttl=60)
    store.put(killed.to_json())
    mine = info(now=LATER)
    taken = acquire(store, mine, clock=lambda: LATER)
    assert taken.replaced == killed and store.body == mine.to_json()
    assert taken.etag == store.etag


def test_a_takeover_whose_retry_met_its_own_write_is_recognised_as_ours() -> None:
    """The write reached S3, its answer was lost, and the SDK's retry met our own new ETag:
    412. The lock is ours, and the old holder is still named (review of issue 22)."""

    class RetriedOverOwnWrite(MemoryStore):
        def replace(self, body: str, etag: str) -> str | None:
            super().replace(body, etag)
            return None  # the retry's answer: PreconditionFailed

    store = RetriedOverOwnWrite()
    killed = other(ttl=60)
    store.put(killed.to_json())
    mine = info(now=LATER)
    taken = acquire(store, mine, clock=lambda: LATER)
    assert taken.replaced == killed and taken.etag == store.etag
    assert store.body == mine.to_json()


def test_renewing_before_the_first_write_gives_a_whole_ttl_and_is_released() -> None:
    store = MemoryStore()
    clock = iter([NOW, NOW + timedelta(seconds=50)])
    with held(store, info(ttl=60), clock=lambda: next(clock)) as lock:
        lock.renew()  # 50 s later, at the first write: a whole minute again
        assert LockInfo.from_json(store.body or "").expires_at == "2026-01-15T12:01:50+00:00"
        assert lock.etag == store.etag
    assert store.body is None  # the renewed lock is the one released


def test_a_renewal_that_fails_keeps_the_lock_with_its_old_expiry() -> None:
    class Failing(MemoryStore):
        def replace(self, body: str, etag: str) -> str | None:
            raise AwsError("taking over the expired apply lock failed: InternalError")

    store = Failing()
    mine = info(ttl=60)
    with held(store, mine, clock=lambda: NOW + timedelta(seconds=30)) as lock:
        lock.renew()  # nothing was written: still ours, until its old expiry
        assert store.body == mine.to_json() and lock.etag == store.etag
    assert store.body is None


def test_an_apply_whose_lock_was_taken_over_while_it_waited_writes_nothing() -> None:
    """Someone leaves `reconcile apply` at its confirmation prompt past lock.ttl_seconds; the
    nightly run takes the lock over. Answering yes must not apply a stale plan beside it."""
    store = MemoryStore()
    warnings: list[str] = []
    nightly = other(now=LATER)
    with (
        pytest.raises(LockLostError, match="is no longer this apply's") as lost,
        held(store, info(ttl=60), warn=warnings.append, clock=lambda: LATER) as lock,
    ):
        assert acquire(store, nightly, clock=lambda: LATER).replaced is not None
        lock.renew()
    assert "role/nightly on runner-7" in str(lost.value) and "Nothing was changed" in str(
        lost.value
    )
    assert lost.value.exit_code == 3
    assert store.body == nightly.to_json()  # the nightly run's lock stays


def test_unlock_removes_only_the_version_it_read() -> None:
    class TakenMeanwhile(MemoryStore):
        def delete(self, etag: str) -> Release:
            self.put(other(now=LATER).to_json())  # an apply took it over in between
            return super().delete(etag)

    store = TakenMeanwhile()
    store.put(other(ttl=60).to_json())
    with pytest.raises(RefusedError, match="changed while unlocking"):
        unlock(store, force=False, clock=lambda: LATER)
    assert store.body is not None


def test_unlock_breaks_only_expired_locks_unless_forced() -> None:
    store = MemoryStore()
    acquire(store, info(ttl=60))
    with pytest.raises(RefusedError, match="--force"):
        unlock(store, force=False, clock=lambda: NOW)
    assert store.body is not None
    assert "removed" in unlock(store, force=False, clock=lambda: NOW + timedelta(minutes=2))
    assert store.body is None
    acquire(store, info())
    unlock(store, force=True, clock=lambda: NOW)
    assert store.body is None
    assert "nothing to do" in unlock(store, force=False)


def test_lock_is_released_on_failure_and_ctrl_c() -> None:
    store = MemoryStore()
    for exc in (RuntimeError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(exc)), held(store, info()):
            raise exc
        assert store.body is None


def test_release_is_retried_then_warned() -> None:
    store = MemoryStore()
    store.fail_deletes = 2
    with held(store, info(), sleep=lambda s: None):
        pass
    assert store.body is None
    warnings: list[str] = []
    store.fail_deletes = 5
    with held(store, info(), sleep=lambda s: None, warn=warnings.append):
        pass
    assert store.body is not None and "reconcile unlock --force" in warnings[0]


def test_stop_flag_finishes_in_flight_and_skips_the_rest(config: Config) -> None:
    cloud = FakeCloud()
    p = plan(config, cloud.read(config))
    result = apply_plan(p, cloud, should_stop=lambda: len(cloud.calls) >= 3)
    assert result.interrupted and not result.ok
    assert len(result.applied) == 3 and len(result.skipped) == len(p.changes) - 3
    assert apply_plan(plan(config, cloud.read(config)), cloud).ok
    assert plan(config, cloud.read(config)).is_empty


def test_a_lock_whose_answer_was_lost_is_recognised_as_ours() -> None:
    class LostAnswer(MemoryStore):
        def create(self, body: str) -> str | None:
            super().create(body)  # S3 wrote it ...
            raise AwsError("taking the apply lock failed: connection reset")  # ... we never heard

    store = LostAnswer()
    acquire(store, info())
    assert store.body is not None
    # a retry that meets its own first write as "already exists" is ours too
    retried = MemoryStore()
    mine = info()
    retried.body = mine.to_json()
    acquire(retried, mine)
    # someone else's lock is still refused
    with pytest.raises(RefusedError):
        acquire(retried, info(now=NOW + timedelta(seconds=1)), clock=lambda: NOW)
