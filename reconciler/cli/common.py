"""Shared command-line pieces: options, AWS wiring, plan and apply output.

The cli package is the only place that prints or exits. Exit codes: 0 success (plan: no
changes), 1 error, 2 changes pending (plan --detailed-exitcode), 3 refused by a safety rule.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import click

from reconciler.access.review import reviewed_plan as make_plan
from reconciler.apply.executor import ApplyResult, Failure, Outcome
from reconciler.cli.app import json_printed, remember_format
from reconciler.cli.lifecycle_options import today_utc
from reconciler.errors import AccountMismatchError, ReconcilerError, RefusedError
from reconciler.model import Config, LiveState
from reconciler.plan.changes import Change, Plan
from reconciler.render.json_plan import plan_document, render_json
from reconciler.render.markdown import render_apply_markdown, render_markdown
from reconciler.render.style import Style, plain
from reconciler.render.text import change_headline, render_text, render_text_summary
from reconciler.workers import DEFAULT_WORKERS, MAX_WORKERS

EXIT_CHANGES = 2


@dataclass(frozen=True)
class Options:
    config: str
    profile: str | None
    region: str | None
    endpoint_url: str | None
    sandbox: bool
    retry_mode: str
    max_attempts: int
    output_format: str = "text"
    workers: int = DEFAULT_WORKERS
    verify_tags: bool = False

    @property
    def reading(self) -> dict[str, Any]:
        """How live state is read: concurrency and whether in-sync tags are re-read."""
        return {"workers": self.workers, "verify_tags": self.verify_tags}


class ConfigPath(click.Path):
    """-c of a command that works on one share: a folder is a mistake that says which file to
    give (validate and matrix take folders)."""

    def __init__(self) -> None:
        super().__init__()

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = super().convert(value, param, ctx)
        text = os.fsdecode(path)
        if os.path.isdir(text):
            shares = sorted(name for name in os.listdir(text) if name.endswith((".yaml", ".yml")))
            example = os.path.join(text, shares[0] if shares else "NAME.yaml")
            self.fail(
                f"{text} is a folder: this command takes one share file, e.g. -c {example} "
                "(`reconcile validate` and `reconcile matrix` take folders)",
                param,
                ctx,
            )
        return path


config_option = click.option(
    "-c",
    "--config",
    default="collaborators.yaml",
    show_default=True,
    type=ConfigPath(),
    help="The desired-state file.",
)


def _check_endpoint(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(
            f"{value!r} is not a URL: give http(s)://HOST[:PORT], e.g. http://127.0.0.1:5000",
            ctx=ctx,
            param=param,
        )
    return value


def check_region(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--region: a Region of botocore's partition data (the standard aws partition), with a
    suggestion when it is close to one."""
    if value is None:
        return None
    from reconciler.aws.regions import region_problem

    problem = region_problem(value)
    if problem is not None:
        raise click.BadParameter(problem, ctx=ctx, param=param)
    return value


class OutputPath(click.Path):
    """A file the command writes: its folder must exist, checked before any AWS call, so a
    typo costs no plan and gives one line naming the option."""

    def __init__(self, *, allow_dash: bool = False) -> None:
        super().__init__(dir_okay=False, writable=True, allow_dash=allow_dash)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = super().convert(value, param, ctx)
        if path == "-" and self.allow_dash:
            return path
        if not os.fsdecode(path).strip():
            self.fail("empty: give a file name", param)
        folder = os.path.dirname(os.path.abspath(os.fsdecode(path)))
        if not os.path.isdir(folder):
            self.fail(
                f"the folder {folder} does not exist: create it, or choose another", param, ctx
            )
        return path


profile_option = click.option("--profile", envvar="AWS_PROFILE", help="AWS profile to use.")
endpoint_option = click.option(
    "--endpoint-url",
    envvar="AWS_ENDPOINT_URL",
    callback=_check_endpoint,
    help="Custom AWS endpoint (moto server, LocalStack). Also AWS_ENDPOINT_URL.",
)
sandbox_option = click.option(
    "--sandbox",
    is_flag=True,
    help="Run against the embedded AWS emulator, which remembers between commands in "
    ".reconcile-sandbox/ beside the config: no AWS account needed.",
)


