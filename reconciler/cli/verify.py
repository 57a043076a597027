"""`reconcile verify`: prove isolation from the policies actually in AWS (or, with --desired,
from the state collaborators.yaml would produce). Exit 0 all checks hold, 2 violations or
unknowns, 1 error."""

from __future__ import annotations

import functools
import sys
from dataclasses import replace
from typing import Any

import click

from reconciler.access.analyzer import policies_to_validate
from reconciler.access.checks import VerifyReport, verify
from reconciler.access.desired import desired_state
from reconciler.cli.app import cli
from reconciler.cli.common import EXIT_CHANGES, Options, aws_options, aws_session, read_live
from reconciler.cli.lifecycle_options import today_utc
from reconciler.cli.output import output_options, terminal_from
from reconciler.config import load_config
from reconciler.model import Config, LiveState
from reconciler.plan import lifecycle
from reconciler.render.verify import (
    render_verify_json,
    render_verify_markdown,
    render_verify_text,
)

FORMATS = ("text", "json", "markdown")
RENDERERS = {
    "text": render_verify_text,
    "json": render_verify_json,
    "markdown": render_verify_markdown,
}
EXIT_VIOLATIONS = EXIT_CHANGES


@cli.command("verify")
@functools.partial(aws_options, formats=FORMATS)
@output_options
@click.option(
    "--desired",
    is_flag=True,
    help="Evaluate the state collaborators.yaml would produce, offline: no AWS calls.",
)
@click.option(
    "--access-analyzer",
    is_flag=True,
    help="Also send each policy the tool writes to IAM Access Analyzer ValidatePolicy "
    "(real AWS only; skipped with a custom endpoint or --sandbox).",
)
def verify_command(desired: bool, access_analyzer: bool, **kwargs: Any) -> None:
    """Check, for every collaborator, that it reaches its own folder and nothing else.

    Evaluates requests against the identity, access point and bucket policies: direct
    requests denied; through its own access point every granted level allowed and every
    other level denied; other folders and other access points denied; anonymous callers and
    other accounts denied; nothing without TLS. Exit 0 when every check holds, 2 on a
    violation or a check that cannot be evaluated, 1 on error.

    \b
    Examples:
      reconcile verify --sandbox
      reconcile verify --desired --format markdown
      reconcile verify --format json --access-analyzer
      reconcile verify --sandbox -q         # only what fails, and the summary
    """
    term = terminal_from(kwargs)
    opts = Options(**kwargs)
    # as of today: expired collaborators are suspended, and a suspended one is granted nothing
    config = lifecycle.resolve(load_config(opts.config), today_utc())
    if desired:
        live = desired_state(config)
    else:
        with aws_session(opts, config) as clients:
            live = read_live(clients, config, **opts.reading)
    report = verify(lifecycle.granted(config), live, source="desired" if desired else "live")
    if access_analyzer:
        report = with_access_analyzer(report, opts, config, live)
    if opts.output_format == "text":
        click.echo(render_verify_text(report, quiet=term.quiet), nl=False)
    else:
        click.echo(RENDERERS[opts.output_format](report), nl=False)
    if not report.ok:
        sys.exit(EXIT_VIOLATIONS)


def with_access_analyzer(
    report: VerifyReport, opts: Options, config: Config, live: LiveState
) -> VerifyReport:
    from reconciler.aws.access_analyzer import AccessAnalyzer, analyzer_client
    from reconciler.aws.session import Connection

    region = opts.region or config.region
    connection = Connection(region=region, profile=opts.profile, endpoint_url=opts.endpoint_url)
    if opts.sandbox or connection.custom_endpoint:
        note = "skipped: IAM Access Analyzer is only called against real AWS (custom endpoint set)"
        return replace(report, analyzer_note=note)
    policies = policies_to_validate(config, live)
    findings = AccessAnalyzer(analyzer_client(connection)).validate_all(policies)
    note = f"{len(policies)} polic{'y' if len(policies) == 1 else 'ies'} validated"
    return replace(report, analyzer=tuple(findings), analyzer_note=note)
