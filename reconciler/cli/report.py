"""Printing validation errors: one line per problem on stderr, and under GitHub Actions also
workflow-command annotations so each problem shows on the pull request's diff."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import click

from reconciler.errors import ConfigError, ConfigProblem, ReconcilerError
from reconciler.render.json_plan import FORMAT_VERSION


def echo_config_error(err: ConfigError) -> None:
    """Under GitHub Actions each problem is also a workflow-command annotation, once, on
    stderr like the error itself: stdout may be a plan.md for a pull-request comment."""
    click.echo(str(err), err=True)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        for problem in err.problems:
            click.echo(github_annotation(problem), err=True)


def error_document(err: ReconcilerError) -> str:
    """With --format json, an error is a JSON document too: the plan's format_version and its
    `errors` (one line each), and for an invalid file each problem with its place."""
    doc: dict[str, Any] = {"format_version": FORMAT_VERSION}
    if isinstance(err, ConfigError):
        doc["errors"] = [str(p) for p in err.problems]
        doc["problems"] = [dataclasses.asdict(p) for p in err.problems]
    else:
        doc["errors"] = [str(err)]
    doc["exit_code"] = err.exit_code
    return json.dumps(doc, indent=2)


def github_annotation(problem: ConfigProblem) -> str:
    """`::error file=F,line=L,col=C::message` (GitHub Actions workflow command syntax)."""
    props = [f"file={_escape_property(problem.file)}"]
    if problem.line is not None:
        props.append(f"line={problem.line}")
    if problem.column is not None:
        props.append(f"col={problem.column}")
    message = f"{problem.path}: {problem.message}" if problem.path else problem.message
    return f"::error {','.join(props)}::{_escape_data(message)}"


def echo_config_warning(file: str, message: str) -> None:
    """A warning about a valid file: stderr, and a ::warning annotation under GitHub Actions."""
    click.echo(f"{file}: warning: {message}", err=True)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        click.echo(f"::warning file={_escape_property(file)}::{_escape_data(message)}")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
