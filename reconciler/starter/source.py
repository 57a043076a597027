"""Where this copy of the reconciler was installed from, when pip recorded it (PEP 610
`direct_url.json`): `pip install git+https://github.com/OWNER/REPO@vX.Y.Z` records the
repository and the exact commit, which is what a config repository's workflows pin."""

from __future__ import annotations

import json
import re
from importlib import metadata

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
    """OWNER/REPO@COMMIT this copy was installed from, or None (PyPI, a local folder, editable)."""
    try:
        text = metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    return action_from_direct_url(text) if text else None
