"""A LiveState compiled for evaluation: every policy compiled once, an index of which access
points could admit which principal, and the probe targets worth evaluating.

Pruning is sound, not a sample: a request through an access point is allowed only if the access
point stage allows it, which needs an Allow statement (in the access point policy or the
principal's identity policy) that could apply to the principal, the action and the resource. Only
routes and keys such statements could reach are probed; everything else is denied by IAM's
default deny. Every probe that is evaluated goes through the full evaluator.

Folders alike: when an Allow reaches every folder (`object/*`, no s3:prefix condition), the
folders that no statement on the route can tell apart are decided alike, so one of them stands
for all (`Probes.spread`, `AccessState.rest`). A statement can tell a folder apart only through a
Resource pattern or an s3:prefix condition, and a pattern can only match a string that starts with
its literal part (the text before its first wildcard). So every folder that is neither a prefix of
nor prefixed by any such literal matches every pattern alike; those that are, and any pattern this
cannot reason about (policy variables, case-insensitive operators, a wildcard before the key), are
probed one by one. This keeps a broadened policy at O(statements) evaluations instead of one per
folder.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from reconciler.access.arns import RoleKey, role_key, session_role
from reconciler.access.conditions import Context, evaluate_all
from reconciler.access.evaluator import Decision, Evaluation, Stage, evaluate, evaluate_kms
from reconciler.access.logic import Tri
from reconciler.access.patterns import Pattern, instantiate
from reconciler.access.policy import CompiledPolicy, CompiledStatement, PolicyRef, compile_policy
from reconciler.access.requests import (
    KEY_AP_ACCOUNT,
    KEY_AP_ARN,
    KEY_AP_ORIGIN,
    KEY_DELIMITER,
    KEY_PREFIX,
    KEY_PRINCIPAL_ACCOUNT,
    KEY_PRINCIPAL_ARN,
    LEVEL_ACTIONS,
    PLAIN,
    AccessPointRef,
    Details,
    Identity,
    KmsRequest,
    Principal,
    Request,
    principal_keys,
)
from reconciler.documents.policies import LIST_ACTION
from reconciler.model import AccessLevel, LiveAccessPoint, LiveState, LiveUser

PROBE = "reconciler-verify-probe"
OBJECT, LISTING = "object", "list"
OBJECT_ACTIONS = tuple(
    a for level, acts in LEVEL_ACTIONS.items() if level is not AccessLevel.LIST for a in acts
)
# up to this many folders decided alike are still probed and reported one by one
SPELLED_OUT = 10
_ROUTE_KEYS = frozenset(
    {KEY_PRINCIPAL_ARN, KEY_PRINCIPAL_ACCOUNT, KEY_AP_ARN, KEY_AP_ACCOUNT, KEY_AP_ORIGIN}
)


@dataclass(frozen=True)
class Target:
    """One place to probe: an object key, or an s3:prefix to list."""

    kind: str  # OBJECT or LISTING
    value: str
    # LISTING only: the s3:delimiter sent. A listing with a delimiter shows the names one level
    # below the prefix; without one (None), every key below it.
    delimiter: str | None = None


@dataclass(frozen=True)
class Probes:
    """Where to probe one principal on one route. Every target is evaluated. For each kind in
    `spread` an Allow reaches every folder, and the known folders holding none of the targets
    are decided alike: evaluate one of them (`AccessState.rest`) and it stands for all."""

    targets: frozenset[Target]
    spread: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Point:
    ref: AccessPointRef
    policy: CompiledPolicy | None
    owner: str | None  # the reconciler:collaborator tag


def user_identity(user: LiveUser) -> Identity:
    policies = tuple(
        p
        for name, doc in sorted(user.inline_policies.items())
        if (p := compile_policy(doc, PolicyRef("identity policy", f"{user.name}/{name}")))
    )
    unknown = tuple(
        f"{user.name} has {what} this tool does not read: {', '.join(names)}"
        for what, names in (
            ("attached managed policies", user.attached_policies),
            ("group memberships", user.groups),
        )
        if names
    )
    return Identity(policies, unknown=unknown)


class AccessState:
    """`like`: another state of the same account (a plan's live state, for the state the plan
    would leave); access points and users equal in both share their compiled policies."""

    def __init__(
        self,
        live: LiveState,
        *,
        account: str,
        region: str,
        prefixes: Iterable[str] = (),
        like: AccessState | None = None,
    ) -> None:
        self.live = live
        self._like = like
        self.bucket = live.bucket.name
        self.exists = live.bucket.exists
        self.account = account
        self.region = region
        self.bucket_policy = (
            compile_policy(live.bucket.policy, PolicyRef("bucket policy", self.bucket))
            if self.exists
            else None
        )
        self.points = {
            ap.name: self._point(ap)
            for ap in live.access_points.values()
            if ap.bucket == self.bucket
        }
        self.users = {u.name.lower(): u for u in live.users.values()}
        self.key = _bucket_key(live)
        self.key_policy = (
            compile_policy(live.kms_key.policy, PolicyRef("key policy", self.key.arn))
            if self.key is not None
            and live.kms_key is not None
            and live.kms_key.arn == self.key.arn
            else None
        )
        self._identities: dict[str, Identity] = {}
        self._cache: dict[tuple[object, ...], Evaluation] = {}
        self._relevant_cache: dict[
            tuple[object, ...], tuple[list[CompiledStatement], list[CompiledStatement]]
        ] = {}
        self._apart_cache: dict[tuple[object, ...], frozenset[str] | None] = {}
        self.evaluations = 0
        self.prefixes = sorted(set(prefixes) | set(derived_prefixes(self)))
        self._prefix_set = set(self.prefixes)
        self._index_principals()

    def _point(self, ap: LiveAccessPoint) -> Point:
        like = self._like
        if like is not None and ap.name in like.points and like.live.access_points[ap.name] == ap:
            return like.points[ap.name]
        return Point(
            AccessPointRef(ap.name, self.point_arn(ap.name), self.account, ap.network_origin),
            compile_policy(ap.policy, PolicyRef("access point policy", ap.name)),
            ap.tags.get("reconciler:collaborator"),
        )

    def extend_prefixes(self, prefixes: Iterable[str]) -> None:
        self.prefixes = sorted(self._prefix_set | set(prefixes))
        self._prefix_set = set(self.prefixes)
        self._apart_cache.clear()

    # --- names ------------------------------------------------------------------------------

    def point_arn(self, name: str) -> str:
        return f"arn:aws:s3:{self.region}:{self.account}:accesspoint/{name}"

    def object_base(self, route: str | None) -> str:
        return (
            f"arn:aws:s3:::{self.bucket}/" if route is None else f"{self.point_arn(route)}/object/"
        )

    def list_resource(self, route: str | None) -> str:
        return f"arn:aws:s3:::{self.bucket}" if route is None else self.point_arn(route)

    def identity_of(self, user: LiveUser) -> Identity:
        if user.name not in self._identities:
            like = self._like
            same = like is not None and like.live.users.get(user.name) == user
            self._identities[user.name] = (
                like.identity_of(user) if like is not None and same else user_identity(user)
            )
        return self._identities[user.name]

    # --- evaluation -------------------------------------------------------------------------

    def evaluate(
        self,
        principal: Principal,
        action: str,
        target: Target,
        route: str | None,
        tls: bool = True,
        signature_age_ms: int | None = None,
        details: Details = PLAIN,
    ) -> Evaluation:
        """`signature_age_ms`: a presigned URL used that long after signing (None: not one);
        `details`: signature and TLS versions, encryption headers."""
        key: tuple[object, ...] = (
            principal.label,
            principal.arn,
            action,
            target,
            route,
            tls,
            signature_age_ms,
        )
        if details != PLAIN:
            key += (details,)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._evaluate(
                principal, action, target, route, tls, signature_age_ms, details
            )
        return cached

    def evaluate_kms(
        self,
        principal: Principal,
        action: str,
        key: str | None,
        *,
        bucket_key: bool | None = None,
    ) -> Evaluation:
        """The KMS call S3 makes for this principal's request on object `key` of the bucket
        (None: a direct call to KMS, not through S3). `bucket_key`: whether the object is
        encrypted with the S3 Bucket Key (the encryption context is then the bucket ARN, else
        the object ARN); None: as the bucket's default encryption says."""
        assert self.key is not None
        via = key is not None
        context = self.key.context(self.bucket, key, bucket_key) if key is not None else None
        cache = ("kms", principal.label, principal.arn, action, context)
        cached = self._cache.get(cache)
        if cached is None:
            self.evaluations += 1
            request = KmsRequest(
                principal,
                action,
                self.key.arn,
                via_service=f"s3.{self.region}.amazonaws.com" if via else None,
                s3_context=context,
            )
            cached = self._cache[cache] = evaluate_kms(
                request, key_policy=self.key_policy, key_account=self.key.account
            )
        return cached

    def bucket_admits(self, route: str) -> Tri:
        """Whether the bucket policy lets requests through this access point at all: the bucket
        stage of a read and a listing through it by a caller of another account whose own
        policies allow everything (so that only the bucket policy decides)."""
        caller = Principal(
            "a caller through the access point",
            "arn:aws:iam::999999999999:role/reconciler-verify-caller",
            Identity(unrestricted="its own account's policies (assumed to allow everything)"),
        )
        stages = [
            self.evaluate(caller, action, target, route).stages
            for action, target in (
                ("s3:GetObject", Target(OBJECT, PROBE)),
                (LIST_ACTION, Target(LISTING, "")),
            )
        ]
        values = [s[-1].allowed for s in stages if s and s[-1].label == f"bucket {self.bucket}"]
        return max(values, default=Tri.NO)

    def forget(self) -> None:
        """Drop remembered evaluations (callers do this between collaborators, so memory stays
        bounded by one collaborator's requests, not all of them)."""
        self._cache.clear()

    def _evaluate(
        self,
        principal: Principal,
        action: str,
        target: Target,
        route: str | None,
        tls: bool,
        signature_age_ms: int | None,
        details: Details = PLAIN,
    ) -> Evaluation:
        self.evaluations += 1
        if not self.exists:
            return Evaluation(
                Decision.DENY, stages=(Stage(f"bucket {self.bucket} does not exist", Tri.NO),)
            )
        point = self.points.get(route) if route is not None else None
        if route is not None and point is None:
            why = f"access point {route} does not exist on bucket {self.bucket}"
            return Evaluation(Decision.DENY, stages=(Stage(why, Tri.NO),))
        request = Request(
            principal,
            action,
            self.bucket,
            self.account,
            key=target.value if target.kind == OBJECT else None,
            prefix=target.value if target.kind == LISTING else None,
            delimiter=target.delimiter,
            access_point=point.ref if point else None,
            secure_transport=tls,
            signature_age_ms=signature_age_ms,
            details=details,
        )
        return evaluate(
            request,
            access_point_policy=point.policy if point else None,
            bucket_policy=self.bucket_policy,
        )

    # --- which access points could admit a principal ----------------------------------------

    def _index_principals(self) -> None:
        self._by_arn: dict[str, set[str]] = {}
        self._by_account: dict[str, set[str]] = {}
        self._by_role: dict[RoleKey, set[str]] = {}
        self._generic: set[str] = set()
        self.named_accounts: set[str] = set()
        for name, point in self.points.items():
            for statement in allow_statements(point.policy):
                spec = statement.principal
                if spec is None or statement.not_principal or spec.everyone or spec.unknown:
                    self._generic.add(name)
                    continue
                for arn in spec.arns:
                    self._by_arn.setdefault(arn, set()).add(name)
                    self.named_accounts.add(arn.split(":")[4] if arn.count(":") >= 4 else arn)
                for role in spec.roles:
                    self._by_role.setdefault(role, set()).add(name)
                for account in spec.accounts:
                    self._by_account.setdefault(account, set()).add(name)
                    self.named_accounts.add(account)
        self._point_arns = sorted((self.point_arn(n), n) for n in self.points)
        self._sessions: dict[RoleKey, set[str]] = {}
        policies = [self.bucket_policy, *(p.policy for p in self.points.values())]
        for statement in (s for p in policies if p is not None for s in p.statements):
            for arn in statement.principal.arns if statement.principal else ():
                if (owner := session_role(arn)) is not None:
                    self._sessions.setdefault(owner, set()).add(arn)

    def named_sessions(self, role_arn: str) -> list[str]:
        """The session ARNs of this role that a Principal or NotPrincipal element names (in the
        bucket policy or an access point policy): each may be decided apart from the others."""
        role = role_key(role_arn)
        return sorted(self._sessions.get(role, ())) if role is not None else []

    def candidate_points(self, principal: Principal) -> set[str]:
        """Access points whose access point stage could allow this principal anything."""
        names = set(self._generic)
        if principal.arn is not None:
            names |= self._by_arn.get(principal.arn, set())
        if principal.session_of is not None:
            names |= self._by_role.get(principal.session_of, set())
        if principal.account is not None:
            names |= self._by_account.get(principal.account, set())
        identity = principal.identity
        if principal.account == self.account and (identity.unknown or identity.unrestricted):
            return set(self.points)
        for statement in _identity_allows(identity):
            names |= self._points_matching(statement)
        return names

    def _points_matching(self, statement: CompiledStatement) -> set[str]:
        if statement.not_resource or any(p.unknowable for p in statement.resources):
            return set(self.points)
        names: set[str] = set()
        for pattern in statement.resources:
            lit = pattern.literal_prefix
            start = bisect.bisect_left(self._point_arns, (lit, ""))
            for arn, name in self._point_arns[start:]:
                if not arn.startswith(lit):
                    break
                names.add(name)
            found = re.match(r"arn:aws[a-z-]*:s3:[^:]*:[^:]*:accesspoint/([^/*?]+)/", lit + "/")
            if (
                found
                and found.group(1) in self.points
                and lit.startswith(self.point_arn(found.group(1)))
            ):
                names.add(found.group(1))
        return names

    # --- where to probe ---------------------------------------------------------------------

    def relevant_allows(self, principal: Principal, route: str | None) -> list[CompiledStatement]:
        """Allow statements of the stage that gates this route which could apply."""
        resource, identity = self._relevant(principal, route)
        return [*resource, *identity]

    def _relevant(
        self, principal: Principal, route: str | None
    ) -> tuple[list[CompiledStatement], list[CompiledStatement]]:
        key = (principal.label, principal.arn, route)
        if key not in self._relevant_cache:
            self._relevant_cache[key] = self._find_relevant(principal, route)
        return self._relevant_cache[key]

    def _find_relevant(
        self, principal: Principal, route: str | None
    ) -> tuple[list[CompiledStatement], list[CompiledStatement]]:
        ctx = self.route_context(principal, route)
        policy = self.bucket_policy if route is None else self.points[route].policy

        def applies(statement: CompiledStatement) -> bool:
            return (
                statement.principal_applies(principal)[0] is not Tri.NO
                and evaluate_all(statement.conditions, ctx)[0] is not Tri.NO
            )

        resource = [s for s in allow_statements(policy) if applies(s)]
        identity = [s for s in _identity_allows(principal.identity) if applies(s)]
        return resource, identity

    def route_can_allow(self, principal: Principal, route: str | None) -> bool:
        """False when no request by this principal on this route can be allowed: the stage that
        gates the route has no Allow that could apply (IAM's default deny)."""
        if not self.exists or (route is not None and route not in self.points):
            return False
        resource, identity = self._relevant(principal, route)
        if resource:
            return True
        if principal.anonymous or principal.account != self.account:
            return False  # anonymous and other accounts need the resource policy to allow
        unseen = principal.identity.unknown or principal.identity.unrestricted
        return bool(identity or unseen)

    def route_context(self, principal: Principal, route: str | None) -> Context:
        values: dict[str, str] = {}
        modeled = _ROUTE_KEYS
        if principal.arn is not None:
            values.update(principal_keys(principal))
            if KEY_PRINCIPAL_ARN not in values:
                modeled = _ROUTE_KEYS - {KEY_PRINCIPAL_ARN}
        if route is not None and route in self.points:
            ref = self.points[route].ref
            values.update(
                {
                    KEY_AP_ARN: ref.arn,
                    KEY_AP_ACCOUNT: ref.account,
                    KEY_AP_ORIGIN: ref.network_origin,
                }
            )
        return Context(values, modeled)

    def probes(self, principal: Principal, route: str | None, fixed: Iterable[str] = ()) -> Probes:
        """The fixed prefixes and the root, plus every place an applicable Allow could reach;
        where one reaches every folder, only the folders some statement tells apart."""
        fixed = list(fixed)
        found = {Target(OBJECT, PROBE), Target(LISTING, "")}
        for prefix in fixed:
            found |= {Target(OBJECT, prefix + PROBE), Target(LISTING, prefix)}
        if route is not None and route not in self.points:
            return Probes(frozenset(found))
        base, list_resource = self.object_base(route), self.list_resource(route)
        spread: set[str] = set()
        for statement in self.relevant_allows(principal, route):
            if any(statement.action_matches(a) is not Tri.NO for a in OBJECT_ACTIONS):
                reached = self._object_targets(statement, base)
                if reached is None:
                    spread.add(OBJECT)
                else:
                    found |= reached
            if (
                statement.action_matches(LIST_ACTION) is not Tri.NO
                and statement.resource_matches(list_resource) is not Tri.NO
            ):
                listed = self._list_targets(statement)
                if listed is None:
                    spread.add(LISTING)
                else:
                    found |= listed
        for kind in sorted(spread):
            special = self._told_apart(principal, route, kind)
            if special is None:
                special = set(self.prefixes)
                spread.discard(kind)  # every folder is probed: nothing is left to stand for
            else:
                special |= {q for prefix in fixed for q in self.compatible(prefix)}
            suffix = PROBE if kind == OBJECT else ""
            found |= {Target(kind, q + suffix) for q in special}
        return Probes(frozenset(found), frozenset(spread))

    def targets(
        self, principal: Principal, route: str | None, fixed: Iterable[str] = ()
    ) -> set[Target]:
        """Every target worth probing, one per folder where an Allow reaches every folder."""
        probes = self.probes(principal, route, fixed)
        found = set(probes.targets)
        for kind in probes.spread:
            suffix = PROBE if kind == OBJECT else ""
            found |= {Target(kind, q + suffix) for q in self.prefixes}
        return found

    def rest(self, targets: Iterable[Target], kind: str) -> list[tuple[Target, int]]:
        """The known folders holding none of the targets of this kind, which are decided alike:
        each one (with 0 more) when there are at most SPELLED_OUT of them; otherwise a target
        in the first of them, to stand for all, and how many more folders it stands for."""
        held = {r for t in targets if t.kind == kind and (r := self.region_of(t))}
        count = len(self.prefixes) - len(held)
        suffix = PROBE if kind == OBJECT else ""
        if count <= 0:
            return []
        if count <= SPELLED_OUT:
            return [(Target(kind, q + suffix), 0) for q in self.prefixes if q not in held]
        folder = next(q for q in self.prefixes if q not in held)
        return [(Target(kind, folder + suffix), count - 1)]

    def _told_apart(self, principal: Principal, route: str | None, kind: str) -> set[str] | None:
        """Known folders that a statement bearing on requests by this principal on this route
        could decide differently from the other folders; None when that cannot be bounded."""
        key = (principal.label, principal.arn, route, kind)
        if key not in self._apart_cache:
            policies = [self.bucket_policy, *principal.identity.policies]
            if route is not None:
                policies.append(self.points[route].policy)
            bases = {self.object_base(None), self.object_base(route)}
            statements = [s for p in policies if p is not None for s in p.statements]
            self._apart_cache[key] = (
                self._objects_apart(statements, bases)
                if kind == OBJECT
                else self._listings_apart(statements)
            )
        found = self._apart_cache[key]
        return None if found is None else set(found)

    def _objects_apart(
        self, statements: list[CompiledStatement], bases: set[str]
    ) -> frozenset[str] | None:
        found: set[str] = set()
        for pattern in (p for s in statements for p in s.resources):
            if pattern.unknowable or pattern.ignore_case:
                return None
            lit = pattern.literal_prefix
            for base in bases:
                if base.startswith(lit):
                    if pattern.shape == "regex":
                        return None  # a wildcard before the key may reach into it
                    continue  # "prefix": matches every key; "exact": matches no folder's key
                if not lit.startswith(base):
                    continue  # cannot match a key under this base
                rest = lit[len(base) :]
                if pattern.shape == "exact":
                    found |= self._holding(rest)
                else:
                    found |= set(self.compatible(rest))
        return frozenset(found)

    def _listings_apart(self, statements: list[CompiledStatement]) -> frozenset[str] | None:
        found: set[str] = set()
        for clause in (c for s in statements for c in s.conditions):
            if clause.key.lower() != KEY_PREFIX or clause.problem or clause.null_check:
                continue  # s3:prefix is the only part of a listing's context that varies
            for pattern in clause.patterns:
                lit = pattern.literal_prefix
                if pattern.shape == "prefix" and lit == "":
                    continue  # matches every prefix
                if pattern.unknowable or pattern.ignore_case:
                    return None
                if pattern.shape == "exact":
                    found |= {lit} & self._prefix_set
                else:
                    found |= set(self.compatible(lit))
        return frozenset(found)

    def _holding(self, key: str) -> set[str]:
        """Known folders that are `key` itself or hold it."""
        found = {key} & self._prefix_set
        found |= {key[: i + 1] for i, c in enumerate(key) if c == "/"} & self._prefix_set
        return found

    def _object_targets(self, statement: CompiledStatement, base: str) -> set[Target] | None:
        """Where this Allow could reach; None: every folder."""
        if statement.not_resource:
            return None
        found: set[Target] = set()
        for pattern in statement.resources:
            lit = pattern.literal_prefix
            if pattern.unknowable or (base.startswith(lit) and pattern.shape == "prefix"):
                return None
            if base.startswith(lit):
                if pattern.shape == "exact":
                    continue  # shorter than any key's ARN: matches no key
                folders: Iterable[str] = ["", *self.prefixes]  # a wildcard before the key
            elif lit.startswith(base):
                found |= {Target(OBJECT, k) for k in _witnesses(pattern.text[len(base) :]) if k}
                folders = self.compatible(lit[len(base) :])
            else:
                continue
            for q in folders:
                found.add(Target(OBJECT, q + PROBE))
                if (key := key_in_folder(pattern, base, q, PROBE)) is not None:
                    found.add(Target(OBJECT, key))
        return found

    def _list_targets(self, statement: CompiledStatement) -> set[Target] | None:
        """Which listings this Allow could permit; None: every folder."""
        clauses = [
            c
            for c in statement.conditions
            if c.key.lower() == KEY_PREFIX and not c.negated and not c.null_check and not c.problem
        ]
        if not clauses:
            return None
        found: set[Target] = set()
        for clause in clauses:
            for pattern in clause.patterns:
                lit = pattern.literal_prefix
                if (
                    pattern.unknowable
                    or pattern.ignore_case
                    or (pattern.shape == "prefix" and not lit)
                ):
                    return None  # case-insensitive values are not ordered like the folders
                found |= {Target(LISTING, p) for p in _witnesses(pattern.text)}
                for q in self.compatible(lit):
                    found.add(Target(LISTING, q))
                    if (value := key_in_folder(pattern, "", q, "")) is not None:
                        found.add(Target(LISTING, value))
        return found | _delimited(statement, found)

    def compatible(self, literal: str) -> Iterator[str]:
        """Known prefixes that a pattern starting with `literal` could reach into."""
        start = bisect.bisect_left(self.prefixes, literal)
        for prefix in self.prefixes[start:]:
            if not prefix.startswith(literal):
                break
            yield prefix
        for index, char in enumerate(literal):
            if char == "/" and literal[: index + 1] in self._prefix_set:
                yield literal[: index + 1]

    def region_of(self, target: Target) -> str:
        """The longest known prefix holding the target, or "" (outside every known prefix)."""
        value = target.value
        best = ""
        for index, char in enumerate(value):
            if char == "/" and value[: index + 1] in self._prefix_set:
                best = value[: index + 1]
        return best


