"""`reconcile iam-policy`: the least-privilege policy for the tool's own role."""

from __future__ import annotations

import click

from reconciler.cli.app import cli
from reconciler.cli.common import config_option
from reconciler.config import load_config
from reconciler.iam_policy import tool_policy


@cli.command("iam-policy")
@config_option
@click.option(
    "--read-only",
    is_flag=True,
    help="Only what `reconcile plan` needs (for the pull-request role).",
)
def iam_policy_command(config: str, read_only: bool) -> None:
    """Print the least-privilege IAM policy the tool's own role needs for this YAML.

    Scoped to the bucket, the access points the YAML names and the IAM users under iam_path.
    Without --read-only: everything `reconcile apply` does. Offline: no credentials needed.
    Notes (e.g. when the policy is too large for one managed policy) go to stderr.

    \b
    Examples:
      reconcile iam-policy --read-only > plan-role-policy.json
      reconcile iam-policy > apply-role-policy.json
      aws iam put-role-policy --role-name reconciler-apply \\
        --policy-name reconciler --policy-document file://apply-role-policy.json
    """
    policy = tool_policy(load_config(config), read_only=read_only)
    click.echo(policy.to_json(), nl=False)
    for note in policy.notes:
        click.echo(f"note: {note}", err=True)
