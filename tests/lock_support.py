"""The apply lock as the end-to-end tests handle it: where it lives, what it says, ageing it,
and starting an apply that a test can interrupt or kill. Shared by tests/test_e2e_safety.py and
tests/test_e2e_recovery.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.e2e_support import LOCK_BUCKET, ROOT, MotoServer, reconcile_env

LOCK_KEY = ".reconciler/apply.lock"  # the default lock.key


def read_lock(server: MotoServer) -> dict[str, Any]:
    body = server.client("s3").get_object(Bucket=LOCK_BUCKET, Key=LOCK_KEY)["Body"].read()
    return dict(json.loads(body))


def expire_lock(server: MotoServer) -> None:
    """Rewrite the lock left behind as if it had expired long ago."""
    body = read_lock(server)
    body["expires_at"] = "2000-01-01T00:00:00+00:00"
    server.client("s3").put_object(Bucket=LOCK_BUCKET, Key=LOCK_KEY, Body=json.dumps(body).encode())


def start_apply(url: str, config: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", "-c", str(config), "--auto-approve", *extra],
        cwd=ROOT,
        env=reconcile_env(None, AWS_ENDPOINT_URL=url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
