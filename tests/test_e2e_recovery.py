"""Issue 22, end to end against a moto server:

- crash recovery without overrides: an apply adding six collaborators to three is killed with
  SIGKILL after it created their users and access points and before it wrote their policies.
  Once the clock is past the lock's expiry (lock.ttl_seconds), the next plain
  `reconcile apply --auto-approve`, as the nightly job runs it, takes over the lock the killed
  apply left (no `reconcile unlock`, no flag), says so naming the killed apply, and is not
  refused by the mass-grant guard: collaborators that had no access before count as new. It
  converges; a following plan is empty;
- orphaned credentials: a collaborator removed in the same change that moves `iam_path` loses
  her user, access key and password (the user is tagged for this bucket, wherever it lives).
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BASE_YAML
from tests.e2e_support import (
    LOCK_BUCKET,
    MotoServer,
    moto_server,
    moto_server_session,
    reconcile_env,
    run_reconcile,
)
from tests.fault_proxy import FaultProxy
from tests.lock_support import LOCK_KEY, expire_lock, read_lock, start_apply

__all__ = ["moto_server", "moto_server_session"]
pytestmark = pytest.mark.e2e
ACCOUNT = "123456789012"
NEW = [f"site{i}" for i in range(1, 7)]
GROWN = BASE_YAML + "".join(
    f"  - id: {sid}\n    iam_user: {sid.capitalize()}\n    access: [write, read]\n" for sid in NEW
)


def reconcile(server: MotoServer, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    result = run_reconcile(*args, server=server)
    assert result.returncode == code, result.stdout + result.stderr
    return result


class PolicyGate:
    """Holds every access point policy write of the command under test: the apply gets as far
    as creating users and access points, then waits on its policy writes until it is killed.
    A held request is never forwarded."""

    def __init__(self, proxy: FaultProxy) -> None:
        self.held = 0
        self.lock = threading.Lock()
        self.release = threading.Event()
        original = proxy.forward

        def forward(method: str, path: str, headers: Any, body: bytes) -> Any:
            if (
                method == "PUT"
                and "/accesspoint/" in path
                and path.split("?")[0].endswith("/policy")
            ):
                with self.lock:
                    self.held += 1
                self.release.wait(timeout=300)
                return 500, [], b""
            return original(method, path, headers, body)

        proxy.forward = forward  # type: ignore[method-assign]


def wait_until_settled(gate: PolicyGate, server: MotoServer, timeout: float = 120) -> None:
    """Until the apply has created the new users and has been held on policy writes, with
    nothing more happening for a while."""
    iam = server.client("iam")
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        users = {u["UserName"] for u in iam.list_users()["Users"]}
        state = (gate.held, len(users))
        if state != last:
            last, since = state, time.monotonic()  # type: ignore[assignment]
        if gate.held and time.monotonic() - since > 3:
            return
        time.sleep(0.2)
    raise AssertionError(f"the apply did not reach its policy writes: {last}")


def test_an_apply_killed_midway_is_finished_by_a_plain_apply(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    config = tmp_path / "collaborators.yaml"
    config.write_text(BASE_YAML)
    c = str(config)
    reconcile(moto_server, "apply", "-c", c, "--auto-approve")
    config.write_text(GROWN)  # 6 new collaborators on 3

    proxy = FaultProxy(moto_server.url)
    gate = PolicyGate(proxy)
    try:
        killed = start_apply(proxy.url, config)
        wait_until_settled(gate, moto_server)
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
    finally:
        gate.release.set()
        proxy.stop()
    assert killed.returncode == -signal.SIGKILL

    # what the killed apply left: new users and access points, none of their policies
    iam, s3control = moto_server.client("iam"), moto_server.client("s3control")
    users = {u["UserName"] for u in iam.list_users()["Users"]}
    points = {p["Name"] for p in s3control.list_access_points(AccountId=ACCOUNT)["AccessPointList"]}
    created = [sid for sid in NEW if sid.capitalize() in users]
    assert len(created) >= 2, users
    for sid in created:
        if f"{sid}-access-point" in points:
            with pytest.raises(s3control.exceptions.ClientError):
                s3control.get_access_point_policy(AccountId=ACCOUNT, Name=f"{sid}-access-point")

    # the plan now widens collaborators that own resources: none of them had access before
    planned = reconcile(
        moto_server, "plan", "-c", c, "--format", "json", "--detailed-exitcode", code=2
    )
    widened = {ch["collaborator"] for ch in json.loads(planned.stdout)["access_changes"]}
    assert set(created) <= widened

    # the lock the killed apply left, exactly as it left it: until it expires, apply refuses
    lock = read_lock(moto_server)
    assert lock["pid"] == killed.pid
    held = run_reconcile("apply", "-c", c, "--auto-approve", server=moto_server)
    assert held.returncode == 3 and "is held by" in held.stderr, held.stderr
    assert read_lock(moto_server) == lock
    # the nightly run, once the lock's TTL has passed: no unlock, no flag. The lock is aged by
    # rewriting its recorded expiry rather than by waiting out the TTL on the real clock; the
    # expiry arithmetic against the clock is tested in tests/test_safety.py
    expire_lock(moto_server)
    applied = reconcile(moto_server, "apply", "-c", c, "--auto-approve")
    out = applied.stdout + applied.stderr
    assert "refusing" not in out
    assert "warning: took over the expired apply lock" in applied.stderr
    for part in (f"pid {killed.pid}", f"on {lock['host']}", lock["acquired_at"]):
        assert part in applied.stderr, applied.stderr
    with pytest.raises(moto_server.client("s3").exceptions.NoSuchKey):  # released
        moto_server.client("s3").get_object(Bucket=LOCK_BUCKET, Key=LOCK_KEY)
    reconcile(moto_server, "plan", "-c", c, "--detailed-exitcode")  # converged: exit 0
    reconcile(moto_server, "verify", "-c", c)


BOB = "  - id: bob\n    iam_user: Bob\n    prefix: Bob/\n    access: [write, read, list]\n"


def test_a_collaborator_removed_while_iam_path_moves_leaves_no_user_behind(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    config = tmp_path / "collaborators.yaml"
    config.write_text(BASE_YAML)
    c = str(config)
    reconcile(moto_server, "apply", "-c", c, "--auto-approve")
    iam = moto_server.client("iam")
    key = iam.create_access_key(UserName="Bob")["AccessKey"]["AccessKeyId"]
    iam.create_login_profile(UserName="Bob", Password="Not-a-real-password-1!")
    assert BOB in BASE_YAML
    config.write_text(BASE_YAML.replace(BOB, "").replace("/collaborators/", "/research/"))

    plan = reconcile(
        moto_server, "plan", "-c", c, "--format", "json", "--detailed-exitcode", code=2
    )
    deleted = {
        (ch["type"], ch["id"])
        for ch in json.loads(plan.stdout)["changes"]
        if ch["action"] == "delete"
    }
    assert ("iam_user", "Bob") in deleted
    assert "left alone" not in plan.stdout + plan.stderr

    record = tmp_path / "calls.jsonl"
    env = reconcile_env(moto_server, RECONCILE_TEST_RECORD_CALLS=str(record))
    applied = run_reconcile("apply", "-c", c, "--auto-approve", env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    calls = [json.loads(line) for line in record.read_text().splitlines()]
    done = {
        (x["operation"], x["params"].get("UserName"), x["params"].get("AccessKeyId"))
        for x in calls
        if not x["error"]
    }
    # moto deletes a user that still has credentials (AWS refuses): the calls prove the teardown
    assert ("DeleteAccessKey", "Bob", key) in done
    assert ("DeleteLoginProfile", "Bob", None) in done
    assert ("DeleteUser", "Bob", None) in done
    users = {u["UserName"]: u["Path"] for u in iam.list_users()["Users"]}
    assert users == {"Alice": "/research/"}
    reconcile(moto_server, "plan", "-c", c, "--detailed-exitcode")  # converged: exit 0
