"""Terminal output: golden text with and without colour, colour only on a terminal, progress bar
for long applies on a terminal, -v logs every AWS call, -q prints only errors and the summary.

Terminal behaviour is checked for real: the command runs under a pseudo-terminal."""

from __future__ import annotations

import errno
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from reconciler.cli.output import PROGRESS_BAR_MIN_CHANGES, use_color
from reconciler.model import Config
from reconciler.plan.changes import Plan
from reconciler.render.style import ansi
from reconciler.render.text import render_text, render_text_summary
from tests.conftest import BASE_YAML
from tests.e2e_support import ROOT, reconcile_env, run_reconcile
from tests.test_golden import GOLDEN, check_golden, drift_plan

ESC = "\x1b["


def run_in_terminal(*args: str, cwd: Path = ROOT, **env: str) -> str:
    """Run `reconcile` with stdout and stderr on a pseudo-terminal; return what it showed."""
    base = reconcile_env(None)
    del base["NO_COLOR"]  # the test support turns colour off; here the terminal decides
    base.update(env)
    main, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env=base,
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
    )
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError as err:  # EIO: the child closed the terminal
            if err.errno != errno.EIO:
                raise
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    assert proc.wait(timeout=120) == 0, b"".join(chunks).decode()
    return b"".join(chunks).decode()


# --- golden text ------------------------------------------------------------------------------


def test_colour_golden_and_plain_golden_say_the_same(config: Config) -> None:
    coloured = render_text(drift_plan(config), style=ansi)
    check_golden("drift.color.txt", coloured)
    assert click.unstyle(coloured) == (GOLDEN / "drift.txt").read_text()
    # each action has its own colour: create green, update yellow, replace magenta, delete red
    assert "\x1b[33m~ bucket_policy clinical-share-123456789012\x1b[0m" in coloured
    assert "\x1b[35m-/+ access_point partner-site-ap\x1b[0m" in coloured
    assert "\x1b[31m- iam_user Bob\x1b[0m" in coloured
    assert "\x1b[32m+ access_point_policy partner-site-ap\x1b[0m" in coloured


def test_quiet_text_is_errors_and_summary_only() -> None:
    plan = Plan.build([], warnings=["a warning"], errors=["bucket b is in region x"])
    assert render_text_summary(plan) == (
        "Errors:\n  x bucket b is in region x\n\n"
        "No changes. Live state matches collaborators.yaml.\n"
    )


@pytest.mark.parametrize(
    ("flag", "environ", "isatty", "expected"),
    [
        (False, {}, True, True),
        (False, {}, False, False),
        (True, {}, True, False),
        (False, {"NO_COLOR": "1"}, True, False),
        (False, {"NO_COLOR": ""}, True, True),  # https://no-color.org: only a non-empty value
    ],
)
def test_colour_decision(flag: bool, environ: dict[str, str], isatty: bool, expected: bool) -> None:
    assert use_color(no_color_flag=flag, environ=environ, isatty=isatty) is expected


# --- the real command on a terminal and in a pipe ---------------------------------------------


def test_plan_on_a_terminal_is_coloured() -> None:
    shown = run_in_terminal("plan", "--sandbox")
    assert f"{ESC}32m+ bucket clinical-share-123456789012{ESC}0m" in shown
    assert click.unstyle(shown).replace("\r\n", "\n") == (GOLDEN / "sandbox-plan.txt").read_text()


@pytest.mark.parametrize("how", ["flag", "env"])
def test_no_color_on_a_terminal(how: str) -> None:
    if how == "flag":
        shown = run_in_terminal("plan", "--sandbox", "--no-color")
    else:
        shown = run_in_terminal("plan", "--sandbox", NO_COLOR="1")
    assert ESC not in shown
    assert shown.replace("\r\n", "\n") == (GOLDEN / "sandbox-plan.txt").read_text()


