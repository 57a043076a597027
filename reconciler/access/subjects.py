"""Who is checked: each collaborator's principal as it exists in a state, plus an anonymous
caller and a caller from another AWS account."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

from reconciler.access.arns import role_key, session_role
from reconciler.access.requests import Identity, Principal, role_session
from reconciler.access.state import AccessState
from reconciler.model import Collaborator, Config

ANONYMOUS = "anonymous"
OUTSIDER = "another-account"
SESSION = "reconciler-verify-session"  # a session name no policy names


@dataclass(frozen=True)
class Subject:
    id: str
    principal: Principal
    home: str | None = None  # its access point
    prefix: str | None = None  # its folder
    levels: tuple[str, ...] = ()
    managed: bool = False  # an IAM user this tool owns
    exists: bool = True  # a managed user that is missing in this state makes no requests
    kind: str = "collaborator"  # collaborator, anonymous, outsider


def collaborator_subject(config: Config, collab: Collaborator, state: AccessState) -> Subject:
    levels = tuple(level.value for level in collab.access)
    arn = config.principal_arn(collab)
    exists = True
    if collab.iam_user is not None:
        user = state.users.get(collab.iam_user.lower())
        exists = user is not None
        principal = Principal(
            collab.id,
            user.arn if user else arn,
            state.identity_of(user) if user else Identity(),
        )
    else:
        taken = {a.rsplit("/", 1)[-1] for a in state.named_sessions(arn)}
        session = next(n for i in itertools.count() if (n := f"{SESSION}{i or ''}") not in taken)
        principal = signer(collab.id, arn, external_identity(arn, state), session)
    return Subject(
        collab.id,
        principal,
        home=collab.access_point,
        prefix=collab.prefix,
        levels=levels,
        managed=collab.iam_user is not None,
        exists=exists,
    )


def signer(label: str, arn: str, identity: Identity, session: str = SESSION) -> Principal:
    """The principal that signs requests for an ARN: a role signs through its sessions (one not
    named by any policy stands for all such), anything else as itself."""
    if role_key(arn) is not None:
        return role_session(label, arn, session, identity)
    return Principal(label, arn, identity)


def session_subjects(subject: Subject, state: AccessState) -> list[Subject]:
    """The sessions of a collaborator's role that policies name, one subject each: a grant or
    deny naming one session applies to it alone."""
    role_arn = subject.principal.role_arn
    if role_arn is None:
        return []
    found = []
    for arn in state.named_sessions(role_arn):
        name = arn.rsplit("/", 1)[-1]
        principal = Principal(
            f"{subject.id} (session {name})", arn, subject.principal.identity, role_arn
        )
        found.append(replace(subject, id=principal.label, principal=principal))
    return found


def external_identity(arn: str, state: AccessState) -> Identity:
    account = arn.split(":")[4]
    if account != state.account:
        return Identity(
            unrestricted=f"identity policies in account {account} (not visible here: assumed "
            "to allow)"
        )
    user = next((u for u in state.users.values() if u.arn == arn), None)
    if user is not None:
        return state.identity_of(user)
    return Identity(unknown=(f"the identity policies of {arn} are not read by this tool",))


def anonymous_subject() -> Subject:
    return Subject(ANONYMOUS, Principal(ANONYMOUS, None), kind="anonymous")


def outsider_subject(config: Config, state: AccessState) -> Subject:
    used = {state.account, *state.named_accounts}
    used |= {config.principal_arn(c).split(":")[4] for c in config.collaborators}
    account = next(a for n in itertools.count() if (a := f"{999999999999 - n:012d}") not in used)
    arn = f"arn:aws:iam::{account}:user/reconciler-verify-outsider"
    identity = Identity(unrestricted=f"identity policies in account {account} (assumed to allow)")
    return Subject(OUTSIDER, Principal(OUTSIDER, arn, identity), kind="outsider")


def collaborator_arns(config: Config) -> frozenset[str]:
    return frozenset(config.principal_arn(c) for c in config.collaborators)


def _ours(arn: str, ours: frozenset[str]) -> bool:
    """A collaborator's principal, or a session of a collaborator's role."""
    role = session_role(arn)
    return arn in ours or (role is not None and role in {role_key(a) for a in ours})


def stranger_subjects(ours: frozenset[str], state: AccessState, route: str) -> list[Subject]:
    """Principals of other AWS accounts that the route's access point policy names and that are
    not collaborators (`ours`: their principal ARNs, from `collaborator_arns`)."""
    point = state.points.get(route)
    if point is None or point.policy is None:
        return []
    found: dict[str, Subject] = {}
    for statement in point.policy.statements:
        spec = statement.principal
        if statement.effect == "Deny" or spec is None or statement.not_principal:
            continue
        arns = [a for a in spec.arns if not _ours(a, ours) and a.count(":") >= 5]
        arns += [f"arn:aws:iam::{acct}:user/reconciler-verify-member" for acct in spec.accounts]
        for arn in arns:
            account = arn.split(":")[4]
            if account == state.account:
                continue
            identity = Identity(unrestricted=f"identity policies in account {account} (assumed)")
            found[arn] = Subject(arn, signer(arn, arn, identity), kind="outsider-named")
    return [found[k] for k in sorted(found)]
