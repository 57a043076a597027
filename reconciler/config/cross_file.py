"""Checks that only show across several desired-state files (one file per bucket, "share").

Each file is valid on its own; together they can still clash where AWS names are shared:
- a bucket described by two files (their applies would undo each other);
- an access point name used twice in one account and Region (AWS: unique per account and
  Region, S3 User Guide, "Naming rules for access points");
- an IAM user name used twice in one account (IAM: unique regardless of case, IAM User Guide,
  "IAM identifiers");
- two files with IAM users whose `iam_path`s overlap in one account: each file reads, and its
  apply role may change, every user under its path, so one share could touch the other's users;
- an access point of one file whose name starts with another file's `access_point_prefix` in
  the same account and Region: that file's apply role writes `accesspoint/<prefix>*`, so it
  could rewrite the other share's access point policy.

Every clash is reported in both files, each problem naming the other place (file:line:column).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from reconciler.config.semantic import access_point_format, collaborator_entries, field_names
from reconciler.config.yaml_source import Path, SourceDocument
from reconciler.errors import ConfigProblem
from reconciler.model import Config


@dataclass(frozen=True)
class Share:
    """One valid desired-state file and the document it was read from."""

    config: Config
    doc: SourceDocument


@dataclass(frozen=True)
class _Use:
    """Where one share uses a name."""

    share: Share
    path: Path
    label: str

    def where(self) -> str:
        line, column = self.share.doc.where(self.path)
        return ":".join(str(p) for p in (self.share.doc.file, line, column) if p is not None)

    def problem(self, message: str) -> ConfigProblem:
        return self.share.doc.problem(self.path, message)


def cross_file_problems(shares: Sequence[Share]) -> list[ConfigProblem]:
    """Problems between files; empty when there are fewer than two."""
    if len(shares) < 2:
        return []
    return [
        *_clashes(_bucket_uses(shares), "bucket", _BUCKET_WHY),
        *_clashes(_access_point_uses(shares), "access point", _ACCESS_POINT_WHY),
        *_clashes(_user_uses(shares), "IAM user", _USER_WHY),
        *_path_overlaps(shares),
        *_prefix_reaches(shares),
    ]


_BUCKET_WHY = (
    "one file per bucket: two files would each rewrite the bucket policy and remove the other's "
    "access points; merge them into one file"
)
_ACCESS_POINT_WHY = (
    "access point names are unique per account and Region: set a different "
    "access_point_prefix in one of the files, or give one of them another access_point:"
)
_USER_WHY = "IAM user names are unique in an account regardless of case: rename one iam_user"


def _bucket_uses(shares: Sequence[Share]) -> dict[tuple[str, ...], list[_Use]]:
    uses: dict[tuple[str, ...], list[_Use]] = defaultdict(list)
    for share in shares:
        name = share.config.bucket.name
        uses[(name,)].append(_Use(share, ("bucket", "name"), repr(name)))
    return uses


def _collaborator_uses(
    shares: Sequence[Share], key: str, default: Callable[[SourceDocument], str | None], fold: bool
) -> dict[tuple[str, ...], list[_Use]]:
    uses: dict[tuple[str, ...], list[_Use]] = defaultdict(list)
    for share in shares:
        entries = collaborator_entries(share.doc.data)
        for name in field_names(entries, key, default(share.doc)):
            value = name.value.lower() if fold else name.value
            scope = (share.config.account_id, share.config.region if not fold else "")
            uses[(*scope, value)].append(_Use(share, name.path, name.label()))
    return uses


def _access_point_uses(shares: Sequence[Share]) -> dict[tuple[str, ...], list[_Use]]:
    return _collaborator_uses(
        shares, "access_point", lambda doc: access_point_format(doc.data), fold=False
    )


def _user_uses(shares: Sequence[Share]) -> dict[tuple[str, ...], list[_Use]]:
    return _collaborator_uses(shares, "iam_user", lambda doc: None, fold=True)


def _clashes(
    uses: dict[tuple[str, ...], list[_Use]], what: str, why: str
) -> Iterator[ConfigProblem]:
    for key, places in uses.items():
        files = {use.share.doc.file for use in places}
        if len(files) < 2:
            continue  # a repeat inside one file is that file's own (semantic) problem
        scope = _scope(key)
        for use in places:
            others = ", ".join(o.where() for o in places if o.share is not use.share)
            yield use.problem(f"{what} {use.label} is also used by {others}{scope}: {why}")


def _scope(key: tuple[str, ...]) -> str:
    if len(key) == 3 and key[1]:
        return f" (account {key[0]}, {key[1]})"
    if len(key) == 3:
        return f" (account {key[0]})"
    return ""


def _path_overlaps(shares: Sequence[Share]) -> Iterator[ConfigProblem]:
    with_users = [s for s in shares if any(c.managed_user for c in s.config.collaborators)]
    for share in with_users:
        overlapping = [
            other
            for other in with_users
            if other is not share
            and other.config.account_id == share.config.account_id
            and _nested(share.config.iam_path, other.config.iam_path)
        ]
        if not overlapping:
            continue
        path = share.config.iam_path
        others = ", ".join(
            f"{_Use(o, ('iam_path',), '').where()} ({o.config.iam_path!r})" for o in overlapping
        )
        yield share.doc.problem(
            ("iam_path",),
            f"iam_path {path!r} overlaps the iam_path of {others} in account "
            f"{share.config.account_id}: each file manages the IAM users under its path, so one "
            "share's apply role could change the other's users; give each file a path of its "
            "own that is not inside another, e.g. /collaborators/cardiology/ and "
            "/collaborators/oncology/",
        )


def _nested(a: str, b: str) -> bool:
    return a.startswith(b) or b.startswith(a)


def _prefix_reaches(shares: Sequence[Share]) -> Iterator[ConfigProblem]:
    """The apply role of a file with access_point_prefix writes accesspoint/<prefix>* (see
    reconciler.documents.iam_policy.access_point_resources): no other share's access point in
    that account and Region may carry a name that starts with it."""
    for share in shares:
        prefix = share.config.access_point_prefix
        if not prefix:
            continue
        for other in shares:
            if other is share or (other.config.account_id, other.config.region) != (
                share.config.account_id,
                share.config.region,
            ):
                continue
            entries = collaborator_entries(other.doc.data)
            for name in field_names(entries, "access_point", access_point_format(other.doc.data)):
                if name.value.startswith(prefix):
                    yield _Use(other, name.path, name.label()).problem(
                        f"access point {name.label()} starts with access_point_prefix "
                        f"{prefix!r} of {_Use(share, ('access_point_prefix',), '').where()}: "
                        "that share's apply role may write every access point named so; give "
                        "this file an access_point_prefix (or access_point:) that does not "
                        "start with it"
                    )
