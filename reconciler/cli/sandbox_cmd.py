"""`reconcile sandbox`: the embedded sandbox's remembered state: empty it, or drift it by hand."""

from __future__ import annotations

from pathlib import Path

import click

from reconciler.aws.sandbox import reset, state_dir
from reconciler.aws.sandbox_drift import BUCKET_KINDS, KINDS
from reconciler.cli.app import cli
from reconciler.cli.common import Options, aws_session, config_option, sandbox_waiting
from reconciler.config import load_config
from reconciler.config.messages import did_you_mean
from reconciler.errors import ReconcilerError
from reconciler.model import Collaborator, Config


@cli.group("sandbox")
def sandbox_group() -> None:
    """The embedded sandbox (`--sandbox`) remembers what apply did between commands.

    Its state is kept in .reconcile-sandbox/ beside collaborators.yaml (or in
    RECONCILE_SANDBOX_DIR); the folder ignores itself in git.

    \b
    Examples:
      reconcile sandbox reset
      reconcile sandbox drift alice
      reconcile sandbox drift bob --kind delete-access-point
      reconcile sandbox drift --kind suspend-versioning
    """


@sandbox_group.command("reset")
@config_option
def reset_command(config: str) -> None:
    """Empty the sandbox: the next `--sandbox` command starts from an empty AWS account.

    \b
    Examples:
      reconcile sandbox reset
      reconcile sandbox reset -c deploy/collaborators.yaml
    """
    folder = state_dir(config)
    shown = folder.relative_to(Path.cwd()) if folder.is_relative_to(Path.cwd()) else folder
    if reset(folder, on_wait=sandbox_waiting(shown)):
        click.echo(f"Sandbox emptied ({shown}).")
    else:
        click.echo(f"Sandbox already empty ({shown}).")


_KIND_HELP = "; ".join(f"{kind}: {what}" for kind, what in {**KINDS, **BUCKET_KINDS}.items())


@sandbox_group.command("drift")
@config_option
@click.argument("collaborator", required=False)
@click.option(
    "--kind",
    type=click.Choice([*KINDS, *BUCKET_KINDS]),
    default="widen-policy",
    show_default=True,
    help=f"What to change by hand. {_KIND_HELP}.",
)
def drift_command(config: str, collaborator: str | None, kind: str) -> None:
    """Change the sandbox by hand, as someone in the AWS console would: the next plan shows
    the drift and the next apply puts it back. COLLABORATOR is an id from collaborators.yaml;
    the kinds that change the bucket's baseline (suspend-versioning, logging-off,
    replace-lifecycle, remove-trail-selector) take none.

    \b
    Examples:
      reconcile sandbox drift alice
      reconcile sandbox drift bob --kind delete-access-point
      reconcile sandbox drift alice --kind delete-user
      reconcile sandbox drift --kind suspend-versioning
      reconcile sandbox drift --kind remove-trail-selector
    """
    from reconciler.aws.sandbox_drift import make_drift

    loaded = load_config(config)
    who = _drifted(loaded, collaborator, kind)
    opts = Options(
        config=config,
        output_format="text",
        profile=None,
        region=None,
        endpoint_url=None,
        sandbox=True,
        retry_mode="standard",
        max_attempts=1,
    )
    with aws_session(opts, loaded) as clients:
        done = make_drift(clients, loaded, who, kind)
    click.echo(
        f"Drift made in the sandbox: {done}. `reconcile plan --sandbox` shows it, "
        "`reconcile apply --sandbox` puts it back."
    )


def _drifted(config: Config, wanted: str | None, kind: str) -> Collaborator | None:
    """The collaborator a kind of drift changes (None for the bucket's baseline)."""
    if kind in BUCKET_KINDS:
        if wanted is not None:
            raise ReconcilerError(
                f"--kind {kind} changes the bucket, not a collaborator: leave {wanted!r} out"
            )
        return None
    if wanted is None:
        ids = ", ".join(c.id for c in config.collaborators)
        raise ReconcilerError(f"--kind {kind} needs a COLLABORATOR, one of: {ids}")
    return _collaborator(config, wanted)


def _collaborator(config: Config, wanted: str) -> Collaborator:
    for collaborator in config.collaborators:
        if collaborator.id == wanted:
            return collaborator
    ids = [c.id for c in config.collaborators]
    match = did_you_mean(wanted, ids)
    hint = f" (did you mean {match!r}?)" if match else f"; its collaborators: {', '.join(ids)}"
    raise ReconcilerError(f"no collaborator {wanted!r} in {config.source}{hint}")
