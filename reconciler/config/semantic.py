"""Layer 3 of validation: rules JSON Schema cannot express.

Unique ids, access point names (given or derived) and IAM user names (case-insensitive, as IAM
compares them); no prefix equal to or inside another (overlap would let one collaborator reach
another's data); account quotas. Works on whatever parts of the file are well-formed, so these
problems are reported together with schema problems.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from reconciler.config.yaml_source import Path, SourceDocument
from reconciler.errors import ConfigProblem
from reconciler.model import DEFAULT_ACCESS_POINT_FORMAT, DEFAULT_LOCK_KEY

# S3 User Guide, "Access points restrictions and limitations": 10,000 per account per Region.
MAX_ACCESS_POINTS = 10_000
# IAM User Guide, "IAM and AWS STS quotas": 5,000 IAM users per account.
MAX_IAM_USERS = 5_000
MAX_ACCESS_POINT_NAME = 50


@dataclass(frozen=True)
class Name:
    """A collaborator's value for one field: given in the file or derived from its id."""

    index: int
    value: str
    path: Path
    derived: bool

    def label(self) -> str:
        return f"{self.value!r} (the default, from id)" if self.derived else repr(self.value)


def semantic_problems(doc: SourceDocument) -> list[ConfigProblem]:
    entries = collaborator_entries(doc.data)
    access_points = field_names(entries, "access_point", access_point_format(doc.data))
    return [
        *_unique(doc, field_names(entries, "id", None), "id", str, "ids must be unique"),
        *_derived_too_long(doc, access_points),
        *_unique(
            doc,
            access_points,
            "access point",
            str,
            "access point names must be unique in the account and Region",
        ),
        *_unique(
            doc,
            field_names(entries, "iam_user", None),
            "IAM user",
            str.lower,
            "IAM user names are unique regardless of case",
        ),
        *_prefix_overlaps(doc, field_names(entries, "prefix", "{}/")),
        *_tool_keys_reachable(doc, field_names(entries, "prefix", "{}/")),
        *_quotas(doc, entries),
        *_boundary_account(doc),
        *_log_bucket(doc),
    ]


def access_point_format(data: Any) -> str:
    prefix = data.get("access_point_prefix") if isinstance(data, dict) else None
    return (prefix if isinstance(prefix, str) else "") + DEFAULT_ACCESS_POINT_FORMAT


def _derived_too_long(doc: SourceDocument, names: list[Name]) -> Iterator[ConfigProblem]:
    """With access_point_prefix, an id of up to 37 characters no longer guarantees that the
    default name fits (S3 User Guide, "Naming rules for access points": 3 to 50 characters).
    Without a prefix, the schema's limit on the id already says it."""
    if access_point_format(doc.data) == DEFAULT_ACCESS_POINT_FORMAT:
        return
    for name in names:
        if name.derived and len(name.value) > MAX_ACCESS_POINT_NAME:
            yield doc.problem(
                name.path,
                f"the default access point name {name.value!r} is {len(name.value)} characters, "
                f"over AWS's {MAX_ACCESS_POINT_NAME}: shorten the id or access_point_prefix, "
                "or give access_point:",
            )


def _boundary_account(doc: SourceDocument) -> Iterator[ConfigProblem]:
    """A permissions boundary is a managed policy (IAM User Guide, "Permissions boundaries for
    IAM entities"): a customer managed policy exists only in its own account, so it must be
    one of the users' account, or an AWS managed policy (account "aws")."""
    data = doc.data if isinstance(doc.data, dict) else {}
    arn, account = data.get("iam_permissions_boundary"), data.get("account_id")
    if not isinstance(arn, str) or not isinstance(account, str) or arn.count(":") < 5:
        return
    owner = arn.split(":")[4]
    if owner not in (account, "aws"):
        yield doc.problem(
            ("iam_permissions_boundary",),
            f"is a policy of account {owner}, but the users live in account {account}: "
            f"use a managed policy of account {account} (create it from "
            "`reconcile iam-policy --boundary`)",
        )


def _log_bucket(doc: SourceDocument) -> Iterator[ConfigProblem]:
    """Server access logs of a bucket delivered into itself would log their own delivery, a
    log record for every log object, without end (S3 User Guide, "Enabling Amazon S3 server
    access logging": the destination must be another bucket)."""
    data = doc.data if isinstance(doc.data, dict) else {}
    bucket = data.get("bucket")
    if not isinstance(bucket, dict):
        return
    logs = bucket.get("access_logs")
    if isinstance(logs, dict) and logs.get("bucket") == bucket.get("name"):
        yield doc.problem(
            ("bucket", "access_logs", "bucket"),
            "is the shared bucket itself: server access logs must go to another bucket of the "
            "same account and Region (a log bucket)",
        )


