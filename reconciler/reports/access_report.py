"""The periodic access review (`reconcile report`), pure: one row per collaborator from live
state (who, through which access point, which folder and levels, their credentials, the last
apply that touched them) and the flags an auditor acts on. HIPAA's Security Rule asks for
exactly this kind of regular review of who can reach which data.

Access key ids are kept only as their last four characters: enough to tell keys apart in IAM,
not the whole identifier. No secret is ever read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Any

from reconciler.documents.policies import LIST_ACTION, OBJECT_ACTIONS
from reconciler.model import (
    BUCKET_TAG_KEY,
    COLLABORATOR_TAG_KEY,
    AccessLevel,
    Collaborator,
    Config,
    LiveAccessPoint,
    LiveState,
    LiveUser,
    is_managed,
)
from reconciler.plan import lifecycle
from reconciler.plan.changes import Plan

KEY_SUFFIX_LENGTH = 4


def key_suffix(key_id: str) -> str:
    """`...WXYZ`: the last four characters of an access key id."""
    return "..." + key_id[-KEY_SUFFIX_LENGTH:]


@dataclass(frozen=True)
class AccessKey:
    suffix: str
    status: str  # "Active" / "Inactive"
    created: datetime
    last_used: datetime | None = None
    last_service: str | None = None


@dataclass(frozen=True)
class Credentials:
    """What IAM says about one user's credentials (read by reconciler.aws.credentials)."""

    created: datetime | None
    password: bool
    password_last_used: datetime | None
    keys: tuple[AccessKey, ...] = ()
    # MFA devices assigned to the user (iam:ListMFADevices); None: not read (no password)
    mfa_devices: int | None = None


class FlagKind(StrEnum):
    KEY_TOO_OLD = "key-too-old"
    KEY_UNUSED = "key-unused"
    USER_UNUSED = "user-unused"
    EXPIRING = "expiring"
    SUSPENDED_WITH_ACTIVE_KEYS = "suspended-with-active-keys"
    CONSOLE_WITHOUT_MFA = "console-without-mfa"
    DIFFERS_FROM_FILE = "differs-from-file"


@dataclass(frozen=True)
class Flag:
    kind: FlagKind
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"flag": self.kind.value, "detail": self.detail}


@dataclass(frozen=True)
class LastApply:
    time: str
    outcome: str
    commit: str | None = None
    actor: str | None = None

    def text(self) -> str:
        words = [self.time, self.outcome]
        if self.commit:
            words.append(f"commit {self.commit[:12]}")
        if self.actor:
            words.append(f"by {self.actor}")
        return " ".join(words)

    def to_json(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "outcome": self.outcome,
            "commit": self.commit,
            "actor": self.actor,
        }


@dataclass(frozen=True)
class Row:
    id: str
    principal: str
    access_point: str
    folder: str
    levels: tuple[str, ...]
    status: str
    expires: date | None
    access_keys: tuple[AccessKey, ...] = ()
    credentials: Credentials | None = None  # None: not an IAM user of this tool
    last_apply: LastApply | None = None
    flags: tuple[Flag, ...] = field(default=())


@dataclass(frozen=True)
class Review:
    """The whole access review: as of which day, for which bucket, and its rows."""

    today: date
    account_id: str
    bucket: str
    rows: tuple[Row, ...]
    audit_trail: bool  # whether last applies could be looked up

    @property
    def flagged(self) -> int:
        return sum(1 for row in self.rows if row.flags)


# --- live levels ------------------------------------------------------------------------------

