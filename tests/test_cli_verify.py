"""The `reconcile verify` command offline (--desired) and in the sandbox: formats, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import BASE_YAML
from tests.e2e_support import run_reconcile

SEED_COLUMNS = ["1.console", "2.direct", "3.own-ap", "4.other-prefix", "5.other-ap"]


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "collaborators.yaml"
    path.write_text(text)
    return str(path)


def test_desired_text_matrix_shows_the_seed_checks(tmp_path: Path) -> None:
    result = run_reconcile("verify", "--desired", "-c", write(tmp_path, BASE_YAML), env={})
    assert result.returncode == 0, result.stdout + result.stderr
    header = next(line for line in result.stdout.splitlines() if line.startswith("collaborator"))
    assert header.split()[1:6] == SEED_COLUMNS
    assert "All checks hold: 3 collaborator(s) x 9 checks" in result.stdout
    assert "offline" in result.stdout.splitlines()[0]


def test_desired_json_and_markdown(tmp_path: Path) -> None:
    config = write(tmp_path, BASE_YAML)
    doc = json.loads(
        run_reconcile("verify", "--desired", "-c", config, "--format", "json", env={}).stdout
    )
    assert doc["ok"] is True and doc["source"] == "desired"
    assert [c["name"] for c in doc["checks"] if c["seed"]] == [
        c.split(".")[1] for c in SEED_COLUMNS
    ]
    assert {c["id"]: c["checks"]["own-ap"] for c in doc["collaborators"]} == {
        "alice": "ok",
        "bob": "ok",
        "partner-site": "ok",
    }
    markdown = run_reconcile("verify", "--desired", "-c", config, "--format", "markdown", env={})
    assert markdown.returncode == 0
    assert "| collaborator | 1.console | 2.direct | 3.own-ap | 4.other-prefix | 5.other-ap |" in (
        markdown.stdout
    )
    assert "| alice | ok | ok | ok | ok | ok | ok | ok | ok | ok |" in markdown.stdout


def test_overlapping_folders_are_stopped_by_validation_before_verify(tmp_path: Path) -> None:
    config = write(tmp_path, BASE_YAML.replace("prefix: Bob/", "prefix: Alice/Bob/"))
    result = run_reconcile("verify", "--desired", "-c", config, env={})
    assert result.returncode == 1
    assert "prefix 'Alice/Bob/' is inside 'Alice/'" in result.stderr


def test_invalid_config_is_exit_1_without_traceback(tmp_path: Path) -> None:
    result = run_reconcile("verify", "--desired", "-c", write(tmp_path, "version: 2\n"), env={})
    assert result.returncode == 1
    assert result.stderr.startswith(f"{tmp_path}/collaborators.yaml:1:")
    assert "Traceback" not in result.stderr


def test_sandbox_account_without_the_bucket_fails(tmp_path: Path) -> None:
    result = run_reconcile("verify", "--sandbox", "-c", write(tmp_path, BASE_YAML))
    assert result.returncode == 2
    assert "bucket clinical-share-123456789012 does not exist" in result.stdout


def test_a_suspended_collaborator_is_not_expected_to_open_the_console(tmp_path: Path) -> None:
    """Suspension removes the identity policy on purpose: verify must not call that a failure
    (found by following docs/tutorial.md)."""
    text = BASE_YAML.replace("    access: [write, read, list]\n", "    status: suspended\n")
    result = run_reconcile("verify", "--desired", "-q", "-c", write(tmp_path, text), env={})
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("All checks hold: 3 collaborator(s) x 9 checks")
    matrix = run_reconcile("verify", "--desired", "-c", write(tmp_path, text), env={}).stdout
    bob = next(line for line in matrix.splitlines() if line.startswith("bob "))
    # checked, not skipped: granted nothing, so nothing lists bucket or access point names
    assert bob.split()[1] == "ok"


def test_quiet_shows_only_what_fails_and_the_summary(tmp_path: Path) -> None:
    result = run_reconcile("verify", "--desired", "-q", "-c", write(tmp_path, BASE_YAML), env={})
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 1
    assert result.stdout.startswith("All checks hold: 3 collaborator(s)")
