"""Build hook: records which commit (and GitHub repository) a wheel or sdist was built from, as
reconciler/starter/build-info.json inside it, for `reconcile --version` and for `reconcile init`
to pin the workflows' action to that commit when installed from a release wheel.

From a git checkout: the commit is `git rev-parse HEAD` (with "dirty" when tracked files
differ), the repository is $GITHUB_REPOSITORY (set on GitHub's runners) or the github.com
`origin` remote. Built from an sdist (no git), the sdist's own build-info.json is kept as is.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

TARGET = "reconciler/starter/build-info.json"
_GITHUB = re.compile(
    r"(?:git\+)?(?:https://(?:[^@/]+@)?|ssh://git@|git@)github\.com[/:]"
    r"(?P<repo>[A-Za-z0-9-]+/[A-Za-z0-9._-]+?)(?:\.git)?/?"
)


def _git(root: str, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", root, *args], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def build_info(root: str) -> dict[str, Any] | None:
    """The commit and repository of the checkout at `root`; None outside a git checkout."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != Path(root).resolve():
        return None
    commit = _git(root, "rev-parse", "HEAD")
    if commit is None:
        return None
    repository = os.environ.get("GITHUB_REPOSITORY", "")
    if not re.fullmatch(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+", repository):
        match = _GITHUB.fullmatch(_git(root, "remote", "get-url", "origin") or "")
        repository = match["repo"] if match else ""
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status), "repository": repository or None}


class BuildInfoHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return  # runs from the checkout, where git itself says which commit it is
        info = build_info(self.root)
        if info is None:
            return  # built from an sdist: its build-info.json is already in the tree
        self._folder = tempfile.mkdtemp(prefix="reconciler-build-info-")
        path = Path(self._folder) / "build-info.json"
        path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        build_data["force_include"][str(path)] = TARGET

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        folder = getattr(self, "_folder", None)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
