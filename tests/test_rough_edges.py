"""Ordinary mistakes a new user made (issue 14, section 5), each answered through the
`reconcile` command with one clear line naming what is wrong, exit 1, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.cli import main
from tests.conftest import BASE_YAML


def reconcile(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int | str | None, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "collaborators.yaml"
    path.write_text(BASE_YAML)
    return path


@pytest.mark.parametrize(
    ("args", "first_line"),
    [
        (
            ["plan", "--profile", "nope"],
            "error: --profile / AWS_PROFILE: no profile 'nope' in the AWS config files",
        ),
        (
            ["plan", "--endpoint-url", "notaurl"],
            "error: Invalid value for '--endpoint-url': 'notaurl' is not a URL",
        ),
        (
            ["plan", "--region", "moon"],
            "error: Invalid value for '--region': 'moon' is not an AWS Region name",
        ),
    ],
)
def test_wrong_aws_options_name_the_option(
    capsys: pytest.CaptureFixture[str], config: Path, args: list[str], first_line: str
) -> None:
    code, _, err = reconcile(capsys, *args)
    assert code == 1
    assert err.splitlines()[0].startswith(first_line), err
    assert "unexpected" not in err and "Traceback" not in err


def test_annotations_go_to_stderr_once_and_never_into_the_comment(
    capsys: pytest.CaptureFixture[str], config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    config.write_text(BASE_YAML.replace("id: alice", "id: Alice"))
    code, out, err = reconcile(capsys, "plan", "--format", "markdown")
    assert (code, out) == (1, "")
    annotations = [line for line in err.splitlines() if line.startswith("::error ")]
    assert len(annotations) == 1
    assert annotations[0].startswith("::error file=collaborators.yaml,line=")


def test_json_plan_of_an_invalid_file_is_a_json_document(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    config.write_text(BASE_YAML.replace("id: alice", "id: Alice"))
    code, out, err = reconcile(capsys, "plan", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["format_version"] == 1
    assert len(doc["errors"]) == 1 and doc["errors"][0].startswith("collaborators.yaml:")
    assert doc["problems"][0]["path"] == "collaborators[0].id"
    assert err.startswith("collaborators.yaml:")


def test_json_errors_other_than_the_file_are_json_too(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    code, out, _ = reconcile(capsys, "plan", "--format", "json", "--profile", "nope")
    assert code == 1
    assert json.loads(out)["errors"][0].startswith("--profile / AWS_PROFILE: no profile")


def test_missing_account_id_hint_is_the_quoted_form_the_tool_accepts(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    config.write_text(BASE_YAML.replace('account_id: "123456789012"\n', ""))
    code, _, err = reconcile(capsys, "validate")
    assert code == 1
    assert '(for example account_id: "123456789012")' in err
    fixed = BASE_YAML  # the hint, applied as written, validates
    config.write_text(fixed)
    assert reconcile(capsys, "validate")[0] == 0


def test_empty_collaborators_is_not_told_to_remove_a_required_key(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    config.write_text(BASE_YAML.split("collaborators:")[0] + "collaborators:\n")
    code, _, err = reconcile(capsys, "validate")
    assert code == 1
    assert "collaborators: is empty: give a list\n" in err
    assert "remove the key" not in err


# --- history, unlock, import ---------------------------------------------------------------


def test_history_of_a_missing_audit_log_is_an_error_naming_the_option(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    code, out, err = reconcile(capsys, "history", "--audit-log", "/nonexistent/audit.jsonl")
    assert (code, out) == (1, "")
    assert err.startswith("error: Invalid value for '--audit-log': File '/nonexistent/audit")


def test_history_help_says_the_audit_log_is_read() -> None:
    from click.testing import CliRunner

    from reconciler.cli import cli

    help_text = " ".join(CliRunner().invoke(cli, ["history", "--help"]).output.split())
    assert "--audit-log FILE Read the audit records from this JSON Lines file" in help_text
    assert "Append" not in help_text


@pytest.mark.parametrize(
    ("command", "option"),
    [
        ("unlock", "--workers"),
        ("unlock", "--verify-tags"),
        ("unlock", "--format"),
        ("history", "--workers"),
        ("history", "--verify-tags"),
    ],
)
def test_options_that_would_do_nothing_are_not_offered(
    capsys: pytest.CaptureFixture[str], config: Path, command: str, option: str
) -> None:
    code, _, err = reconcile(capsys, command, option, "2")
    assert code == 1
    assert err.startswith(f"error: No such option: {option}") or err.startswith(
        f"error: No such option '{option}'"
    ), err


SUSPENDED_BOB = (
    BASE_YAML.replace(
        "    access: [write, read, list]\n",
        "    access: [write, read, list]\n    status: suspended\n    expires: 2031-01-15\n",
    )
    + "audit:\n  log: audit.jsonl\n"
)


def test_import_of_a_managed_bucket_keeps_suspended_collaborators(tmp_path: Path) -> None:
    """Through the sandbox (import --sandbox): apply a file with a suspended collaborator that
    has an expires date, import the bucket (status and date come back), and a plan on the
    imported file changes nothing. History in Markdown
    is Markdown."""
    from tests.e2e_support import reconcile_env, run_reconcile

    (tmp_path / "collaborators.yaml").write_text(SUSPENDED_BOB)
    env = reconcile_env(None)
    applied = run_reconcile("apply", "--sandbox", "--auto-approve", cwd=tmp_path, env=env)
    assert applied.returncode == 0, applied.stderr
    imported = run_reconcile(
        "import",
        "--sandbox",
        "--bucket",
        "clinical-share-123456789012",
        "-o",
        "imported.yaml",
        cwd=tmp_path,
        env=env,
    )
    assert imported.returncode == 0, imported.stderr
    text = (tmp_path / "imported.yaml").read_text()
    bob = '  - id: bob\n    iam_user: Bob\n    status: suspended\n    expires: "2031-01-15"\n'
    assert bob in text
    # alice (an IAM user without expires) and partner-site (a principal) carry no date
    assert "copy its date from your previous collaborators.yaml" in text.splitlines()[0]
    plan = run_reconcile(
        "plan", "--sandbox", "-c", "imported.yaml", "--detailed-exitcode", cwd=tmp_path, env=env
    )
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert plan.stdout.startswith("No changes. Live state matches"), plan.stdout
    history = run_reconcile("history", "--format", "markdown", cwd=tmp_path, env=env)
    assert history.stdout.startswith("### Audit trail\n\n- `"), history.stdout
    assert "  - `suspend bob: status: suspended`" in history.stdout


def test_import_from_the_sandbox_finds_a_share_of_another_account_and_region(
    tmp_path: Path,
) -> None:
    """What `reconcile init --account-id ... --region ...` then `apply --sandbox` made lives in
    that account and Region of the folder's sandbox: `import --sandbox --bucket` looks there
    without --account/--region (it used to look in 123456789012, us-east-1, and found
    nothing). A bucket that is not there names the account it looked in."""
    from tests.e2e_support import reconcile_env, run_reconcile

    other = "111122223333"
    text = (
        BASE_YAML.replace("123456789012", other)
        .replace("region: us-east-1", "region: eu-west-2")
        .replace("arn:aws:s3:us-east-1:", "arn:aws:s3:eu-west-2:")
    )
    (tmp_path / "collaborators.yaml").write_text(text)
    env = reconcile_env(None)
    applied = run_reconcile("apply", "--sandbox", "--auto-approve", cwd=tmp_path, env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    bucket = f"clinical-share-{other}"
    imported = run_reconcile("import", "--sandbox", "--bucket", bucket, cwd=tmp_path, env=env)
    assert imported.returncode == 0, imported.stderr
    assert f'account_id: "{other}"' in imported.stdout and "region: eu-west-2" in imported.stdout
    missing = run_reconcile(
        "import", "--sandbox", "--bucket", "no-such-share", cwd=tmp_path, env=env
    )
    assert missing.returncode == 1
    assert missing.stderr == (
        f"error: bucket no-such-share does not exist in account {other} (or is not visible "
        "to these credentials): check --bucket and --account\n"
    )
