"""`reconcile init`: the files of a ready config repository, from templates shipped in the
package (reconciler/starter/templates/).

A config repository holds collaborators.yaml, a copy of the schema of this version (for the
editor's `yaml-language-server` line), the plan and apply workflows that use this project's
GitHub Action pinned to one commit, a short README, a CODEOWNERS suggestion and a .gitignore.
The project's own .github/workflows are the same templates with the self-repository reference
`$/`.

May import reconciler.config (the schema it copies) and the package version only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources

from reconciler import __version__
from reconciler.config.contract import schema

# `uses:` value for the project's own workflows: the action at the workflow's own commit
SELF = "$/"
ACTION_PATTERN = re.compile(r"(?P<repo>[A-Za-z0-9-]+/[A-Za-z0-9._-]+)@(?P<commit>[0-9a-f]{40})")

# target path in the config repository -> template
TEMPLATES = {
    "collaborators.yaml": "collaborators.yaml",
    "schema/collaborators.schema.json": None,  # a copy of this version's schema
    ".github/workflows/plan.yml": "workflows/plan.yml",
    ".github/workflows/apply.yml": "workflows/apply.yml",
    ".github/CODEOWNERS": "CODEOWNERS",
    "README.md": "README.md",
    ".gitignore": "gitignore",
}
WORKFLOWS = ("plan.yml", "apply.yml")


@dataclass(frozen=True)
class ActionRef:
    """The GitHub Action the workflows use: a repository and a full commit SHA."""

    repository: str
    commit: str

    @classmethod
    def parse(cls, text: str) -> ActionRef:
        match = ACTION_PATTERN.fullmatch(text.strip())
        if match is None:
            raise ValueError(
                f"{text!r} is not OWNER/REPO@COMMIT with a full 40-character commit SHA "
                "(actions are pinned to a commit, not a tag: `git ls-remote "
                f"https://github.com/OWNER/REPO refs/tags/v{__version__}` prints it)"
            )
        return cls(repository=match["repo"], commit=match["commit"])

    @property
    def uses(self) -> str:
        return f"{self.repository}@{self.commit} # v{__version__}"

    @property
    def home(self) -> str:
        return f"https://github.com/{self.repository}"

    @property
    def docs(self) -> str:
        return f"{self.home}/blob/{self.commit}/docs"


def template(name: str) -> str:
    return resources.files("reconciler.starter").joinpath("templates", name).read_text("utf-8")


def workflow(name: str, uses: str) -> str:
    """A workflow template with its action reference filled in."""
    return template(f"workflows/{name}").replace("@@ACTION@@", uses)


@dataclass(frozen=True)
class Account:
    """Where the shared bucket lives; the defaults are the documentation's example values."""

    account_id: str = "123456789012"
    region: str = "us-east-1"
    bucket: str | None = None

    @property
    def bucket_name(self) -> str:
        return self.bucket or f"clinical-share-{self.account_id}"

    @property
    def access_point_prefix(self) -> str:
        """The bucket name's first word (at most 10 characters) and '-': the apply role's
        access point writes are then scoped to accesspoint/<prefix>* (docs/safety.md), and a
        collaborator id of up to 27 characters still gives a default name within AWS's 50."""
        word = re.sub(r"[^a-z0-9]", "", self.bucket_name.split("-")[0].lower())[:10]
        return f"{word or 'share'}-"


def config_repository(action: ActionRef, account: Account | None = None) -> dict[str, str]:
    """Every file of a new config repository: path -> content."""
    account = account or Account()
    values = {
        "@@ACCOUNT_ID@@": account.account_id,
        "@@REGION@@": account.region,
        "@@BUCKET@@": account.bucket_name,
        "@@ACCESS_POINT_PREFIX@@": account.access_point_prefix,
        "@@ACTION@@": action.uses,
        "@@HOME@@": action.home,
        "@@INSTALL@@": f"git+{action.home}@{action.commit}",
        "@@DOCS@@": action.docs,
        "@@VERSION@@": f"v{__version__}",
    }
    files = {}
    for path, name in TEMPLATES.items():
        text = json.dumps(schema(), indent=2) + "\n" if name is None else template(name)
        for key, value in values.items():
            text = text.replace(key, value)
        files[path] = text
    return files
