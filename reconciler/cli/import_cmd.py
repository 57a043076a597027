"""`reconcile import`: write a collaborators.yaml describing an existing bucket's access points."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import click

from reconciler.cli.app import cli
from reconciler.cli.common import (
    OutputPath,
    endpoint_option,
    profile_option,
    region_option,
    sandbox_option,
    sandbox_waiting,
)
from reconciler.config.matrix import entries
from reconciler.errors import AccountMismatchError, ReconcilerError
from reconciler.importer import Imported

# S3 bucket naming rules (S3 User Guide, "General purpose bucket naming rules"): 3-63
# characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter
# or digit.
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# CloudTrail trail names (CloudTrail User Guide, "Naming requirements for trails"; the same
# rule as bucket.data_events_trail in schema/collaborators.schema.json): 3-128 letters, digits,
# '.', '_' and '-', starting and ending with a letter or digit.
_TRAIL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$")


def _bucket_name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not _BUCKET_NAME.match(value):
        raise click.BadParameter(
            f"{value!r} is not an S3 bucket name (3-63 lowercase letters, digits, '.' and '-')",
            ctx=ctx,
            param=param,
        )
    return value


def _trail_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not _TRAIL_NAME.match(value):
        raise click.BadParameter(
            f"{value!r} is not a CloudTrail trail name (3-128 letters, digits, '.', '_' and '-', "
            "starting and ending with a letter or digit)",
            ctx=ctx,
            param=param,
        )
    return value


@cli.command("import")
@click.option(
    "--bucket",
    required=True,
    callback=_bucket_name,
    help="The existing shared bucket to describe.",
)
@click.option(
    "--account",
    help="The AWS account id the file names (default: the credentials' account; with "
    "--sandbox, the account_id of collaborators.yaml in this folder, else 123456789012).",
)
@region_option(
    "Region of the bucket (default: looked up; with --sandbox, the region of "
    "collaborators.yaml in this folder, else us-east-1)."
)
@click.option(
    "-o",
    "--out",
    default="-",
    show_default=True,
    type=OutputPath(allow_dash=True),
    help="Where to write the YAML ('-' for standard output).",
)
@click.option(
    "--trail",
    callback=_trail_name,
    metavar="NAME",
    help="The CloudTrail trail (home Region: the bucket's) to write as "
    "bucket.data_events_trail, instead of looking through the account's trails (for "
    "credentials that cannot list them; reading its selectors needs "
    "cloudtrail:GetEventSelectors on it only).",
)
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@profile_option
@endpoint_option
@sandbox_option
def import_command(
    bucket: str,
    account: str | None,
    region: str | None,
    out: str,
    trail: str | None,
    force: bool,
    profile: str | None,
    endpoint_url: str | None,
    sandbox: bool,
) -> None:
    """Describe an existing setup (a bucket shared through access points, built by hand or
    with the AWS blog's CloudFormation template) as a collaborators.yaml. Changes nothing.

    Each access point on the bucket becomes a collaborator: its policy's principal, prefix and
    actions become iam_user or principal, prefix and access. What the file cannot express is
    written as a comment and reported as a warning. Then adopt the resources:
    `reconcile plan --adopt` and `reconcile apply --adopt`.

    The bucket's baseline comes back too: versioning, the tool's lifecycle rules, server
    access logging, and bucket.data_events_trail: the trail (home Region: the bucket's) whose
    event selectors record every object-level read and write of the bucket, found with
    cloudtrail:ListTrails and GetEventSelectors, or named with --trail.

    \b
    Examples:
      reconcile import --bucket s3-ap-stack-123456789012-s3-access-point -o collaborators.yaml
      reconcile import --bucket my-share --account 123456789012 --region eu-west-2
      reconcile import --sandbox --bucket clinical-share-123456789012   # what apply made there
      reconcile import --bucket my-share --trail management-events   # cannot list trails
    """
    if out != "-" and os.path.exists(out) and not force:
        raise ReconcilerError(f"{out} exists: choose another --out, or pass --force")
    if sandbox:
        imported = _from_sandbox(bucket, account, region, trail)
    else:
        imported = _discover_and_import(bucket, account, region, profile, endpoint_url, trail)
    for warning in imported.warnings:
        click.echo(f"warning: {warning}", err=True)
    if out == "-":
        click.echo(imported.text, nl=False)
    else:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(imported.text)
    click.echo(
        f"imported {imported.collaborators} collaborator(s) from bucket {bucket}"
        + ("" if out == "-" else f" into {out}"),
        err=True,
    )


# moto's default account: the sandbox's when no collaborators.yaml names another
SANDBOX_ACCOUNT = "123456789012"


def _from_sandbox(
    bucket: str, account: str | None, region: str | None, trail: str | None
) -> Imported:
    """The sandbox of collaborators.yaml in this folder (or RECONCILE_SANDBOX_DIR)."""
    from reconciler.aws.sandbox import sandbox, state_dir

    # the sandbox of this folder holds what `apply --sandbox` made for collaborators.yaml, in
    # that file's account and Region (read leniently: a file with mistakes still has a sandbox)
    local = Path("collaborators.yaml")
    facts = entries([local])[0] if local.is_file() else {}
    account = account or facts.get("account_id") or SANDBOX_ACCOUNT
    region = region or facts.get("region") or "us-east-1"
    folder = state_dir(str(local))
    with sandbox(account, region, folder=folder, on_wait=sandbox_waiting(folder)):
        return _discover_and_import(bucket, account, region, None, None, trail)


def _discover_and_import(
    bucket: str,
    account: str | None,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    trail: str | None = None,
) -> Imported:
    from reconciler.aws.discovery import Discoverer
    from reconciler.aws.reader import AwsReader
    from reconciler.aws.session import Clients, Connection
    from reconciler.importer import import_config

    def clients_in(where: str) -> Any:
        return Clients(Connection(region=where, profile=profile, endpoint_url=endpoint_url))

    clients = clients_in(region or os.environ.get("AWS_REGION") or "us-east-1")
    caller = AwsReader(clients).caller_account()
    if account is not None and account != caller:
        raise AccountMismatchError(
            f"the credentials belong to AWS account {caller}, not {account}: refusing to import"
        )
    where = region or Discoverer(clients, caller).bucket_region(bucket)
    if where != clients.connection.region:
        clients = clients_in(where)
    discoverer = Discoverer(clients, caller)
    if region is not None:
        discoverer.bucket_region(bucket)  # still: the bucket must exist
    return import_config(discoverer.discover(bucket, where, trail=trail))
