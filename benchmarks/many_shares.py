"""Many shares: `reconcile validate` (cross-file checks included) and `reconcile matrix` over a
folder of share files, each timed as a whole command (process start-up included); prints figures.

    python benchmarks/many_shares.py [--files 50] [--collaborators 200] [--repeat 3]

Targets (issue 15): validate of 50 files x 200 collaborators under 3 s, matrix under 1 s, on
the project's 2-core machine. The files are realistic: one account for half of them (so the
cross-file checks compare thousands of access point and user names), half IAM users, half
partner principals, each file with its own access_point_prefix and iam_path.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def share(index: int, collaborators: int) -> str:
    account = "111111111111" if index % 2 else f"{222222220000 + index}"
    lines = [
        "version: 1",
        f'account_id: "{account}"',
        "region: eu-west-2",
        "bucket:",
        f"  name: study-{index:03d}-share",
        f"iam_permissions_boundary: arn:aws:iam::{account}:policy/collaborator-boundary",
        f"iam_path: /collaborators/study-{index:03d}/",
        f"access_point_prefix: s{index:03d}-",
        "collaborators:",
    ]
    for i in range(collaborators):
        who = (
            f"iam_user: S{index:03d}U{i}"
            if i % 2
            else "principal: arn:aws:iam::333333333333:role/Partner"
        )
        lines += [
            f"  - id: site-{i}",
            f"    {who}",
            f"    prefix: site-{i}/",
            "    access: [read, write, list]",
        ]
    return "\n".join(lines) + "\n"


def timed(
    args: list[str], cwd: Path, repeat: int
) -> tuple[list[float], list[float], subprocess.CompletedProcess[str]]:
    """Wall-clock seconds and CPU seconds (user + system of the child) of each run: on a busy
    machine the CPU time is what the command costs, the wall clock what it costs there."""
    times, cpu = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "reconciler", *args], cwd=cwd, capture_output=True, text=True
        )
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return times, cpu, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--collaborators", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "shares").mkdir()
        for index in range(opts.files):
            (root / "shares" / f"study-{index:03d}.yaml").write_text(
                share(index, opts.collaborators)
            )
        total = opts.files * opts.collaborators
        print(f"{opts.files} files x {opts.collaborators} collaborators = {total:,}")
        print(f"{'':>9}  wall: best / median   CPU: best / median   (of {opts.repeat})")
        for name, args, target in (
            ("validate", ["validate", "shares"], 3.0),
            ("matrix", ["matrix", "shares"], 1.0),
        ):
            times, cpu, done = timed(args, root, opts.repeat)
            ok = done.returncode == 0
            median = statistics.median(times)
            verdict = "PASS" if ok and median < target else "FAIL"
            print(
                f"{name:>9}  {min(times):5.2f} s / {median:5.2f} s   "
                f"{min(cpu):5.2f} s / {statistics.median(cpu):5.2f} s   "
                f"target < {target:.0f} s wall: {verdict} (exit {done.returncode})"
            )
            if not ok:
                print(done.stderr[-2000:])


if __name__ == "__main__":
    main()