def _delimited(statement: CompiledStatement, listings: set[Target]) -> set[Target]:
    """A statement that allows listings only with a given s3:delimiter is probed with it too
    (probes send no delimiter otherwise, and would never meet its condition)."""
    values = {
        p.text
        for c in statement.conditions
        if c.key.lower() == KEY_DELIMITER and not c.negated and not c.problem
        for p in c.patterns
    }
    return {Target(LISTING, t.value, d) for t in listings for d in values}


@dataclass(frozen=True)
class BucketKey:
    """The KMS key the bucket's default encryption names (SSE-KMS)."""

    arn: str
    bucket_key: bool  # S3 Bucket Key on: the encryption context is the bucket ARN

    @property
    def account(self) -> str:
        parts = self.arn.split(":")
        return parts[4] if len(parts) > 4 else ""

    def context(self, bucket: str, key: str, bucket_key: bool | None = None) -> str:
        base = f"arn:aws:s3:::{bucket}"
        with_bucket_key = self.bucket_key if bucket_key is None else bucket_key
        return base if with_bucket_key else f"{base}/{key}"


def _bucket_key(live: LiveState) -> BucketKey | None:
    encryption = live.bucket.encryption or {}
    if not live.bucket.exists or encryption.get("SSEAlgorithm") != "aws:kms":
        return None
    arn = str(encryption.get("KMSMasterKeyID") or "")
    return BucketKey(arn, bool(encryption.get("BucketKeyEnabled")))


