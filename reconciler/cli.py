"""Command line: argument parsing and wiring. The only module that prints or exits.

Exit codes: 0 success (plan: no changes), 1 error, 2 changes pending (plan --detailed-exitcode),
3 refused by a safety rule.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click

from reconciler import __version__
from reconciler.config import load_config
from reconciler.errors import AccountMismatchError, PlanError, ReconcilerError, RefusedError
from reconciler.executor import ApplyResult, Failure, Outcome, apply_plan
from reconciler.model import Config
from reconciler.plan import Change, Plan
from reconciler.planner import plan as make_plan
from reconciler.render.json_plan import plan_document, render_json
from reconciler.render.text import change_headline, render_text

EXIT_CHANGES = 2


@dataclass(frozen=True)
class Options:
    config: str
    output_format: str
    profile: str | None
    region: str | None
    endpoint_url: str | None
    sandbox: bool


def _aws_options(func: Any) -> Any:
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
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="reconcile")
def cli() -> None:
    """GitOps for sharing one S3 bucket with research collaborators.

    collaborators.yaml describes who may reach which folder; `plan` shows what would change
    in AWS, `apply` makes live AWS match the file. Also accepted: `reconcile --plan` and
    `reconcile --apply`.

    \b
    Examples:
      reconcile validate
      reconcile plan --sandbox
      reconcile apply --sandbox --auto-approve
      reconcile plan --format json --detailed-exitcode
    """


@cli.command()
@click.option(
    "-c",
    "--config",
    default="collaborators.yaml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The desired-state file.",
)
def validate(config: str) -> None:
    """Check collaborators.yaml offline: no credentials, no network.

    \b
    Example:
      reconcile validate -c collaborators.yaml
    """
    loaded = load_config(config)
    count = len(loaded.collaborators)
    click.echo(f"{config} is valid: {count} collaborator{'s' if count != 1 else ''}.")


@cli.command("plan")
@_aws_options
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there are no changes, 2 when changes are pending, 1 on error.",
)
def plan_command(detailed_exitcode: bool, **kwargs: Any) -> None:
    """Show the changes that would make live AWS match collaborators.yaml. Changes nothing.

    \b
    Examples:
      reconcile plan --sandbox
      reconcile plan --format json > plan.json
      reconcile plan --detailed-exitcode   # exit 2 when changes are pending
    """
    opts = Options(**kwargs)
    config = load_config(opts.config)
    with _aws(opts, config) as clients:
        plan = _read_and_plan(clients, config)
    _echo_plan(plan, opts.output_format)
    if plan.errors:
        raise PlanError(f"the plan has {len(plan.errors)} error(s); nothing can be applied")
    if detailed_exitcode and not plan.is_empty:
        sys.exit(EXIT_CHANGES)


@cli.command("apply")
@_aws_options
@click.option("--auto-approve", is_flag=True, help="Apply without asking for confirmation.")
def apply_command(auto_approve: bool, **kwargs: Any) -> None:
    """Make live AWS match collaborators.yaml, then check that it converged.

    Computes a fresh plan, shows it, asks for `yes` (or takes --auto-approve), applies the
    changes in dependency order and plans again to confirm nothing is left.

    \b
    Examples:
      reconcile apply --sandbox --auto-approve
      reconcile apply --profile research-admin
    """
    opts = Options(**kwargs)
    config = load_config(opts.config)
    with _aws(opts, config) as clients:
        plan = _read_and_plan(clients, config)
        if opts.output_format == "text":
            _echo_plan(plan, "text")
        if plan.errors:
            raise PlanError(f"the plan has {len(plan.errors)} error(s); nothing was applied")
        if plan.is_empty:
            if opts.output_format == "json":
                _echo_apply_json(plan, None, True)
            return
        _confirm(auto_approve)
        from reconciler.aws.writer import AwsWriter

        writer = AwsWriter(clients, config.account_id)
        result = apply_plan(plan, writer, progress=_progress(opts.output_format))
        after = _read_and_plan(clients, config)
    converged = after.is_empty
    if opts.output_format == "json":
        _echo_apply_json(plan, result, converged)
    else:
        _echo_apply_text(result, after)
    if result.failures or not converged:
        sys.exit(1)


# --- wiring -----------------------------------------------------------------------------------


@contextmanager
def _aws(opts: Options, config: Config) -> Iterator[Any]:
    from reconciler.aws.session import Clients, Connection

    region = opts.region or config.region
    if opts.sandbox:
        from reconciler.aws.sandbox import sandbox

        with sandbox(config.account_id, region):
            yield Clients(Connection(region=region))
        return
    yield Clients(Connection(region=region, profile=opts.profile, endpoint_url=opts.endpoint_url))


def _read_and_plan(clients: Any, config: Config) -> Plan:
    from reconciler.aws.reader import AwsReader

    reader = AwsReader(clients)
    account = reader.caller_account()
    if account != config.account_id:
        raise AccountMismatchError(
            f"the credentials belong to AWS account {account}, but {config.source} says "
            f"account_id {config.account_id}: refusing to run against another account"
        )
    return make_plan(config, reader.read(config))


def _echo_plan(plan: Plan, output_format: str) -> None:
    click.echo(render_json(plan) if output_format == "json" else render_text(plan), nl=False)


def _confirm(auto_approve: bool) -> None:
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


def _progress(output_format: str) -> Any:
    err = output_format == "json"

    def report(change: Change, outcome: Outcome, failure: Failure | None) -> None:
        line = f"{outcome.value}: {change_headline(change)}"
        if failure is not None:
            line += f" ({failure.code}: {failure.message})"
        click.echo(line, err=err)

    return report


def _echo_apply_text(result: ApplyResult, after: Plan) -> None:
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


def _echo_apply_json(plan: Plan, result: ApplyResult | None, converged: bool) -> None:
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


# --- entry point ------------------------------------------------------------------------------

_ALIASES = {"--plan": "plan", "--apply": "apply", "--validate": "validate"}


def normalize_argv(argv: list[str]) -> list[str]:
    """Accept `reconcile --plan ...` / `reconcile --apply ...` as the subcommands."""
    for flag, command in _ALIASES.items():
        if flag in argv:
            rest = [a for a in argv if a != flag]
            return [command, *rest]
    return argv


def main(argv: list[str] | None = None) -> None:
    args = normalize_argv(list(sys.argv[1:] if argv is None else argv))
    try:
        cli.main(args=args, prog_name="reconcile", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(130)
    except click.ClickException as err:
        click.echo(f"error: {err.format_message()}", err=True)
        if isinstance(err, click.UsageError) and err.ctx is not None:
            click.echo(f"Try '{err.ctx.command_path} --help' for help.", err=True)
        sys.exit(1)
    except ReconcilerError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    sys.exit(0)
