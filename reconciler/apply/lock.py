"""The apply lock: one S3 object created with a conditional write (If-None-Match: *), holding
who took it, where, when and until when. Pure logic over a small LockStore interface."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
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


class LockStore(Protocol):
    location: str

    def bucket_exists(self) -> bool: ...

    def create(self, body: str) -> bool:
        """Create the lock object only if absent; False when it already exists."""

    def read(self) -> str | None: ...

    def delete(self) -> None: ...


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


def _create(store: LockStore, body: str) -> bool:
    """Create the lock. When the answer is lost (a reset connection, or a retry that then
    meets its own first write as "already exists"), the object may be ours: it is ours exactly
    when it holds our body (holder, host, pid and timestamps)."""
    try:
        if store.create(body):
            return True
    except ReconcilerError:
        if _read_quietly(store) == body:
            return True
        raise
    return store.read() == body


def _read_quietly(store: LockStore) -> str | None:
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
) -> None:
    """Take the lock, waiting up to `timeout` seconds for a holder to release it."""
    deadline = monotonic() + timeout
    delay = 1.0
    body = info.to_json()
    while True:
        if _create(store, body):
            return
        remaining = deadline - monotonic()
        if remaining <= 0:
            raise LockHeldError(_held_message(store, clock))
        sleep(min(delay, remaining))
        delay = min(delay * 2, 10.0)


def _held_message(store: LockStore, clock: Clock) -> str:
    text = store.read()
    if text is None:
        holder = "another apply (the lock vanished while checking: try again)"
        return f"the apply lock {store.location} is held by {holder}"
    try:
        held = LockInfo.from_json(text)
    except (ValueError, TypeError):
        return (
            f"the apply lock {store.location} exists but is unreadable: if no apply is "
            f"running, remove it with `reconcile unlock --force`"
        )
    message = f"the apply lock {store.location} is held by {held.describe()}"
    if held.expired(clock()):
        return message + "; it has expired: if that apply is gone, run `reconcile unlock`"
    return message + (
        "; wait for it with --lock-timeout SECONDS, or try again later. If that apply was "
        "killed, the lock stays until it expires: once you are sure no apply is running, "
        "`reconcile unlock --force` removes it"
    )


def unlock(store: LockStore, *, force: bool, clock: Clock = utc_now) -> str:
    """Break a stale lock. Refuses a lock that has not expired unless force is given."""
    text = store.read()
    if text is None:
        return f"no lock at {store.location}: nothing to do"
    try:
        held: LockInfo | None = LockInfo.from_json(text)
    except (ValueError, TypeError):
        held = None
    if held is not None and not held.expired(clock()) and not force:
        raise RefusedError(
            f"the apply lock {store.location} is held by {held.describe()} and has not "
            f"expired: pass --force only if you are sure that apply is no longer running"
        )
    store.delete()
    who = held.describe() if held else "an unreadable lock"
    return f"removed the apply lock {store.location} ({who})"


@contextmanager
def held(
    store: LockStore,
    info: LockInfo,
    *,
    timeout: float = 0.0,
    warn: Callable[[str], None] = lambda message: None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[None]:
    """Hold the lock for the duration of the block; released on success, failure and Ctrl-C."""
    acquire(store, info, timeout=timeout)
    try:
        yield
    finally:
        try:
            _release(store, sleep)
        except ReconcilerError as err:
            warn(
                f"could not release the apply lock {store.location} ({err}): remove it with "
                "`reconcile unlock --force` once you are sure no apply is running"
            )


def _release(store: LockStore, sleep: Callable[[float], None], attempts: int = 3) -> None:
    """Releasing matters more than any single call: retry a few times whatever the retry mode."""
    for attempt in range(attempts):
        try:
            store.delete()
            return
        except ReconcilerError:
            if attempt == attempts - 1:
                raise
            sleep(0.5 * 2**attempt)
