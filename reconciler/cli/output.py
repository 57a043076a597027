"""Terminal behaviour: colour, verbosity (-v logs every AWS call, -q only errors and the summary)
and apply progress. Decisions are explicit and testable: nothing here guesses from click."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click

from reconciler.apply.executor import Failure, Outcome, Progress
from reconciler.plan.changes import Change
from reconciler.render.style import Style, ansi, plain
from reconciler.render.text import change_headline

# Applies with at least this many changes show a progress bar on a terminal.
PROGRESS_BAR_MIN_CHANGES = 20
LOGGER_NAME = "reconciler"


@dataclass(frozen=True)
class Terminal:
    color: bool
    verbosity: int  # -1 quiet, 0 normal, 1+ verbose
    interactive: bool  # stdout is a terminal

    @property
    def style(self) -> Style:
        return ansi if self.color else plain

    @property
    def quiet(self) -> bool:
        return self.verbosity < 0


def use_color(*, no_color_flag: bool, environ: Mapping[str, str], isatty: bool) -> bool:
    """Colour only on a terminal, and never with --no-color or a non-empty NO_COLOR
    (https://no-color.org)."""
    if no_color_flag or environ.get("NO_COLOR"):
        return False
    return isatty


def output_options(func: Any) -> Any:
    options = [
        click.option("--no-color", is_flag=True, help="No colour (also: NO_COLOR=1, or a pipe)."),
        click.option(
            "-v",
            "--verbose",
            count=True,
            help="Log every AWS call (service, operation, resource, duration) to stderr.",
        ),
        click.option("-q", "--quiet", is_flag=True, help="Print only errors and the summary."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def terminal_from(kwargs: dict[str, Any]) -> Terminal:
    """Take the output options out of a command's keyword arguments and set up logging."""
    no_color, verbose, quiet = kwargs.pop("no_color"), kwargs.pop("verbose"), kwargs.pop("quiet")
    if verbose and quiet:
        raise click.UsageError("-v/--verbose and -q/--quiet cannot be used together")
    interactive = sys.stdout.isatty()
    term = Terminal(
        color=use_color(no_color_flag=no_color, environ=os.environ, isatty=interactive),
        verbosity=-1 if quiet else verbose,
        interactive=interactive,
    )
    configure_logging(term.verbosity)
    return term


def configure_logging(verbosity: int) -> None:
    """Log records of the `reconciler` loggers go to stderr as plain lines."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    if verbosity > 0:
        logger.setLevel(logging.DEBUG)
    elif verbosity < 0:
        logger.setLevel(logging.ERROR)
    else:
        logger.setLevel(logging.WARNING)


# --- apply progress ---------------------------------------------------------------------------


def show_progress_bar(term: Terminal, total: int, output_format: str) -> bool:
    """Only for text output: JSON and Markdown on stdout must stay clean."""
    return (
        output_format == "text"
        and term.interactive
        and not term.quiet
        and total >= PROGRESS_BAR_MIN_CHANGES
    )


@contextmanager
def apply_progress(
    term: Terminal,
    total: int,
    output_format: str,
    log_line: Callable[[Change, Outcome, Failure | None], None],
) -> Iterator[Progress]:
    """A progress bar on a terminal for long applies; otherwise one log line per change
    (`log_line`); nothing per change with -q (failures are reported in the summary)."""
    if term.quiet:
        yield _ignore
        return
    if not show_progress_bar(term, total, output_format):
        yield log_line
        return
    with click.progressbar(
        length=total,
        label=f"Applying {total} changes",
        show_pos=True,
        item_show_func=_current,
        color=term.color,
    ) as bar:

        def report(change: Change, outcome: Outcome, failure: Failure | None) -> None:
            bar.update(1, current_item=change)

        yield report


def _current(change: Change | None) -> str | None:
    return None if change is None else change_headline(change)


def _ignore(change: Change, outcome: Outcome, failure: Failure | None) -> None:
    return None
