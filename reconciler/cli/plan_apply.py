"""`reconcile plan` and `reconcile apply`."""

from __future__ import annotations

import json
import re
import sys
from datetime import date
from typing import Any

import click

from reconciler.access.gate import refuse_unsafe
from reconciler.apply.executor import ApplyResult, apply_plan
from reconciler.cli.app import cli
from reconciler.cli.auditing import AuditOptions, audit_options, audit_sinks, audited
from reconciler.cli.common import (
    EXIT_CHANGES,
    Options,
    OutputPath,
    apply_report,
    aws_options,
    aws_session,
    check_account,
    confirm,
    echo_apply_json,
    echo_apply_markdown,
    echo_apply_text,
    echo_plan,
    progress_printer,
    read_and_plan,
)
from reconciler.cli.interrupts import StopFlag, stop_on_signals
from reconciler.cli.lifecycle_options import lifecycle_options, today_utc
from reconciler.cli.locking import apply_lock, lock_options
from reconciler.cli.origins import base_config_option, base_labels, only_option, trail_labels
from reconciler.cli.output import apply_progress, output_options, terminal_from
from reconciler.config import load_config
from reconciler.errors import PlanError, ReconcilerError, RefusedError
from reconciler.model import Config
from reconciler.plan.changes import Plan
from reconciler.plan.safety import check_mass_change, check_mass_grant, check_reviewed
from reconciler.render.json_plan import render_json

_ALLOW_MASS_DELETE = click.option(
    "--allow-mass-delete",
    is_flag=True,
    help="Accept a plan that deletes or replaces more than safety.max_delete_fraction of the "
    "managed collaborators, or all of them.",
)

_ALLOW_MASS_GRANT = click.option(
    "--allow-mass-grant",
    is_flag=True,
    help="Accept a plan that widens the access of more than safety.max_grant_fraction of the "
    "existing collaborators.",
)


def check_plan(
    plan: Plan,
    config: Config,
    *,
    allow_mass_delete: bool,
    verb: str,
    allow_mass_grant: bool = False,
) -> None:
    """Rules every plan must pass before it may be applied (exit 1 or 3)."""
    if plan.errors:
        raise PlanError(f"the plan has {len(plan.errors)} error(s); nothing {verb}")
    refuse_unsafe(plan, doing=f"nothing {verb}")  # the security gate: no override
    if not allow_mass_delete:
        check_mass_change(
            plan,
            max_fraction=config.safety.max_delete_fraction,
            desired_count=len(config.collaborators),
        )
    if not allow_mass_grant:
        check_mass_grant(plan, max_fraction=config.safety.max_grant_fraction)


def planning(opts: Options, day: date, adopt: bool, only: tuple[str, ...]) -> dict[str, Any]:
    """How plan and apply read and plan (the account was checked first)."""
    return {"checked": True, "today": day, "adopt": adopt, "only": only, **opts.reading}


