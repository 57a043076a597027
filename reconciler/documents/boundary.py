"""The permissions boundary for collaborators' IAM users (`reconcile iam-policy --boundary`).

A permissions boundary is a managed policy that caps what identity-based policies can give a
user; it grants nothing itself (IAM User Guide, "Permissions boundaries for IAM entities",
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html). The apply role
may only create users and write their inline policies with this boundary set (see
reconciler.documents.iam_policy), so whoever obtains the role still cannot give a collaborator
more than the boundary allows.

The boundary allows exactly what the identity policies this tool writes can allow, and nothing
more. It is derived from the identity policy builder itself (reconciler.documents.policies):
the builder is run for probe collaborators covering every value of every option a collaborator
can have (every combination of access levels, every status, both values of every flag), and
every Allow it emits is kept with the collaborator-specific parts widened to `*` (an access
point name, a prefix, a user name). Statements on the same resources with the same conditions
are merged. So a statement added to the identity policies shows up here without anyone editing
this file.

Data access does not depend on the boundary: an access point policy that names the user's ARN is
a resource-based policy, and within an account a boundary does not limit what resource-based
policies grant to a user (same page, "Evaluating effective permissions with boundaries").
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import json
import types
import typing
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from reconciler.documents import policies
from reconciler.model import POLICY_VERSION, Collaborator, Config, canonical_policy

# Stand-in values for the per-collaborator fields: where one appears in a policy, the value is
# cut there and ends in "*" (a superset of every value the field can take).
_PROBE = "\u2400probe-"
_ACTION_KEYS = ("Action", "NotAction")


def boundary_policy(config: Config) -> dict[str, Any]:
    """The boundary document for the users this config describes."""
    merged: dict[str, _Merged] = {}
    for collaborator in probe_collaborators():
        for statement in policies.identity_statements(config, collaborator):
            if statement.get("Effect") != "Allow":
                continue  # a Deny in an identity policy needs nothing from the boundary
            _merge(merged, _widened(statement, _stand_ins(config)))
    statements = [
        {**m.shape, "Sid": min(m.sids), m.action_key: sorted(m.actions)} for m in merged.values()
    ]
    _unique_sids(statements)
    result = canonical_policy({"Version": POLICY_VERSION, "Statement": statements})
    assert result is not None
    return result


@dataclasses.dataclass
class _Merged:
    """Allow statements on the same resources with the same conditions: their actions."""

    shape: dict[str, Any]
    action_key: str
    actions: set[str] = dataclasses.field(default_factory=set)
    sids: set[str] = dataclasses.field(default_factory=set)


def _merge(merged: dict[str, _Merged], statement: dict[str, Any]) -> None:
    action_key = "NotAction" if "NotAction" in statement else "Action"
    shape = {k: v for k, v in statement.items() if k not in ("Sid", *_ACTION_KEYS)}
    # NotAction lists are never merged: the union of two would allow less than either
    alone = _as_list(statement.get(action_key)) if action_key == "NotAction" else []
    entry = merged.setdefault(
        json.dumps([action_key, shape, sorted(alone)], sort_keys=True), _Merged(shape, action_key)
    )
    entry.actions.update(_as_list(statement.get(action_key)))
    entry.sids.add(str(statement.get("Sid") or "ReconcilerBoundary"))


def _unique_sids(statements: list[dict[str, Any]]) -> None:
    seen: dict[str, int] = {}
    for statement in sorted(statements, key=lambda s: json.dumps(s, sort_keys=True)):
        sid = statement["Sid"]
        seen[sid] = seen.get(sid, 0) + 1
        if seen[sid] > 1:
            statement["Sid"] = f"{sid}{seen[sid]}"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


# --- widening ---------------------------------------------------------------------------------


def _stand_ins(config: Config) -> dict[str, str]:
    """Values the builder can only guess offline, and what the boundary allows instead: a KMS
    key given as an alias is resolved at plan time, so any key of the account and Region (the
    statement's kms:ViaService and encryption-context conditions still confine it to S3 and
    this bucket)."""
    if config.bucket.kms and config.bucket.key_arn is None:
        any_key = f"arn:aws:kms:{config.region}:{config.account_id}:key/*"
        return {policies.key_resource(config): any_key}
    return {}


def _widen_text(value: str) -> str:
    at = value.find(_PROBE)
    return value if at < 0 else value[:at] + "*"


def _widen(value: Any) -> Any:
    if isinstance(value, str):
        return _widen_text(value)
    if isinstance(value, list):
        unique = {json.dumps(w, sort_keys=True): w for w in map(_widen, value)}
        return [unique[k] for k in sorted(unique)]
    if isinstance(value, Mapping):
        return {k: _widen(v) for k, v in value.items()}
    return value


def _mentions_probe(value: Any) -> bool:
    return _PROBE in json.dumps(value, ensure_ascii=False)


def _widened(statement: Mapping[str, Any], stand_ins: Mapping[str, str]) -> dict[str, Any]:
    """The statement with every collaborator-specific value widened. A condition on such a
    value is widened too under a wildcard operator (StringLike, ArnLike: `.../<prefix>*` becomes
    `.../*`), and dropped under any other (a boundary without it allows more, never less);
    others are kept."""
    out = {k: _widen(v) for k, v in statement.items() if k != "Condition"}
    # widening what a NotResource / NotAction excludes would allow less: allow everything
    for negated, positive in (("NotResource", "Resource"), ("NotAction", "Action")):
        if negated in statement and _mentions_probe(statement[negated]):
            del out[negated]
            out[positive] = "*"
    if "Resource" in out:  # (never NotResource: see above)
        out["Resource"] = [stand_ins.get(r, r) for r in _as_list(out["Resource"])]
    condition = statement.get("Condition")
    if isinstance(condition, Mapping):
        kept = {
            operator: dict(keys) if not _mentions_probe(keys) else _widen(keys)
            for operator, keys in condition.items()
            if isinstance(keys, Mapping) and (not _mentions_probe(keys) or _widens(operator, keys))
        }
        if kept:
            out["Condition"] = kept
    return out


# positive operators whose values may hold wildcards: a value cut to "*" there matches a superset
_WILDCARD_OPERATORS = ("stringlike", "arnlike", "arnequals")


def _widens(operator: str, keys: Mapping[str, Any]) -> bool:
    """Whether a condition holding a collaborator-specific value can be kept widened: under a
    wildcard operator, and only while each value keeps a literal part (a bare "*" is dropped
    with its condition, which then allows more, never less)."""
    if str(operator).lower() not in _WILDCARD_OPERATORS:
        return False
    values = [v for value in _widen(dict(keys)).values() for v in _as_list(value)]
    return all(isinstance(v, str) and v != "*" for v in values)


# --- probe collaborators ------------------------------------------------------------------------


def probe_collaborators() -> Iterator[Collaborator]:
    """One managed-user collaborator for every combination of every option's values."""
    hints = typing.get_type_hints(Collaborator)
    fields = dataclasses.fields(Collaborator)
    choices = [_choices(f.name, hints[f.name], f.default) for f in fields]
    for values in itertools.product(*choices):
        yield Collaborator(**dict(zip((f.name for f in fields), values, strict=True)))


