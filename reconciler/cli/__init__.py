"""Command line: argument parsing and wiring. The only package that prints or exits."""

from reconciler.cli import (  # noqa: F401  (registers the commands)
    access_review,
    gather,
    history,
    iam_policy,
    import_cmd,
    init_cmd,
    locking,
    matrix,
    plan_apply,
    sandbox_cmd,
    validate,
    verify,
)
from reconciler.cli.app import cli, main

__all__ = ["cli", "main"]
