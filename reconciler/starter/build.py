"""Which commit this copy of the reconciler is: from build-info.json, which the build hook
(hatch_build.py) writes into every wheel and sdist, or, running from a git checkout (an editable
install, the tests), from git itself."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from reconciler import __version__

_COMMIT = re.compile(r"[0-9a-f]{40}")
_REPOSITORY = re.compile(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Build:
    """The version, the commit (None when unknown), whether the tree had uncommitted changes,
    and the GitHub repository the build came from (OWNER/REPO, None when unknown)."""

    version: str
    commit: str | None = None
    dirty: bool = False
    repository: str | None = None
    source: str = "unknown"  # "build" (build-info.json) or "checkout" (git)

    def describe(self) -> str:
        """`reconcile --version`: e.g. `reconcile 0.1.0 (commit 1c673ddb8d51, my-org/repo)`."""
        if self.commit is None:
            where = "commit unknown: not built from a git checkout"
        else:
            where = f"commit {self.commit[:12]}{' with uncommitted changes' if self.dirty else ''}"
            if self.repository:
                where += f", {self.repository}"
            if self.source == "checkout":
                where += ", from a git checkout"
        return f"reconcile {self.version} ({where})"


def from_document(text: str) -> Build | None:
    """A Build from build-info.json; None when it is not one."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict) or not _COMMIT.fullmatch(str(doc.get("commit", ""))):
        return None
    repository = doc.get("repository")
    return Build(
        version=__version__,
        commit=str(doc["commit"]),
        dirty=doc.get("dirty") is True,
        repository=repository
        if isinstance(repository, str) and _REPOSITORY.fullmatch(repository)
        else None,
        source="build",
    )


def _recorded() -> Build | None:
    try:
        text = resources.files("reconciler.starter").joinpath("build-info.json").read_text()
    except (FileNotFoundError, OSError):
        return None
    return from_document(text)


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _checkout() -> Build | None:
    """The commit of the git checkout this package is imported from (not of whatever git
    repository the current folder is in)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists() or not (root / "pyproject.toml").is_file():
        return None
    commit = _git(root, "rev-parse", "HEAD")
    if commit is None or not _COMMIT.fullmatch(commit):
        return None
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    return Build(version=__version__, commit=commit, dirty=bool(status), source="checkout")


def this_build() -> Build:
    """This copy: from a checkout, git says (a stale build-info.json would mislead); installed,
    the build's record; else only the version."""
    return _checkout() or _recorded() or Build(version=__version__)
