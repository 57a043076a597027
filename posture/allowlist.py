"""The allow-list of Prowler checks, parsed from docs/compliance.md so that the document and
the scan cannot diverge.

The table follows the line `<!-- posture:allow-list -->` and has four columns:

| Prowler check | applies to | what it needs | why the tool does not do it |

- `Prowler check`: the check id in backticks;
- `applies to`: `every share`, or one setting in backticks that the finding's resource must
  have: a bucket setting (`bucket.encryption: AES256`) or a collaborator setting
  (`console: true`);
- the last two columns must both say something: an allow-listed check without a reason is an
  error, not a pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MARKER = "<!-- posture:allow-list -->"
EVERY_SHARE = "every share"
_CHECK = re.compile(r"^`([a-z0-9_]+)`$")
_SETTING = re.compile(r"^`([a-z_.]+): ([^`]+)`$")


class AllowListError(ValueError):
    """The table in the document is malformed: file, line and what is wrong."""


@dataclass(frozen=True)
class Allowed:
    check: str
    setting: tuple[str, str] | None  # None: every share
    needs: str
    reason: str
    line: int

    def covers(self, check: str, settings: Mapping[str, str]) -> bool:
        """Does this entry allow a FAIL of `check` on a resource with these settings?"""
        if check != self.check:
            return False
        if self.setting is None:
            return True
        key, value = self.setting
        return settings.get(key) == value


def parse_file(path: Path) -> tuple[Allowed, ...]:
    return parse(path.read_text(), str(path))


def parse(text: str, name: str = "docs/compliance.md") -> tuple[Allowed, ...]:
    lines = text.splitlines()
    try:
        start = lines.index(MARKER) + 1
    except ValueError:
        raise AllowListError(f"{name}: no line {MARKER!r} before the allow-list table") from None
    rows = _table(lines, start, name)
    entries = tuple(_entry(cells, number, name) for number, cells in rows)
    _no_duplicates(entries, name)
    return entries


def _table(lines: list[str], start: int, name: str) -> list[tuple[int, list[str]]]:
    """The rows of the first table after `start` (header and separator skipped)."""
    index = start
    while index < len(lines) and not lines[index].startswith("|"):
        index += 1
    rows: list[tuple[int, list[str]]] = []
    while index < len(lines) and lines[index].startswith("|"):
        rows.append((index + 1, _cells(lines[index])))
        index += 1
    if len(rows) < 3:
        raise AllowListError(f"{name}:{start}: the allow-list table has no rows")
    return rows[2:]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _entry(cells: list[str], line: int, name: str) -> Allowed:
    where = f"{name}:{line}"
    if len(cells) != 4:
        raise AllowListError(f"{where}: expected 4 columns, found {len(cells)}")
    check, scope, needs, reason = cells
    match = _CHECK.match(check)
    if not match:
        raise AllowListError(f"{where}: the first column must be a check id in backticks")
    if not needs or not reason:
        raise AllowListError(
            f"{where}: {match.group(1)} needs both what it needs and why the tool does not do it"
        )
    return Allowed(match.group(1), _scope(scope, where), needs, reason, line)


def _scope(text: str, where: str) -> tuple[str, str] | None:
    if text == EVERY_SHARE:
        return None
    match = _SETTING.match(text)
    if not match:
        raise AllowListError(
            f"{where}: 'applies to' must be '{EVERY_SHARE}' or one setting in backticks, "
            "e.g. `bucket.encryption: AES256`"
        )
    return match.group(1), match.group(2)


def _no_duplicates(entries: tuple[Allowed, ...], name: str) -> None:
    seen: dict[tuple[str, tuple[str, str] | None], int] = {}
    for entry in entries:
        key = (entry.check, entry.setting)
        if key in seen:
            raise AllowListError(
                f"{name}:{entry.line}: {entry.check} is listed twice (also line {seen[key]})"
            )
        seen[key] = entry.line
