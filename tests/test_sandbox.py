"""`--sandbox` remembers between commands (separate processes), in a folder beside the config
that git ignores; `reconcile sandbox reset` empties it and `reconcile sandbox drift` makes the
hand edits a tutorial needs. Without moto, `--sandbox` says how to install it."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.aws.sandbox import DIR_ENV, DIR_NAME, SANDBOX_REQUIREMENT, STATE_FILE, install_hint
from tests.conftest import BASE_YAML
from tests.e2e_support import reconcile_env, run_reconcile


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A config folder whose sandbox lives in the default place (beside the config)."""
    folder = tmp_path / "config-repo"
    folder.mkdir()
    (folder / "collaborators.yaml").write_text(BASE_YAML)
    return folder


def run(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = reconcile_env(None)
    env.pop(DIR_ENV, None)
    env.pop("RECONCILE_LOCK_BUCKET")  # the sandbox keeps the lock in the shared bucket
    return run_reconcile(*args, cwd=repo, env=env)


def test_state_survives_separate_processes_beside_the_config(repo: Path) -> None:
    first = run(repo, "apply", "--sandbox", "--auto-approve")
    assert first.returncode == 0, first.stderr
    again = run(repo, "plan", "--sandbox", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout == "No changes. Live state matches collaborators.yaml.\n"
    folder = repo / DIR_NAME
    assert (folder / STATE_FILE).is_file()
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*"


def test_git_ignores_the_sandbox_folder(repo: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    assert run(repo, "plan", "--sandbox").returncode == 0
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == "?? collaborators.yaml\n"


def test_a_second_apply_takes_the_lock_in_the_shared_bucket(repo: Path) -> None:
    """The shared bucket's TLS-only Deny must not refuse the lock: sandbox requests use TLS."""
    assert run(repo, "apply", "--sandbox", "--auto-approve").returncode == 0
    (repo / "collaborators.yaml").write_text(BASE_YAML.replace("[write]\n", "[write, read]\n", 1))
    second = run(repo, "apply", "--sandbox", "--auto-approve")
    assert second.returncode == 0, second.stderr
    assert "+ read Alice/ via alice-access-point" in second.stdout
    assert "Apply: 1 applied, 0 failed, 0 skipped." in second.stdout
    assert "no apply lock taken" not in second.stderr


def test_reset_empties_the_sandbox(repo: Path) -> None:
    assert run(repo, "apply", "--sandbox", "--auto-approve").returncode == 0
    reset = run(repo, "sandbox", "reset")
    assert (reset.returncode, reset.stdout) == (0, f"Sandbox emptied ({DIR_NAME}).\n")
    plan = run(repo, "plan", "--sandbox", "-q")
    assert plan.stdout.startswith("Plan: 15 to create, 0 to update")
    run(repo, "sandbox", "reset")
    again = run(repo, "sandbox", "reset")
    assert again.stdout == f"Sandbox already empty ({DIR_NAME}).\n"


def test_drift_is_shown_then_put_back(repo: Path) -> None:
    assert run(repo, "apply", "--sandbox", "--auto-approve").returncode == 0
    drift = run(repo, "sandbox", "drift", "alice")
    assert drift.returncode == 0, drift.stderr
    assert "AddedInTheConsole" in drift.stdout
    plan = run(repo, "plan", "--sandbox")
    assert "alice: - delete Alice/ via alice-access-point" in plan.stdout
    assert "- AddedInTheConsole: Allow" in plan.stdout
    for who, kind, shown in (
        ("bob", "delete-access-point", "+ access_point bob-access-point"),
        ("alice", "delete-user", "+ iam_user Alice"),
    ):
        assert run(repo, "sandbox", "drift", who, "--kind", kind).returncode == 0
        applied = run(repo, "apply", "--sandbox", "--auto-approve")
        assert applied.returncode == 0, applied.stderr
        assert shown in applied.stdout
        assert "Converged: a fresh plan finds no changes." in applied.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["alcie"], "error: no collaborator 'alcie' in collaborators.yaml (did you mean 'alice'?)"),
        (["partner-site", "--kind", "delete-user"], "error: partner-site has no iam_user"),
        (["alice"], "error: nothing to change for alice in the sandbox: run `reconcile apply"),
    ],
)
def test_drift_mistakes_are_one_line(repo: Path, args: list[str], message: str) -> None:
    result = run(repo, "sandbox", "drift", *args)
    assert result.returncode == 1
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.splitlines()) == 1


BASELINE_YAML = BASE_YAML.replace(
    "  name: clinical-share-123456789012\n",
    "  name: clinical-share-123456789012\n"
    "  access_logs:\n    bucket: sandbox-logs-123456789012\n    manage_policy: true\n"
    "  data_events_trail: audit-trail\n",
)


