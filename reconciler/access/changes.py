"""Per-collaborator changes in effective access between two states (live, and what a plan would
leave): evaluated request by request, then summarised as `who: +/- level folder via route`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from reconciler.access.evaluator import Decision
from reconciler.access.logic import Tri
from reconciler.access.requests import LEVEL_ACTIONS, Identity, Principal
from reconciler.access.state import LISTING, OBJECT, AccessState, Target, allow_statements
from reconciler.access.subjects import (
    Subject,
    anonymous_subject,
    collaborator_subject,
    external_identity,
    outsider_subject,
    signer,
)
from reconciler.model import COLLABORATOR_TAG_KEY, AccessLevel, Config
from reconciler.plan.changes import AccessChange

_TRI = {Decision.ALLOW: Tri.YES, Decision.UNKNOWN: Tri.MAYBE, Decision.DENY: Tri.NO}
_DECISION = {v: k for k, v in _TRI.items()}
Grants = dict[tuple[str, str, str | None], Tri]


def access_changes(
    config: Config, before: AccessState, after: AccessState
) -> tuple[AccessChange, ...]:
    return access_changes_and_newcomers(config, before, after)[0]


def access_changes_and_newcomers(
    config: Config, before: AccessState, after: AccessState
) -> tuple[tuple[AccessChange, ...], frozenset[str]]:
    """The access changes, and the collaborators among those whose access changes that had no
    access at all before (nothing allowed, nothing unknown): new in all but name, such as those
    whose user and access point an interrupted apply created before it wrote any policy."""
    changes: list[AccessChange] = []
    newcomers: set[str] = set()
    for sid, old, new in _subject_pairs(config, before, after):
        pairs = ((old, before), (new, after))
        if _decided_alike(pairs):
            continue
        probes, alike = _probes(before, pairs)
        was, now = _grants(old, before, probes), _grants(new, after, probes)
        if _had_nothing(old, before, was):
            newcomers.add(sid)
        before.forget()  # one collaborator's evaluations are not needed for the next
        after.forget()
        for key in sorted(was.keys() | now.keys(), key=_order):
            a, b = was.get(key, Tri.NO), now.get(key, Tri.NO)
            if a is not b:
                level, prefix, via = key
                kind = LISTING if level == AccessLevel.LIST.value else OBJECT
                more = alike.get((via, prefix, kind), 0)
                changes.append(
                    AccessChange(
                        sid, level, prefix, via, _DECISION[a].value, _DECISION[b].value, more
                    )
                )
    return tuple(sorted(changes, key=lambda c: c.collaborator)), frozenset(newcomers)


def _had_nothing(old: Subject, before: AccessState, was: Grants) -> bool:
    """Nothing allowed it (or might have) before, and its access point reached no one: it had
    no policy allowing anyone, or the bucket policy certainly did not delegate to it yet (an
    interrupted apply writes the bucket policy last). A collaborator whose principal changes
    from one that had access is not new."""
    if any(v is not Tri.NO for v in was.values()):
        return False
    home = old.home or ""
    point = before.points.get(home)
    if point is None or next(allow_statements(point.policy), None) is None:
        return True
    return before.bucket_admits(home) is Tri.NO


def _decided_alike(pairs: tuple[tuple[Subject, AccessState], ...]) -> bool:
    """True when every request this subject can make is decided by the same inputs in both
    states: the same principal with the same identity policies, the same bucket and bucket
    policy, and the same access points (policy, network origin) on every route it could use in
    either state. Then its access cannot change and evaluating it would only confirm that."""
    (old, before), (new, after) = pairs
    if old.exists != new.exists or old.principal != new.principal:
        return False
    if old.principal.identity != new.principal.identity:
        return False
    if (before.exists, before.bucket_policy) != (after.exists, after.bucket_policy):
        return False
    routes = _routes(old, before) | _routes(new, after)
    return all(before.points.get(r) == after.points.get(r) for r in routes if r is not None)


def _probes(
    state: AccessState, pairs: tuple[tuple[Subject, AccessState], ...]
) -> tuple[set[tuple[str | None, Target]], dict[tuple[str | None, str, str], int]]:
    """What to evaluate for one collaborator in both states, and for each folder that stands for
    others decided alike, how many more it stands for (keyed by route, folder, kind)."""
    routes = set().union(*(_routes(subject, s) for subject, s in pairs))
    probes: set[tuple[str | None, Target]] = set()
    alike: dict[tuple[str | None, str, str], int] = {}
    for route in routes:
        found = [s.probes(subject.principal, route, [subject.prefix or ""]) for subject, s in pairs]
        targets = frozenset().union(*(f.targets for f in found))
        probes |= {(route, target) for target in targets}
        for kind in sorted(set().union(*(f.spread for f in found))):
            for target, more in state.rest(targets, kind):
                probes.add((route, target))
                alike[(route, state.region_of(target), kind)] = more
    return probes, alike


def _order(key: tuple[str, str, str | None]) -> tuple[str, str, str]:
    level, prefix, via = key
    return (prefix, via or "", level)


def _routes(subject: Subject, state: AccessState) -> set[str | None]:
    if not subject.exists:
        return set()
    routes: set[str | None] = {None, *state.candidate_points(subject.principal)}
    if subject.home:
        routes.add(subject.home)
    return routes


def _grants(subject: Subject, state: AccessState, probes: set[tuple[str | None, Target]]) -> Grants:
    grants: Grants = {}
    if not subject.exists:
        return grants
    open_routes = {r for r, _ in probes if state.route_can_allow(subject.principal, r)}
    for route, target in probes:
        if route not in open_routes:
            continue
        for level in _levels(target):
            decisions = [
                _TRI[state.evaluate(subject.principal, action, target, route).decision]
                for action in LEVEL_ACTIONS[level]
            ]
            key = (level.value, state.region_of(target), route)
            grants[key] = max(grants.get(key, Tri.NO), max(decisions))
    return grants


def _levels(target: Target) -> tuple[AccessLevel, ...]:
    if target.kind == LISTING:
        return (AccessLevel.LIST,)
    return (AccessLevel.READ, AccessLevel.WRITE, AccessLevel.DELETE)


def _subject_pairs(
    config: Config, before: AccessState, after: AccessState
) -> Iterator[tuple[str, Subject, Subject]]:
    known = {c.id for c in config.collaborators}
    for collab in config.collaborators:
        yield (
            collab.id,
            collaborator_subject(config, collab, before),
            collaborator_subject(config, collab, after),
        )
    for sid in sorted(_tagged(before) - known):
        for old in _former_subjects(sid, before):
            yield sid, old, _same_principal(old, after)
    yield "anonymous", anonymous_subject(), anonymous_subject()
    outsider = outsider_subject(config, after)
    yield "another account", outsider, outsider


def _tagged(state: AccessState) -> set[str]:
    users = {u.tags.get(COLLABORATOR_TAG_KEY) for u in state.users.values()}
    points = {p.owner for p in state.points.values()}
    return {t for t in users | points if t}


def _former_subjects(sid: str, state: AccessState) -> list[Subject]:
    """A collaborator that is no longer in the YAML: its tagged user, or the principals its
    tagged access point admits."""
    home = next((n for n, p in state.points.items() if p.owner == sid), None)
    for user in state.users.values():
        if user.tags.get(COLLABORATOR_TAG_KEY) == sid:
            principal = Principal(sid, user.arn, state.identity_of(user))
            return [Subject(sid, principal, home=home, managed=True)]
    point = state.points.get(home or "")
    if point is None or point.policy is None:
        return []
    arns = sorted({a for s in point.policy.statements if s.principal for a in s.principal.arns})
    return [Subject(sid, signer(sid, a, external_identity(a, state)), home=home) for a in arns]


def _same_principal(old: Subject, state: AccessState) -> Subject:
    if old.managed:
        user = next((u for u in state.users.values() if u.arn == old.principal.arn), None)
        if user is None:
            return Subject(old.id, old.principal, home=old.home, managed=True, exists=False)
        return Subject(old.id, Principal(old.id, user.arn, state.identity_of(user)), home=old.home)
    arn = old.principal.role_arn or old.principal.arn
    identity = external_identity(arn, state) if arn else Identity()
    return Subject(old.id, replace(old.principal, identity=identity), home=old.home)
