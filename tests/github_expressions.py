"""GitHub Actions expressions evaluated by GitHub's own evaluator (`@actions/expressions`, from
actions/languageservices, in tests/oracle), and the `github` context each event gives a run.

The event payloads are the shapes GitHub sends, cut to what a workflow reads; what matters is
what is ABSENT: a `schedule` event's payload carries no `repository` (github/codeql-action#1211:
"When running on a schedule, the event payload does not contain any repository information
such as the default branch name"; letsencrypt/boulder#6209; docker/metadata-action#184), and a
schedule always runs on the latest commit of the default branch
(https://docs.github.com/actions/using-workflows/events-that-trigger-workflows#schedule).
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ORACLE = Path(__file__).resolve().parent / "oracle"
NODE = shutil.which("node")

REPOSITORY = "org/share"
DEFAULT_BRANCH = "main"
_REPOSITORY_PAYLOAD = {
    "full_name": REPOSITORY,
    "name": "share",
    "default_branch": DEFAULT_BRANCH,
    "fork": False,
    "owner": {"login": "org"},
}
_SENDER = {"login": "octocat", "type": "User"}


def github_context(event_name: str, *, branch: str = DEFAULT_BRANCH) -> dict[str, Any]:
    """The `github` context of a run started by `event_name` on `branch`."""
    ref = f"refs/heads/{branch}"
    payloads: dict[str, dict[str, Any]] = {
        # the whole payload of a scheduled run: the cron line and the workflow file
        "schedule": {"schedule": "17 3 * * *", "workflow": ".github/workflows/apply.yml"},
        "push": {
            "ref": ref,
            "before": "b" * 40,
            "after": "a" * 40,
            "repository": _REPOSITORY_PAYLOAD,
            "pusher": {"name": "octocat"},
            "sender": _SENDER,
            "commits": [],
        },
        "workflow_dispatch": {
            "inputs": {},
            "ref": ref,
            "repository": _REPOSITORY_PAYLOAD,
            "sender": _SENDER,
            "workflow": ".github/workflows/apply.yml",
        },
        "pull_request": {
            "action": "synchronize",
            "number": 7,
            "pull_request": {
                "number": 7,
                "head": {"ref": branch, "sha": "a" * 40, "repo": {"full_name": REPOSITORY}},
                "base": {"ref": DEFAULT_BRANCH, "sha": "b" * 40, "repo": _REPOSITORY_PAYLOAD},
            },
            "repository": _REPOSITORY_PAYLOAD,
            "sender": _SENDER,
        },
    }
    pull = event_name == "pull_request"
    return {
        "event_name": event_name,
        "event": payloads[event_name],
        "ref": "refs/pull/7/merge" if pull else ref,
        "ref_name": "7/merge" if pull else branch,
        "head_ref": branch if pull else "",
        "base_ref": DEFAULT_BRANCH if pull else "",
        "repository": REPOSITORY,
        "repository_owner": "org",
        "sha": "a" * 40,
        "run_id": "42",
        "actor": "octocat",
    }


def _installed() -> None:
    """tests/oracle's packages (.ci/run installs them; a local run installs them here once)."""
    with (ORACLE / "node_modules.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (ORACLE / "node_modules" / "@actions" / "expressions").is_dir():
            npm = shutil.which("npm")
            assert npm is not None, "npm is needed to install tests/oracle (npm ci)"
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"], cwd=ORACLE, capture_output=True, text=True
            )
            assert done.returncode == 0, f"npm ci in tests/oracle failed:\n{done.stderr}"


def evaluate(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each request: {"expr", "contexts", "status"?}; each answer: {"value", "truthy"} or
    {"error"}. One node process for all of them."""
    if NODE is None:
        pytest.skip("node is not installed: GitHub's expression evaluator runs under Node.js")
    _installed()
    done = subprocess.run(
        [NODE, str(ORACLE / "expressions.mjs")],
        input=json.dumps(requests),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    answers: list[dict[str, Any]] = json.loads(done.stdout)
    return answers
