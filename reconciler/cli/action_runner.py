"""The GitHub Action's run step (action.yml): runs one `reconcile` command with the action's
inputs, keeps its output in files and hands back the action's outputs.

Inputs arrive as INPUT_* environment variables (never expanded into a script). Outputs go to
$GITHUB_OUTPUT; the Markdown output (or the error) is appended to $GITHUB_STEP_SUMMARY. Text
the command printed is echoed to the log between `::stop-commands::` markers, so nothing in it
(names from AWS, YAML values) is ever read as a workflow command; the command's own stderr
(errors and its `::error` annotations) is echoed as it is, so the annotations work.

Run as `python -m reconciler.cli.action_runner`; it is not a `reconcile` subcommand.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COMMANDS = ("validate", "plan", "apply", "verify", "report")
# exit codes that are not a failure of the command
SUCCESS = {"validate": {0}, "plan": {0, 2}, "apply": {0}, "verify": {0}, "report": {0}}
LOG_TAIL = 4000
ANNOTATION = "::error file="


class InputError(Exception):
    """A wrong action input: one line naming the input."""


@dataclass(frozen=True)
class Run:
    command: str
    argv: list[str]
    output: Path
    json: Path | None
    log: Path


def build_run(env: Mapping[str, str], reconcile: list[str], folder: Path) -> Run:
    """The command line for the action's inputs, and where its results are kept."""
    command = env.get("INPUT_COMMAND", "").strip()
    if command not in COMMANDS:
        raise InputError(f"input 'command' must be one of {', '.join(COMMANDS)}, not {command!r}")
    config = env.get("INPUT_CONFIG", "").strip() or "collaborators.yaml"
    try:
        extra = shlex.split(env.get("INPUT_ARGS", ""))
    except ValueError as err:
        raise InputError(f"input 'args' cannot be split into flags: {err}") from None
    json_path = folder / f"{command}.json" if command in ("plan", "apply") else None
    own = {
        "validate": [],
        "plan": ["--format", "markdown", "--detailed-exitcode", "--out", str(json_path)],
        "apply": ["--auto-approve", "--format", "markdown", "--out", str(json_path)],
        "verify": ["--format", "markdown"],
        "report": ["--format", "markdown"],  # the access review (docs/access-review.md)
    }[command]
    suffix = "txt" if command == "validate" else "md"
    return Run(
        command=command,
        argv=[*reconcile, command, "-c", config, *own, *extra],
        output=folder / f"{command}.{suffix}",
        json=json_path,
        log=folder / f"{command}.log",
    )


def outputs(run: Run, exit_code: int) -> dict[str, str]:
    """The action's outputs for a finished run."""
    doc = _read_json(run.json)
    plan = doc.get("plan", doc) if run.command == "apply" else doc
    if run.command == "plan":
        pending = exit_code == 2
    elif run.command == "apply":
        pending = bool(plan.get("changes"))
    else:
        pending = False
    return {
        "exit-code": str(exit_code),
        "output": str(run.output),
        "json": str(run.json) if doc else "",
        "log": str(run.log),
        "changes-pending": "true" if pending else "false",
        "checksum": str(plan.get("checksum", "")),
    }


def _read_json(path: Path | None) -> dict[str, Any]:
    if path is None or not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def summary(run: Run, exit_code: int) -> str:
    """What the job summary shows: the Markdown output, or the command's error."""
    text = run.output.read_text(encoding="utf-8") if run.output.is_file() else ""
    failed = exit_code not in SUCCESS[run.command]
    if run.command != "validate" and text.strip():
        return text if text.endswith("\n") else text + "\n"
    title = f"### Reconciler {run.command}\n\n"
    if not failed:
        return title + indented(text) + "\n"
    log = run.log.read_text(encoding="utf-8") if run.log.is_file() else ""
    return (
        title
        + f"**The command failed (exit {exit_code}).**\n\n"
        + indented(text + log[-LOG_TAIL:])
        + "\n"
    )


def indented(text: str) -> str:
    """A Markdown code block no text inside can end (indented, not fenced)."""
    return "".join(f"    {line}\n" for line in text.splitlines())


def main() -> None:
    env = os.environ
    # a folder of its own per run: a job may run the action more than once
    parent = Path(env.get("RUNNER_TEMP", ".")) / "reconciler"
    parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="run-", dir=parent))
    reconcile = [sys.executable, "-m", "reconciler"]
    try:
        run = build_run(env, reconcile, folder)
    except InputError as err:
        print(f"::error::reconciler action: {err}", flush=True)
        sys.exit(1)
    print("reconcile " + shlex.join(run.argv[len(reconcile) :]), flush=True)
    with run.output.open("w", encoding="utf-8") as out, run.log.open("w", encoding="utf-8") as log:
        exit_code = subprocess.run(run.argv, stdout=out, stderr=log, check=False).returncode
    move_annotations(run)
    _echo(run)
    values = outputs(run, exit_code)
    _append(env.get("GITHUB_OUTPUT"), "".join(f"{k}={v}\n" for k, v in values.items()))
    if env.get("INPUT_SUMMARY", "true").strip().lower() == "true":
        _append(env.get("GITHUB_STEP_SUMMARY"), summary(run, exit_code))
    failed = exit_code not in SUCCESS[run.command]
    if failed and env.get("INPUT_FAIL_ON_ERROR", "true").strip().lower() == "true":
        print(f"::error::reconcile {run.command} exited with {exit_code}", flush=True)
        sys.exit(1)


def move_annotations(run: Run) -> None:
    """The tool's own `::error file=...` annotations belong in the log, not in the Markdown a
    pull request shows (older versions printed them on stdout). They are one escaped line each,
    so no text from the YAML or AWS can start one."""
    lines = run.output.read_text(encoding="utf-8").splitlines(keepends=True)
    annotations = [line for line in lines if line.startswith(ANNOTATION)]
    if annotations:
        run.output.write_text("".join(x for x in lines if not x.startswith(ANNOTATION)), "utf-8")
        with run.log.open("a", encoding="utf-8") as log:
            log.writelines(annotations)


def _echo(run: Run) -> None:
    """Show the output in the log with workflow commands off, then the command's stderr."""
    token = secrets.token_hex(16)
    print(f"::stop-commands::{token}", flush=True)
    print(run.output.read_text(encoding="utf-8"), end="", flush=True)
    print(f"::{token}::", flush=True)
    print(run.log.read_text(encoding="utf-8"), end="", file=sys.stderr, flush=True)


def _append(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
