"""Policy documents compiled once into matchers: Action/NotAction, Resource/NotResource,
Principal/NotPrincipal, Condition. A statement reports whether it applies to a request as YES,
NO or MAYBE (with the reason)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.access.arns import RoleKey, role_key
from reconciler.access.conditions import Clause, Context, compile_conditions, evaluate_all
from reconciler.access.logic import Tri, negate
from reconciler.access.patterns import Pattern, any_match, compile_pattern

if TYPE_CHECKING:
    from reconciler.access.requests import Principal

VARIABLES_VERSION = "2012-10-17"
_ACCOUNT = re.compile(r"^(?:[0-9]{12}|arn:aws[a-z-]*:iam::([0-9]{12}):root)$")


@dataclass(frozen=True)
class PolicyRef:
    kind: str  # "identity policy", "access point policy", "bucket policy"
    name: str

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class StatementRef:
    policy: PolicyRef
    index: int
    sid: str | None
    note: str | None = None  # replaces the label for grants that are assumed, not read

    @property
    def label(self) -> str:
        if self.note is not None:
            return self.note
        which = self.sid if self.sid else f"#{self.index + 1}"
        return f"{self.policy.label} statement {which}"


@dataclass(frozen=True)
class PrincipalSpec:
    """The principals a Principal/NotPrincipal element names. A role ARN names every session of
    the role, a session ARN that session only (reconciler/access/arns.py)."""

    everyone: bool = False
    arns: frozenset[str] = frozenset()
    accounts: frozenset[str] = frozenset()
    unknown: tuple[str, ...] = ()
    roles: frozenset[RoleKey] = frozenset()  # the roles the role ARNs in `arns` name

    def names(self, principal: Principal) -> tuple[Tri, bool]:
        """(whether it names the principal, whether only through its account)."""
        if self.everyone:
            return Tri.YES, False
        if principal.arn is not None and principal.arn in self.arns:
            return Tri.YES, False
        if principal.session_of is not None and principal.session_of in self.roles:
            return Tri.YES, False
        if principal.account is not None and principal.account in self.accounts:
            return Tri.YES, True
        return (Tri.MAYBE if self.unknown else Tri.NO), False

    def excludes(self, principal: Principal) -> Tri:
        """NotPrincipal: AWS may check the account before the user, so naming only one of the
        two is ambiguous; for a role session the page's example names the session, the role and
        the account (IAM User Guide, "NotPrincipal", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html)."""
        if self.everyone:
            return Tri.YES
        if principal.arn is None:
            return Tri.MAYBE if self.unknown else Tri.NO
        hits = [principal.arn in self.arns, principal.account in self.accounts]
        if principal.session_of is not None:
            hits.append(principal.session_of in self.roles)
        if all(hits):
            return Tri.YES
        if any(hits) or self.unknown:
            return Tri.MAYBE
        return Tri.NO


def compile_principal(element: Any) -> PrincipalSpec:
    if element == "*":
        return PrincipalSpec(everyone=True)
    if not isinstance(element, Mapping):
        return PrincipalSpec(unknown=(f"principal {element!r} is not understood",))
    arns: set[str] = set()
    accounts: set[str] = set()
    unknown: list[str] = []
    everyone = False
    for kind, raw in element.items():
        values = raw if isinstance(raw, list) else [raw]
        for value in (str(v) for v in values):
            if kind != "AWS":
                if kind == "CanonicalUser":
                    unknown.append(f"canonical user {value} cannot be matched to an IAM principal")
                continue  # Service and Federated principals are never our IAM principals
            if value == "*":
                everyone = True
            elif (match := _ACCOUNT.match(value)) is not None:
                accounts.add(match.group(1) or value)
            elif "*" in value or "?" in value:
                unknown.append(f"principal {value} holds a wildcard")
            else:
                arns.add(value)
    roles = frozenset(key for arn in arns if (key := role_key(arn)) is not None)
    return PrincipalSpec(everyone, frozenset(arns), frozenset(accounts), tuple(unknown), roles)


@dataclass(frozen=True)
class Applies:
    value: Tri
    via_account: bool = False
    reasons: tuple[str, ...] = ()


_NO = Applies(Tri.NO)


@dataclass(frozen=True)
class CompiledStatement:
    ref: StatementRef
    effect: str | None  # "Allow", "Deny", or None when invalid
    actions: tuple[Pattern, ...]
    not_action: bool
    resources: tuple[Pattern, ...]
    not_resource: bool
    principal: PrincipalSpec | None
    not_principal: bool
    conditions: tuple[Clause, ...]
    problems: tuple[str, ...] = ()
    _by_action: dict[str, Tri] = field(default_factory=dict, compare=False, repr=False)

    def action_matches(self, action: str) -> Tri:
        cached = self._by_action.get(action)
        if cached is None:
            matched = any_match(self.actions, action)
            cached = self._by_action[action] = negate(matched) if self.not_action else matched
        return cached

    def resource_matches(self, resource: str) -> Tri:
        matched = any_match(self.resources, resource)
        return negate(matched) if self.not_resource else matched

    def principal_applies(self, principal: Principal) -> tuple[Tri, bool]:
        if self.principal is None:
            return Tri.YES, False  # identity policy: the identity it is attached to
        if self.not_principal:
            return negate(self.principal.excludes(principal)), False
        return self.principal.names(principal)

    def applies(self, action: str, resource: str, principal: Principal, ctx: Context) -> Applies:
        steps = (self.action_matches(action), self.resource_matches(resource))
        if Tri.NO in steps:
            return _NO
        named, via_account = self.principal_applies(principal)
        if named is Tri.NO:
            return _NO
        condition, reasons = evaluate_all(self.conditions, ctx)
        if condition is Tri.NO:
            return _NO
        value = min(*steps, named, condition)
        if value is Tri.MAYBE:
            reasons = reasons + self.problems + self._pattern_reasons(named, resource)
        return Applies(value, via_account, tuple(dict.fromkeys(reasons)))

    def _pattern_reasons(self, named: Tri, resource: str) -> tuple[str, ...]:
        reasons: list[str] = []
        reasons.extend(
            f"{self.ref.label}: Resource {p.doubt}"
            for p in self.resources
            if p.match(resource) is Tri.MAYBE
        )
        if named is Tri.MAYBE and self.principal is not None:
            reasons.extend(
                self.principal.unknown or (f"{self.ref.label}: NotPrincipal is ambiguous",)
            )
        return tuple(reasons)


@dataclass(frozen=True)
class CompiledPolicy:
    ref: PolicyRef
    statements: tuple[CompiledStatement, ...]


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def compile_statement(
    raw: Mapping[str, Any], ref: StatementRef, variables: bool
) -> CompiledStatement:
    problems: list[str] = []
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        problems.append(f"{ref.label}: Effect {effect!r} is not Allow or Deny")
        effect = None
    action_key = "NotAction" if "NotAction" in raw else "Action"
    resource_key = "NotResource" if "NotResource" in raw else "Resource"
    actions = tuple(compile_pattern(a, ignore_case=True) for a in _list(raw.get(action_key)))
    resources = tuple(
        compile_pattern(r, arn=True, resource=True, variables=variables)
        for r in _list(raw.get(resource_key))
    )
    if not actions or not resources:
        problems.append(f"{ref.label}: no Action/NotAction or no Resource/NotResource")
        # unknowable matchers keep the statement MAYBE rather than silently inert
        actions = actions or (Pattern("?", "", "unknown"),)
        resources = resources or (Pattern("?", "", "unknown"),)
    principal_key = "NotPrincipal" if "NotPrincipal" in raw else "Principal"
    principal = compile_principal(raw[principal_key]) if principal_key in raw else None
    return CompiledStatement(
        ref=ref,
        effect=effect,
        actions=actions,
        not_action=action_key == "NotAction",
        resources=resources,
        not_resource=resource_key == "NotResource",
        principal=principal,
        not_principal=principal_key == "NotPrincipal",
        conditions=compile_conditions(raw.get("Condition"), variables=variables),
        problems=tuple(problems),
    )


def compile_policy(document: Mapping[str, Any] | None, ref: PolicyRef) -> CompiledPolicy | None:
    if document is None:
        return None
    variables = document.get("Version") == VARIABLES_VERSION
    raw = document.get("Statement", [])
    statements = [raw] if isinstance(raw, Mapping) else list(raw)
    compiled = tuple(
        compile_statement(s, StatementRef(ref, i, s.get("Sid") or None), variables)
        for i, s in enumerate(statements)
        if isinstance(s, Mapping)
    )
    return CompiledPolicy(ref, compiled)
