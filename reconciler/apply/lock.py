"""The apply lock: one S3 object created with a conditional write (If-None-Match: *), holding
who took it, where, when and until when. A lock past its recorded expiry (left by a killed
apply) is taken over with a write conditional on the ETag read (If-Match), and released with a
delete conditional on the ETag this apply wrote, so an apply never removes a successor's lock.
Pure logic over a small LockStore interface."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from reconciler.errors import ReconcilerError, RefusedError

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class LockInfo:
    holder: str
    host: str
    pid: int
    run: str | None
    acquired_at: str
    expires_at: str
    token: str | None = None  # random: tells this apply's lock from any other, even on one host

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> LockInfo:
        data = json.loads(text)
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})

    def expired(self, now: datetime) -> bool:
        return now >= datetime.fromisoformat(self.expires_at)

    def describe(self) -> str:
        run = f", run {self.run}" if self.run else ""
        return (
            f"{self.holder} on {self.host} (pid {self.pid}{run}) since {self.acquired_at}, "
            f"expires {self.expires_at}"
        )


@dataclass(frozen=True)
class Stored:
    """The lock object as read: its text, and the ETag S3 gave that version of it (conditional
    writes and deletes name it, so they act only on exactly the version that was read). An ETag
    names content, not a write (with SSE-S3 it is the MD5 of the body): two locks never share
    one because each body carries a random token."""

    body: str
    etag: str


class Release(StrEnum):
    DELETED = "deleted"
    GONE = "gone"  # nothing there any more (already released, or broken by hand)
    CHANGED = "changed"  # another apply's lock now: left in place


@dataclass(frozen=True)
class Taken:
    """The lock as this apply holds it: the ETag it wrote, and the expired lock it replaced."""

    etag: str
    replaced: LockInfo | None = None


class LockStore(Protocol):
    location: str

    def bucket_exists(self) -> bool: ...

    def create(self, body: str) -> str | None:
        """Create the lock object only if absent (If-None-Match: *): the new object's ETag, or
        None when one already exists."""

    def replace(self, body: str, etag: str) -> str | None:
        """Overwrite the lock object only while its ETag is still `etag` (If-Match): the new
        ETag, or None when it changed, vanished or a concurrent conditional write won."""

    def read(self) -> Stored | None: ...

    def delete(self, etag: str) -> Release:
        """Delete the lock object only while its ETag is still `etag` (If-Match)."""


def new_lock_info(holder: str, ttl_seconds: int, now: datetime) -> LockInfo:
    run = None
    if os.environ.get("GITHUB_RUN_ID"):
        repo = os.environ.get("GITHUB_REPOSITORY", "")
        run = f"GitHub Actions {repo} run {os.environ['GITHUB_RUN_ID']}".strip()
    return LockInfo(
        holder=holder,
        host=socket.gethostname(),
        pid=os.getpid(),
        run=run,
        acquired_at=now.isoformat(timespec="seconds"),
        expires_at=(now + timedelta(seconds=ttl_seconds)).isoformat(timespec="seconds"),
        token=uuid.uuid4().hex,
    )


class LockHeldError(RefusedError):
    pass


def parse_lock(text: str) -> LockInfo | None:
    """The record in a lock object, or None when it is not one this tool could have written
    (no readable, timezone-aware expiry): such a lock is never taken over."""
    try:
        info = LockInfo.from_json(text)
        expires = datetime.fromisoformat(info.expires_at)
    except (ValueError, TypeError, AttributeError):
        return None
    return info if expires.tzinfo is not None else None


def _mine(stored: Stored | None, body: str, replaced: LockInfo | None = None) -> Taken | None:
    """When an answer is lost (a reset connection, or a retry that then meets its own first
    write), the object may be ours: it is ours exactly when it holds our body (holder, host,
    pid, timestamps and a random token)."""
    if stored is not None and stored.body == body:
        return Taken(stored.etag, replaced)
    return None


def _create(store: LockStore, body: str) -> Taken | None:
    try:
        etag = store.create(body)
    except ReconcilerError:
        if mine := _mine(_read_quietly(store), body):
            return mine
        raise
    return None if etag is None else Taken(etag)


def _take_over(store: LockStore, stored: Stored, body: str, now: datetime) -> Taken | None:
    """Replace a lock that has expired by its own recorded expiry, with a write conditional on
    the ETag just read: of two appliers racing for it, exactly one wins (the other's write is
    refused, 412 PreconditionFailed or 409 ConditionalRequestConflict, and it waits or is
    refused as for any held lock). An unreadable lock or one not yet expired is never taken."""
    old = parse_lock(stored.body)
    if old is None or not old.expired(now):
        return None
    try:
        etag = store.replace(body, stored.etag)
    except ReconcilerError:
        if mine := _mine(_read_quietly(store), body, old):
            return mine
        raise
    if etag is None:  # another taker won, or a retry of our write met our own new ETag
        return _mine(_read_quietly(store), body, old)
    return Taken(etag, old)


def _try_once(store: LockStore, body: str, now: datetime) -> Taken | None:
    created = _create(store, body)
    if created is not None:
        return created
    stored = store.read()
    if stored is None:
        return None  # released meanwhile: the next try creates it
    return _mine(stored, body) or _take_over(store, stored, body, now)


def _read_quietly(store: LockStore) -> Stored | None:
    try:
        return store.read()
    except ReconcilerError:
        return None


def acquire(
    store: LockStore,
    info: LockInfo,
    *,
    timeout: float = 0.0,
    clock: Clock = utc_now,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> Taken:
    """Take the lock, taking over an expired one, waiting up to `timeout` seconds for a live
    holder to release it."""
    deadline = monotonic() + timeout
    delay = 1.0
    body = info.to_json()
    while True:
        taken = _try_once(store, body, clock())
        if taken is not None:
            return taken
        remaining = deadline - monotonic()
        if remaining <= 0:
            raise LockHeldError(_held_message(store, clock))
        sleep(min(delay, remaining))
        delay = min(delay * 2, 10.0)


def _held_message(store: LockStore, clock: Clock) -> str:
    stored = store.read()
    if stored is None:
        holder = "another apply (the lock vanished while checking: try again)"
        return f"the apply lock {store.location} is held by {holder}"
    held = parse_lock(stored.body)
    if held is None:
        return (
            f"the apply lock {store.location} exists but is unreadable: if no apply is "
            f"running, remove it with `reconcile unlock --force`"
        )
    message = f"the apply lock {store.location} is held by {held.describe()}"
    if held.expired(clock()):
        return message + "; it has expired: the next apply takes it over (try again)"
    return message + (
        "; wait for it with --lock-timeout SECONDS, or try again later. If that apply was "
        "killed, the lock stays until it expires (then the next apply takes it over): once "
        "you are sure no apply is running, `reconcile unlock --force` removes it"
    )


def takeover_message(location: str, old: LockInfo) -> str:
    run = f", {old.run}" if old.run else ""
    return (
        f"took over the expired apply lock {location}: it was held by {old.holder} on "
        f"{old.host} (pid {old.pid}{run}) since {old.acquired_at} and expired at "
        f"{old.expires_at}. That apply was killed, or is still running past lock.ttl_seconds "
        "(if so, raise lock.ttl_seconds above the longest apply)"
    )


def unlock(store: LockStore, *, force: bool, clock: Clock = utc_now) -> str:
    """Break a stale lock. Refuses a lock that has not expired unless force is given. The
    delete names the version read, so a lock another apply took meanwhile is left alone."""
    stored = store.read()
    if stored is None:
        return f"no lock at {store.location}: nothing to do"
    held = parse_lock(stored.body)
    if held is not None and not held.expired(clock()) and not force:
        raise RefusedError(
            f"the apply lock {store.location} is held by {held.describe()} and has not "
            f"expired: pass --force only if you are sure that apply is no longer running"
        )
    outcome = store.delete(stored.etag)
    if outcome is Release.CHANGED:
        raise RefusedError(
            f"the apply lock {store.location} changed while unlocking (another apply took it): "
            "nothing removed; run `reconcile unlock` again to see who holds it"
        )
    if outcome is Release.GONE:
        return f"the apply lock {store.location} was removed meanwhile: nothing to do"
    who = held.describe() if held else "an unreadable lock"
    return f"removed the apply lock {store.location} ({who})"


class LockLostError(RefusedError):
    pass


class Holding:
    """The lock this apply holds. Its ETag changes when it is renewed."""

    def __init__(self, store: LockStore, info: LockInfo, taken: Taken, clock: Clock) -> None:
        self.store, self.info, self.clock = store, info, clock
        self.etag, self.replaced = taken.etag, taken.replaced

    def renew(self) -> None:
        """Give the lock a whole TTL from now, right before the first write, with a write
        conditional on the ETag this apply holds. Once a lock has expired the next apply may
        take it over, so an apply that waited past its expiry (at the confirmation prompt, or
        planning a very large share) must find out before it writes anything: then nothing
        is written, and it says who holds the lock now."""
        ttl = datetime.fromisoformat(self.info.expires_at) - datetime.fromisoformat(
            self.info.acquired_at
        )
        renewed = replace(self.info, expires_at=(self.clock() + ttl).isoformat(timespec="seconds"))
        body = renewed.to_json()
        try:
            etag = self.store.replace(body, self.etag)
        except ReconcilerError:
            stored = _read_quietly(self.store)
            if stored is not None and stored.etag == self.etag:
                return  # the write failed, the lock is still ours: it keeps its old expiry
            if (mine := _mine(stored, body)) is None:
                raise
            etag = mine.etag
        if etag is None and (mine := _mine(_read_quietly(self.store), body)) is not None:
            etag = mine.etag  # a retry of our write met our own new ETag
        if etag is None:
            stored = _read_quietly(self.store)
            now = parse_lock(stored.body) if stored else None
            who = f"{now.describe()} holds it now" if now else "it was removed"
            raise LockLostError(
                f"the apply lock {self.store.location} is no longer this apply's: it expired "
                f"at {self.info.expires_at} while this apply waited, and {who}. Nothing was "
                "changed: run the apply again (and raise lock.ttl_seconds if planning takes "
                "that long)"
            )
        self.info, self.etag = renewed, etag


@contextmanager
def held(
    store: LockStore,
    info: LockInfo,
    *,
    timeout: float = 0.0,
    warn: Callable[[str], None] = lambda message: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Clock = utc_now,
) -> Iterator[Holding]:
    """Hold the lock for the duration of the block; released on success, failure and Ctrl-C.
    Taking over an expired lock is announced through `warn`, naming the old holder."""
    taken = acquire(store, info, timeout=timeout, clock=clock)
    if taken.replaced is not None:
        warn(takeover_message(store.location, taken.replaced))
    holding = Holding(store, info, taken, clock)
    try:
        yield holding
    finally:
        _release_or_warn(store, holding.etag, warn, sleep)


def _release_or_warn(
    store: LockStore, etag: str, warn: Callable[[str], None], sleep: Callable[[float], None]
) -> None:
    try:
        outcome = _release(store, etag, sleep)
    except ReconcilerError as err:
        warn(
            f"could not release the apply lock {store.location} ({err}): remove it with "
            "`reconcile unlock --force` once you are sure no apply is running"
        )
        return
    if outcome is Release.CHANGED:
        warn(_superseded_message(store))


def _superseded_message(store: LockStore) -> str:
    stored = _read_quietly(store)
    now = parse_lock(stored.body) if stored else None
    who = now.describe() if now else "another apply"
    return (
        f"left the apply lock {store.location} in place: it is no longer this apply's. This "
        f"apply ran past its lock's expiry and {who} took the lock over, so the two may have "
        "run at the same time: raise lock.ttl_seconds above the longest apply"
    )


def _release(
    store: LockStore, etag: str, sleep: Callable[[float], None], attempts: int = 3
) -> Release:
    """Releasing matters more than any single call: retry a few times whatever the retry mode.
    The delete is conditional on the ETag this apply wrote (If-Match), so it never removes the
    lock of an apply that took over after ours expired; a retry after a delete whose answer was
    lost finds nothing there (GONE)."""
    for attempt in range(attempts - 1):
        try:
            return store.delete(etag)
        except ReconcilerError:
            sleep(0.5 * 2**attempt)
    return store.delete(etag)