def _choices(name: str, hint: Any, default: Any = dataclasses.MISSING) -> list[Any]:
    """Every value worth probing for one field: all values of an enum or flag, every non-empty
    set of enum members, a stand-in for free text (and None where allowed). A type this does
    not know is probed with its default; without one, it is an error (never a silent gap)."""
    if name == "principal":
        return [None]  # identity policies are written for the users the tool manages
    if name == "iam_user":
        return [f"{_PROBE}{name}"]
    options = [a for a in typing.get_args(hint) if a is not type(None)]
    if options and _is_union(hint):
        return list(dict.fromkeys([*_choices(name, options[0], default), None]))
    if hint is bool:
        return [False, True]
    if hint is str:
        return [f"{_PROBE}{name}"]
    if hint is date:
        return [None]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return list(hint)
    if typing.get_origin(hint) is tuple:
        member = typing.get_args(hint)[0]
        if isinstance(member, type) and issubclass(member, enum.Enum):
            values = list(member)
            return [
                combo
                for size in range(1, len(values) + 1)
                for combo in itertools.combinations(values, size)
            ]
        if member is str:
            return [(), (f"{_PROBE}{name}",)]
    if default is not dataclasses.MISSING:
        return [default]
    raise TypeError(f"boundary: no probe values for Collaborator.{name} ({hint!r})")


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)
