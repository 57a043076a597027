"""`reconcile report`: the periodic access review, from live state. Reads only: it runs with
the read-only role (`reconcile iam-policy --read-only`)."""

from __future__ import annotations

from typing import Any

import click

from reconciler.apply.audit import AuditSink, parsed
from reconciler.cli.app import cli
from reconciler.cli.auditing import AuditOptions, audit_options, audit_sinks
from reconciler.cli.common import Options, aws_options, aws_session, read_live
from reconciler.cli.lifecycle_options import today_utc
from reconciler.cli.output import output_options, terminal_from
from reconciler.config import load_config
from reconciler.model import Config, LiveState
from reconciler.plan import planner
from reconciler.render.access_report import RENDERERS, render_report_text
from reconciler.reports.access_report import (
    Credentials,
    LastApply,
    build_review,
    differing,
    last_applies,
    leftover_users,
)

FORMATS = ("text", "csv", "json", "markdown")


def _report_options(func: Any) -> Any:
    return aws_options(func, formats=FORMATS)


@cli.command("report")
@_report_options
@output_options
@audit_options
@click.option("--today", envvar="RECONCILE_TODAY", hidden=True, help="Review as of this date.")
def report_command(
    audit_log: str | None,
    audit_bucket: str | None,
    audit_prefix: str | None,
    today: str | None,
    **kwargs: Any,
) -> None:
    """The access review: one row per collaborator, from live AWS. Changes nothing.

    Each row: id, principal, access point, folder, levels (from the live access point
    policy), status and expiry; for IAM users their access keys (last four characters of the
    id, status, age, last use) and console password (present, last used); the last apply that
    touched it when an audit trail is configured; and flags: keys older than
    report.max_key_age_days, keys or users unused for report.max_unused_days, expiring soon,
    suspended with an active key, live access that differs from the file.

    \b
    Examples:
      reconcile report
      reconcile report --format csv > access-review.csv
      reconcile report --format markdown >> "$GITHUB_STEP_SUMMARY"
      reconcile report --format json | jq '.[] | select(.flags != [])'
    """
    term = terminal_from(kwargs)  # -v logs each AWS call; -q: only flagged rows; no colour
    opts = Options(**kwargs)
    config = load_config(opts.config)
    day = today_utc(today)
    with aws_session(opts, config) as clients:
        live = read_live(clients, config, today=day, **opts.reading)
        credentials = _credentials(clients, config, live, opts.workers)
        sinks = audit_sinks(clients, config, AuditOptions(audit_log, audit_bucket, audit_prefix))
        applies = _last_applies(sinks, config) if sinks else None
    changes = differing(planner.plan(config, live, today=day))
    review = build_review(config, live, credentials, today=day, changes=changes, applies=applies)
    if term.quiet and opts.output_format == "text":
        click.echo(render_report_text(review, flagged_only=True), nl=False)
    else:
        click.echo(RENDERERS[opts.output_format](review), nl=False)


def _credentials(
    clients: Any, config: Config, live: LiveState, workers: int
) -> dict[str, Credentials]:
    """Credentials of the collaborators' IAM users that live under iam_path (the read-only
    role may read no other user's), and of the users of collaborators removed from the file."""
    from reconciler.aws.credentials import CredentialReader

    names = [
        c.iam_user
        for c in config.collaborators
        if c.iam_user
        and (user := live.users.get(c.iam_user)) is not None
        and user.path == config.iam_path
    ] + [user.name for user in leftover_users(config, live).values()]
    return CredentialReader(clients, workers=workers).read(names)


def _last_applies(sinks: list[AuditSink], config: Config) -> dict[str, LastApply]:
    """From the first audit location (a record written to both is the same record)."""
    ids = {c.id for c in config.collaborators}
    return last_applies(parsed(sinks[0].newest_first()), ids)
