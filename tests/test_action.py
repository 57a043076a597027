"""The GitHub Action (action.yml): valid, clean under zizmor, installs the reconciler from its
own ref, and its run step (reconciler.cli.action_runner) run for real against the sandbox, with
the files GitHub gives a step ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY, $RUNNER_TEMP)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
BIN = Path(sys.executable).parent


def tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


def action() -> dict[str, Any]:
    data = yaml.safe_load(ACTION.read_text())
    assert isinstance(data, dict)
    return data


def step(step_id: str) -> dict[str, Any]:
    found = [s for s in action()["runs"]["steps"] if s.get("id") == step_id]
    assert len(found) == 1
    return dict(found[0])


# --- the definition ---------------------------------------------------------------------------


def test_action_matches_githubs_schema() -> None:
    result = tool("check-jsonschema", "--builtin-schema", "vendor.github-actions", str(ACTION))
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing_in_the_action() -> None:
    assert "zizmor: ignore" not in ACTION.read_text()
    result = tool("zizmor", "--offline", "--persona=pedantic", "--format=json", str(ACTION))
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []


def test_inputs_and_outputs() -> None:
    data = action()
    assert data["runs"]["using"] == "composite"
    assert {"command", "config", "args"} <= set(data["inputs"])
    assert data["inputs"]["command"]["required"] is True
    assert data["inputs"]["config"]["default"] == "collaborators.yaml"
    assert {"exit-code", "output", "json", "changes-pending", "checksum"} <= set(data["outputs"])


def test_installs_the_actions_own_copy_never_the_callers() -> None:
    install = step("install")["run"]
    assert (
        'pip install --quiet --disable-pip-version-check "$GITHUB_ACTION_PATH${EXTRAS:+[$EXTRAS]}"'
        in install
    )
    assert "pip install ." not in ACTION.read_text()
    assert "GITHUB_WORKSPACE" not in ACTION.read_text()
    # the run step uses the Python of that installation, not whatever is on PATH
    run = step("run")
    assert run["run"] == '"$RECONCILE_PYTHON" -m reconciler.cli.action_runner'
    assert run["env"]["RECONCILE_PYTHON"] == "${{ steps.install.outputs.python }}"


@pytest.mark.parametrize("extras", ["sandbox]; touch pwned; [", "a b", "$(id)"])
def test_extras_other_than_names_are_refused_before_pip_runs(tmp_path: Path, extras: str) -> None:
    env = {"PATH": os.environ["PATH"], "EXTRAS": extras, "PYTHON": "false"}
    env["RUNNER_TEMP"] = env["GITHUB_OUTPUT"] = str(tmp_path)
    result = subprocess.run(
        ["bash", "-e", "-c", step("install")["run"]], env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stdout.startswith("::error::reconciler action: input 'extras' must be")
    assert list(tmp_path.iterdir()) == []


STUB_PYTHON = """#!/bin/bash
# `python -m venv DIR` makes a venv whose python logs `-m pip install ...` and makes reconcile
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin"
  printf '#!/bin/bash\\necho "$*" >> "%s/pip.log"\\n' "$LOG" > "$3/bin/python"
  printf '#!/bin/bash\\necho "reconcile, version 0"\\n' > "$3/bin/reconcile"
  chmod +x "$3/bin/python" "$3/bin/reconcile"
