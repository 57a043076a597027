"""`reconcile gather`: the plans of every share's matrix job as one pull-request comment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from reconciler.cli.app import cli
from reconciler.render.markdown import DEFAULT_MAX_CHARS
from reconciler.render.shares import ShareResult, render_shares

RESULT_FILE = "share.json"
PLAN_FILE = "plan.md"


@cli.command()
@click.argument(
    "folder", type=click.Path(exists=True, file_okay=False, path_type=Path), default="plans"
)
@click.option(
    "--max-chars",
    type=click.IntRange(1_000, 65_000),
    default=DEFAULT_MAX_CHARS,
    show_default=True,
    help="Longest comment to write (GitHub's limit is 65,536).",
)
def gather(folder: Path, max_chars: int) -> None:
    """Print one Markdown comment for the plans of many shares.

    FOLDER (default: plans) holds one folder per share's plan job, as the plan workflow's
    artifacts download them: `share.json` ({"name", "config", "bucket", "exit_code"}, exit_code
    being `reconcile plan --detailed-exitcode`'s, null when the job failed before planning) and
    `plan.md` (the plan in Markdown). Shares with changes come first; every share is in the
    table, and a plan that does not fit is replaced by a pointer to its job summary.

    \b
    Examples:
      reconcile gather plans/ > comment.md
    """
    results = [_result(path) for path in sorted(folder.glob(f"*/{RESULT_FILE}"))]
    if not results:
        raise click.BadParameter(
            f"no */{RESULT_FILE} in {folder}: give the folder the plan jobs' artifacts were "
            "downloaded to",
            param_hint="FOLDER",
        )
    click.echo(render_shares(results, max_chars=max_chars), nl=False)


def _result(path: Path) -> ShareResult:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise click.BadParameter(
            f"{path}: not a JSON object ({err})", param_hint="FOLDER"
        ) from None
    if not isinstance(data, dict):
        raise click.BadParameter(f"{path}: not a JSON object", param_hint="FOLDER")
    plan = path.with_name(PLAN_FILE)
    code = data.get("exit_code")
    return ShareResult(
        name=str(data.get("name") or path.parent.name),
        config=str(data.get("config") or ""),
        bucket=str(data.get("bucket") or ""),
        exit_code=code if isinstance(code, int) else _int(code),
        markdown=plan.read_text(encoding="utf-8", errors="replace") if plan.is_file() else None,
    )


def _int(value: Any) -> int | None:
    """Exit codes written by a shell step arrive as text ("2"); anything else is unknown."""
    return int(value) if isinstance(value, str) and value.isdigit() else None
