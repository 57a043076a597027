"""Safe apply end to end against a moto server: faults at every call, concurrent applies,
SIGKILL and SIGTERM mid-apply, guard / checksum / lock refusals."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.access.review import reviewed_plan as plan
from reconciler.apply.executor import apply_plan
from reconciler.aws.reader import AwsReader
from reconciler.aws.session import Clients, Connection
from reconciler.aws.writer import AwsWriter
from tests.conftest import BASE_YAML, config_from
from tests.e2e_support import (
    LOCK_BUCKET,
    MotoServer,
    moto_server,
    moto_server_session,
    reconcile_env,
    run_reconcile,
)
from tests.fault_proxy import FAULTS, FaultProxy
from tests.lock_support import LOCK_KEY, expire_lock, start_apply

__all__ = ["moto_server", "moto_server_session"]
pytestmark = pytest.mark.e2e
ACCOUNT = "123456789012"
BUCKET = "clinical-share-123456789012"

# Before: alice, bob, carol, dave exist. After: bob removed, alice changed, erin + frank new.
# Dave opts in to the console (before and after): he has an inline policy
BEFORE = BASE_YAML.split("  - id: partner-site")[0] + "".join(
    f"  - id: {name}\n    iam_user: {name.capitalize()}\n" for name in ("carol", "dave")
).replace("iam_user: Dave\n", "iam_user: Dave\n    console: true\n")
AFTER = BASE_YAML.replace(
    "access: [write]\n  - id: bob", "access: [write, read]\n  - id: bob"
).replace(
    "  - id: bob\n    iam_user: Bob\n    prefix: Bob/\n    access: [write, read, list]\n", ""
) + "".join(
    f"  - id: {name}\n    iam_user: {name.capitalize()}\n"
    for name in ("carol", "dave", "erin", "frank")
).replace("iam_user: Dave\n", "iam_user: Dave\n    console: true\n")  # Dave has an inline policy
LEGACY_AP_ARN = f"arn:aws:s3:us-east-1:{ACCOUNT}:accesspoint/legacy-ap"
FOREIGN_STATEMENT = {
    "Sid": "AuditorLocation",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/Auditor"},
    "Action": "s3:GetBucketLocation",
    "Resource": f"arn:aws:s3:::{BUCKET}",
}


@pytest.fixture(scope="module")
def proxy(moto_server_session: MotoServer) -> Iterator[FaultProxy]:
    p = FaultProxy(moto_server_session.url)
    yield p
    p.stop()


def seed(server: MotoServer) -> None:
    """Converge BEFORE in-process, then add things this tool does not own."""
    config = config_from(BEFORE)
    clients = Clients(Connection(region="us-east-1", endpoint_url=server.url))
    result = apply_plan(plan(config, AwsReader(clients).read(config)), AwsWriter(clients, ACCOUNT))
    assert result.ok
    s3, s3control, iam = (server.client(s) for s in ("s3", "s3control", "iam"))
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    policy["Statement"].append(FOREIGN_STATEMENT)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))
    s3control.create_access_point(AccountId=ACCOUNT, Name="legacy-ap", Bucket=BUCKET)
    s3control.put_access_point_policy(
        AccountId=ACCOUNT,
        Name="legacy-ap",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "Legacy",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/Legacy"},
                        "Action": "s3:GetObject",
                        "Resource": f"{LEGACY_AP_ARN}/object/legacy/*",
                    }
                ],
            }
        ),
    )
    iam.create_user(UserName="Legacy", Path="/collaborators/")
    iam.put_user_policy(
        UserName="Legacy",
        PolicyName="own",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}
                ],
            }
        ),
    )


def foreign_state(server: MotoServer) -> dict[str, Any]:
    s3, s3control, iam = (server.client(s) for s in ("s3", "s3control", "iam"))
    statements = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    return {
        "statement": [s for s in statements if s.get("Sid") == "AuditorLocation"],
        "legacy_ap": s3control.get_access_point_policy(AccountId=ACCOUNT, Name="legacy-ap")[
            "Policy"
        ],
        "legacy_user": iam.get_user(UserName="Legacy")["User"]["Path"],
        "legacy_policies": iam.list_user_policies(UserName="Legacy")["PolicyNames"],
        "legacy_tags": iam.list_user_tags(UserName="Legacy")["Tags"],
    }


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "collaborators.yaml"
    path.write_text(text)
    return path


def apply_via(url: str, config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = reconcile_env(None, AWS_ENDPOINT_URL=url)
    return run_reconcile("apply", "-c", str(config), "--auto-approve", *extra, env=env)


def assert_converged(server: MotoServer, config: Path) -> None:
    result = run_reconcile("plan", "-c", str(config), "--detailed-exitcode", server=server)
    assert result.returncode == 0, result.stdout + result.stderr


# --- fault injection at every call index ----------------------------------------------------

SHARDS = 6


@pytest.fixture(scope="module")
def call_count(
    moto_server_session: MotoServer, proxy: FaultProxy, tmp_path_factory: pytest.TempPathFactory
) -> int:
    """How many requests a clean apply of AFTER makes (calibration run through the proxy)."""
    moto_server_session.reset()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        seed(moto_server_session)
    config = write_config(tmp_path_factory.mktemp("calibrate"), AFTER)
    proxy.reset()
    result = apply_via(proxy.url, config, "--max-attempts", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Plan: " in result.stdout and "to delete" in result.stdout
    return proxy.plan.count


@pytest.fixture(scope="module")
def renewal(call_count: int, proxy: FaultProxy) -> int:
    """The index of the lock's renewal before the first write: the second PutObject of the lock
    in the calibration run (the first takes it)."""
    puts = [
        i for i, label in enumerate(proxy.plan.labels) if label.startswith(f"PUT /{LOCK_BUCKET}/")
    ]
    assert len(puts) == 2, puts
    return puts[1]


@pytest.mark.parametrize("shard", range(SHARDS))
def test_a_fault_at_every_call_index_is_reported_and_a_rerun_converges(
    shard: int,
    moto_server: MotoServer,
    proxy: FaultProxy,
    call_count: int,
    renewal: int,
    tmp_path: Path,
) -> None:
    assert call_count > 40
    config = write_config(tmp_path, AFTER)
    for index in range(shard, call_count, SHARDS):
        moto_server.reset()
        seed(moto_server)
        before = foreign_state(moto_server)
        kind = FAULTS[index % len(FAULTS)]
        proxy.reset(fail_at=index, kind=kind)
        result = apply_via(proxy.url, config, "--max-attempts", "1")
        where = f"fault {kind} at call {index}: {proxy.plan.injected}"
        output = result.stdout + result.stderr
        assert "Traceback" not in output, where
        label = proxy.plan.injected[0][2]
        # releasing the lock is retried whatever the retry mode, a lock whose creation
        # reached S3 but whose answer was lost is recognised as our own, and a renewal that
        # failed leaves our lock with its old expiry: all are survived
        absorbed = (
            label.startswith(f"DELETE /{LOCK_BUCKET}/")
            or (kind == "reset" and label.startswith(f"PUT /{LOCK_BUCKET}/"))
            or index == renewal
        )
        if absorbed:
            assert result.returncode == 0, where + output
        else:
            assert result.returncode == 1, where + output
            assert "error:" in result.stderr or "failed:" in result.stderr, where + output
        rerun = apply_via(moto_server.url, config)
        assert rerun.returncode == 0, where + rerun.stdout + rerun.stderr
        # apply ends by planning again: "Converged" means that fresh plan was empty
        assert "Converged" in rerun.stdout or "No changes" in rerun.stdout, where
        assert foreign_state(moto_server) == before, where


def test_write_failures_are_reported_with_resource_code_and_request_id(
    moto_server: MotoServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    seed(moto_server)
    config = write_config(tmp_path, AFTER)
    proxy.reset(fail_match=("Action=CreateUser", "UserName=Erin"), kind="500")
    result = apply_via(proxy.url, config, "--max-attempts", "1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "CreateUser" in proxy.plan.injected[0][2]
    assert "failed: + iam_user Erin: InternalFailure: injected, request id fault-proxy" in (
        result.stderr
    )
    assert "applied: + iam_user Frank" in result.stdout  # other collaborators carried on
    assert "skipped: + access_point erin-access-point" in result.stdout
    assert apply_via(moto_server.url, config).returncode == 0
    assert_converged(moto_server, config)


def test_random_throttling_on_30_percent_of_calls_with_retries_succeeds(
    moto_server: MotoServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    seed(moto_server)
    config = write_config(tmp_path, AFTER)
    proxy.reset(throttle_share=0.3, seed=7)
    result = apply_via(proxy.url, config, "--max-attempts", "10", "--retry-mode", "standard")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Converged" in result.stdout
    assert len(proxy.plan.injected) > 10
    assert_converged(moto_server, config)


# --- concurrency, interrupts, locks -----------------------------------------------------------


def test_two_applies_at_the_same_moment_exactly_one_applies(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    seed(moto_server)
    config = write_config(tmp_path, AFTER)
    proxy = FaultProxy(moto_server.url)
    try:
        slow_proxy(proxy, 0.03)  # each apply holds the lock for seconds: they overlap
        procs = [start_apply(proxy.url, config) for _ in range(2)]
        results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
    finally:
        proxy.stop()
    appliers = [r for r in results if "applied:" in r[1]]
    assert len(appliers) == 1 and appliers[0][0] == 0, results
    (other,) = [r for r in results if r is not appliers[0]]
    if other[0] == 3:  # the usual case: it met the lock
        assert "the apply lock" in other[2] and "is held by" in other[2]
        assert "--lock-timeout" in other[2]
    else:  # the machine was so slow that it started after the first had finished
        assert other[0] == 0 and "No changes" in other[1], results
    assert_converged(moto_server, config)
    users = [u["UserName"] for u in moto_server.client("iam").list_users()["Users"]]
    assert sorted(users) == sorted(["Alice", "Carol", "Dave", "Erin", "Frank", "Legacy"])


def test_waiting_for_the_lock_with_lock_timeout(moto_server: MotoServer, tmp_path: Path) -> None:
    seed(moto_server)
    config = write_config(tmp_path, AFTER)
    s3 = moto_server.client("s3")
    s3.put_object(Bucket=LOCK_BUCKET, Key=LOCK_KEY, Body=b"{}")
    waiting = start_apply(moto_server.url, config, "--lock-timeout", "30")
    time.sleep(2)
    assert waiting.poll() is None  # still waiting
    s3.delete_object(Bucket=LOCK_BUCKET, Key=LOCK_KEY)
    assert waiting.wait(timeout=60) == 0
    assert_converged(moto_server, config)


def slow_proxy(proxy: FaultProxy, delay: float) -> None:
    original = proxy.forward

    def slow(*args: Any) -> Any:
        time.sleep(delay)
        return original(*args)

    proxy.forward = slow  # type: ignore[method-assign]


def test_sigkill_mid_apply_then_unlock_and_apply_converges(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    seed(moto_server)
    config = write_config(tmp_path, AFTER + "lock:\n  ttl_seconds: 60\n")
    proxy = FaultProxy(moto_server.url)
    try:
        slow_proxy(proxy, 0.05)
        proc = start_apply(proxy.url, config)
        while proxy.plan.count < 25 and proc.poll() is None:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proxy.stop()
    blocked = apply_via(moto_server.url, config)
    assert blocked.returncode == 3 and "is held by" in blocked.stderr
    assert "`reconcile unlock --force` removes it" in blocked.stderr  # a killed apply's lock
    refused = run_reconcile("unlock", "-c", str(config), server=moto_server)
    assert refused.returncode == 3 and "--force" in refused.stderr
    # past the lock's expiry, `reconcile unlock` breaks it without --force
    expire_lock(moto_server)
    unlocked = run_reconcile("unlock", "-c", str(config), server=moto_server)
    assert unlocked.returncode == 0, unlocked.stderr
    assert "removed the apply lock" in unlocked.stdout
    assert apply_via(moto_server.url, config).returncode == 0
    assert_converged(moto_server, config)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_or_sigint_finishes_the_call_releases_the_lock_and_reports(
    signum: int, moto_server: MotoServer, tmp_path: Path
) -> None:
    seed(moto_server)
    config = write_config(tmp_path, AFTER)
    proxy = FaultProxy(moto_server.url)
    try:
        slow_proxy(proxy, 0.05)
        proc = start_apply(proxy.url, config)
        while proxy.plan.count < 25 and proc.poll() is None:
            time.sleep(0.02)
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        proxy.stop()
    assert proc.returncode == 128 + signum, out + err
    assert "Interrupted:" in err and "Traceback" not in err + out
    # the changes not started are counted in that summary, not listed one line each
    assert "skipped:" not in out + err
    assert re.search(r"Interrupted: \d+ change\(s\) applied, [1-9]\d* not started", err), err
    with pytest.raises(moto_server.client("s3").exceptions.NoSuchKey):
        moto_server.client("s3").get_object(Bucket=LOCK_BUCKET, Key=LOCK_KEY)
    assert apply_via(moto_server.url, config).returncode == 0
    assert_converged(moto_server, config)


# --- refusals name the flag that overrides them ------------------------------------------------


def test_mass_delete_is_refused_with_exit_3_unless_allowed(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    seed(moto_server)
    config = write_config(tmp_path, BASE_YAML.split("  - id: bob")[0])  # only alice left
    refused = apply_via(moto_server.url, config)
    assert refused.returncode == 3
    assert "--allow-mass-delete" in refused.stderr
    assert "Carol" in [u["UserName"] for u in moto_server.client("iam").list_users()["Users"]]
    plan_refused = run_reconcile("plan", "-c", str(config), server=moto_server)
    assert plan_refused.returncode == 3 and "Plan: " in plan_refused.stdout
    allowed = apply_via(moto_server.url, config, "--allow-mass-delete")
    assert allowed.returncode == 0, allowed.stderr
    assert_converged(moto_server, config)


def test_reviewed_plan_file_applies_and_stale_one_is_refused(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    seed(moto_server)
    config = write_config(tmp_path, AFTER)
    plan_file = tmp_path / "plan.json"
    saved = run_reconcile("plan", "-c", str(config), "--out", str(plan_file), server=moto_server)
    assert saved.returncode == 0, saved.stderr
    checksum = json.loads(plan_file.read_text())["checksum"]
    # something changes between review and apply
    moto_server.client("iam").delete_user_policy(
        UserName="Dave", PolicyName="reconciler-access-point-access"
    )
    stale = apply_via(moto_server.url, config, "--plan-file", str(plan_file))
    assert stale.returncode == 3
    assert "changed since it was reviewed" in stale.stderr
    assert (
        "+ now also planned: create iam_user_policy Dave/reconciler-access-point-access"
        in stale.stderr
    )
    assert "--plan-file" in stale.stderr
    assert "Erin" not in [u["UserName"] for u in moto_server.client("iam").list_users()["Users"]]
    wrong = apply_via(moto_server.url, config, "--checksum", checksum)
    assert wrong.returncode == 3
    run_reconcile("plan", "-c", str(config), "--out", str(plan_file), server=moto_server)
    ok = apply_via(moto_server.url, config, "--plan-file", str(plan_file))
    assert ok.returncode == 0, ok.stderr
    assert_converged(moto_server, config)


def test_garbage_responses_never_cause_a_traceback(
    moto_server: MotoServer, proxy: FaultProxy, tmp_path: Path
) -> None:
    seed(moto_server)
    config = write_config(tmp_path, AFTER)
    proxy.reset()
    env = reconcile_env(None, AWS_ENDPOINT_URL=proxy.url)
    assert run_reconcile("plan", "-c", str(config), env=env).returncode == 0
    calls = proxy.plan.count
    for index in range(0, calls, 2):
        proxy.reset(fail_at=index, kind="garbage")
        result = run_reconcile("plan", "-c", str(config), "--max-attempts", "1", env=env)
        output = result.stdout + result.stderr
        assert "Traceback" not in output, (index, output)
        assert result.returncode in (0, 1), (index, output)
        if result.returncode == 1:
            assert result.stderr.startswith("error: "), (index, output)