fi
"""


def test_installs_once_per_job_for_each_set_of_extras(tmp_path: Path) -> None:
    python = tmp_path / "python"
    python.write_text(STUB_PYTHON)
    python.chmod(0o755)
    temp = tmp_path / "temp"
    temp.mkdir()

    def install(extras: str) -> dict[str, str]:
        env = {"PATH": os.environ["PATH"], "PYTHON": str(python), "EXTRAS": extras}
        env |= {"RUNNER_TEMP": str(temp), "LOG": str(tmp_path), "GITHUB_ACTION_PATH": "/a/b"}
        env["GITHUB_OUTPUT"] = str(tmp_path / "output")
        (tmp_path / "output").write_text("")
        result = subprocess.run(
            ["bash", "-e", "-c", step("install")["run"]], env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        lines = (tmp_path / "output").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines)

    first, again, sandbox = install(""), install(""), install("sandbox")
    assert first == again != sandbox
    assert Path(first["reconcile"]).parent == Path(first["python"]).parent
    assert Path(first["python"]).parent.parent.parent == temp
    assert (tmp_path / "pip.log").read_text().splitlines() == [
        "-m pip install --quiet --disable-pip-version-check /a/b",
        "-m pip install --quiet --disable-pip-version-check /a/b[sandbox]",
    ]


def test_inputs_reach_the_step_through_the_environment_only() -> None:
    for s in action()["runs"]["steps"]:
        assert "${{" not in s.get("run", ""), s


# --- the run step, for real -------------------------------------------------------------------


class Step:
    """One run of the action's run step in a temporary config repository."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.temp = folder / "runner-temp"
        self.temp.mkdir()
        shutil.copy(ROOT / "collaborators.yaml", folder / "collaborators.yaml")

    def __call__(
        self, command: str, args: str = "", **inputs: str
    ) -> subprocess.CompletedProcess[str]:
        for name in ("output", "summary"):
            (self.folder / name).write_text("")
        env = {
            **os.environ,
            "GITHUB_ACTIONS": "true",
            "RUNNER_TEMP": str(self.temp),
            "GITHUB_OUTPUT": str(self.folder / "output"),
            "GITHUB_STEP_SUMMARY": str(self.folder / "summary"),
            "INPUT_COMMAND": command,
            "INPUT_CONFIG": inputs.pop("config", "collaborators.yaml"),
            "INPUT_ARGS": args,
            **{f"INPUT_{k.upper()}": v for k, v in inputs.items()},
        }
        return subprocess.run(
            [sys.executable, "-m", "reconciler.cli.action_runner"],
            cwd=self.folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    @property
    def outputs(self) -> dict[str, str]:
        lines = (self.folder / "output").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines)

    @property
    def summary(self) -> str:
        return (self.folder / "summary").read_text()


@pytest.fixture
def run_step(tmp_path: Path) -> Step:
    return Step(tmp_path)


def test_the_pull_request_loop_plan_then_apply_the_reviewed_checksum(run_step: Step) -> None:
    result = run_step("plan", "--sandbox")
    assert result.returncode == 0, result.stdout + result.stderr
    out = run_step.outputs
    assert out["exit-code"] == "2"
    assert out["changes-pending"] == "true"
    saved = json.loads(Path(out["json"]).read_text())
    assert re.fullmatch(r"[0-9a-f]{64}", out["checksum"])
    assert out["checksum"] == saved["checksum"]
    markdown = Path(out["output"]).read_text()
    assert markdown.startswith("### Reconciler plan")
    assert run_step.summary == markdown
    assert "reconcile plan -c collaborators.yaml --format markdown --detailed-exitcode" in (
        result.stdout
    )
    # the Markdown is echoed to the log with workflow commands off
    stop = re.search(r"^::stop-commands::([0-9a-f]{32})$", result.stdout, re.MULTILINE)
    assert stop is not None, result.stdout
    shown = result.stdout.split(stop.group(0))[1].split(f"::{stop.group(1)}::")[0]
    assert "### Reconciler plan" in shown
    reviewed = out["checksum"]
    plan_files = {out["output"], out["json"], out["log"]}

    stopped = run_step("apply", "--sandbox --checksum " + "0" * 64)
    assert stopped.returncode == 1
    assert run_step.outputs["exit-code"] == "3"
    assert run_step.outputs["json"] == ""
    assert "::error::reconcile apply exited with 3" in stopped.stdout
    assert "**The command failed (exit 3).**" in run_step.summary
    assert "the plan changed since it was reviewed" in run_step.summary

    # the plan's checksum, as the apply workflow passes it
    applied = run_step("apply", f"--sandbox --checksum {reviewed}")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    out = run_step.outputs
    assert (out["exit-code"], out["changes-pending"]) == ("0", "true")
    report = json.loads(Path(out["json"]).read_text())
    assert report["converged"] is True
    assert len(report["applied"]) == len(report["plan"]["changes"]) > 0
    assert out["checksum"] == report["plan"]["checksum"] == reviewed
    # each run keeps its own files: the plan's are still there, unchanged
    assert not plan_files & {out["output"], out["json"], out["log"]}
    assert json.loads(Path(next(p for p in plan_files if p.endswith(".json"))).read_text()) == saved
    assert "Converged: a fresh plan finds no changes." in run_step.summary


