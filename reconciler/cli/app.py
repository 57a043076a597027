"""The `reconcile` command group and entry point."""

from __future__ import annotations

import difflib
import gc
import importlib
import os
import sys

import click

from reconciler.cli.report import echo_config_error, error_document
from reconciler.errors import ConfigError, ReconcilerError

# Each command's module, imported only when that command runs (or when help lists them all): a
# command then loads only what it needs. `validate` and `matrix` never load boto3, deepdiff or
# the access evaluator, which keeps them fast in pre-commit hooks and fan-out jobs.
COMMAND_MODULES = {
    "apply": "plan_apply",
    "gather": "gather",
    "history": "history",
    "iam-policy": "iam_policy",
    "import": "import_cmd",
    "init": "init_cmd",
    "matrix": "matrix",
    "plan": "plan_apply",
    "report": "access_review",
    "sandbox": "sandbox_cmd",
    "show": "show",
    "unlock": "locking",
    "validate": "validate",
    "verify": "verify",
}


class LazyGroup(click.Group):
    """A command group whose commands register themselves when their module is imported."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMAND_MODULES) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            importlib.import_module(f"reconciler.cli.{COMMAND_MODULES[cmd_name]}")
        return self.commands.get(cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """A mistyped command gets a suggestion (`reconcile aply`: did you mean apply?)."""
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            if close:
                ctx.fail(f"No such command {name!r}: did you mean {close[0]}?")
        return super().resolve_command(ctx, args)


def all_commands() -> dict[str, click.Command]:
    """Every command, each module imported (for help, docs and tests)."""
    for module in sorted(set(COMMAND_MODULES.values())):
        importlib.import_module(f"reconciler.cli.{module}")
    return dict(cli.commands)


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from reconciler.starter.build import this_build

    click.echo(this_build().describe())
    ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and the commit it was built from, and exit.",
)
def cli() -> None:
    """GitOps for sharing one S3 bucket with research collaborators.

    collaborators.yaml describes who may reach which folder; `plan` shows what would change
    in AWS, `apply` makes live AWS match the file. Also accepted: `reconcile --plan` and
    `reconcile --apply`.

    \b
    Examples:
      reconcile validate
      reconcile plan --sandbox
      reconcile apply --sandbox --auto-approve
      reconcile plan --format json --detailed-exitcode
      reconcile plan --format markdown > plan.md
      reconcile iam-policy --read-only
    """


_ALIASES = {"--plan": "plan", "--apply": "apply", "--validate": "validate"}


def normalize_argv(argv: list[str]) -> list[str]:
    """Accept `reconcile --plan ...` / `reconcile --apply ...` as the subcommands."""
    for flag, command in _ALIASES.items():
        if flag in argv:
            rest = [a for a in argv if a != flag]
            return [command, *rest]
    return argv


# One run builds tens of thousands of long-lived objects at 10,000 collaborators (config,
# policies, live state); with the default thresholds (700, 10, 10) the cyclic garbage collector
# rescans them some 1,500 times in a plan, about 6% of its CPU. Collect less often (mypy does
# the same); the process is short-lived and makes little cyclic garbage.
GC_THRESHOLDS = (100_000, 20, 20)


# The output format the running command was given (set by its --format option): with json,
# errors are also printed as a JSON document on stdout, for the tools that read it.
_OUTPUT_FORMAT = ["text"]


def remember_format(ctx: click.Context, param: click.Parameter, value: str) -> str:
    _OUTPUT_FORMAT[0] = value
    return value


def json_printed() -> None:
    """The command has printed its JSON document (a refused plan is still printed): an error
    after it goes to stderr only, so stdout stays one JSON document."""
    _OUTPUT_FORMAT[0] = "json printed"


def _as_json(err: ReconcilerError) -> None:
    if _OUTPUT_FORMAT[0] == "json":
        click.echo(error_document(err))


def main(argv: list[str] | None = None) -> None:
    gc.set_threshold(*GC_THRESHOLDS)
    _OUTPUT_FORMAT[0] = "text"
    args = normalize_argv(list(sys.argv[1:] if argv is None else argv))
    try:
        cli.main(args=args, prog_name="reconcile", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(130)
    except click.ClickException as err:
        click.echo(f"error: {err.format_message()}", err=True)
        if isinstance(err, click.UsageError) and err.ctx is not None:
            click.echo(f"Try '{err.ctx.command_path} --help' for help.", err=True)
        sys.exit(1)
    except ConfigError as err:
        echo_config_error(err)
        _as_json(err)
        sys.exit(err.exit_code)
    except ReconcilerError as err:
        click.echo(f"error: {err}", err=True)
        _as_json(err)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    except Exception as err:  # last line of defence: one clear line, never a traceback
        if os.environ.get("RECONCILE_DEBUG"):
            raise
        click.echo(
            f"error: unexpected {type(err).__name__}: {err} (set RECONCILE_DEBUG=1 to see "
            "the traceback; please report it)",
            err=True,
        )
        sys.exit(1)
    sys.exit(0)