def test_piped_plan_has_no_colour() -> None:
    env = reconcile_env(None)
    del env["NO_COLOR"]
    result = run_reconcile("plan", "--sandbox", env=env)
    assert result.returncode == 0, result.stderr
    assert ESC not in result.stdout
    check_golden("sandbox-plan.txt", result.stdout)


def many_collaborators_file(tmp_path: Path, count: int) -> Path:
    head = BASE_YAML.split("collaborators:\n")[0] + "collaborators:\n"
    entries = "".join(f"  - id: site-{i}\n    iam_user: Site{i}\n" for i in range(count))
    path = tmp_path / "collaborators.yaml"
    path.write_text(head + entries)
    return path


def test_long_apply_shows_a_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    path = many_collaborators_file(tmp_path, 5)  # 7 bucket changes + 3 per collaborator
    total = 7 + 3 * 5
    assert total >= PROGRESS_BAR_MIN_CHANGES
    shown = click.unstyle(run_in_terminal("apply", "--sandbox", "--auto-approve", "-c", str(path)))
    assert f"Applying {total} changes" in shown
    assert f"{total}/{total}" in shown
    assert "applied: " not in shown
    assert f"Apply: {total} applied, 0 failed, 0 skipped." in shown


def test_json_on_a_terminal_gets_no_progress_bar(tmp_path: Path) -> None:
    path = many_collaborators_file(tmp_path, 5)
    shown = run_in_terminal(
        "apply", "--sandbox", "--auto-approve", "--format", "json", "-c", str(path)
    )
    assert "Applying" not in shown
    assert shown.count("applied: ") == 22  # progress lines go to stderr, the JSON stays whole
    document = json.loads(shown[shown.index("{\r\n") :].replace("\r\n", "\n"))
    assert document["converged"] is True and len(document["applied"]) == 22


def test_long_apply_in_a_pipe_logs_plain_lines(tmp_path: Path) -> None:
    path = many_collaborators_file(tmp_path, 5)
    result = run_reconcile("apply", "--sandbox", "--auto-approve", "-c", str(path))
    assert result.returncode == 0, result.stderr
    assert "Applying" not in result.stdout
    assert result.stdout.count("\napplied: ") == 22
    assert "applied: + iam_user Site3" in result.stdout


def test_short_apply_on_a_terminal_logs_lines() -> None:
    shown = click.unstyle(run_in_terminal("apply", "--sandbox", "--auto-approve"))
    assert "Applying" not in shown
    assert shown.count("applied: ") == 15


def test_quiet_apply_prints_only_the_summary() -> None:
    result = run_reconcile("apply", "--sandbox", "--auto-approve", "-q")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "Plan: 15 to create, 0 to update, 0 to replace, 0 to delete.\n"
        "\n"
        "Apply: 15 applied, 0 failed, 0 skipped.\n"
        "Converged: a fresh plan finds no changes.\n"
    )
    assert result.stderr == ""


CALL_LINE = re.compile(r"^aws (s3|s3control|iam|sts) ([A-Za-z]+) (.+) -> (\d{3})( \w+)? in \d+ ms$")


def test_verbose_logs_every_aws_call_to_stderr() -> None:
    quiet = run_reconcile("plan", "--sandbox")
    result = run_reconcile("plan", "--sandbox", "-v")
    assert result.returncode == 0, result.stderr
    assert result.stdout == quiet.stdout  # the plan itself is unchanged
    lines = result.stderr.splitlines()
    assert lines and all(CALL_LINE.match(line) for line in lines), lines
    assert lines[0].startswith("aws sts GetCallerIdentity - -> 200 in ")
    assert lines[1].startswith("aws s3 HeadBucket Bucket=clinical-share-123456789012 -> 404 in ")
    assert any(line.startswith("aws s3control ListAccessPoints - -> 200") for line in lines)


def test_verbose_and_quiet_together_is_a_usage_error() -> None:
    result = run_reconcile("plan", "--sandbox", "-v", "-q")
    assert result.returncode == 1
    assert result.stderr.startswith("error: -v/--verbose and -q/--quiet cannot be used together")