@cli.command("plan")
@aws_options
@output_options
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there are no changes, 2 when changes are pending, 1 on error.",
)
@click.option(
    "--out",
    type=OutputPath(),
    help="Also save the JSON plan (with its checksum) for `apply --plan-file`.",
)
@_ALLOW_MASS_DELETE
@_ALLOW_MASS_GRANT
@base_config_option
@only_option
@lifecycle_options
def plan_command(
    detailed_exitcode: bool,
    out: str | None,
    allow_mass_delete: bool,
    allow_mass_grant: bool,
    base_config: str | None,
    only: tuple[str, ...],
    adopt: bool,
    today: str | None,
    **kwargs: Any,
) -> None:
    """Show the changes that would make live AWS match collaborators.yaml. Changes nothing.

    \b
    Examples:
      reconcile plan --sandbox
      reconcile plan --out plan.json        # review it, then: apply --plan-file plan.json
      reconcile plan --format json > plan.json
      reconcile plan --format markdown > plan.md   # for a pull-request comment
      reconcile plan --detailed-exitcode   # exit 2 when changes are pending
      reconcile plan -v                    # log every AWS call to stderr
      reconcile plan --base-config base.yaml   # label each change edit or drift
      reconcile plan --only alice --only bob   # only these collaborators
    """
    term = terminal_from(kwargs)
    opts = Options(**kwargs)
    config = load_config(opts.config)
    base = base_labels(base_config) if base_config else None
    day = today_utc(today)
    with aws_session(opts, config) as clients:
        if base is None:
            check_account(clients, config)  # before the audit trail is read
            base = trail_labels(audit_sinks(clients, config, AuditOptions()), config)
        plan = read_and_plan(clients, config, labels=base, **planning(opts, day, adopt, only))
    echo_plan(plan, opts.output_format, style=term.style, quiet=term.quiet)
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(render_json(plan))
    try:
        check_plan(
            plan,
            config,
            allow_mass_delete=allow_mass_delete,
            allow_mass_grant=allow_mass_grant,
            verb="can be applied",
        )
    except RefusedError as err:
        if opts.output_format == "markdown" and not plan.refusals:
            # a mass guard: the pull-request comment says why the plan is refused (the gate's
            # refusals are already in it)
            click.echo(f"#### Refused (exit 3)\n\n```text\n{err}\n```")
        raise
    if detailed_exitcode and not plan.is_empty:
        sys.exit(EXIT_CHANGES)


