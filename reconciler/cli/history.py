"""`reconcile history`: print the audit records that apply wrote."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

import click

from reconciler.apply.audit import AuditSink, parse_records, to_line, touches
from reconciler.apply.audit_log import JsonLinesLog
from reconciler.cli.app import cli
from reconciler.cli.auditing import AuditOptions, audit_options, audit_sinks
from reconciler.cli.common import Options, aws_options, aws_session, check_account
from reconciler.cli.output import output_options, terminal_from
from reconciler.config import load_config
from reconciler.errors import ReconcilerError
from reconciler.model import AuditSettings
from reconciler.render.history import render_history


@cli.command("history")
@functools.partial(aws_options, reads_state=False)
@output_options
@functools.partial(audit_options, reading=True)
@click.option("--limit", type=click.IntRange(min=1), help="Only the last N records.")
@click.option("--collaborator", help="Only records that changed this collaborator.")
def history_command(
    audit_log: str | None,
    audit_bucket: str | None,
    audit_prefix: str | None,
    limit: int | None,
    collaborator: str | None,
    **kwargs: Any,
) -> None:
    """Print the audit trail: one record per apply (when, who, which commit, what changed).

    Reads the locations given with --audit-log / --audit-bucket, else those in the `audit:`
    block of collaborators.yaml. A record written to both is shown once.

    \b
    Examples:
      reconcile history
      reconcile history --audit-log audit.jsonl --limit 20
      reconcile history --collaborator alice --format json
    """
    terminal_from(kwargs)  # -v logs each AWS call; colour is not used here
    opts = Options(**kwargs)
    audit = AuditOptions(audit_log, audit_bucket, audit_prefix)
    if audit.log and not audit.bucket and not Path(opts.config).exists():
        texts = _read_all([JsonLinesLog(audit.log)])
    else:
        texts = _read_configured(opts, audit)
    parsed = parse_records(texts)
    for problem in parsed.problems:
        click.echo(f"warning: {problem}", err=True)
    records = _unique(parsed.records)
    if collaborator:
        records = [r for r in records if touches(r, collaborator)]
    if limit:
        records = records[-limit:]
    click.echo(
        render_history(records, output_format=opts.output_format, collaborator=collaborator),
        nl=False,
    )


def _read_configured(opts: Options, audit: AuditOptions) -> list[tuple[str, str]]:
    config = load_config(opts.config)
    if audit.log or audit.bucket:  # locations given on the command line replace the YAML's
        config = dataclasses.replace(config, audit=AuditSettings(prefix=config.audit.prefix))
    with aws_session(opts, config) as clients:
        sinks = audit_sinks(clients, config, audit)
        if not sinks:
            raise ReconcilerError(
                f"no audit trail configured: add an audit: block to {config.source}, or pass "
                "--audit-log / --audit-bucket"
            )
        if audit.bucket or config.audit.bucket:
            check_account(clients, config)
        return _read_all(sinks)


def _read_all(sinks: list[AuditSink]) -> list[tuple[str, str]]:
    texts: list[tuple[str, str]] = []
    for sink in sinks:
        texts.extend((f"{sink.location} #{i + 1}", text) for i, text in enumerate(sink.read()))
    return texts


def _unique(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    result = []
    for record in records:
        line = to_line(record)
        if line not in seen:
            seen.add(line)
            result.append(record)
    return result