def _tool_keys_reachable(doc: SourceDocument, prefixes: list[Name]) -> Iterator[ConfigProblem]:
    """The apply lock, when it lives in the shared bucket, must be under no collaborator's
    prefix: whoever can write or delete it could block or break applies."""
    data = doc.data if isinstance(doc.data, dict) else {}
    lock = data.get("lock")
    if not isinstance(lock, dict):
        lock = {}
    bucket = data.get("bucket")
    shared = bucket.get("name") if isinstance(bucket, dict) else None
    if lock.get("bucket") not in (None, shared):
        return
    key = lock.get("key", DEFAULT_LOCK_KEY)
    if not isinstance(key, str):
        return
    for name in prefixes:
        if key.startswith(name.value):
            yield doc.problem(
                name.path,
                f"prefix {name.label()} contains the apply lock object {key!r}: choose another "
                "prefix, or move the lock with lock.key or lock.bucket",
            )
        elif name.value.startswith(key):
            # the lifecycle rule that expires the lock's old versions filters on its key
            yield doc.problem(
                name.path,
                f"prefix {name.label()} starts with the apply lock's key {key!r}, and the "
                "lifecycle rule that removes the lock's old versions would remove this "
                "prefix's old versions too: choose another prefix, or move the lock with "
                "lock.key or lock.bucket",
            )


def collaborator_entries(data: Any) -> list[tuple[int, dict[str, Any]]]:
    collaborators = data.get("collaborators") if isinstance(data, dict) else None
    if not isinstance(collaborators, list):
        return []
    return [(i, c) for i, c in enumerate(collaborators) if isinstance(c, dict)]


def field_names(
    entries: list[tuple[int, dict[str, Any]]], key: str, default: str | None
) -> list[Name]:
    found = []
    for index, entry in entries:
        value, cid = entry.get(key), entry.get("id")
        if isinstance(value, str):
            found.append(Name(index, value, ("collaborators", index, key), False))
        elif key not in entry and default is not None and isinstance(cid, str):
            found.append(Name(index, default.format(cid), ("collaborators", index, "id"), True))
    return found


def _ref(doc: SourceDocument, name: Name) -> str:
    return f"collaborators[{name.index}] (line {doc.line(name.path)})"


def _unique(
    doc: SourceDocument, names: list[Name], what: str, fold: Callable[[str], str], why: str
) -> Iterator[ConfigProblem]:
    first: dict[str, Name] = {}
    for name in names:
        earlier = first.setdefault(fold(name.value), name)
        if earlier is name:
            continue
        same = "" if earlier.value == name.value else f" as {earlier.value!r}"
        same = " as its default name" if earlier.derived else same
        yield doc.problem(
            name.path,
            f"{what} {name.label()} is already used by {_ref(doc, earlier)}{same}: {why}",
        )


def overlapping_pairs(prefixes: list[str]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(outer, inner) index pairs where one prefix lies inside another, and (first, repeat)
    pairs of equal prefixes. Prefixes end with '/', so an outer prefix always ends where the
    inner one has a '/': looking up those cut points finds every pair in O(total length)."""
    first: dict[str, int] = {}
    for index, prefix in enumerate(prefixes):
        first.setdefault(prefix, index)
    nested, equal = [], []
    for index, prefix in enumerate(prefixes):
        if first[prefix] != index:
            equal.append((first[prefix], index))
            continue
        for end in range(len(prefix) - 1):
            if prefix[end] == "/" and prefix[: end + 1] in first:
                nested.append((first[prefix[: end + 1]], index))
    return nested, equal


def _prefix_overlaps(doc: SourceDocument, names: list[Name]) -> Iterator[ConfigProblem]:
    prefixes = [n for n in names if n.value.endswith("/")]
    nested, equal = overlapping_pairs([n.value for n in prefixes])
    for earlier, repeat in equal:
        yield doc.problem(
            prefixes[repeat].path,
            f"prefix {prefixes[repeat].label()} is also the prefix of "
            f"{_ref(doc, prefixes[earlier])}: each collaborator needs a folder of its own",
        )
    for outer, inner in nested:
        yield _overlap(doc, prefixes[outer], prefixes[inner])


def _overlap(doc: SourceDocument, outer: Name, inner: Name) -> ConfigProblem:
    """Reported at whichever of the two comes later in the file."""
    if outer.index < inner.index:
        at, text = (
            inner,
            (
                f"prefix {inner.label()} is inside {outer.label()} of {_ref(doc, outer)}: "
                "that collaborator can reach this one's data"
            ),
        )
    else:
        at, text = (
            outer,
            (
                f"prefix {outer.label()} contains {inner.label()} of {_ref(doc, inner)}: "
                "this collaborator can reach that one's data"
            ),
        )
    return doc.problem(at.path, f"{text}; prefixes must not overlap")


def _quotas(doc: SourceDocument, entries: list[tuple[int, dict[str, Any]]]) -> list[ConfigProblem]:
    problems = []
    if len(entries) > MAX_ACCESS_POINTS:
        problems.append(
            doc.problem(
                ("collaborators",),
                f"{len(entries):,} collaborators need {len(entries):,} access points; S3 allows "
                f"{MAX_ACCESS_POINTS:,} per account and Region (a quota AWS can raise on request)",
            )
        )
    users = sum(1 for _, entry in entries if "iam_user" in entry)
    if users > MAX_IAM_USERS:
        problems.append(
            doc.problem(
                ("collaborators",),
                f"{users:,} IAM users (iam_user); IAM allows {MAX_IAM_USERS:,} per account: "
                "use principal for collaborators who have their own AWS account",
            )
        )
    return problems
