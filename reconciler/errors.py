"""The exception family. The CLI maps each to an exit code and one clear message."""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def one_line(text: str) -> str:
    """Control characters and line breaks escaped, so one problem stays on one line."""
    return _LINE_BREAKING.sub(lambda m: repr(m.group())[1:-1], text)


class ReconcilerError(Exception):
    """Base class: anything the CLI reports as one message and exit code 1."""

    exit_code = 1


@dataclass(frozen=True)
class ConfigProblem:
    """One mistake in the desired-state file, with where it is."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = f"{self.path}: " if self.path else ""
        return one_line(f"{where}: {field}{self.message}")


class ConfigError(ReconcilerError):
    """The desired-state file is invalid; carries every problem found."""

    def __init__(self, file: str, problems: list[ConfigProblem]) -> None:
        self.file = file
        self.problems = sorted(
            problems, key=lambda p: (p.line or 0, p.column or 0, p.path, p.message)
        )
        count = len(self.problems)
        noun = "error" if count == 1 else "errors"
        lines = [str(p) for p in self.problems] + [f"{count} {noun} in {file}"]
        super().__init__("\n".join(lines))


class AwsError(ReconcilerError):
    """A call to AWS failed in a way the tool cannot recover from (credentials, endpoint...)."""


class AccountMismatchError(ReconcilerError):
    """The credentials belong to another AWS account than collaborators.yaml names."""


class PlanError(ReconcilerError):
    """The plan cannot be applied: it contains errors (e.g. a resource exists but is not ours)."""


class RefusedError(ReconcilerError):
    """A safety rule refused the operation; exit code 3."""

    exit_code = 3


class WriteError(ReconcilerError):
    """One AWS write failed. Raised by the writer adapter so the core never sees botocore."""

    def __init__(self, code: str, message: str, request_id: str | None = None) -> None:
        self.code = code
        self.message = message
        self.request_id = request_id
        super().__init__(f"{code}: {message}")
