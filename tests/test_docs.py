"""The README starts with the two set-up commands CI relies on, and the docs' links resolve."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SANDBOX = (
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[sandbox]' && "
    ".venv/bin/reconcile apply --sandbox --auto-approve"
)
TESTS = (
    "python3 -m venv .venv && .venv/bin/pip install -q -e '.[dev]' && "
    ".venv/bin/python -m pytest -n auto -q"
)
# Written by parallel work and merged separately; linked from the README already.
PENDING = {"docs/validation.md", "docs/verification.md", "docs/performance.md"}


def test_readme_opens_with_the_sandbox_and_test_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", (ROOT / "README.md").read_text(), re.DOTALL)
    assert blocks[:2] == [SANDBOX, TESTS]
    assert TESTS in (ROOT / ".ci" / "run").read_text()


def test_relative_links_resolve() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    missing = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            path = (page.parent / target).resolve()
            name = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
            if not path.exists() and name not in PENDING:
                missing.append(f"{page.name} -> {target}")
    assert missing == []


def test_readme_links_every_topic() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in ("yaml-reference", "ci-setup", "troubleshooting", *(Path(p).stem for p in PENDING)):
        assert f"(docs/{name}.md)" in readme, name


def test_readme_command_table_lists_every_command() -> None:
    from reconciler.cli import all_commands

    table = re.findall(r"^\| `reconcile ([a-z-]+)", (ROOT / "README.md").read_text(), re.M)
    assert sorted(set(table)) == sorted(all_commands())
