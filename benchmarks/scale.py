"""Scale benchmark: API calls, wall time and peak memory of `reconcile` at N collaborators,
against the floor (the fewest read calls the same state needs, made by a bare boto3 loop).

    .venv/bin/python benchmarks/scale.py                       # N = 1,000 and 5,000
    .venv/bin/python benchmarks/scale.py --sizes 1000,5000,10000 --json results.json

Everything runs against a moto server started here (benchmarks/counting_server.py), which
counts every request it serves. Each measured command runs in its own process, so its peak RSS
is its own; its time is measured inside the process around the command (interpreter start and
imports excluded, the same for the floor). For each N, in this order:

  apply (create N)     `reconcile apply --auto-approve` on an empty account: plan, apply,
                       fresh plan to check convergence
  plan (no-op)         `reconcile plan` with nothing to change   } alternated --repeat times,
  floor                bare boto3 reads of the same state        } medians reported; ours /
                                                                   floor is the median of the
                                                                   ratios of back-to-back runs
  plan (5% drift)      every 20th access point policy broadened by hand, then `reconcile plan`
                       (the drift is then put back, unmeasured)
  report               `reconcile report --format json` (the access review) with an access key
                       on every 20th IAM user: at most 6 calls per collaborator (its access
                       point policy, then GetUser, GetLoginProfile, ListAccessKeys and one
                       GetAccessKeyLastUsed per key for an IAM user)
  apply (delete 10%)   `reconcile apply --auto-approve` with the last 10% removed from the YAML
  validate             `reconcile validate` of the N-collaborator file (no AWS)

Collaborators: every 10th is an external principal, the others IAM users up to 4,500 (AWS
allows 5,000 users per account), then external principals too; access levels cycle through
[write], [read, list] and all four.

Not part of the test suite (tests/ is); figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET = f"bench-share-{ACCOUNT}"
MAX_USERS = 4500
ACCESS = ("[write]", "[read, list]", "[write, read, list, delete]")


# --- the desired state --------------------------------------------------------------------


def collaborators_yaml(n: int, keep: int | None = None) -> str:
    """n collaborators (the first `keep` of them when given)."""
    lines = [
        "version: 1",
        f'account_id: "{ACCOUNT}"',
        f"region: {REGION}",
        "bucket:",
        f"  name: {BUCKET}",
        "iam_path: /collaborators/",
        "collaborators:",
    ]
    users = 0
    for i in range(n if keep is None else keep):
        lines.append(f"  - id: site-{i:05d}")
        if i % 10 != 9 and users < MAX_USERS:
            users += 1
            lines.append(f"    iam_user: Researcher{i:05d}")
        else:
            lines.append(f"    principal: arn:aws:iam::210987654321:role/uploader-{i:05d}")
        lines.append(f"    access: {ACCESS[i % len(ACCESS)]}")
    return "\n".join(lines) + "\n"


def access_point_name(i: int) -> str:
    return f"site-{i:05d}-access-point"


# --- the server and the measured processes -------------------------------------------------


@dataclass
class Server:
    url: str

    def _request(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(f"{self.url}{path}", method=method)
        with urllib.request.urlopen(request) as response:
            body = response.read()
        return json.loads(body) if body.startswith(b"{") else None

    def reset_state(self) -> None:
        self._request("/moto-api/reset", "POST")
        # moto applies the bucket policy's Deny statements to every object write, so the apply
        # lock lives in a bucket of its own here (as in tests/e2e_support.py); AWS does not
        import boto3

        boto3.client(
            "s3",
            region_name=REGION,
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_bucket(Bucket=LOCK_BUCKET)

    def reset_calls(self) -> None:
        self._request("/_bench/reset", "POST")

    def calls(self) -> dict[str, Any]:
        result: dict[str, Any] = self._request("/_bench/calls")
        return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def counting_server() -> Iterator[Server]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "counting_server.py"), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None and "listening" in proc.stdout.readline()
        yield Server(f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


LOCK_BUCKET = "reconcile-bench-locks"


def aws_env(server: Server, workers: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE="/nonexistent/aws-config",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent/aws-credentials",
        AWS_ENDPOINT_URL=server.url,
        RECONCILE_WORKERS=str(workers),
        RECONCILE_LOCK_BUCKET=LOCK_BUCKET,
    )
    return env


@dataclass
class Measure:
    scenario: str
    n: int
    calls: int
    seconds: float
    rss_mb: float
    exit_code: int
    cpu_seconds: float = 0.0
    by_service: dict[str, int] = field(default_factory=dict)
    floor_seconds: float | None = None
    floor_ratio: float | None = None


def run_measured(
    server: Server, argv: list[str], env: dict[str, str]
) -> tuple[float, float, int, float]:
    """Run `python benchmarks/scale.py _worker ...`: seconds inside, peak RSS MB, exit code,
    CPU seconds of the whole process."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        timing = Path(handle.name)
    proc = subprocess.Popen(
        [sys.executable, __file__, "_worker", str(timing), *argv],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    try:
        seconds = float(json.loads(timing.read_text())["seconds"])
    except (OSError, ValueError, KeyError):
        raise SystemExit(f"measured run {argv} failed:\n{stderr}") from None
    finally:
        timing.unlink(missing_ok=True)
    return seconds, usage.ru_maxrss / 1024, proc.returncode, usage.ru_utime + usage.ru_stime


def measure(
    server: Server, scenario: str, n: int, argv: list[str], env: dict[str, str], ok: set[int]
) -> Measure:
    server.reset_calls()
    seconds, rss, code, cpu = run_measured(server, argv, env)
    if code not in ok:
        raise SystemExit(f"{scenario} at N={n}: exit code {code}, expected {sorted(ok)}")
    calls = server.calls()
    return Measure(scenario, n, calls["total"], seconds, rss, code, cpu, calls["by_service"])


# --- inside the measured process -----------------------------------------------------------


def worker(argv: list[str]) -> None:
    timing, mode, *rest = argv
    if mode == "cli":
        from reconciler.cli import main as cli_main

        start = time.perf_counter()
        code = 0
        try:
            cli_main(rest)
        except SystemExit as done:
            code = int(done.code or 0)
    else:
        start = time.perf_counter()
        floor_reads(int(rest[0]))
        code = 0
    Path(timing).write_text(json.dumps({"seconds": time.perf_counter() - start}))
    sys.exit(code)


def floor_reads(workers: int) -> None:
    """The fewest read calls that see the whole state, as plain boto3 with `workers` threads:
    the caller, six bucket reads, the users in bulk, the access point pages, and one policy per
    access point. Nothing is interpreted; this is what AWS (here moto) needs, not what we do."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    # the same URL fix the reconciler needs for S3 Control on a local endpoint (moto)
    from reconciler.aws.session import strip_account_host_prefix

    config = Config(max_pool_connections=workers, retries={"mode": "standard"})
    session = boto3.Session(region_name=REGION)
    s3 = session.client("s3", config=config)
    s3control = session.client("s3control", config=config)
    s3control.meta.events.register("before-sign.s3-control.*", strip_account_host_prefix)
    iam = session.client("iam", config=config)
    sts = session.client("sts", config=config)

    def tolerant(call: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return call(**kwargs)
        except ClientError:
            return None

    def users() -> None:
        pages = iam.get_paginator("get_account_authorization_details")
        for _ in pages.paginate(Filter=["User"], PaginationConfig={"PageSize": 1000}):
            pass

    def access_points(pool: ThreadPoolExecutor) -> list[Any]:
        futures = []
        kwargs: dict[str, Any] = {"AccountId": ACCOUNT, "MaxResults": 1000}
        while True:
            page = s3control.list_access_points(**kwargs)
            for ap in page.get("AccessPointList", []):
                futures.append(
                    pool.submit(
                        tolerant,
                        s3control.get_access_point_policy,
                        AccountId=ACCOUNT,
                        Name=ap["Name"],
                    )
                )
            if not page.get("NextToken"):
                return futures
            kwargs["NextToken"] = page["NextToken"]

    bucket_reads = (
        s3.head_bucket,
        s3.get_bucket_location,
        s3.get_bucket_encryption,
        s3.get_public_access_block,
        s3.get_bucket_ownership_controls,
        s3.get_bucket_policy,
    )
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(sts.get_caller_identity), pool.submit(users)]
        futures += [pool.submit(tolerant, read, Bucket=BUCKET) for read in bucket_reads]
        listing = pool.submit(access_points, pool)
        for future in [*futures, *listing.result()]:
            future.result()


# --- drift, made and undone by hand ----------------------------------------------------------


def bench_client(server: Server, service: str) -> Any:
    import boto3
    from botocore.config import Config

    from reconciler.aws.session import strip_account_host_prefix

    client = boto3.client(
        service,
        region_name=REGION,
        endpoint_url=server.url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(max_pool_connections=8),
    )
    if service == "s3control":
        client.meta.events.register("before-sign.s3-control.*", strip_account_host_prefix)
    return client


def s3control_client(server: Server) -> Any:
    return bench_client(server, "s3control")


def make_drift(server: Server, n: int) -> dict[str, str]:
    """Broaden every 20th access point policy to the whole bucket; returns the originals."""
    client = s3control_client(server)
    names = [access_point_name(i) for i in range(0, n, 20)]

    def broaden(name: str) -> tuple[str, str]:
        text = client.get_access_point_policy(AccountId=ACCOUNT, Name=name)["Policy"]
        doc = json.loads(text)
        for statement in doc["Statement"]:
            if "/object/" in str(statement["Resource"]):
                statement["Resource"] = statement["Resource"].split("/object/")[0] + "/object/*"
        client.put_access_point_policy(AccountId=ACCOUNT, Name=name, Policy=json.dumps(doc))
        return name, text

    with ThreadPoolExecutor(8) as pool:
        return dict(pool.map(broaden, names))


def make_keys(server: Server, n: int) -> int:
    """An access key for every 20th IAM user (the report reads when each was last used)."""
    iam = bench_client(server, "iam")
    users = [f"Researcher{i:05d}" for i in range(0, min(n, MAX_USERS), 20) if i % 10 != 9]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda user: iam.create_access_key(UserName=user), users))
    return len(users)


def undo_drift(server: Server, originals: dict[str, str]) -> None:
    client = s3control_client(server)
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda item: client.put_access_point_policy(
                    AccountId=ACCOUNT, Name=item[0], Policy=item[1]
                ),
                originals.items(),
            )
        )


# --- one size --------------------------------------------------------------------------------


def bench_size(server: Server, n: int, workers: int, repeat: int, log: Any) -> list[Measure]:
    env = aws_env(server, workers)
    work = Path(tempfile.mkdtemp(prefix=f"reconcile-bench-{n}-"))
    full, smaller = work / "full.yaml", work / "smaller.yaml"
    full.write_text(collaborators_yaml(n))
    smaller.write_text(collaborators_yaml(n, keep=n - n // 10))
    cli = ["cli"]
    results: list[Measure] = []

    def step(scenario: str, argv: list[str], ok: set[int]) -> Measure:
        log(f"  N={n}: {scenario} ...")
        result = measure(server, scenario, n, argv, env, ok)
        log(
            f"    {result.calls} calls, {result.seconds:.2f} s, {result.rss_mb:.0f} MB, "
            f"CPU {result.cpu_seconds:.2f} s"
        )
        return result

    server.reset_state()
    apply_args = ["apply", "-c", str(full), "--auto-approve"]
    results.append(step("apply (create N)", [*cli, *apply_args], {0}))
    plans, floors = [], []
    for _ in range(repeat):
        plan_args = [*cli, "plan", "-c", str(full), "--detailed-exitcode"]
        plans.append(step("plan (no-op)", plan_args, {0}))
        floors.append(step("floor", ["floor", str(workers)], {0}))
    noop = median_of(plans)
    noop.floor_seconds = statistics.median(f.seconds for f in floors)
    # each plan is compared with the floor run right after it, under the same machine load
    pairs = zip(plans, floors, strict=True)
    noop.floor_ratio = statistics.median(p.seconds / f.seconds for p, f in pairs)
    results += [noop, median_of(floors)]
    originals = make_drift(server, n)
    drift_args = [*cli, "plan", "-c", str(full), "--detailed-exitcode"]
    results.append(step("plan (5% drift)", drift_args, {2}))
    undo_drift(server, originals)
    make_keys(server, n)
    report_args = [*cli, "report", "-c", str(full), "--format", "json"]
    results.append(step("report", report_args, {0}))
    delete_args = [*cli, "apply", "-c", str(smaller), "--auto-approve"]
    results.append(step("apply (delete 10%)", delete_args, {0}))
    results.append(step("validate", [*cli, "validate", "-c", str(full)], {0}))
    return results


def median_of(runs: list[Measure]) -> Measure:
    ordered = sorted(runs, key=lambda m: m.seconds)
    middle = ordered[len(ordered) // 2]
    middle.rss_mb = max(m.rss_mb for m in runs)
    return middle


# --- report ----------------------------------------------------------------------------------


def table(results: list[Measure]) -> str:
    rows = [
        "| N | scenario | API calls | calls / collaborator | wall s | floor s | ours / floor "
        "| peak RSS MB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for m in results:
        floor = f"{m.floor_seconds:.2f}" if m.floor_seconds else ""
        ratio = f"{m.floor_ratio:.2f}" if m.floor_ratio else ""
        rows.append(
            f"| {m.n:,} | {m.scenario} | {m.calls:,} | {m.calls / m.n:.3f} | {m.seconds:.2f} "
            f"| {floor} | {ratio} | {m.rss_mb:.0f} |"
        )
    return "\n".join(rows)


def targets(results: list[Measure]) -> list[str]:
    found = {(m.n, m.scenario): m for m in results}
    lines = []

    def check(what: str, ok: bool) -> None:
        lines.append(f"{'PASS' if ok else 'FAIL'}  {what}")

    for n in sorted({m.n for m in results}):
        noop, create = found[(n, "plan (no-op)")], found[(n, "apply (create N)")]
        limit = n + 10 if n <= 1000 else 1.01 * n
        check(f"N={n:,}: no-op plan {noop.calls:,} calls <= {limit:,.0f}", noop.calls <= limit)
        ratio = noop.floor_ratio or 0.0
        check(f"N={n:,}: no-op plan {ratio:.2f}x the floor's time <= 1.25x", ratio <= 1.25)
        per = create.calls / n
        check(f"N={n:,}: apply creating N: {per:.2f} calls per collaborator <= 6", per <= 6)
        peak = max(m.rss_mb for m in results if m.n == n and m.scenario != "floor")
        check(f"N={n:,}: peak RSS {peak:.0f} MB < 300 MB", peak < 300)
        if (n, "report") in found:
            report = found[(n, "report")].calls
            check(
                f"N={n:,}: report {report / n:.2f} calls per collaborator <= 6",
                report <= 6 * n + 20,
            )
        validate = found[(n, "validate")]
        if n >= 10_000:
            check(f"N={n:,}: validate {validate.seconds:.2f} s < 3 s", validate.seconds < 3)
    if (1000, "plan (no-op)") in found and (5000, "plan (no-op)") in found:
        floor = found[(5000, "floor")].seconds / found[(1000, "floor")].seconds
        for scenario in (
            "plan (no-op)",
            "plan (5% drift)",
            "apply (create N)",
            "apply (delete 10%)",
        ):
            growth = found[(5000, scenario)].seconds / found[(1000, scenario)].seconds
            check(
                f"{scenario}: 1,000 -> 5,000 time grows {growth:.2f}x <= 5.5x "
                f"(the floor's grew {floor:.2f}x)",
                growth <= 5.5,
            )
    return lines


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        worker(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000", help="comma-separated N values")
    parser.add_argument("--workers", type=int, default=8, help="reconcile --workers")
    parser.add_argument("--repeat", type=int, default=3, help="no-op plan and floor runs")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",")]

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    results: list[Measure] = []
    started = time.monotonic()
    with counting_server() as server:
        for n in sizes:
            results += bench_size(server, n, args.workers, args.repeat, log)
    print(
        f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"workers {args.workers}, total {time.monotonic() - started:.0f} s\n"
    )
    print(table(results))
    print()
    print("\n".join(targets(results)))
    if args.json:
        args.json.write_text(json.dumps([asdict(m) for m in results], indent=2))


if __name__ == "__main__":
    main()
