"""The edges a new team hit first (issue 20, section 4), each through the `reconcile` command:
a mistyped Region, `validate -c FOLDER`, a malformed checksum, the file a clean plan names,
verify's words for its checks, the sandbox's access card in another Region, a second command
waiting for the sandbox, and a missing config file."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click
import pytest

from reconciler.aws.sandbox import DIR_ENV
from reconciler.cli import main
from reconciler.cli.app import all_commands
from tests.conftest import BASE_YAML


def reconcile(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int | str | None, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(DIR_ENV, str(tmp_path / "sandbox-state"))
    path = tmp_path / "collaborators.yaml"
    path.write_text(BASE_YAML)
    return path


# --- --region: botocore's partition data, with a suggestion, in every command ------------------


def commands_with_region() -> list[tuple[str, ...]]:
    found = []

    def walk(commands: dict[str, click.Command], path: tuple[str, ...]) -> None:
        for name, command in sorted(commands.items()):
            if isinstance(command, click.Group):
                walk(command.commands, (*path, name))
            elif any(p.name == "region" for p in command.params):
                found.append((*path, name))

    walk(all_commands(), ())
    return found


REQUIRED = {("show",): ["alice"], ("import",): ["--bucket", "trial-share"]}


def test_every_command_that_takes_a_region_is_checked() -> None:
    assert set(commands_with_region()) >= {("plan",), ("apply",), ("init",), ("import",)}


@pytest.mark.parametrize("path", commands_with_region(), ids=" ".join)
def test_a_mistyped_region_is_refused_with_a_suggestion(
    capsys: pytest.CaptureFixture[str], config: Path, path: tuple[str, ...]
) -> None:
    args = [*path, *REQUIRED.get(path, []), "--region", "eu-westt-2"]
    if "sandbox" in {p.name for p in _command(path).params}:
        args.append("--sandbox")
    code, _, err = reconcile(capsys, *args)
    assert code == 1
    assert err.splitlines()[0] == (
        "error: Invalid value for '--region': 'eu-westt-2' is not an AWS Region name: "
        "did you mean eu-west-2 (Europe (London))?"
    ), err
    assert "Traceback" not in err and not (config.parent / "sandbox-state").exists()


def _command(path: tuple[str, ...]) -> click.Command:
    command: Any = all_commands()[path[0]]
    for name in path[1:]:
        command = command.commands[name]
    assert isinstance(command, click.Command)
    return command


@pytest.mark.parametrize(
    ("region", "message"),
    [
        ("moon", "'moon' is not an AWS Region name (e.g. us-east-1, eu-west-2; botocore "),
        (
            "cn-north-1",
            "'cn-north-1' is a Region of the aws-cn partition; this tool writes policies for "
            "the standard aws partition only",
        ),
    ],
)
def test_a_region_far_from_any_or_of_another_partition(
    capsys: pytest.CaptureFixture[str], config: Path, region: str, message: str
) -> None:
    code, _, err = reconcile(capsys, "plan", "--sandbox", "--region", region)
    assert code == 1
    assert err.startswith(f"error: Invalid value for '--region': {message}"), err


def test_a_real_region_is_accepted(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, out, err = reconcile(capsys, "plan", "--sandbox", "--region", "us-east-1")
    assert code == 0, err
    assert out.startswith("Plan:") or "Plan:" in out


# --- validate -c FOLDER, like every other command's -c -----------------------------------------


def test_validate_takes_a_folder_with_c_as_it_does_as_a_path(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    shares = config.parent / "shares"
    shares.mkdir()
    (shares / "a.yaml").write_text(BASE_YAML)
    by_path = reconcile(capsys, "validate", "shares/")
    by_option = reconcile(capsys, "validate", "-c", "shares/")
    assert by_option == by_path
    assert by_path[:2] == (0, "shares/a.yaml is valid: 3 collaborators.\n")


# --- --checksum: a malformed one is its own mistake --------------------------------------------


@pytest.mark.parametrize("value", ["abc123", "3f1c...e9", "g" * 64, "a" * 63])
def test_a_malformed_checksum_gets_its_own_message(
    capsys: pytest.CaptureFixture[str], config: Path, value: str
) -> None:
    code, out, err = reconcile(capsys, "apply", "--sandbox", "--auto-approve", "--checksum", value)
    assert code == 1
    assert err.splitlines()[0] == (
        f"error: Invalid value for '--checksum': {value!r} is not a plan checksum: 64 "
        "hexadecimal characters (a SHA-256), as `reconcile plan --format json` prints in "
        '"checksum"; copy it whole'
    )
    assert "changed since it was reviewed" not in err
    assert out == "" and not (config.parent / "sandbox-state").exists()


def test_a_well_formed_checksum_of_another_plan_is_still_a_changed_plan(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    code, _, err = reconcile(capsys, "apply", "--sandbox", "--auto-approve", "--checksum", "A" * 64)
    assert code == 3
    assert "the plan changed since it was reviewed (checksum aaaaaaaaaaaa..." in err


def test_the_help_example_of_checksum_is_no_fake_value() -> None:
    from click.testing import CliRunner

    from reconciler.cli.app import cli

    text = CliRunner().invoke(cli, ["apply", "--help"]).output
    assert "3f1c...e9" not in text
    assert 'reconcile apply --checksum "$(jq -r .checksum plan.json)" --auto-approve' in text


# --- a plan with no changes names the file it planned ------------------------------------------


def test_no_changes_names_the_share_file(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    share = config.parent / "shares" / "cardiology.yaml"
    share.parent.mkdir()
    share.write_text(BASE_YAML)
    code, _, err = reconcile(capsys, "apply", "-c", str(share), "--sandbox", "--auto-approve")
    assert code == 0, err
    code, out, _ = reconcile(capsys, "plan", "-c", str(share), "--sandbox")
    assert (code, out) == (0, f"No changes. Live state matches {share}.\n")
    code, out, _ = reconcile(capsys, "apply", "-c", str(share), "--sandbox", "--format", "markdown")
    assert code == 0
    assert f"**No drift.** Live state matches {share}; nothing changed." in out


# --- verify says what its checks are, in the user's words --------------------------------------


def test_verify_says_what_checks_1_to_5_are(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    code, out, err = reconcile(capsys, "verify", "--desired")
    assert code == 0, err
    assert "seed" not in out
    assert (
        "What each check tests, for every collaborator (1-5: what you would try by hand, "
        "signed in as the collaborator):" in out
    )
    code, out, _ = reconcile(capsys, "verify", "--desired", "--format", "markdown")
    assert "seed" not in out and "1-5: what you would try by hand" in out


# --- the sandbox ---------------------------------------------------------------------------------


def test_an_access_card_in_eu_west_2_names_only_eu_west_2(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    config.write_text(BASE_YAML.replace("region: us-east-1", "region: eu-west-2"))
    code, _, err = reconcile(capsys, "apply", "--sandbox", "--auto-approve")
    assert code == 0, err
    code, out, err = reconcile(capsys, "show", "alice", "--sandbox")
    assert code == 0, err
    assert "us-east-1" not in out, out
    assert "AWS names the access point" not in out
    assert "arn:aws:s3:eu-west-2:123456789012:accesspoint/alice-access-point" in out


def test_a_second_command_says_it_waits_for_the_sandbox(config: Path, tmp_path: Path) -> None:
    """One process holds the sandbox's lock; `reconcile plan --sandbox` says it waits, then
    runs when the lock is released."""
    state = tmp_path / "sandbox-state"
    state.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != DIR_ENV}
    env |= {DIR_ENV: str(state), "NO_COLOR": "1"}
    with open(state / "lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        waiting = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "plan", "--sandbox"],
            cwd=config.parent,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert waiting.stderr is not None
        first = waiting.stderr.readline()  # blocks until the command says something
        time.sleep(0.2)
        assert waiting.poll() is None  # still waiting: it has not run
        fcntl.flock(lock, fcntl.LOCK_UN)
    out, rest = waiting.communicate(timeout=120)
    assert first == (
        f"note: waiting for another reconcile command using the sandbox in {state} (one command "
        "at a time; it goes on when that one ends)\n"
    )
    assert waiting.returncode == 0, rest
    assert out.startswith("Plan:") or "\nPlan:" in out


def test_a_missing_config_file_suggests_c_and_init(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for command in (["plan", "--sandbox"], ["validate"], ["show", "alice", "--desired"]):
        code, _, err = reconcile(capsys, *command)
        assert code == 1
        assert err.splitlines()[0] == (
            "collaborators.yaml: cannot read: No such file or directory (give the desired-state "
            "file with -c FILE, or write a new config repository with `reconcile init`)"
        ), command


# --- found using the tool as a new user: a mistyped command, a folder given to plan's -c ------


def test_a_mistyped_command_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = reconcile(capsys, "aply", "--sandbox")
    assert (code, err.splitlines()[0]) == (1, "error: No such command 'aply': did you mean apply?")
    code, _, err = reconcile(capsys, "xyzzy")
    assert (code, err.splitlines()[0]) == (1, "error: No such command 'xyzzy'.")


def test_a_folder_given_to_plan_says_which_file_to_give(
    capsys: pytest.CaptureFixture[str], config: Path
) -> None:
    shares = config.parent / "shares"
    shares.mkdir()
    (shares / "oncology.yaml").write_text(BASE_YAML)
    code, _, err = reconcile(capsys, "plan", "--sandbox", "-c", "shares")
    assert code == 1
    assert err.splitlines()[0] == (
        "error: Invalid value for '-c' / '--config': shares is a folder: this command takes one "
        "share file, e.g. -c shares/oncology.yaml (`reconcile validate` and `reconcile matrix` "
        "take folders)"
    )
