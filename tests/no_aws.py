"""Run `reconcile` commands where AWS cannot be reached: a fresh interpreter in which importing
boto3, botocore or moto fails and every socket connect raises, with no credentials and an
unreachable endpoint. Any attempt to reach AWS shows up as an UNCAUGHT traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

NO_AWS_DRIVER = r"""
import contextlib, io, json, os, socket, sys, traceback
os.environ["RECONCILE_DEBUG"] = "1"  # the CLI's last-resort handler re-raises: stay UNCAUGHT
for sdk in ("boto3", "botocore", "moto"):
    sys.modules[sdk] = None  # importing it now raises ImportError

def no_network(*args, **kwargs):
    raise AssertionError("network use")

socket.socket.connect = no_network
socket.create_connection = no_network
socket.getaddrinfo = no_network

from reconciler.cli import main

results = []
for args in json.load(sys.stdin):
    out, err = io.StringIO(), io.StringIO()
    code = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(args)
        except SystemExit as exit:
            code = exit.code
        except BaseException:
            err.write("UNCAUGHT " + traceback.format_exc())
    results.append({"args": args, "code": code, "stdout": out.getvalue(), "stderr": err.getvalue()})
print(json.dumps(results))
"""


def offline_env() -> dict[str, str]:
    """No AWS credentials of any kind, and endpoints and proxies nothing listens on."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GITHUB_"))}
    env.update(
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
        AWS_CONFIG_FILE="/nonexistent/aws-config",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent/aws-credentials",
        AWS_EC2_METADATA_DISABLED="true",
        HTTPS_PROXY="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
    )
    return env


def run_without_aws(commands: list[list[str]], cwd: Path) -> list[dict[str, object]]:
    completed = subprocess.run(
        [sys.executable, "-c", NO_AWS_DRIVER],
        input=json.dumps(commands),
        cwd=cwd,
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    results: list[dict[str, object]] = json.loads(completed.stdout)
    return results
