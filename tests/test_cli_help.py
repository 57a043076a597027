"""Every command explains itself with examples; `reconcile --version` works."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from reconciler import __version__
from reconciler.cli import all_commands, cli

COMMANDS = sorted(all_commands())


def test_the_command_list_is_what_the_docs_describe() -> None:
    assert {"plan", "apply", "validate", "iam-policy", "unlock"} <= set(COMMANDS)


@pytest.mark.parametrize("name", COMMANDS)
def test_help_has_examples_that_use_the_command(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^  Examples?:$", result.output, re.MULTILINE), result.output
    examples = result.output.split("xample")[1].split("Options:")[0]
    assert f"reconcile {name}" in examples


def test_group_help_lists_every_command_with_examples() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert re.search(rf"^  {re.escape(name)}\s", result.output, re.MULTILINE), name
    assert "Examples:" in result.output


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    # and the commit (tests/test_release.py checks it from a checkout and an installed wheel)
    assert result.output.startswith(f"reconcile {__version__} (commit ")
