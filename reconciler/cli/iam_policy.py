"""`reconcile iam-policy`: the least-privilege policy for the tool's own role."""

from __future__ import annotations

import json
import sys

import click

from reconciler.cli.app import cli
from reconciler.cli.report import echo_config_error
from reconciler.config import load_config
from reconciler.config.cross_file import Share
from reconciler.config.files import expand
from reconciler.config.shares import load_shares
from reconciler.documents.boundary import boundary_policy
from reconciler.documents.iam_policy import tool_policy
from reconciler.documents.policy_set import PolicySet, policy_set
from reconciler.errors import ConfigError
from reconciler.model import Config


@cli.command("iam-policy")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "-c",
    "--config",
    default="collaborators.yaml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The desired-state file (when no PATHS are given).",
)
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
@click.option(
    "--split",
    is_flag=True,
    help="Always print the object form {policy name: document}, even when one managed policy "
    "holds everything (for Terraform's for_each).",
)
@click.option(
    "--part",
    type=click.IntRange(min=1),
    help="Print only the N-th managed policy document (1 = the first).",
)
def iam_policy_command(
    paths: tuple[str, ...],
    config: str,
    read_only: bool,
    boundary: bool,
    split: bool,
    part: int | None,
) -> None:
    """Print the least-privilege IAM policy the tool's own role needs for these shares.

    PATHS are share files or folders, as for `reconcile validate` (default: -c FILE). Several
    shares of one account give ONE policy set for one role that serves them all: no Sid twice,
    and the denies that allow only each share's boundary are merged so that every share's
    boundary is allowed.

    Scoped to the buckets, the access points of each share (exact ARNs, or
    accesspoint/<access_point_prefix>*), access points tagged for the bucket (deletes) and
    the IAM users under iam_path that are not tagged for another bucket. With
    iam_permissions_boundary, the role may create collaborators' users and write their inline
    policies only with that boundary, and may not remove or replace it. Offline: no
    credentials needed. Notes go to stderr.

    When everything fits in one customer managed policy (6,144 characters without
    whitespace), the output is that one policy document. When it does not, it is split (never
    widened) and the output is one JSON object {"reconciler-apply-1": document, ...}
    ("reconciler-plan-N" with --read-only), each document to be created as a managed policy
    and attached to the role; --part N prints the N-th document alone.

    \b
    Examples:
      reconcile iam-policy --boundary > collaborator-boundary.json
      aws iam create-policy --policy-name reconciler-collaborator-boundary \\
        --policy-document file://collaborator-boundary.json
      reconcile iam-policy --read-only > plan-role-policy.json
      reconcile iam-policy > apply-role-policy.json
      reconcile iam-policy shares/ --split > apply-role-policies.json
      reconcile iam-policy shares/ --part 2 > apply-role-policy-2.json
    """
    if boundary and read_only:
        raise click.UsageError("--boundary and --read-only print different policies: pick one")
    configs = _load(paths, config)
    if boundary:
        if len(configs) > 1:
            raise click.UsageError("--boundary prints the boundary of one share: give one file")
        click.echo(json.dumps(boundary_policy(configs[0]), indent=2))
        return
    policies = [tool_policy(c, read_only=read_only) for c in configs]
    result = policy_set(policies, label_notes=[c.source for c in configs] if paths else ())
    _print(
        result, base="reconciler-plan" if read_only else "reconciler-apply", split=split, part=part
    )


def _load(paths: tuple[str, ...], config: str) -> list[Config]:
    if not paths:
        return [load_config(config)]
    files = expand(paths)
    if not files:
        raise click.BadParameter("no .yaml or .yml file in the folders given", param_hint="PATHS")
    configs: list[Config] = []
    failed = False
    for loaded in load_shares(files):
        if isinstance(loaded, Share):
            configs.append(loaded.config)
        else:
            echo_config_error(ConfigError(*loaded))
            failed = True
    if failed:
        sys.exit(1)
    accounts = sorted({c.account_id for c in configs})
    if len(accounts) > 1:
        raise click.UsageError(
            f"the shares are in {len(accounts)} accounts ({', '.join(accounts)}): a role "
            "serves one account; run iam-policy once per account"
        )
    return configs


def _print(result: PolicySet, *, base: str, split: bool, part: int | None) -> None:
    if part is not None:
        if part > len(result.documents):
            raise click.BadParameter(
                f"there are {len(result.documents)} policies", param_hint="--part"
            )
        click.echo(json.dumps(result.documents[part - 1], indent=2))
    else:
        click.echo(result.to_json(base, split=split), nl=False)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
