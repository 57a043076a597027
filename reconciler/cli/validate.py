"""`reconcile validate`: offline checks of collaborators.yaml (no credentials, no network)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reconciler.cli.app import cli
from reconciler.cli.report import echo_config_error
from reconciler.config import load_config
from reconciler.config.cross_file import cross_file_problems
from reconciler.config.loader import read_document
from reconciler.config.yaml_source import SourceDocument
from reconciler.errors import ConfigError
from reconciler.model import Config


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option(
    "-c",
    "--config",
    default="collaborators.yaml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The desired-state file (when no FILES are given).",
)
def validate(files: tuple[str, ...], config: str) -> None:
    """Check collaborators.yaml offline: no credentials, no network.

    Reports every problem at once as FILE:LINE:COLUMN: FIELD: MESSAGE and exits 1 if there
    is any. Several FILES may be given (as pre-commit does); they must not share a bucket, an
    access point name or an IAM user name (ownership is per bucket). Under GitHub Actions
    (GITHUB_ACTIONS=true) each problem is also printed as an ::error annotation.

    \b
    Examples:
      reconcile validate
      reconcile validate -c deploy/collaborators.yaml
      reconcile validate site-a.yaml site-b.yaml
    """
    failed = False
    valid: list[tuple[Config, SourceDocument]] = []
    for name in dict.fromkeys(files or (config,)):
        try:
            loaded = load_config(name)
        except ConfigError as err:
            echo_config_error(err)
            failed = True
            continue
        valid.append((loaded, read_document(Path(name).read_bytes(), name)))
    clashes = cross_file_problems(valid)
    for loaded, _ in valid:
        mine = [p for p in clashes if p.file == loaded.source]
        if mine:
            echo_config_error(ConfigError(loaded.source, mine))
            failed = True
            continue
        count = len(loaded.collaborators)
        click.echo(f"{loaded.source} is valid: {count} collaborator{'s' if count != 1 else ''}.")
    if failed:
        sys.exit(1)