def region_option(text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--region", callback=check_region, help=text)


def aws_options(
    func: Any,
    formats: tuple[str, ...] = ("text", "json", "markdown"),
    *,
    reads_state: bool = True,
) -> Any:
    """The options of commands that talk to AWS. Without `formats` there is no --format (the
    command prints one sentence); without `reads_state` no --workers / --verify-tags (the
    command reads no collaborators' state). An option means the same wherever it appears."""
    options: list[Any] = [config_option]
    if formats:
        options.append(
            click.option(
                "--format",
                "output_format",
                type=click.Choice(list(formats)),
                default="text",
                callback=remember_format,
                show_default=True,
                help="Output format: text for people, json for tools, markdown for PR comments.",
            )
        )
    options += [
        profile_option,
        region_option("Override the Region from collaborators.yaml."),
        endpoint_option,
        sandbox_option,
        click.option(
            "--retry-mode",
            type=click.Choice(["standard", "adaptive"]),
            envvar="AWS_RETRY_MODE",
            default="standard",
            show_default=True,
            help="botocore retry mode; adaptive also rate-limits the client under throttling.",
        ),
        click.option(
            "--max-attempts",
            type=click.IntRange(1, 50),
            envvar="AWS_MAX_ATTEMPTS",
            default=8,
            show_default=True,
            help="Attempts per AWS call, first try included (1 disables retries).",
        ),
    ]
    if reads_state:
        options += reading_options
    for option in reversed(options):
        func = option(func)
    return func


reading_options = [
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


# --- wiring -----------------------------------------------------------------------------------


@contextmanager
def aws_session(opts: Options, config: Config) -> Iterator[Any]:
    from reconciler.aws.session import Clients, Connection

    region = opts.region or config.region
    connection = Connection(
        region=region,
        profile=None if opts.sandbox else opts.profile,
        endpoint_url=None if opts.sandbox else opts.endpoint_url,
        retry_mode=opts.retry_mode,
        max_attempts=opts.max_attempts,
        max_pool_connections=opts.workers,  # one HTTP connection per worker
    )
    if opts.sandbox:
        from reconciler.aws.sandbox import sandbox, state_dir

        lock_bucket = os.environ.get("RECONCILE_LOCK_BUCKET") or config.lock_bucket
        logs = config.bucket.access_logs
        # buckets the config expects to exist already
        wanted = {lock_bucket, config.audit.bucket, logs.bucket if logs else None}
        existing = tuple(sorted(b for b in wanted if b and b != config.bucket.name))
        folder = state_dir(opts.config)
        policies = sandbox_policies(config)
        waiting = sandbox_waiting(folder)
        trail = config.bucket.data_events_trail
        with sandbox(
            config.account_id,
            region,
            existing,
            policies,
            folder=folder,
            on_wait=waiting,
            trails=(trail,) if trail else (),
        ):
            yield Clients(connection)
        return
    yield Clients(connection)


def sandbox_waiting(folder: Any) -> Callable[[], None]:
    """What a command says when another one is using the same sandbox (it waits its turn)."""

    def say() -> None:
        click.echo(
            f"note: waiting for another reconcile command using the sandbox in {folder} "
            "(one command at a time; it goes on when that one ends)",
            err=True,
        )

    return say


def sandbox_policies(config: Config) -> dict[str, Any]:
    """The managed policies the config expects administrators to have created."""
    from reconciler.documents.boundary import boundary_policy

    if not config.iam_permissions_boundary:
        return {}
    return {config.iam_permissions_boundary: boundary_policy(config)}


def check_account(clients: Any, config: Config) -> None:
    """Before anything else: the credentials must belong to the account the YAML names."""
    from reconciler.aws.reader import AwsReader

    account = AwsReader(clients).caller_account()
    if account != config.account_id:
        raise AccountMismatchError(
            f"the credentials belong to AWS account {account}, but {config.source} says "
            f"account_id {config.account_id}: refusing to run against another account"
        )


def read_live(
    clients: Any,
    config: Config,
    *,
    checked: bool = False,
    today: date | None = None,
    workers: int = DEFAULT_WORKERS,
    verify_tags: bool = False,
) -> LiveState:
    """Expired collaborators are read as suspended (as of `today`), so their keys are read."""
    from reconciler.aws.reader import AwsReader
    from reconciler.plan.lifecycle import resolve

    if not checked:
        check_account(clients, config)
    reader = AwsReader(clients, workers=workers, verify_tags=verify_tags)
    return reader.read(resolve(config, today or today_utc()))


def read_and_plan(
    clients: Any,
    config: Config,
    *,
    checked: bool = False,
    today: date | None = None,
    adopt: bool = False,
    workers: int = DEFAULT_WORKERS,
    verify_tags: bool = False,
    only: Collection[str] = (),
    labels: Any = None,
) -> Plan:
    """Expiry is judged as of `today` (default: --today / RECONCILE_TODAY, else UTC today).
    `only`: a targeted run (--only); `labels` (reconciler.cli.origins.Labels): tell drift from
    the edit under review."""
    day = today or today_utc()
    # adopting needs every access point's tags: an untagged one in sync must still be tagged
    live = read_live(
        clients,
        config,
        checked=checked,
        today=day,
        workers=workers,
        verify_tags=verify_tags or adopt,
    )
    plan = replace(make_plan(config, live, today=day, adopt=adopt, only=only), source=config.source)
    return plan if labels is None else labels.label(plan, config, live, day)


def echo_plan(plan: Plan, output_format: str, *, style: Style = plain, quiet: bool = False) -> None:
    if output_format == "json":
        text = render_json(plan)
        json_printed()
    elif output_format == "markdown":
        text = render_markdown(plan)
    elif quiet:
        text = render_text_summary(plan, style=style)
    else:
        text = render_text(plan, style=style)
    click.echo(text, nl=False, color=style is not plain)


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


def progress_printer(output_format: str, *, stopped: Callable[[], bool] = lambda: False) -> Any:
    """One line per change; once the apply was stopped (Ctrl-C), the changes it does not start
    are counted in the summary instead of listed one by one."""
    err = output_format != "text"

    def report(change: Change, outcome: Outcome, failure: Failure | None) -> None:
        if outcome is Outcome.SKIPPED and stopped():
            return
        line = f"{outcome.value}: {change_headline(change)}"
        if failure is not None:
            line += f" ({failure.code}: {failure.message})"
        click.echo(line, err=err)

    return report


def echo_apply_text(result: ApplyResult, after: Plan, *, style: Style = plain) -> None:
    color = style is not plain
    click.echo("")
    click.echo(
        style(
            f"Apply: {len(result.applied)} applied, {len(result.failures)} failed, "
            f"{len(result.skipped)} skipped.",
            "summary",
        ),
        color=color,
    )
    for failure in result.failures:
        click.echo(style(_failure_line(failure), "error"), err=True, color=color)
    if after.is_empty:
        click.echo(style("Converged: a fresh plan finds no changes.", "ok"), color=color)
    else:
        click.echo(style("Not converged: a fresh plan still finds changes:", "error"), color=color)
        click.echo(render_text(after, style=style), nl=False, color=color)


def echo_apply_markdown(plan: Plan, result: ApplyResult | None, converged: bool) -> None:
    click.echo(render_apply_markdown(plan, result, converged=converged), nl=False)


def _failure_line(failure: Failure) -> str:
    rid = f", request id {failure.request_id}" if failure.request_id else ""
    return f"failed: {change_headline(failure.change)}: {failure.code}: {failure.message}{rid}"


def apply_report(plan: Plan, result: ApplyResult | None, converged: bool) -> str:
    """The JSON apply report: the plan, what was applied, failed and skipped, convergence."""
    doc: dict[str, Any] = {"plan": plan_document(plan), "converged": converged}
    if result is not None:
        doc["applied"] = [c.to_json() for c in result.applied]
        doc["failures"] = [f.to_json() for f in result.failures]
        doc["skipped"] = [c.to_json() for c in result.skipped]
    return json.dumps(doc, indent=2)


def echo_apply_json(plan: Plan, result: ApplyResult | None, converged: bool) -> None:
    click.echo(apply_report(plan, result, converged))
