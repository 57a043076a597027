"""`reconcile validate` on the command line: offline, GitHub annotations, pre-commit."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reconciler.cli import main
from reconciler.cli.report import github_annotation
from reconciler.errors import ConfigProblem
from tests.no_aws import offline_env, run_without_aws

ROOT = Path(__file__).resolve().parents[1]
INVALID = ROOT / "tests" / "invalid"


def reconcile(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env={**offline_env(), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_validate_works_offline_without_credentials() -> None:
    result = reconcile("validate")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "collaborators.yaml is valid: 3 collaborators.\n"


def test_validate_never_imports_the_sdk_nor_opens_a_socket() -> None:
    valid, invalid = run_without_aws(
        [["validate", "collaborators.yaml"], ["validate", "tests/invalid/prefix-wildcard.yaml"]],
        ROOT,
    )
    assert (valid["code"], valid["stderr"]) == (0, "")
    assert invalid["code"] == 1
    assert "UNCAUGHT" not in str(invalid["stderr"])


def test_invalid_file_exits_1_with_the_messages_and_no_traceback() -> None:
    result = reconcile("validate", "-c", "prefix-no-trailing-slash.yaml", cwd=INVALID)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (INVALID / "prefix-no-trailing-slash.expected").read_text()


def test_several_files_are_all_checked() -> None:
    result = reconcile(
        "validate", "collaborators.yaml", "tests/invalid/id-uppercase.yaml", "missing.yaml"
    )
    assert result.returncode == 1
    assert result.stdout == "collaborators.yaml is valid: 3 collaborators.\n"
    assert "tests/invalid/id-uppercase.yaml:9:5: collaborators[0].id: 'Alice'" in result.stderr
    assert "missing.yaml: cannot read: No such file or directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_github_actions_annotations_point_at_each_problem(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(INVALID)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "several-mistakes.yaml"])
    assert exit_info.value.code == 1
    out, err = capsys.readouterr()
    assert out == ""  # annotations go to stderr, with the error
    expected = (INVALID / "several-mistakes.expected").read_text()
    assert err.startswith(expected)
    annotations = err[len(expected) :].splitlines()
    assert len(annotations) == 7
    assert annotations[3] == (
        "::error file=several-mistakes.yaml,line=11,col=5::collaborators[0].prefix: "
        "'Alice' must end with '/' (did you mean 'Alice/'?)"
    )
    for line in annotations:
        assert re.fullmatch(r"::error file=several-mistakes\.yaml,line=\d+,col=\d+::.+", line)


def test_plan_also_annotates_under_github_actions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(INVALID)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    with pytest.raises(SystemExit):
        main(["plan", "-c", "id-uppercase.yaml", "--format", "markdown"])
    out, err = capsys.readouterr()
    assert out == ""  # stdout is the pull-request comment: no annotation lines in it
    annotations = [line for line in err.splitlines() if line.startswith("::error ")]
    assert len(annotations) == 1  # once
    assert annotations[0].startswith(
        "::error file=id-uppercase.yaml,line=9,col=5::collaborators[0].id: "
    )


def test_no_annotations_outside_github_actions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(INVALID)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    with pytest.raises(SystemExit):
        main(["validate", "id-uppercase.yaml"])
    assert capsys.readouterr().out == ""


def test_annotation_escapes_workflow_command_syntax() -> None:
    problem = ConfigProblem("dir,a:b/c.yaml", 3, 7, "x", "50% done\nnext")
    assert github_annotation(problem) == (
        "::error file=dir%2Ca%3Ab/c.yaml,line=3,col=7::x: 50%25 done%0Anext"
    )
    assert github_annotation(ConfigProblem("f.yaml", None, None, "", "m")) == (
        "::error file=f.yaml::m"
    )


def test_pre_commit_hook_runs_validate_on_matching_files() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "reconcile-validate"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True
    files = re.compile(hook["files"])
    for name in ("collaborators.yaml", "deploy/collaborators.yml"):
        assert files.search(name), name
    for name in ("other.yaml", "collaborators.yaml.bak", "my-collaborators.yaml"):
        assert not files.search(name), name
    program, *args = hook["entry"].split()
    assert program == "reconcile"  # the console script this package installs
    good = reconcile(*args, "collaborators.yaml")
    assert good.returncode == 0, good.stderr
    bad = reconcile(*args, "collaborators.yaml", "tests/invalid/access-empty.yaml")
    assert bad.returncode == 1
    assert "tests/invalid/access-empty.yaml:12:5: collaborators[0].access:" in bad.stderr
