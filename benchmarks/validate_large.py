"""How long validation takes for large collaborators.yaml files; prints figures.

    python benchmarks/validate_large.py [COUNT ...]     (default: 100 1000 10000 10001)

Half the collaborators are managed IAM users, half external principals; 10,001 shows the
access point quota being reported.
"""

from __future__ import annotations

import resource
import sys
import time

from reconciler.config.loader import load_config_text
from reconciler.errors import ConfigError

HEAD = """\
version: 1
account_id: "123456789012"
region: us-east-1
bucket:
  name: clinical-share-123456789012
collaborators:
"""


def make(count: int) -> bytes:
    entries = []
    for i in range(count):
        who = f"iam_user: U{i}" if i % 2 else f"principal: arn:aws:iam::111122223333:role/R{i}"
        entries.append(f"  - id: c{i}\n    {who}\n    prefix: site{i}/\n    access: [read, list]\n")
    return (HEAD + "".join(entries)).encode()


def main(counts: list[int]) -> None:
    print(f"{'collaborators':>13} {'bytes':>10} {'seconds':>8}  result")
    for count in counts:
        raw = make(count)
        start = time.perf_counter()
        try:
            config = load_config_text(raw, "big.yaml")
            result = f"valid ({len(config.collaborators):,} collaborators)"
        except ConfigError as err:
            result = f"{len(err.problems)} problem(s): {err.problems[0].message[:60]}"
        elapsed = time.perf_counter() - start
        print(f"{count:>13,} {len(raw):>10,} {elapsed:>8.2f}  {result}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MiB")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000, 10000, 10001])