_LEVEL_ACTIONS: dict[str, tuple[str, ...]] = {
    **{level.value: actions for level, actions in OBJECT_ACTIONS.items()},
    AccessLevel.LIST.value: (LIST_ACTION,),
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _names(principal: Any, arn: str) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return any(p in ("*", arn) for p in _as_list(principal.get("AWS", [])))
    return False


def live_levels(policy: Mapping[str, Any] | None, principal: str) -> tuple[str, ...]:
    """The levels the live access point policy allows `principal` (by action, wildcards
    included; folders are compared with the file by the differs-from-file flag). Actions that
    are no level of this tool show as `other`."""
    levels: set[str] = set()
    for statement in (policy or {}).get("Statement", []):
        if statement.get("Effect") != "Allow" or not _names(statement.get("Principal"), principal):
            continue
        for pattern in _as_list(statement.get("Action", [])):
            matched = {
                level
                for level, actions in _LEVEL_ACTIONS.items()
                if any(fnmatchcase(a.lower(), str(pattern).lower()) for a in actions)
            }
            levels |= matched or {"other"}
    order = [*(level.value for level in AccessLevel), "other"]
    return tuple(level for level in order if level in levels)


# --- flags ------------------------------------------------------------------------------------


def _days(since: datetime | None, today: date) -> int | None:
    return None if since is None else (today - since.date()).days


def _key_flags(key: AccessKey, config: Config, today: date) -> list[Flag]:
    if key.status != "Active":
        return []
    flags = []
    age = _days(key.created, today) or 0
    if age > config.report.max_key_age_days:
        flags.append(
            Flag(
                FlagKind.KEY_TOO_OLD,
                f"access key {key.suffix} is {age} days old (over "
                f"{config.report.max_key_age_days}, report.max_key_age_days): rotate it",
            )
        )
    idle = _days(key.last_used or key.created, today) or 0
    if idle > config.report.max_unused_days:
        when = f"last used {key.last_used.date()}" if key.last_used else "never used"
        flags.append(
            Flag(
                FlagKind.KEY_UNUSED,
                f"access key {key.suffix} {when}, {idle} days ago (over "
                f"{config.report.max_unused_days}, report.max_unused_days): deactivate it",
            )
        )
    return flags


def _user_unused(creds: Credentials, config: Config, today: date) -> list[Flag]:
    limit = config.report.max_unused_days
    uses = [k.last_used for k in creds.keys if k.last_used] + [creds.password_last_used]
    last = max((u for u in uses if u is not None), default=None)
    idle = _days(last or creds.created, today)
    if idle is None or idle <= limit:
        return []
    when = f"last used {last.date()}" if last else "never used"
    return [
        Flag(
            FlagKind.USER_UNUSED,
            f"the IAM user was {when} ({idle} days, over {limit}, report.max_unused_days): "
            "suspend the collaborator if the access is no longer needed",
        )
    ]


def mfa_flags(creds: Credentials) -> list[Flag]:
    """A console password without an MFA device: one stolen password opens the console (HIPAA
    Security Rule, person or entity authentication, 45 CFR 164.312(d); IAM User Guide, "AWS
    Multi-factor authentication in IAM"). The tool never creates passwords: whoever gave the
    user one also assigns the device."""
    if not creds.password or creds.mfa_devices != 0:
        return []
    return [
        Flag(
            FlagKind.CONSOLE_WITHOUT_MFA,
            "console password but no MFA device: assign one (aws iam enable-mfa-device) or "
            "remove the password (aws iam delete-login-profile)",
        )
    ]


def _lifecycle_flags(
    collab: Collaborator, creds: Credentials | None, config: Config, today: date
) -> list[Flag]:
    flags = []
    reason = lifecycle.suspension_reason(collab, today)
    active_keys = [k.suffix for k in (creds.keys if creds else ()) if k.status == "Active"]
    if reason and active_keys:
        flags.append(
            Flag(
                FlagKind.SUSPENDED_WITH_ACTIVE_KEYS,
                f"suspended ({reason}) but access key {', '.join(active_keys)} is active: "
                "run apply, which deactivates it",
            )
        )
    window = config.lifecycle.expiry_warning_days
    if reason is None and collab.expires is not None:
        days = (collab.expires - today).days
        if 0 < days <= window:
            flags.append(Flag(FlagKind.EXPIRING, f"expires on {collab.expires} (in {days} days)"))
    return flags


# --- rows -------------------------------------------------------------------------------------


def status_of(collab: Collaborator, today: date) -> str:
    if lifecycle.is_expired(collab, today):
        return "expired"
    return collab.status.value


def differing(plan: Plan) -> dict[str, list[str]]:
    """Collaborator -> what a plan would change for it (live access differs from the file)."""
    found: dict[str, list[str]] = {}
    for change in plan.changes:
        if change.collaborator is not None:
            found.setdefault(change.collaborator, []).append(
                f"{change.action.value} {change.type.value} {change.id}"
            )
    return found


def last_applies(
    records_newest_first: Iterable[Mapping[str, Any]], ids: set[str]
) -> dict[str, LastApply]:
    """Collaborator -> the newest audit record that applied, failed or skipped a change for it.
    Stops reading once every id is found."""
    found: dict[str, LastApply] = {}
    for record in records_newest_first:
        changes = [*record.get("applied", []), *record.get("skipped", [])]
        changes += [f.get("change", {}) for f in record.get("failures", [])]
        github = record.get("github") or {}
        for change in changes:
            cid = change.get("collaborator")
            if cid in ids and cid not in found:
                found[cid] = LastApply(
                    time=str(record.get("time")),
                    outcome=str(record.get("outcome")),
                    commit=github.get("sha"),
                    actor=github.get("actor"),
                )
        if len(found) == len(ids):
            break
    return found


def build_review(
    config: Config,
    live: LiveState,
    credentials: Mapping[str, Credentials],
    *,
    today: date,
    changes: Mapping[str, list[str]],
    applies: Mapping[str, LastApply] | None = None,
) -> Review:
    """`credentials` by IAM user name; `changes` from differing(plan); `applies` None when no
    audit trail is configured."""
    rows = []
    for collab in config.collaborators:
        creds = credentials.get(collab.iam_user) if collab.iam_user else None
        principal = config.principal_arn(collab)
        user = live.users.get(collab.iam_user) if collab.iam_user else None
        if user is not None and user.arn:
            principal = user.arn
        ap = live.access_points.get(collab.access_point)
        flags = []
        for key in creds.keys if creds else ():
            flags += _key_flags(key, config, today)
        if creds is not None:
            flags += _user_unused(creds, config, today)
            flags += mfa_flags(creds)
        flags += _lifecycle_flags(collab, creds, config, today)
        if collab.id in changes:
            flags.append(
                Flag(
                    FlagKind.DIFFERS_FROM_FILE,
                    f"live access differs from {config.source}: "
                    + "; ".join(changes[collab.id])
                    + " (plan shows the difference; apply puts it back)",
                )
            )
        rows.append(
            Row(
                id=collab.id,
                principal=principal,
                access_point=collab.access_point,
                folder=collab.prefix,
                levels=live_levels(ap.policy if ap else None, principal),
                status=status_of(collab, today),
                expires=collab.expires,
                access_keys=creds.keys if creds else (),
                credentials=creds,
                last_apply=(applies or {}).get(collab.id),
                flags=tuple(flags),
            )
        )
    rows += _leftover_rows(config, live, changes, credentials)
    return Review(
        today=today,
        account_id=config.account_id,
        bucket=config.bucket.name,
        rows=tuple(rows),
        audit_trail=applies is not None,
    )


def leftover_users(config: Config, live: LiveState) -> dict[str, LiveUser]:
    """Collaborator id -> the IAM user this tool still manages for this bucket (under
    iam_path) of a collaborator removed from the file: its access keys still work."""
    named = {c.id for c in config.collaborators}
    found: dict[str, LiveUser] = {}
    for user in sorted(live.users.values(), key=lambda u: u.name):
        cid = user.tags.get(COLLABORATOR_TAG_KEY)
        if (
            cid
            and cid not in named
            and is_managed(user.tags)
            and user.tags.get(BUCKET_TAG_KEY) == config.bucket.name
            and user.path == config.iam_path
        ):
            found[cid] = user
    return found


def _leftover_rows(
    config: Config,
    live: LiveState,
    changes: Mapping[str, list[str]],
    credentials: Mapping[str, Credentials],
) -> list[Row]:
    """Collaborators removed from the file whose access point or IAM user is still in AWS: they
    keep their access until the next apply, so the review shows them, with the user's keys."""
    named = {c.id for c in config.collaborators}
    users = leftover_users(config, live)
    points: dict[str, LiveAccessPoint] = {}
    for ap in sorted(live.access_points.values(), key=lambda a: a.name):
        cid = ap.tags.get(COLLABORATOR_TAG_KEY)
        if ap.bucket == config.bucket.name and cid and cid not in named:
            points.setdefault(cid, ap)
    rows = []
    for cid in sorted(points.keys() | users.keys()):
        point, user = points.get(cid), users.get(cid)
        principals = sorted(
            str(p)
            for s in ((point.policy if point else None) or {}).get("Statement", [])
            for p in _as_list((s.get("Principal") or {}).get("AWS", []))
            if isinstance(s.get("Principal"), Mapping)
        )
        principal = user.arn if user else (principals[0] if principals else "")
        creds = credentials.get(user.name) if user else None
        rows.append(
            Row(
                id=cid,
                principal=principal,
                access_point=point.name if point else "",
                folder="",
                levels=live_levels(point.policy, principal) if point else (),
                status="not in file",
                expires=None,
                access_keys=creds.keys if creds else (),
                credentials=creds,
                flags=(
                    Flag(
                        FlagKind.DIFFERS_FROM_FILE,
                        f"removed from {config.source} but still in AWS: "
                        + "; ".join(changes.get(cid, []))
                        + " (apply removes it)",
                    ),
                    *(mfa_flags(creds) if creds else []),
                ),
            )
        )
    return rows