def test_baseline_drift_is_shown_then_put_back(repo: Path) -> None:
    """Issue 21: versioning suspended, logging turned off, lifecycle replaced and the trail's
    selector removed by hand show as drift in the next plan and the next apply repairs them."""
    (repo / "collaborators.yaml").write_text(BASELINE_YAML)
    applied = run(repo, "apply", "--sandbox", "--auto-approve", "-q")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    said = {
        "suspend-versioning": "versioning suspended",
        "logging-off": "server access logging turned off",
        "replace-lifecycle": "lifecycle rules replaced by one rule added-in-the-console",
        "remove-trail-selector": "trail audit-trail: selector reconciler:clinical-share-",
    }
    for kind, sentence in said.items():
        drift = run(repo, "sandbox", "drift", "--kind", kind)
        assert drift.returncode == 0, drift.stderr
        assert sentence in drift.stdout, drift.stdout
    plan = run(repo, "plan", "--sandbox", "--detailed-exitcode")
    assert plan.returncode == 2, plan.stdout + plan.stderr
    for headline in (
        "~ bucket_versioning clinical-share-123456789012",
        "+ bucket_logging clinical-share-123456789012",
        "~ bucket_lifecycle clinical-share-123456789012",
        "~ trail_event_selectors audit-trail",
    ):
        assert headline in plan.stdout, plan.stdout
    repaired = run(repo, "apply", "--sandbox", "--auto-approve")
    assert "Converged: a fresh plan finds no changes." in repaired.stdout, repaired.stdout
    verified = run(repo, "verify", "--sandbox", "-q")
    assert verified.returncode == 0, verified.stdout + verified.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["alice", "--kind", "logging-off"],
            "error: --kind logging-off changes the bucket, not a collaborator: leave 'alice' out",
        ),
        (["--kind", "delete-user"], "error: --kind delete-user needs a COLLABORATOR, one of: "),
        (["--kind", "suspend-versioning"], "error: nothing to change for --kind suspend-ver"),
        (
            ["--kind", "remove-trail-selector"],
            "error: nothing to drift: bucket.data_events_trail is not set in collaborators.yaml",
        ),
    ],
)
def test_baseline_drift_mistakes_are_one_line(repo: Path, args: list[str], message: str) -> None:
    result = run(repo, "sandbox", "drift", *args)
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_an_unreadable_state_says_how_to_empty_it(repo: Path) -> None:
    folder = repo / DIR_NAME
    folder.mkdir()
    (folder / STATE_FILE).write_bytes(b"not a pickle")
    result = run(repo, "plan", "--sandbox")
    assert result.returncode == 1
    assert result.stderr.endswith("empty it with `reconcile sandbox reset`\n"), result.stderr
    assert "Traceback" not in result.stderr


def test_a_state_naming_other_code_is_refused(repo: Path, tmp_path: Path) -> None:
    """The state file is unpickled with an allowlist: it cannot make the tool run commands."""
    marker = tmp_path / "ran"
    evil = pickle.dumps(_Evil(str(marker)))
    folder = repo / DIR_NAME
    folder.mkdir()
    (folder / STATE_FILE).write_bytes(evil)
    result = run(repo, "plan", "--sandbox")
    assert result.returncode == 1
    assert "refusing posix.system" in result.stderr
    assert not marker.exists()


class _Evil:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, (f"touch {self.path}",))


def test_without_moto_the_sandbox_says_how_to_install_it(repo: Path) -> None:
    code = (
        "import sys; sys.modules['moto'] = None\n"
        "from reconciler.cli import main; main(['plan', '--sandbox'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=repo,
        env=reconcile_env(None),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr == f"error: {install_hint()}\n"
    # the project is on no package index: the hint installs the extra's own requirement
    assert f"{sys.executable} -m pip install '{SANDBOX_REQUIREMENT}'" in install_hint()


def test_the_sandbox_requirement_is_the_extras() -> None:
    import tomllib

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    assert project["optional-dependencies"]["sandbox"] == [SANDBOX_REQUIREMENT]


def test_moto_is_not_a_runtime_dependency() -> None:
    import tomllib

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith("moto")]
    assert project["optional-dependencies"]["sandbox"] == ["moto>=5.2.5,<5.3"]
    assert "s3-collaborator-reconciler[sandbox]" in project["optional-dependencies"]["dev"]


@pytest.mark.parametrize(
    ("condition", "skipped"),
    [
        ({"Bool": {"aws:SecureTransport": "false"}}, True),
        ({"Bool": {"aws:SecureTransport": ["false"]}}, True),
        ({"Bool": {"aws:SecureTransport": "true"}}, False),
        ({"NumericGreaterThan": {"s3:signatureAge": "604800000"}}, True),
        ({"NumericGreaterThanIfExists": {"s3:signatureAge": "1"}}, False),
        ({"Null": {"s3:signatureAge": "true"}}, False),
        ({"StringNotEquals": {"aws:PrincipalAccount": "123456789012"}}, False),
    ],
)
def test_only_statements_no_sandbox_request_can_match_are_left_out(
    condition: dict[str, object], skipped: bool
) -> None:
    from reconciler.aws.emulator.request_context import cannot_match

    statement = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Condition": condition}
    assert cannot_match(statement) is skipped


def test_a_state_from_another_moto_version_says_how_to_empty_it(repo: Path) -> None:
    assert run(repo, "plan", "--sandbox").returncode == 0
    state = repo / DIR_NAME / STATE_FILE
    document = pickle.loads(state.read_bytes())
    document["moto"] = "0.0.1"
    state.write_bytes(pickle.dumps(document))
    result = run(repo, "plan", "--sandbox")
    assert result.returncode == 1
    assert "written with moto 0.0.1" in result.stderr
    assert result.stderr.endswith("empty it with `reconcile sandbox reset`\n")
