"""One role's policies as IAM can hold them: the statements of several shares merged into one
valid set, split into customer managed policies. Pure: no AWS calls.

IAM counts a managed policy's characters without whitespace and holds at most 6,144 of them;
a role has at most 10 managed policies attached by default (IAM User Guide, "IAM and AWS STS
quotas", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). A policy
that is too large is split, never widened: a statement whose resource list alone is too long
is cut into several statements with the same actions and conditions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.documents.iam_policy import (
    ACCESS_POINT_WRITES,
    MANAGED_POLICY_MAX_CHARS,
    OTHER_BUCKETS_DENY,
    ToolPolicy,
    policy_size,
    tool_policy,
)
from reconciler.model import POLICY_VERSION, Config

# IAM User Guide, "IAM and AWS STS quotas": managed policies attached to a role (default,
# adjustable to 20)
MANAGED_POLICIES_PER_ROLE = 10
# Denies that say "everything but these values": one per share would together deny every
# value, so the values of all shares go into one statement (the union is allowed).
UNION_DENIES = ("ReconcilerDenyOtherBoundaries", OTHER_BUCKETS_DENY)

Statement = dict[str, Any]


@dataclass(frozen=True)
class PolicySet:
    """The managed policies of one role, in order, each a complete policy document."""

    documents: tuple[dict[str, Any], ...]
    notes: tuple[str, ...] = ()

    def names(self, base: str) -> list[str]:
        return [f"{base}-{i}" for i in range(1, len(self.documents) + 1)]

    def as_object(self, base: str) -> dict[str, dict[str, Any]]:
        """{policy name: document}: `reconciler-apply-1`, `reconciler-apply-2`, ..."""
        return dict(zip(self.names(base), self.documents, strict=True))

    def to_json(self, base: str, *, split: bool) -> str:
        """One document when it fits in one managed policy and `split` is not asked for,
        else the object form."""
        if len(self.documents) == 1 and not split:
            return json.dumps(self.documents[0], indent=2) + "\n"
        return json.dumps(self.as_object(base), indent=2) + "\n"


def policy_set(policies: Sequence[ToolPolicy], *, label_notes: Sequence[str] = ()) -> PolicySet:
    """Merge the policies of several shares (one role, one account) and split the result.
    `label_notes`, when given, names each policy's file in front of its notes."""
    statements = merge_statements([p.document["Statement"] for p in policies])
    documents = split_statements(statements)
    notes: list[str] = []
    for i, policy in enumerate(policies):
        label = f"{label_notes[i]}: " if label_notes else ""
        notes += [label + note for note in policy.notes]
        if policy.scope_note and _exact_names_cost_a_policy(policy):
            notes.append(label + policy.scope_note)
    if len(documents) > 1:
        notes.append(
            f"the policy has {sum(policy_size(d) for d in documents)} characters, over the "
            f"{MANAGED_POLICY_MAX_CHARS} of one managed policy: printed as {len(documents)} "
            "managed policies to attach to the role together (docs/ci-setup.md)"
        )
    if len(documents) > MANAGED_POLICIES_PER_ROLE:
        notes.append(
            f"{len(documents)} managed policies are more than the {MANAGED_POLICIES_PER_ROLE} "
            "a role may have by default (IAM quota, adjustable to 20): set access_point_prefix "
            "so that the access points are named by one pattern, or ask AWS for a higher quota"
        )
    return PolicySet(tuple(documents), tuple(dict.fromkeys(notes)))


def access_point_scope_warnings(config: Config) -> list[str]:
    """For `validate`: the apply role's policy would be smaller with access_point_prefix."""
    policy = tool_policy(config, read_only=False)
    if policy.scope_note and _exact_names_cost_a_policy(policy):
        return [policy.scope_note]
    return []


def _exact_names_cost_a_policy(policy: ToolPolicy) -> bool:
    """More managed policies with the exact access point ARNs than with one pattern."""
    statements = policy.document["Statement"]
    patterned = [
        {**s, "Resource": "arn:aws:s3:region:account:accesspoint/prefix-*"}
        if s["Sid"] == ACCESS_POINT_WRITES
        else s
        for s in statements
    ]
    return len(split_statements(statements)) > len(split_statements(patterned))