def allow_statements(policy: CompiledPolicy | None) -> Iterator[CompiledStatement]:
    if policy is None:
        return
    for statement in policy.statements:
        if statement.effect != "Deny":
            yield statement


def _identity_allows(identity: Identity) -> Iterator[CompiledStatement]:
    for policy in identity.policies:
        for statement in allow_statements(policy):
            if any(
                statement.action_matches(a) is not Tri.NO for a in (*OBJECT_ACTIONS, LIST_ACTION)
            ):
                yield statement


def key_in_folder(pattern: Pattern, base: str, folder: str, probe: str) -> str | None:
    """A key (or listing prefix) in `folder` that the pattern matches after `base`: the usual
    probe `folder + probe` when it matches, else the first that does, else None.

    Complete for one pattern: if some key starting with the folder matches, cut the pattern
    where the folder ends (right after a `/` or inside or after a wildcard, since folders end in
    `/`) and fill in the rest (each wildcard -> "x"): that key matches too. This is what finds
    `object/*.csv` in every folder (`Alice/x.csv`), where the probe key alone never would. The
    latest cut is tried first, for the shortest key."""
    if pattern.match(base + folder + probe) is Tri.YES:
        return folder + probe
    text = pattern.text
    for cut in range(len(text), -1, -1):
        if cut and text[cut - 1] not in "/*?:":
            continue
        key = folder + text[cut:].replace("*", "x").replace("?", "x")
        if pattern.match(base + key) is Tri.YES:
            return key
    return None


def _witnesses(tail: str) -> set[str]:
    return {w for filler in ("", PROBE) if (w := instantiate(tail, filler)) is not None}


def derived_prefixes(state: AccessState) -> Iterator[str]:
    """Folder prefixes named by access point policies (`.../object/Bob/*` -> `Bob/`)."""
    for name, point in state.points.items():
        base = state.object_base(name)
        for statement in allow_statements(point.policy):
            for pattern in statement.resources:
                lit = pattern.literal_prefix
                if lit.startswith(base) and "/" in lit[len(base) :]:
                    key = lit[len(base) :]
                    yield key[: key.rindex("/") + 1]
            for clause in statement.conditions:
                if clause.key.lower() == KEY_PREFIX:
                    for pattern in clause.patterns:
                        lit = pattern.literal_prefix
                        if "/" in lit:
                            yield lit[: lit.rindex("/") + 1]
