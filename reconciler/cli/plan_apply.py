"""`reconcile plan` and `reconcile apply`."""

from __future__ import annotations

import sys
from typing import Any

import click

from reconciler.cli.app import cli
from reconciler.cli.common import (
    EXIT_CHANGES,
    Options,
    aws_options,
    aws_session,
    confirm,
    echo_apply_json,
    echo_apply_text,
    echo_plan,
    progress_printer,
    read_and_plan,
)
from reconciler.config import load_config
from reconciler.errors import PlanError
from reconciler.executor import apply_plan


@cli.command("plan")
@aws_options
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
    with aws_session(opts, config) as clients:
        plan = read_and_plan(clients, config, workers=opts.workers, verify_tags=opts.verify_tags)
    echo_plan(plan, opts.output_format)
    if plan.errors:
        raise PlanError(f"the plan has {len(plan.errors)} error(s); nothing can be applied")
    if detailed_exitcode and not plan.is_empty:
        sys.exit(EXIT_CHANGES)


@cli.command("apply")
@aws_options
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
    with aws_session(opts, config) as clients:
        plan = read_and_plan(clients, config, workers=opts.workers, verify_tags=opts.verify_tags)
        if opts.output_format == "text":
            echo_plan(plan, "text")
        if plan.errors:
            raise PlanError(f"the plan has {len(plan.errors)} error(s); nothing was applied")
        if plan.is_empty:
            if opts.output_format == "json":
                echo_apply_json(plan, None, True)
            return
        confirm(auto_approve)
        from reconciler.aws.writer import AwsWriter

        writer = AwsWriter(clients, config.account_id)
        result = apply_plan(
            plan, writer, progress=progress_printer(opts.output_format), workers=opts.workers
        )
        after = read_and_plan(clients, config, workers=opts.workers, verify_tags=opts.verify_tags)
    converged = after.is_empty
    if opts.output_format == "json":
        echo_apply_json(plan, result, converged)
    else:
        echo_apply_text(result, after)
    if result.failures or not converged:
        sys.exit(1)
