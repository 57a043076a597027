"""`reconcile show ID`: a collaborator's access card, from live AWS (or, with --desired, offline
from collaborators.yaml alone)."""

from __future__ import annotations

from typing import Any

import click

from reconciler.cli.app import cli
from reconciler.cli.common import Options, aws_options, aws_session, read_live
from reconciler.cli.lifecycle_options import today_utc
from reconciler.cli.output import output_options, terminal_from
from reconciler.config import load_config
from reconciler.render.card import render_card_json, render_card_markdown, render_card_text
from reconciler.reports.card import build_card, find_collaborator

RENDERERS = {
    "text": render_card_text,
    "json": render_card_json,
    "markdown": render_card_markdown,
}


@cli.command("show")
@click.argument("collaborator_id", metavar="ID")
@aws_options
@output_options
@click.option(
    "--desired",
    is_flag=True,
    help="From collaborators.yaml alone, offline: no AWS calls (no alias, no live status).",
)
def show_command(collaborator_id: str, desired: bool, **kwargs: Any) -> None:
    """Print a collaborator's access card: its access point ARN and alias, Region, folder,
    levels, status and expiry, the exact AWS CLI commands that work for its levels, and for a
    principal in another account the identity policy its administrator attaches.

    --format markdown suits an e-mail or a ticket. Exit 0, or 1 on error (an unknown ID too).

    \b
    Examples:
      reconcile show alice
      reconcile show partner-site --desired --format markdown > partner-site.md
      reconcile show bob --format json
    """
    terminal_from(kwargs)  # -v logs every AWS call
    opts = Options(**kwargs)
    config = load_config(opts.config)
    find_collaborator(config, collaborator_id)  # an unknown id fails before any AWS call
    today = today_utc()
    live = None
    if not desired:
        with aws_session(opts, config) as clients:
            live = read_live(clients, config, today=today, **opts.reading)
    card = build_card(config, collaborator_id, today=today, live=live)
    click.echo(RENDERERS[opts.output_format](card), nl=False)
