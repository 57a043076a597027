"""`reconcile validate`: offline checks of collaborators.yaml."""

from __future__ import annotations

import click

from reconciler.cli.app import cli
from reconciler.config import load_config


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