def test_fail_on_error_false_leaves_the_decision_to_the_workflow(run_step: Step) -> None:
    result = run_step("plan", "--sandbox", config="missing.yaml", **{"fail_on_error": "false"})
    assert result.returncode == 0
    assert run_step.outputs["exit-code"] == "1"
    assert run_step.outputs["changes-pending"] == "false"
    assert "missing.yaml" in run_step.summary


def test_validation_problems_are_annotations_in_the_log_not_in_the_output(
    run_step: Step,
) -> None:
    bad = run_step.folder / "bad.yaml"
    bad.write_text((ROOT / "tests" / "invalid" / "id-uppercase.yaml").read_text())
    result = run_step("plan", config="bad.yaml", summary="true")
    assert result.returncode == 1
    assert "::error file=bad.yaml,line=9,col=5::" in result.stderr
    assert "::error file=" not in Path(run_step.outputs["output"]).read_text()
    assert "**The command failed (exit 1).**" in run_step.summary
    assert "\n    bad.yaml:9:5: collaborators[0].id:" in run_step.summary


def test_validate_summarises_the_result(run_step: Step) -> None:
    assert run_step("validate").returncode == 0
    assert run_step.outputs["exit-code"] == "0"
    assert run_step.summary == (
        "### Reconciler validate\n\n    collaborators.yaml is valid: 3 collaborators.\n\n"
    )


@pytest.mark.parametrize(
    ("command", "args", "message"),
    [
        ("destroy", "", "input 'command' must be one of validate, plan, apply, verify, report"),
        ("plan", "--checksum 'abc", "input 'args' cannot be split into flags"),
    ],
)
def test_wrong_inputs_are_one_clear_error(
    run_step: Step, command: str, args: str, message: str
) -> None:
    result = run_step(command, args)
    assert result.returncode == 1
    assert result.stdout.startswith(f"::error::reconciler action: {message}")
    assert "Traceback" not in result.stderr


def test_verify_writes_markdown(run_step: Step) -> None:
    result = run_step("verify", "--desired")
    assert result.returncode == 0, result.stdout + result.stderr
    out = run_step.outputs
    assert (out["exit-code"], out["json"], out["changes-pending"]) == ("0", "", "false")
    assert Path(out["output"]).read_text().startswith("### ")
    assert run_step.summary == Path(out["output"]).read_text()


def test_report_writes_the_access_review_as_markdown(run_step: Step) -> None:
    result = run_step("report", "--sandbox")
    assert result.returncode == 0, result.stdout + result.stderr
    out = run_step.outputs
    assert (out["exit-code"], out["json"], out["changes-pending"]) == ("0", "", "false")
    review = Path(out["output"]).read_text()
    assert review.startswith("### Access review\n")
    assert "| alice |" in review
    assert run_step.summary == review


def test_the_plan_workflows_base_config_arguments_label_every_change(run_step: Step) -> None:
    """The plan workflow passes the base branch's file; the sandbox starts empty, so the base
    file (the same as the head) would make every change: all drift. No base file: all edit."""
    base = run_step.folder / ".reconciler-base"
    base.mkdir()
    shutil.copy(run_step.folder / "collaborators.yaml", base / "collaborators.yaml")
    args = "--sandbox --base-config .reconciler-base/collaborators.yaml"
    assert run_step("plan", args).returncode == 0
    origins = {
        c["origin"] for c in json.loads(Path(run_step.outputs["json"]).read_text())["changes"]
    }
    assert origins == {"drift"}
    assert "#### Changed outside the tool: will be reverted (drift)" in run_step.summary
    (base / "collaborators.yaml").unlink()
    assert run_step("plan", args).returncode == 0
    origins = {
        c["origin"] for c in json.loads(Path(run_step.outputs["json"]).read_text())["changes"]
    }
    assert origins == {"edit"}
