"""Benchmark: `verify` over N collaborators (default 1,000), offline. Not part of the test suite.

    .venv/bin/python benchmarks/verify_bench.py [--collaborators 1000]

Builds the state collaborators.yaml would produce for N collaborators (two in three managed IAM
users, one in three external principals), then times the same work `reconcile verify` does on a
read state: compiling every policy and evaluating every check. Also times a plan's access review
(access changes + security gate) for the same configuration, and verify on a state where one
access point policy was broadened out of band. Target: verify under 10 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reconciler.access.checks import verify
from reconciler.access.desired import desired_state
from reconciler.access.review import reviewed_plan as plan
from reconciler.config.loader import load_config_text
from reconciler.model import Config


def build_config(count: int) -> Config:
    collaborators = []
    for index in range(count):
        entry: dict[str, object] = {
            "id": f"c{index:04d}",
            "prefix": f"site-{index:04d}/",
            "access": [["write"], ["write", "read", "list"], ["read", "list", "delete"]][index % 3],
        }
        if index % 3 == 2:
            entry["principal"] = f"arn:aws:iam::1111222{index % 10:05d}:role/Uploader{index}"
        else:
            entry["iam_user"] = f"User{index:04d}"
        collaborators.append(entry)
    doc = {
        "version": 1,
        "account_id": "123456789012",
        "region": "us-east-1",
        "bucket": {"name": "clinical-share-123456789012"},
        "collaborators": collaborators,
    }
    return load_config_text(yaml.safe_dump(doc).encode(), "bench.yaml")


def timed(label: str, func):  # type: ignore[no-untyped-def]
    """Wall-clock and CPU seconds: on a shared machine the CPU figure is the stable one."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<48} {wall:7.2f} s wall {cpu:7.2f} s CPU")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--collaborators", type=int, default=1000)
    args = parser.parse_args()
    config = timed("load config", lambda: build_config(args.collaborators))
    state = timed("build the desired state", lambda: desired_state(config))
    report = timed(f"verify {args.collaborators} collaborators", lambda: verify(config, state))
    print(
        f"  -> ok={report.ok} violations={report.violations} unknowns={report.unknowns} "
        f"requests evaluated={report.evaluations}"
    )
    point = config.collaborators[0].access_point
    policy = dict(state.access_points[point].policy or {})
    statement = dict(policy["Statement"][0])
    statement["Resource"] = config.access_point_arn(point) + "/object/*"
    policy["Statement"] = [statement, *policy["Statement"][1:]]
    broken = replace(
        state,
        access_points={
            **state.access_points,
            point: replace(state.access_points[point], policy=policy),
        },
    )
    bad = timed("verify with one broadened access point policy", lambda: verify(config, broken))
    print(f"  -> ok={bad.ok} violations={bad.violations} requests evaluated={bad.evaluations}")
    repair = timed("plan repairing it (access changes + gate)", lambda: plan(config, broken))
    print(f"  -> {len(repair.changes)} change(s), {len(repair.access_changes)} access change(s)")


if __name__ == "__main__":
    main()
