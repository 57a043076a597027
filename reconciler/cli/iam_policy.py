"""`reconcile iam-policy`: the least-privilege policy for the tool's own role."""

from __future__ import annotations

import json

import click

from reconciler.cli.app import cli
from reconciler.cli.common import config_option
from reconciler.config import load_config
from reconciler.documents.boundary import boundary_policy
from reconciler.documents.iam_policy import tool_policy


@cli.command("iam-policy")
@config_option
@click.option(
    "--read-only",
    is_flag=True,
    help="Only what `reconcile plan` needs (for the pull-request role).",
)
@click.option(
    "--boundary",
    is_flag=True,
    help="Instead, print the permissions boundary for collaborators' IAM users: what their "
    "inline policies need, nothing more (create it once; its ARN goes in "
    "iam_permissions_boundary).",
)
def iam_policy_command(config: str, read_only: bool, boundary: bool) -> None:
    """Print the least-privilege IAM policy the tool's own role needs for this YAML.

    Scoped to the bucket, the access points the YAML names and the IAM users under iam_path.
    Without --read-only: everything `reconcile apply` does. With iam_permissions_boundary in
    the YAML, the role may create collaborators' users and write their inline policies only
    with that boundary, and may not remove or replace it. Offline: no credentials needed.
    Notes (e.g. when the policy is too large for one managed policy) go to stderr.

    \b
    Examples:
      reconcile iam-policy --boundary > collaborator-boundary.json
      aws iam create-policy --policy-name reconciler-collaborator-boundary \\
        --policy-document file://collaborator-boundary.json
      reconcile iam-policy --read-only > plan-role-policy.json
      reconcile iam-policy > apply-role-policy.json
      aws iam put-role-policy --role-name reconciler-apply \\
        --policy-name reconciler --policy-document file://apply-role-policy.json
    """
    if boundary and read_only:
        raise click.UsageError("--boundary and --read-only print different policies: pick one")
    loaded = load_config(config)
    if boundary:
        click.echo(json.dumps(boundary_policy(loaded), indent=2))
        return
    policy = tool_policy(loaded, read_only=read_only)
    click.echo(policy.to_json(), nl=False)
    for note in policy.notes:
        click.echo(f"note: {note}", err=True)
