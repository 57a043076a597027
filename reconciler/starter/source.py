"""Where this copy of the reconciler was installed from, when pip recorded it (PEP 610
`direct_url.json`): `pip install git+https://github.com/OWNER/REPO@vX.Y.Z` records the
repository and the exact commit, which is what a config repository's workflows pin."""

from __future__ import annotations

import json
import re
from importlib import metadata

from reconciler.starter.build import Build, this_build

DISTRIBUTION = "s3-collaborator-reconciler"
_GITHUB = re.compile(
    r"(?:git\+)?(?:https://|ssh://git@|git@)github\.com[/:]"
    r"(?P<repo>[A-Za-z0-9-]+/[A-Za-z0-9._-]+?)(?:\.git)?/?"
)


def action_from_direct_url(text: str) -> str | None:
    """OWNER/REPO@COMMIT from a direct_url.json document, if it names a GitHub commit."""
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    vcs = doc.get("vcs_info") if isinstance(doc, dict) else None
    if not isinstance(vcs, dict) or vcs.get("vcs") != "git":
        return None
    match = _GITHUB.fullmatch(str(doc.get("url", "")))
    commit = str(vcs.get("commit_id", ""))
    if match is None or not re.fullmatch(r"[0-9a-f]{40}", commit):
        return None
    return f"{match['repo']}@{commit}"


def installed_action() -> str | None:
    """OWNER/REPO@COMMIT this copy was installed from (pip's record of a git+https install), or
    built from (a release wheel or sdist built on GitHub from a clean checkout); None otherwise
    (a local folder, an editable install, a build with uncommitted changes)."""
    try:
        text = metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        text = None
    found = action_from_direct_url(text) if text else None
    return found or action_from_build(this_build())


def action_from_build(build: Build) -> str | None:
    """OWNER/REPO@COMMIT of a build recorded in the package, when it names both and the tree
    was clean (a commit with uncommitted changes is not what the action would run)."""
    if build.source != "build" or build.dirty or not build.repository or not build.commit:
        return None
    return f"{build.repository}@{build.commit}"
