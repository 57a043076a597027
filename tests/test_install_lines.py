"""Every install line the project shows works today. The project is on no package index until
its first publication, so `pip install s3-collaborator-reconciler` (by name, from an index)
fails: every line that installs the tool names a release wheel, a git URL at a tag or commit,
or a clone (`.`). A placeholder (`OWNER/REPO`, `vX.Y.Z`) is said to be one on the same page.

Checked: README.md, CHANGELOG.md, docs/, the files `reconcile init` writes (and their
templates, filled in), action.yml and the workflows, every command's --help, and the CLI's hints."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler import __version__
from reconciler.aws.sandbox import install_hint
from reconciler.cli.app import all_commands, cli
from reconciler.starter import ActionRef, config_repository

ROOT = Path(__file__).resolve().parents[1]
DISTRIBUTION = "s3-collaborator-reconciler"
VERSION = r"(?:vX\.Y\.Z|v\d+\.\d+\.\d+|[0-9a-f]{40})"
GIT = rf"git\+https://github\.com/[\w.-]+/[\w.-]+@{VERSION}"
EXTRAS = r"(?:\[[\w,]+\])?"
ALLOWED = [
    re.compile(rf"\.{EXTRAS}"),  # a clone of this repository
    re.compile(GIT),
    re.compile(rf"{DISTRIBUTION}{EXTRAS} @ {GIT}"),
    re.compile(
        rf"(?:\S*/)?s3_collaborator_reconciler-(?:X\.Y\.Z|\d+\.\d+\.\d+)-py3-none-any\.whl{EXTRAS}"
    ),
    re.compile(r"\$\S+"),  # a path the script computed (the action's own copy, a built wheel)
]
PIP = re.compile(r"pip install\b(.*)")
_OPTIONS_WITH_VALUE = {"--python", "-r", "--requirement", "-c", "--constraint", "--find-links"}


def markdown_pieces(text: str) -> list[str]:
    """Inline code spans (a span may wrap lines) and the lines of fenced blocks."""
    pieces = []
    for block in re.findall(r"^```[^\n]*\n(.*?)^```", text, re.MULTILINE | re.DOTALL):
        pieces += block.splitlines()
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    pieces += [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)]
    return pieces


def help_texts() -> dict[str, str]:
    runner = CliRunner()
    texts = {"reconcile --help": runner.invoke(cli, ["--help"]).output}
    for name in sorted(all_commands()):
        texts[f"reconcile {name} --help"] = runner.invoke(cli, [name, "--help"]).output
    return texts


def sources() -> dict[str, list[str]]:
    """Where install lines appear: name -> the pieces of text to search."""
    found: dict[str, list[str]] = {}
    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
    for path in pages:  # the templates are checked as init writes them, filled in
        found[str(path.relative_to(ROOT))] = markdown_pieces(path.read_text())
    action = ActionRef.parse("my-org/s3-collaborator-reconciler@" + "0" * 40)
    for name, text in config_repository(action).items():
        pieces = markdown_pieces(text) if name.endswith(".md") else text.splitlines()
        found[f"init: {name}"] = pieces
    for path in [ROOT / "action.yml", *sorted((ROOT / ".github" / "workflows").glob("*.yml"))]:
        found[str(path.relative_to(ROOT))] = path.read_text().splitlines()
    for name, text in help_texts().items():
        found[name] = [" ".join(text.split())]
    found["the --sandbox hint"] = [install_hint()]
    return found


def requirements(line: str) -> list[str]:
    """What one `pip install ...` installs, read as a shell would (options dropped); the
    command ends at a shell operator, a comment or a closing parenthesis (prose around it)."""
    match = PIP.search(line)
    assert match is not None
    lexer = shlex.shlex(match.group(1).replace("`", " "), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    found: list[str] = []
    skip = False
    try:
        for word in lexer:
            if word[0] in "();<>|&":
                break
            if skip:
                skip = False
            elif word in _OPTIONS_WITH_VALUE:
                skip = True
            elif not word.startswith("-"):
                found.append(word)
    except ValueError as err:
        raise AssertionError(f"cannot read {line!r} as a shell would: {err}") from None
    return found


def install_lines() -> list[tuple[str, str, str]]:
    """(where, the line, one requirement) for every requirement of every install line."""
    lines = []
    for where, pieces in sources().items():
        for piece in pieces:
            if PIP.search(piece):
                lines += [(where, piece, req) for req in requirements(piece)]
    return lines


LINES = install_lines()


def test_install_lines_are_found_everywhere_they_are_shown() -> None:
    places = {where for where, _, _ in LINES}
    assert {
        "README.md",
        "docs/tutorial.md",
        "docs/ci-setup.md",
        "init: README.md",
        "the --sandbox hint",
        "reconcile init --help",
        ".github/workflows/release.yml",
    } <= places, places


def allowed(requirement: str) -> bool:
    """Installs this project from a release, a tag, a commit or a clone; or installs another
    project, by name from the package index (moto, build)."""
    if any(pattern.fullmatch(requirement) for pattern in ALLOWED):
        return True
    name = re.split(r"[\[<>=!~ @;]", requirement, maxsplit=1)[0].lower().replace("_", "-")
    return name not in {DISTRIBUTION, "."} and not name.startswith("git+")


@pytest.mark.parametrize(
    ("where", "line", "requirement"), LINES, ids=[f"{w}: {r}" for w, _, r in LINES]
)
def test_every_install_line_works_today(where: str, line: str, requirement: str) -> None:
    assert allowed(requirement), f"{where}: `{line}` installs {requirement!r} from an index"


@pytest.mark.parametrize(
    "requirement",
    [
        "s3-collaborator-reconciler",
        "s3-collaborator-reconciler[sandbox]",
        "s3-collaborator-reconciler==0.1.0",
        "git+https://github.com/OWNER/REPO",  # no tag: whatever the default branch holds
        "git+https://github.com/OWNER/REPO@main",
    ],
)
def test_an_install_by_name_or_from_a_branch_is_refused(requirement: str) -> None:
    assert not allowed(requirement)


def test_the_pip_lines_are_read_as_a_shell_would() -> None:
    assert requirements("pip install -q -e '.[dev]' && pytest") == [".[dev]"]
    line = "pip install 's3-collaborator-reconciler[sandbox] @ git+https://github.com/a/b@v1.2.3'"
    assert requirements(line) == [
        "s3-collaborator-reconciler[sandbox] @ git+https://github.com/a/b@v1.2.3"
    ]
    assert requirements("x/python -m pip install 'moto>=5.2.5,<5.3'") == ["moto>=5.2.5,<5.3"]


def test_a_placeholder_is_said_to_be_one() -> None:
    for where, pieces in sources().items():
        lines = [p for p in pieces if PIP.search(p) and "OWNER/REPO" in p]
        if lines and not where.startswith("reconcile "):
            text = (ROOT / where).read_text()
            assert "placeholder" in text, f"{where}: {lines[0]} (say OWNER/REPO is a placeholder)"


def test_a_concrete_release_tag_is_one_the_changelog_has() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    for where, line, requirement in LINES:
        for tag in re.findall(r"@v(\d+\.\d+\.\d+)", requirement):
            assert f"\n## [{tag}]" in changelog, f"{where}: {line}"
    assert f"\n## [{__version__}]" in changelog
