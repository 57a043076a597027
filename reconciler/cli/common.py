"""Shared command-line pieces: options, AWS wiring, plan and apply output.

The cli package is the only place that prints or exits. Exit codes: 0 success (plan: no
changes), 1 error, 2 changes pending (plan --detailed-exitcode), 3 refused by a safety rule.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click

from reconciler.errors import AccountMismatchError, ReconcilerError, RefusedError
from reconciler.executor import ApplyResult, Failure, Outcome
from reconciler.model import Config
from reconciler.plan import Change, Plan
from reconciler.planner import plan as make_plan
from reconciler.render.json_plan import plan_document, render_json
from reconciler.render.text import change_headline, render_text
from reconciler.workers import DEFAULT_WORKERS, MAX_WORKERS

EXIT_CHANGES = 2


@dataclass(frozen=True)
class Options:
    config: str
    output_format: str
    profile: str | None
    region: str | None
    endpoint_url: str | None
    sandbox: bool
    workers: int = DEFAULT_WORKERS
    verify_tags: bool = False


def aws_options(func: Any) -> Any:
    options = [
        click.option(
            "-c",
            "--config",
            default="collaborators.yaml",
            show_default=True,
            type=click.Path(dir_okay=False),
            help="The desired-state file.",
        ),
        click.option(
            "--format",
            "output_format",
            type=click.Choice(["text", "json"]),
            default="text",
            show_default=True,
            help="Plan output format.",
        ),
        click.option("--profile", envvar="AWS_PROFILE", help="AWS profile to use."),
        click.option("--region", help="Override the Region from collaborators.yaml."),
        click.option(
            "--endpoint-url",
            envvar="AWS_ENDPOINT_URL",
            help="Custom AWS endpoint (moto server, LocalStack). Also AWS_ENDPOINT_URL.",
        ),
        click.option(
            "--sandbox",
            is_flag=True,
            help="Run against an embedded in-process AWS emulator: no AWS account needed.",
        ),
        click.option(
            "--workers",
            envvar="RECONCILE_WORKERS",
            type=click.IntRange(1, MAX_WORKERS),
            default=DEFAULT_WORKERS,
            show_default=True,
            help="AWS calls made at once (reads and writes). Also RECONCILE_WORKERS.",
        ),
        click.option(
            "--verify-tags",
            is_flag=True,
            help="Also read the tags of access points already in sync (one more call per "
            "collaborator): finds reconciler tags removed by hand.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


# --- wiring -----------------------------------------------------------------------------------


@contextmanager
def aws_session(opts: Options, config: Config) -> Iterator[Any]:
    from reconciler.aws.session import Clients, Connection

    region = opts.region or config.region
    if opts.sandbox:
        from reconciler.aws.sandbox import sandbox

        with sandbox(config.account_id, region):
            yield Clients(Connection(region=region, max_pool_connections=opts.workers))
        return
    yield Clients(
        Connection(
            region=region,
            profile=opts.profile,
            endpoint_url=opts.endpoint_url,
            max_pool_connections=opts.workers,  # one HTTP connection per worker
        )
    )


def read_and_plan(
    clients: Any, config: Config, *, workers: int = DEFAULT_WORKERS, verify_tags: bool = False
) -> Plan:
    from reconciler.aws.reader import AwsReader

    reader = AwsReader(clients, workers=workers, verify_tags=verify_tags)
    account = reader.caller_account()
    if account != config.account_id:
        raise AccountMismatchError(
            f"the credentials belong to AWS account {account}, but {config.source} says "
            f"account_id {config.account_id}: refusing to run against another account"
        )
    return make_plan(config, reader.read(config))


def echo_plan(plan: Plan, output_format: str) -> None:
    click.echo(render_json(plan) if output_format == "json" else render_text(plan), nl=False)


def confirm(auto_approve: bool) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise ReconcilerError(
            "apply needs confirmation but there is no terminal: review the plan and pass "
            "--auto-approve"
        )
    answer = click.prompt("Apply these changes? Only 'yes' will be accepted", default="")
    if answer.strip() != "yes":
        raise RefusedError("apply cancelled: nothing was changed")


def progress_printer(output_format: str) -> Any:
    err = output_format == "json"

    def report(change: Change, outcome: Outcome, failure: Failure | None) -> None:
        line = f"{outcome.value}: {change_headline(change)}"
        if failure is not None:
            line += f" ({failure.code}: {failure.message})"
        click.echo(line, err=err)

    return report


def echo_apply_text(result: ApplyResult, after: Plan) -> None:
    click.echo("")
    click.echo(
        f"Apply: {len(result.applied)} applied, {len(result.failures)} failed, "
        f"{len(result.skipped)} skipped."
    )
    for failure in result.failures:
        click.echo(_failure_line(failure), err=True)
    if after.is_empty:
        click.echo("Converged: a fresh plan finds no changes.")
    else:
        click.echo("Not converged: a fresh plan still finds changes:")
        click.echo(render_text(after), nl=False)


def _failure_line(failure: Failure) -> str:
    rid = f", request id {failure.request_id}" if failure.request_id else ""
    return f"failed: {change_headline(failure.change)}: {failure.code}: {failure.message}{rid}"


def echo_apply_json(plan: Plan, result: ApplyResult | None, converged: bool) -> None:
    doc: dict[str, Any] = {"plan": plan_document(plan), "converged": converged}
    if result is not None:
        doc["applied"] = [c.to_json() for c in result.applied]
        doc["failures"] = [
            {
                "change": f.change.to_json(),
                "code": f.code,
                "message": f.message,
                "request_id": f.request_id,
            }
            for f in result.failures
        ]
        doc["skipped"] = [c.to_json() for c in result.skipped]
    click.echo(json.dumps(doc, indent=2))
