"""Command line: argument parsing and wiring. The only package that prints or exits."""

from reconciler.cli import iam_policy, plan_apply, validate  # noqa: F401  (registers the commands)
from reconciler.cli.app import cli, main

__all__ = ["cli", "main"]
