"""`reconcile matrix`: a GitHub Actions matrix with one job per desired-state file (share)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import click

from reconciler.cli.app import cli
from reconciler.config.files import expand
from reconciler.config.matrix import changed_shares, entries


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--changed-since",
    metavar="REF",
    help="Keep only the files changed since git REF (from where the current branch left it): "
    "every file when anything but a share file or documentation changed.",
)
def matrix(paths: tuple[str, ...], changed_since: str | None) -> None:
    """Print a GitHub Actions matrix with one entry per share file, as one line of JSON.

    PATHS are files or folders (a folder stands for every .yaml/.yml file below it, hidden ones
    skipped); default collaborators.yaml. Each entry has `name` (for job names), `config`,
    `account_id`, `region` and `bucket`; the order is stable. Files are read lightly: a file with
    mistakes still gets its entry, and its job's `validate` step reports them.

    \b
    Examples:
      reconcile matrix shares/
      reconcile matrix shares/ --changed-since origin/main
      echo "matrix=$(reconcile matrix shares/)" >> "$GITHUB_OUTPUT"
    """
    files = [path for path in expand(paths or ("collaborators.yaml",))]
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        raise click.BadParameter(f"no such file: {', '.join(missing)}", param_hint="PATHS")
    if changed_since is not None:
        files = changed_shares(files, _changed_files(changed_since))
    click.echo(json.dumps({"include": entries(files)}, separators=(",", ":")))


def _changed_files(ref: str) -> list[Path]:
    """Files that differ between the merge base of REF and HEAD, and the working tree."""
    top = _git("rev-parse", "--show-toplevel").strip()
    names = _git("diff", "--name-only", "-z", "--merge-base", ref, "--")
    return [(Path(top) / name).resolve() for name in names.split("\0") if name]


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, check=False, timeout=60
        )
    except OSError as err:
        raise click.BadParameter(
            f"git is needed to compare with a ref: {err.strerror}", param_hint="--changed-since"
        ) from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["git failed"])[-1]
        raise click.BadParameter(
            f"{reason} (is it a git ref of this repository? in a GitHub workflow, check out "
            "with fetch-depth: 0)",
            param_hint="--changed-since",
        )
    return done.stdout
