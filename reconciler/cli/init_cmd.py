"""`reconcile init [DIR]`: write a ready config repository."""

from __future__ import annotations

import os
from pathlib import Path

import click

from reconciler.cli.app import cli
from reconciler.cli.common import check_region
from reconciler.config.contract import accepts
from reconciler.config.loader import load_config_text
from reconciler.errors import ReconcilerError
from reconciler.starter import Account, ActionRef, config_repository
from reconciler.starter.build import this_build
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
    "was installed from (pip install 'git+https://github.com/OWNER/REPO@vX.Y.Z') or built "
    "from (a release's wheel). Env: RECONCILE_ACTION.",
)
@click.option("--account-id", help="The AWS account of the bucket (12 digits).")
@click.option("--region", callback=check_region, help="The bucket's Region, e.g. eu-west-2.")
@click.option("--bucket", help="The shared bucket's name (default clinical-share-ACCOUNT_ID).")
def init_command(
    directory: str,
    action_ref: str | None,
    account_id: str | None,
    region: str | None,
    bucket: str | None,
) -> None:
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
      reconcile init my-share --account-id 111122223333 --region eu-west-2 --bucket trial-share
      cd my-share && reconcile validate && reconcile plan --sandbox
    """
    action = _action(action_ref)
    files = config_repository(action, _account(account_id, region, bucket))
    # the file must validate as written (the values above are checked by the schema first)
    load_config_text(files["collaborators.yaml"].encode(), "collaborators.yaml")
    root = Path(directory)
    existing = [path for path in files if os.path.lexists(root / path)]
    if existing:
        raise ReconcilerError(
            f"{root}: {_count(len(existing))} already exist ({', '.join(existing)}); nothing "
            "was written (init never overwrites: pick an empty folder)"
        )
    written: list[str] = []
    for path, text in files.items():
        target = root / path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("x", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as err:
            done = f"; written before it: {', '.join(written)}" if written else ""
            raise ReconcilerError(f"{target}: cannot write: {err.strerror}{done}") from None
        written.append(path)
    click.echo(f"Wrote a config repository in {root}/ (workflows use {action.uses}):")
    for path in files:
        click.echo(f"  {path}")
    click.echo("Next:")
    click.echo("  1. Replace the example values in collaborators.yaml; run `reconcile validate`.")
    click.echo(
        "  2. Follow README.md's set-up: first the GitHub environment `reconciler-apply` "
        "(deployment branches: `main` only), then the two AWS roles (`reconciler-plan`, "
        "read-only, trusts pull requests and `main` outside any environment, where the apply "
        "workflow's `verify` job runs; `reconciler-apply` trusts only the apply job, in that "
        "environment, on `main`), then branch protection."
    )


def _account(account_id: str | None, region: str | None, bucket: str | None) -> Account:
    given = {"account_id": account_id, "region": region, "bucket": bucket}
    for (name, value), path in zip(given.items(), _FIELDS, strict=True):
        if value is not None and not accepts(path, value):
            option = "--" + name.replace("_", "-")
            raise click.BadParameter(
                f"{value!r} is not a valid {'.'.join(path)} (see docs/yaml-reference.md)",
                param_hint=f"'{option}'",
            )
    return Account(**{k: v for k, v in given.items() if v is not None})


_FIELDS = (("account_id",), ("region",), ("bucket", "name"))


def _action(text: str | None) -> ActionRef:
    found = text or installed_action()
    if not found:
        raise click.UsageError(
            f"--action is needed: this copy {_why_no_action()}, so init cannot tell which "
            "commit of the reconciler's GitHub Action to pin (give --action OWNER/REPO@COMMIT)"
        )
    try:
        return ActionRef.parse(found)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="'--action'") from None


def _why_no_action() -> str:
    build = this_build()
    if build.source == "build" and build.commit and build.dirty:
        return f"was built from commit {build.commit[:12]} with uncommitted changes"
    if build.source == "build" and build.commit and not build.repository:
        return f"was built from commit {build.commit[:12]} outside GitHub (no repository known)"
    return "was not installed from a GitHub commit or a release wheel"


def _count(n: int) -> str:
    return "1 file" if n == 1 else f"{n} files"