def _check_checksum(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A plan checksum is a SHA-256: 64 hexadecimal characters. Anything else is a mistake in
    the command, not a plan that changed since it was reviewed."""
    if value is None:
        return None
    text = value.strip().lower()
    if not _CHECKSUM.fullmatch(text):
        raise click.BadParameter(
            f"{value!r} is not a plan checksum: 64 hexadecimal characters (a SHA-256), as "
            '`reconcile plan --format json` prints in "checksum"; copy it whole',
            ctx=ctx,
            param=param,
        )
    return text


_CHECKSUM = re.compile(r"[0-9a-f]{64}")


@cli.command("apply")
@aws_options
@output_options
@click.option("--auto-approve", is_flag=True, help="Apply without asking for confirmation.")
@click.option(
    "--plan-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Apply only if a fresh plan equals this reviewed plan (from `plan --out`).",
)
@click.option(
    "--checksum",
    callback=_check_checksum,
    metavar="SHA256",
    help="Apply only if a fresh plan has this checksum (the 64 hexadecimal characters of "
    "`checksum` in `plan --format json`, or the action's `checksum` output).",
)
@click.option(
    "--out",
    type=OutputPath(),
    help="Also save the JSON apply report (the plan, what was applied, failed and skipped, "
    "whether it converged).",
)
@_ALLOW_MASS_DELETE
@_ALLOW_MASS_GRANT
@only_option
@lock_options
@lifecycle_options
@audit_options
def apply_command(
    auto_approve: bool,
    plan_file: str | None,
    checksum: str | None,
    out: str | None,
    allow_mass_delete: bool,
    allow_mass_grant: bool,
    only: tuple[str, ...],
    lock_bucket: str | None,
    lock_key: str | None,
    lock_timeout: float,
    adopt: bool,
    today: str | None,
    audit_log: str | None,
    audit_bucket: str | None,
    audit_prefix: str | None,
    **kwargs: Any,
) -> None:
    """Make live AWS match collaborators.yaml, then check that it converged.

    Takes the apply lock, computes a fresh plan, shows it, asks for `yes` (or takes
    --auto-approve), applies the changes in dependency order and plans again to confirm
    nothing is left. With --plan-file or --checksum it applies only what was reviewed.

    \b
    Examples:
      reconcile apply --sandbox --auto-approve
      reconcile plan --out plan.json && reconcile apply --plan-file plan.json --auto-approve
      reconcile apply --checksum "$(jq -r .checksum plan.json)" --auto-approve
      reconcile apply --auto-approve --out apply.json   # also save the JSON report
      reconcile apply --lock-timeout 600    # wait up to 10 minutes for another apply
      reconcile apply --auto-approve --format markdown >> "$GITHUB_STEP_SUMMARY"
      reconcile apply --auto-approve -q     # only errors and the summary
      reconcile apply --adopt               # take over a setup built by hand (see import)
      reconcile apply --audit-log audit.jsonl --audit-bucket my-audit-bucket
      reconcile apply --only carol          # only this collaborator; the rest is left as is
    """
    term = terminal_from(kwargs)
    opts = Options(**kwargs)
    config = load_config(opts.config)
    reviewed = _reviewed(plan_file, checksum)
    day = today_utc(today)
    audit = AuditOptions(audit_log, audit_bucket, audit_prefix)
    with aws_session(opts, config) as clients:
        check_account(clients, config)
        with (
            apply_lock(clients, config, lock_bucket, lock_key, lock_timeout) as lock,
            audited(clients, config, audit, today=day, adopt=adopt) as run,
        ):
            how = planning(opts, day, adopt, only)
            labels = trail_labels(run.sinks, config)
            plan = run.plan = read_and_plan(clients, config, labels=labels, **how)
            if opts.output_format == "text":
                echo_plan(plan, "text", style=term.style, quiet=term.quiet)
            elif plan.errors and opts.output_format == "markdown":
                echo_plan(plan, "markdown")
            check_plan(
                plan,
                config,
                allow_mass_delete=allow_mass_delete,
                allow_mass_grant=allow_mass_grant,
                verb="was applied",
            )
            if reviewed is not None:
                check_reviewed(plan, checksum=reviewed[0], reviewed_changes=reviewed[1])
            if plan.is_empty:
                save_report(out, plan, None, True)
                if opts.output_format == "json":
                    echo_apply_json(plan, None, True)
                elif opts.output_format == "markdown":
                    echo_apply_markdown(plan, None, True)
                return
            confirm(auto_approve)
            if lock is not None:
                lock.renew()  # refuses to write when the lock expired meanwhile and was taken
            from reconciler.aws.writer import AwsWriter

            writer = AwsWriter(clients, config.account_id)
            stop = StopFlag()  # after Ctrl-C, changes not started are summed up, not listed
            log_line = run.track(progress_printer(opts.output_format, stopped=stop))
            with (
                stop_on_signals(stop),
                apply_progress(term, len(plan.changes), opts.output_format, log_line) as progress,
            ):
                result = run.result = apply_plan(
                    plan,
                    writer,
                    progress=progress,
                    should_stop=stop,
                    workers=opts.workers,
                    around=run.around,
                )
            if result.interrupted:
                save_report(out, plan, result, False)
                _report_interrupted(result.applied, result.skipped)
                sys.exit(stop.exit_code)
            after = run.after = read_and_plan(clients, config, **how)
    converged = after.is_empty
    save_report(out, plan, result, converged)
    if opts.output_format == "json":
        echo_apply_json(plan, result, converged)
    elif opts.output_format == "markdown":
        echo_apply_markdown(plan, result, converged)
    else:
        echo_apply_text(result, after, style=term.style)
    if result.failures or not converged:
        sys.exit(1)


def save_report(out: str | None, plan: Plan, result: ApplyResult | None, converged: bool) -> None:
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(apply_report(plan, result, converged) + "\n")


def _reviewed(
    plan_file: str | None, checksum: str | None
) -> tuple[str, list[dict[str, Any]] | None] | None:
    if plan_file and checksum:
        raise click.UsageError("give --plan-file or --checksum, not both")
    if checksum:
        return checksum.strip(), None
    if not plan_file:
        return None
    try:
        with open(plan_file, encoding="utf-8") as handle:
            doc = json.load(handle)
        return str(doc["checksum"]), list(doc["changes"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ReconcilerError(
            f"{plan_file}: not a plan saved by `reconcile plan --out` ({err})"
        ) from None


def _report_interrupted(applied: Any, skipped: Any) -> None:
    click.echo(
        f"Interrupted: {len(applied)} change(s) applied, {len(skipped)} not started. "
        "The lock was released; run apply again to finish.",
        err=True,
    )
