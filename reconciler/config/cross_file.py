"""Checks across the collaborators files one `validate` run is given (issue 12): ownership is
per bucket, so two files must not share a bucket, and names AWS keeps unique (access points per
account and Region, IAM users per account, case-insensitively) must not repeat across files.
A plan reads one file and cannot see the others; this is where such a clash is caught."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from reconciler.config.yaml_source import Path, SourceDocument
from reconciler.errors import ConfigProblem
from reconciler.model import Config


@dataclass(frozen=True)
class _Claim:
    key: tuple[str, ...]  # what must be unique, in the scope AWS keeps it unique
    path: Path
    what: str
    why: str


def cross_file_problems(files: Sequence[tuple[Config, SourceDocument]]) -> list[ConfigProblem]:
    """One problem for every claim a later file makes on what an earlier file already holds."""
    first: dict[tuple[str, ...], tuple[str, int | None]] = {}
    problems: list[ConfigProblem] = []
    for config, doc in files:
        for claim in _claims(config):
            if claim.key not in first:
                first[claim.key] = (doc.file, doc.line(claim.path))
                continue
            other, line = first[claim.key]
            if other == doc.file:
                continue  # repeats inside one file are the file's own checks
            where = f"{other}:{line}" if line else other
            problems.append(
                doc.problem(claim.path, f"{claim.what} is also named by {where}: {claim.why}")
            )
    return problems


def _claims(config: Config) -> Iterator[_Claim]:
    yield _Claim(
        ("bucket", config.bucket.name),
        ("bucket", "name"),
        f"bucket {config.bucket.name}",
        "two collaborators files must not share a bucket (each one owns the bucket's policy "
        "statements and deletes the collaborators it does not list): put these collaborators "
        "in one file, or use another bucket",
    )
    for i, collab in enumerate(config.collaborators):
        yield _Claim(
            ("access_point", config.account_id, config.region, collab.access_point),
            ("collaborators", i, "access_point"),
            f"access point {collab.access_point}",
            f"access point names are unique per account and Region ({config.account_id}, "
            f"{config.region}): choose another access_point: name for {collab.id}",
        )
        if collab.iam_user:
            yield _Claim(
                ("iam_user", config.account_id, collab.iam_user.lower()),
                ("collaborators", i, "iam_user"),
                f"IAM user {collab.iam_user}",
                f"IAM user names are unique per account ({config.account_id}), "
                f"case-insensitively: choose another iam_user for {collab.id}",
            )