# --- merging ---------------------------------------------------------------------------------


def merge_statements(per_share: Sequence[Sequence[Statement]]) -> list[Statement]:
    """Statements of several shares as one valid list: identical ones once, the union denies
    merged, the others kept with a numbered Sid where the Sid is already taken."""
    merged: dict[str, Statement] = {}
    seen: set[str] = set()
    for statements in per_share:
        for statement in statements:
            key = _identity(statement)
            if key in seen:
                continue
            seen.add(key)
            sid = statement["Sid"]
            if sid in UNION_DENIES and sid in merged:
                merged[sid] = _union(merged[sid], statement)
                continue
            free = _free_sid(sid, merged)
            merged[free] = {**statement, "Sid": free}
    return list(merged.values())


def _identity(statement: Statement) -> str:
    return json.dumps({k: v for k, v in statement.items() if k != "Sid"}, sort_keys=True)


def _free_sid(sid: str, taken: dict[str, Statement]) -> str:
    number = 1
    candidate = sid
    while candidate in taken:
        number += 1
        candidate = f"{sid}{number}"
    return candidate


def _union(first: Statement, second: Statement) -> Statement:
    """Two "deny all but these values" statements as one: the values of both are allowed."""
    (operator, keys), *rest = first["Condition"].items()
    assert not rest and set(second["Condition"]) == {operator}
    values = dict(keys)
    for key, more in second["Condition"][operator].items():
        values[key] = sorted(set(_as_list(values.get(key, []))) | set(_as_list(more)))
    return {**first, "Condition": {operator: values}}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- splitting -------------------------------------------------------------------------------


def split_statements(
    statements: Sequence[Statement], *, limit: int = MANAGED_POLICY_MAX_CHARS
) -> list[dict[str, Any]]:
    """Managed policy documents of at most `limit` characters each, statements in order (each
    goes into the first document with room for it). Sizes are added up, not re-measured: a
    document is the empty one plus its statements and the commas between them."""
    empty = policy_size(_document([]))
    parts: list[list[Statement]] = []
    sizes: list[int] = []
    for statement in (piece for s in statements for piece in _pieces(s, limit)):
        size = _size(statement)
        for index, part in enumerate(parts):
            if sizes[index] + 1 + size <= limit:
                part.append(statement)
                sizes[index] += 1 + size
                break
        else:
            parts.append([statement])
            sizes.append(empty + size)
    return [_document(part) for part in parts] or [_document([])]


def _size(statement: Statement) -> int:
    return len(json.dumps(statement, separators=(",", ":")))


def _pieces(statement: Statement, limit: int) -> list[Statement]:
    """A statement that fits, or its resource list cut into statements that do."""
    empty = policy_size(_document([]))
    if empty + _size(statement) <= limit:
        return [statement]
    resources = _as_list(statement["Resource"])
    assert len(resources) > 1, f"{statement['Sid']} alone is over {limit} characters"
    # a piece: the statement with a list of one resource, plus each further resource and comma
    base = empty + _size(_piece(statement, ["", ""], 99)) - 2 * len('""') - 1
    pieces: list[Statement] = []
    current: list[str] = []
    size = base
    for resource in resources:
        grow = len(json.dumps(resource)) + (1 if current else 0)
        if current and size + grow > limit:
            pieces.append(_piece(statement, current, len(pieces) + 1))
            current, size, grow = [], base, len(json.dumps(resource))
        current.append(resource)
        size += grow
    pieces.append(_piece(statement, current, len(pieces) + 1))
    return pieces


def _piece(statement: Statement, resources: list[str], number: int) -> Statement:
    sid = statement["Sid"] if number == 1 else f"{statement['Sid']}Part{number}"
    resource: str | list[str] = resources[0] if len(resources) == 1 else resources
    return {**statement, "Sid": sid, "Resource": resource}


def _document(statements: list[Statement]) -> dict[str, Any]:
    return {"Version": POLICY_VERSION, "Statement": statements}
