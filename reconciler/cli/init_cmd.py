"""`reconcile init [DIR]`: write a ready config repository."""

from __future__ import annotations

import os
from pathlib import Path

import click

from reconciler.cli.app import cli
from reconciler.errors import ReconcilerError
from reconciler.starter import ActionRef, config_repository
from reconciler.starter.source import installed_action


@cli.command("init")
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option(
    "--action",
    "action_ref",
    metavar="OWNER/REPO@COMMIT",
    envvar="RECONCILE_ACTION",
    help="The reconciler's GitHub Action the workflows use, pinned to a full commit SHA "
    "(the commit of this version's tag). Default: the GitHub repository and commit this copy "
    "was installed from (pip install git+https://github.com/OWNER/REPO@TAG). "
    "Env: RECONCILE_ACTION.",
)
def init_command(directory: str, action_ref: str | None) -> None:
    """Write a ready config repository into DIRECTORY (default: the current folder).

    Writes a commented collaborators.yaml that validates, a copy of this version's schema
    (for the editor), the plan and apply workflows that use this version's GitHub Action
    pinned to a commit, a README on the pull-request loop and set-up, a CODEOWNERS
    suggestion and a .gitignore. Refuses to overwrite anything: if any of these files
    exists, nothing is written (exit 1).

    \b
    Examples:
      reconcile init my-share
      reconcile init my-share --action my-org/s3-collaborator-reconciler@<commit of the tag>
      cd my-share && reconcile validate && reconcile plan --sandbox
    """
    action = _action(action_ref)
    files = config_repository(action)
    root = Path(directory)
    existing = [path for path in files if os.path.lexists(root / path)]
    if existing:
        raise ReconcilerError(
            f"{root}: {_count(len(existing))} already exist ({', '.join(existing)}); nothing "
            "was written (init never overwrites: pick an empty folder)"
        )
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("x", encoding="utf-8") as handle:
            handle.write(text)
    click.echo(f"Wrote a config repository in {root}/ (workflows use {action.uses}):")
    for path in files:
        click.echo(f"  {path}")
    click.echo(
        "Next: replace the example values in collaborators.yaml, run `reconcile validate`, "
        "then follow README.md (AWS roles, repository variables, branch protection)."
    )


def _action(text: str | None) -> ActionRef:
    found = text or installed_action()
    if not found:
        raise click.UsageError(
            "--action is needed: this copy was not installed from a GitHub commit, so init "
            "cannot tell which commit of the reconciler's GitHub Action to pin "
            "(give --action OWNER/REPO@COMMIT)"
        )
    try:
        return ActionRef.parse(found)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="'--action'") from None


def _count(n: int) -> str:
    return "1 file" if n == 1 else f"{n} files"
