"""docs/tutorial.md is run as written: its files are saved and its commands run in order in a
fresh folder, and each command's output (stdout and stderr, as a terminal shows them) must be
what the page says. A line `...` in an output stands for any number of lines; `# exits N` after
a command is its expected exit code (else 0). REGEN_TUTORIAL=1 rewrites the outputs in place
(review the diff)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reconciler.aws.sandbox import DIR_ENV
from tests.e2e_support import reconcile_env

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"
BLOCK = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
TITLE = re.compile(r'title="([^"]+)"')
EXITS = re.compile(r"#\s*exits (\d+)")


@dataclass
class Command:
    line: str
    expected: list[str] = field(default_factory=list)

    @property
    def args(self) -> list[str]:
        words = shlex.split(self.line, comments=True)
        assert words[0] == "reconcile", f"the tutorial runs only reconcile: {self.line}"
        return words[1:]

    @property
    def exit_code(self) -> int:
        found = EXITS.search(self.line)
        return int(found.group(1)) if found else 0


def commands_of(block: str) -> list[Command]:
    commands: list[Command] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            commands.append(Command(line[2:]))
        else:
            assert commands, f"output before any command: {line!r}"
            commands[-1].expected.append(line)
    return commands


def matches(expected: list[str], actual: str) -> bool:
    """A line `...` stands for any lines (none included); `...` inside a line for any text
    within it (what changes on every run, such as an access point alias)."""
    parts = [r"(?:[^\n]*\n)*?" if line == "..." else _line(line) for line in expected]
    return re.fullmatch("".join(parts), actual) is not None


def _line(line: str) -> str:
    return r"[^\n]*".join(re.escape(part) for part in line.split("...")) + r"\n"


def run(command: Command, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = reconcile_env(None, RECONCILE_TODAY="2026-01-15")
    for key in (DIR_ENV, "RECONCILE_LOCK_BUCKET"):  # the defaults a newcomer gets
        env.pop(key, None)
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *command.args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )


def test_the_tutorial_runs_as_written(tmp_path: Path) -> None:
    text = TUTORIAL.read_text()
    regen = bool(os.environ.get("REGEN_TUTORIAL"))
    pieces: list[str] = []
    last = 0
    ran = 0
    for block in BLOCK.finditer(text):
        lang, info, body = block.groups()
        title = TITLE.search(info)
        if title:
            (tmp_path / title.group(1)).write_text(body)
            continue
        if lang != "console":
            continue
        shown = []
        for command in commands_of(body):
            result = run(command, tmp_path)
            ran += 1
            where = f"docs/tutorial.md: `{command.line}`"
            assert result.returncode == command.exit_code, f"{where}: exit {result.returncode}"
            assert "Traceback" not in result.stdout, f"{where}:\n{result.stdout}"
            same = matches(command.expected, result.stdout)
            assert same or regen, f"{where}:\n{result.stdout}"
            output = "".join(f"{line}\n" for line in command.expected) if same else result.stdout
            shown.append(f"$ {command.line}\n{output}")
        pieces += [text[last : block.start(3)], "".join(shown)]
        last = block.end(3)
    assert ran >= 15
    if regen:
        TUTORIAL.write_text("".join(pieces) + text[last:])


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        (["a", "...", "d"], "a\nb\nc\nd\n", True),
        (["a", "...", "d"], "a\nd\n", True),
        (["a", "d"], "a\nb\nd\n", False),
        (["a."], "ab\n", False),
        (["alias: ap-...-s3alias"], "alias: ap-5bb3-s3alias\n", True),
        (["alias: ap-...-s3alias"], "alias: ap-5bb3\nx-s3alias\n", False),
        (["alias: ap-...-s3alias"], "alias: other-5bb3-s3alias\n", False),
    ],
)
def test_ellipsis_matches_any_lines_and_nothing_else(
    expected: list[str], actual: str, ok: bool
) -> None:
    assert matches(expected, actual) is ok
