"""`reconcile validate`: offline checks of desired-state files (no credentials, no network)."""

from __future__ import annotations

import sys

import click

from reconciler.cli.app import cli
from reconciler.cli.report import echo_config_error, echo_config_warning
from reconciler.config.cross_file import Share, cross_file_problems
from reconciler.config.files import expand
from reconciler.config.shares import load_shares
from reconciler.documents.policy_set import access_point_scope_warnings
from reconciler.errors import ConfigError, ConfigProblem
from reconciler.plan.planner import boundary_warnings, settings_warnings


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "-c",
    "--config",
    default="collaborators.yaml",
    show_default=True,
    type=click.Path(),
    help="The desired-state file, or a folder of them, as in every other command (when no "
    "PATHS are given).",
)
def validate(paths: tuple[str, ...], config: str) -> None:
    """Check desired-state files offline: no credentials, no network.

    PATHS are files or folders (a folder stands for every .yaml/.yml file below it, hidden ones
    skipped). Every file is checked on its own, then the files against each other: the same
    bucket in two files, the same access point name in one account and Region, the same IAM
    user in one account, overlapping iam_path values in one account.

    Reports every problem at once as FILE:LINE:COLUMN: FIELD: MESSAGE and exits 1 if there
    is any. Under GitHub Actions (GITHUB_ACTIONS=true) each problem is also printed as an
    ::error annotation. Warnings (e.g. no iam_permissions_boundary for the users the tool
    manages) do not fail.

    \b
    Examples:
      reconcile validate
      reconcile validate -c deploy/collaborators.yaml
      reconcile validate -c shares/
      reconcile validate shares/
      reconcile validate site-a.yaml site-b.yaml
    """
    files = expand(paths or (config,))
    if not files:
        raise click.BadParameter("no .yaml or .yml file in the folders given", param_hint="PATHS")
    errors: dict[str, list[ConfigProblem]] = {}
    shares: list[Share] = []
    for loaded in load_shares(files):
        if isinstance(loaded, Share):
            shares.append(loaded)
        else:
            errors[loaded[0]] = loaded[1]
    for problem in cross_file_problems(shares):
        errors.setdefault(problem.file, []).append(problem)
    for share in shares:
        name = share.doc.file
        if name in errors:
            continue
        for warning in [
            *boundary_warnings(share.config),
            *settings_warnings(share.config),
            *access_point_scope_warnings(share.config),
        ]:
            echo_config_warning(name, warning)
        count = len(share.config.collaborators)
        click.echo(f"{name} is valid: {count} collaborator{'s' if count != 1 else ''}.")
    for name, problems in errors.items():
        echo_config_error(ConfigError(name, problems))
    if len(files) > 1:
        click.echo(_summary(len(files), len(errors)), err=bool(errors))
    if errors:
        sys.exit(1)


def _summary(files: int, failed: int) -> str:
    if not failed:
        return f"All {files} files are valid."
    return f"{failed} of {files} files have problems."
